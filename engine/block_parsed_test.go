package engine

import (
	"strings"
	"testing"
)

// A blocked XREAD/XREADGROUP is parsed once by the server; the entry points
// taking the parsed value must give what Exec of the argv gives, including
// the BLOCK range check that depends on the clock (BLOCK may repeat, and
// the largest value is the one that overflows).
func TestParsedBlockingReadsMatchExec(t *testing.T) {
	s := NewState()
	for _, l := range []string{"XADD s 1-1 f v", "XGROUP CREATE s g $", "XGROUP CREATECONSUMER s g c"} {
		runOwn(s, 2, testNow, strings.Fields(l))
	}
	const huge = "9223372036854775000"
	for _, line := range []string{
		"XREAD BLOCK 10 STREAMS s 0",
		"XREAD BLOCK 10 STREAMS s $",
		"XREAD BLOCK " + huge + " STREAMS s 0",
		"XREAD BLOCK " + huge + " BLOCK 10 STREAMS s 0",
	} {
		a, err := ParseXRead(argvOf(line))
		if err != "" {
			t.Fatalf("%s: %s", line, err)
		}
		want := runOwn(s.Clone(), 2, testNow, strings.Fields(line))
		w := respWriter(2)
		s.ExecXRead(&Ctx{Now: testNow, W: w}, &a)
		if string(w.Buf) != want {
			t.Errorf("%s: ExecXRead %q, Exec %q", line, w.Buf, want)
		}
	}
	for _, tc := range []struct {
		line  string
		serve bool
	}{
		{"XREADGROUP GROUP g c BLOCK 10 STREAMS s >", false},
		{"XREADGROUP GROUP g c BLOCK " + huge + " STREAMS s >", true}, // the range error
		{"XREADGROUP GROUP g c BLOCK " + huge + " BLOCK 10 STREAMS s >", true},
		{"XREADGROUP GROUP g c BLOCK 10 BLOCK " + huge + " STREAMS s >", true},
	} {
		a := mustParseXRG(t, tc.line)
		ctx := &Ctx{Now: testNow, W: respWriter(2)}
		if got := s.XReadGroupWouldServe(ctx, a); got != tc.serve {
			t.Errorf("%s: WouldServe %v, want %v", tc.line, got, tc.serve)
		}
		if tc.serve {
			if r := runOwn(s.Clone(), 2, testNow, strings.Fields(tc.line)); r != "-"+errTimeoutRange+"\r\n" {
				t.Errorf("%s: Exec %q, want the range error", tc.line, r)
			}
		}
	}
}

// BenchmarkBlockedXReadGroupWake is a blocked XREADGROUP CLAIM's wake-up
// check (WouldServe, then ClaimDeadline) on its parsed value: no argv is
// parsed per wake-up (the allocations are the state lookups).
func BenchmarkBlockedXReadGroupWake(b *testing.B) {
	s := NewState()
	for _, l := range []string{"XADD s 1-1 f v", "XGROUP CREATE s g $", "XGROUP CREATECONSUMER s g c"} {
		runOwn(s, 2, testNow, strings.Fields(l))
	}
	a, err := ParseXReadGroup(argvOf("XREADGROUP GROUP g c BLOCK 0 CLAIM 1000 STREAMS s >"))
	if err != "" {
		b.Fatal(err)
	}
	ctx := &Ctx{Now: testNow, W: respWriter(2)}
	b.ReportAllocs()
	for b.Loop() {
		if s.XReadGroupWouldServe(ctx, &a) {
			b.Fatal("would serve")
		}
		if _, ok := s.XReadGroupClaimDeadline(ctx, &a); !ok {
			b.Fatal("no claim deadline")
		}
	}
}
