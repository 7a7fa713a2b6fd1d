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

// A read parsed on the receiving node (Command.Parse, then RunParsed) gives
// Exec's reply for every form, errors included.
func TestParsedReadsMatchExec(t *testing.T) {
	s := NewState()
	for _, l := range []string{"XADD s 1-1 f v", "XADD s 2-1 f v", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c COUNT 1 STREAMS s >"} {
		runOwn(s, 2, testNow, strings.Fields(l))
	}
	const huge = "9223372036854775000"
	for _, line := range []string{
		"XRANGE s - +", "XRANGE s - + COUNT 1", "XRANGE s - + COUNT 0", "XRANGE s (1-1 +", "XRANGE s x +",
		"XRANGE s - + COUNT", "XRANGE s - + COUNT x", "XRANGE nokey - +", "XRANGE s - (0-0", "XREVRANGE s + -",
		"XREVRANGE s + - COUNT 1", "XREVRANGE s (2-1 -", "XRANGE s", "XPENDING s g", "XPENDING s g - + 10",
		"XPENDING s g IDLE 0 - + 10 c", "XPENDING s g IDLE x - + 10", "XPENDING s g - + x", "XPENDING s nog",
		"XPENDING s g - +", "XREAD STREAMS s 0", "XREAD COUNT 1 STREAMS s 0", "XREAD STREAMS s", "XREAD STREAMS s $",
		"XREAD STREAMS s +", "XREAD GROUP g c STREAMS s 0", "XREAD BLOCK " + huge + " STREAMS s 0",
		"XREAD BLOCK " + huge + " COUNT x STREAMS s 0", "XREAD BLOCK x STREAMS s 0", "XREAD STREAMS s >",
		"XLEN s", "XINFO STREAM s", "XINFO NOPE s", "XINFO",
	} {
		argv := argvOf(line)
		want := runOwn(s.Clone(), 3, testNow, strings.Fields(line))
		c, _ := resolve(argv)
		if c == nil {
			c = lookupCommand(argv[0])
		}
		p := c.Parse(argv)
		w := respWriter(3)
		if msg := p.Err(); msg != "" {
			w.WriteError(msg)
		} else {
			s.RunParsed(&Ctx{Now: testNow, W: w}, &p)
		}
		if string(w.Buf) != want {
			t.Errorf("%s: parsed %q, Exec %q", line, w.Buf, want)
		}
	}
}

// BenchmarkReadPath is a read as the server runs it: resolved once, then
// run from argv (Run, which parses under the state lock) or parsed first
// (Parse, then RunParsed).
func BenchmarkReadPath(b *testing.B) {
	s := NewState()
	for i := 1; i <= 10; i++ {
		runOwn(s, 2, testNow, []string{"XADD", "s", strings.Repeat("1", i) + "-1", "f", "v"})
	}
	runOwn(s, 2, testNow, strings.Fields("XGROUP CREATE s g 0"))
	runOwn(s, 2, testNow, strings.Fields("XREADGROUP GROUP g c COUNT 2 STREAMS s >"))
	for _, line := range []string{"XRANGE s - + COUNT 2", "XREVRANGE s + - COUNT 2", "XPENDING s g - + 10", "XREAD COUNT 2 STREAMS s 0", "XLEN s"} {
		argv := argvOf(line)
		c := lookupCommand(argv[0])
		w := respWriter(2)
		ctx := &Ctx{Now: testNow, W: w}
		b.Run(strings.Fields(line)[0]+"/Run", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w.Buf = w.Buf[:0]
				s.Run(ctx, c, argv)
			}
		})
		b.Run(strings.Fields(line)[0]+"/Parsed", func(b *testing.B) {
			var p Parsed // kept for reuse, as the server keeps one per connection
			b.ReportAllocs()
			for b.Loop() {
				w.Buf = w.Buf[:0]
				c.ParseInto(&p, argv)
				if p.Err() != "" {
					b.Fatal(p.Err())
				}
				s.RunParsed(ctx, &p)
			}
		})
	}
}
