package engine

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/raftstream/raftstream/engine/resp"
)

func split(line string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(line) {
		out = append(out, []byte(f))
	}
	return out
}

func TestAutoIdempotentXAddRewrite(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{"XADD s * f v", true},
		{"xadd s NOMKSTREAM MAXLEN ~ 10 LIMIT 5 * f v g w", true},
		{"XADD s KEEPREF MINID 0 * f v", true},
		{"XADD s 1-1 f v", false},                // explicit ID: idempotent by itself
		{"XADD s 5-* f v", false},                // IDMP accepts only "*"
		{"XADD s IDMP p i * f v", false},         // the client's own IDMP wins
		{"XADD s IDMPAUTO p * f v", false},       // and so does its IDMPAUTO
		{"XADD s * f", false},                    // invalid: left for its error
		{"XADD s BOGUS * f v", false},            // likewise
		{"XLEN s x y z", false},                  // not an XADD
		{"XADD s MAXLEN -1 * f v", false},        // invalid threshold
		{"XADD s LIMIT 5 * f v", false},          // LIMIT without trimming
		{"XADD s MAXLEN 5 LIMIT 5 * f v", false}, // LIMIT without ~
	} {
		argv := split(tc.line)
		out, ok := AutoIdempotentXAdd(argv, "prod")
		if ok != tc.ok {
			t.Errorf("%s: rewritten %v, want %v", tc.line, ok, tc.ok)
			continue
		}
		if !ok {
			if len(out) != len(argv) {
				t.Errorf("%s: changed although not rewritten", tc.line)
			}
			continue
		}
		if msg := Check(out); msg != "" {
			t.Errorf("%s: rewritten command fails its check: %s", tc.line, msg)
		}
		if string(out[2]) != "IDMP" || string(out[3]) != "prod" || len(out[4]) != 16 {
			t.Errorf("%s: rewritten as %q", tc.line, out)
		}
	}
	if _, ok := AutoIdempotentXAdd(split("XADD s * f v"), ""); ok {
		t.Error("rewritten without a producer")
	}
	// The idempotent ID is a function of every argument after the key,
	// boundaries included, and not of the key.
	iid := func(line string) []byte {
		out, ok := AutoIdempotentXAdd(split(line), "p")
		if !ok {
			t.Fatalf("%s: not rewritten", line)
		}
		return out[4]
	}
	same := [][2]string{{"XADD s * f v", "XADD t * f v"}, {"XADD s * f v", "xadd s * f v"}}
	for _, p := range same {
		if !bytes.Equal(iid(p[0]), iid(p[1])) {
			t.Errorf("%s and %s: different idempotent IDs", p[0], p[1])
		}
	}
	differ := [][2]string{
		{"XADD s * f v", "XADD s * f w"},
		{"XADD s * f v g w", "XADD s * g w f v"},
		{"XADD s * ab c", "XADD s * a bc"},
		{"XADD s * f v", "XADD s MAXLEN 5 * f v"},
	}
	for _, p := range differ {
		if bytes.Equal(iid(p[0]), iid(p[1])) {
			t.Errorf("%s and %s: same idempotent ID", p[0], p[1])
		}
	}
}

// TestAutoIdempotentXAddDedup: a rewritten XADD sent twice stores one
// entry and answers both with its ID; a different producer, or different
// arguments, store their own.
func TestAutoIdempotentXAddDedup(t *testing.T) {
	h := &groupHarness{t: t, s: NewState(), now: testNow}
	exec := func(producer, line string) string {
		t.Helper()
		argv, _ := AutoIdempotentXAdd(split(line), producer)
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = string(a)
		}
		return h.mustOK(args...)
	}
	first := exec("app-1", "XADD s * f v")
	h.now += 5000 // a retry after a reconnect
	if again := exec("app-1", "XADD s * f v"); again != first {
		t.Errorf("retry answered %q, first %q", again, first)
	}
	if other := exec("app-2", "XADD s * f v"); other == first {
		t.Error("another producer's XADD was taken for a retry")
	}
	exec("app-1", "XADD s * f w")
	if got := h.run("XLEN", "s"); got != in(3) {
		t.Errorf("XLEN %q, want 3", got)
	}
	pids, iids, added, dups := h.s.dbs[0].get("s").val.idmpStats(h.now)
	if pids != 2 || iids != 3 || added != 3 || dups != 1 {
		t.Errorf("IDMP stats pids %d iids %d added %d dups %d", pids, iids, added, dups)
	}
}

// BenchmarkXAddIdempotency separates what automatic idempotency adds to an
// XADD: the rewrite on the server (parse and digest) and the IDMP
// bookkeeping when the state machine applies it (one producer at its size
// limit, so every XADD also evicts), against a plain XADD.
func BenchmarkXAddIdempotency(b *testing.B) {
	value := []byte("0123456789abcdef")
	argv := func(i int) [][]byte {
		v := append([]byte(nil), value...)
		v = strconv.AppendInt(v[:0], int64(i), 10)
		return [][]byte{[]byte("XADD"), []byte("s"), []byte("*"), []byte("f"), v}
	}
	exec := func(b *testing.B, rewrite bool) {
		s := NewState()
		w := resp.NewWriter(2)
		ctx := &Ctx{Now: testNow, W: w}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			a := argv(i)
			if rewrite {
				a, _ = AutoIdempotentXAdd(a, "bench")
			}
			w.Reset()
			ctx.Now = testNow + int64(i/1000)
			s.Exec(ctx, a)
		}
	}
	b.Run("plain", func(b *testing.B) { exec(b, false) })
	b.Run("auto-idempotent", func(b *testing.B) { exec(b, true) })
	b.Run("rewrite-only", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			AutoIdempotentXAdd(argv(i), "bench")
		}
	})
}

// The method on a parsed XADD is the function on its argv, and the value
// it builds is the one parsing the rewritten argv gives: the same reply and
// state, and the same fields, for forms that are rewritten, forms that are
// not, and commands that are not XADDs at all.
func TestParsedAutoIdempotentXAdd(t *testing.T) {
	for _, line := range []string{
		"XADD s * f v", "XADD s MAXLEN ~ 10 * f v a b", "XADD s NOMKSTREAM * f v",
		"XADD s MINID = 0 LIMIT 5 * f v", "XADD s KEEPREF MAXLEN 3 * f v",
		"XADD s 1-1 f v", "XADD s IDMP p i * f v", "XADD s IDMPAUTO p * f v",
		"XADD s * f", "XADD s BADOPT * f v", "XLEN s", "XTRIM s MAXLEN 1",
	} {
		a := split(line)
		c := lookupCommand(a[0])
		p := c.Parse(a)
		want, wok := AutoIdempotentXAdd(a, "prod")
		q, gok := p.AutoIdempotentXAdd("prod")
		if gok != wok || fmt.Sprint(q.Argv()) != fmt.Sprint(want) {
			t.Errorf("%s: parsed %v %q, argv %v %q", line, gok, q.Argv(), wok, want)
		}
		if _, ok := p.AutoIdempotentXAdd(""); ok {
			t.Errorf("%s: rewritten without a producer", line)
		}
		if !gok {
			continue
		}
		parsed := c.Parse(q.Argv())
		if fmt.Sprintf("%+v", *q.wargs.(*xaddParsed)) != fmt.Sprintf("%+v", *parsed.wargs.(*xaddParsed)) {
			t.Errorf("%s: built %+v, parsed %+v", line, *q.wargs.(*xaddParsed), *parsed.wargs.(*xaddParsed))
		}
		// Twice, so that the second is the IDMP duplicate.
		for i := 0; i < 2; i++ {
			s1, s2 := NewState(), NewState()
			for j := 0; j <= i; j++ {
				w1, w2 := respWriter(2), respWriter(2)
				s1.RunParsed(&Ctx{Now: testNow, W: w1}, q)
				s2.RunParsed(&Ctx{Now: testNow, W: w2}, &parsed)
				if string(w1.Buf) != string(w2.Buf) {
					t.Errorf("%s: built replies %q, parsed %q", line, w1.Buf, w2.Buf)
				}
			}
			var b1, b2 bytes.Buffer
			if err := s1.WriteSnapshot(&b1); err != nil {
				t.Fatal(err)
			}
			if err := s2.WriteSnapshot(&b2); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
				t.Errorf("%s: the states differ", line)
			}
		}
	}
}
