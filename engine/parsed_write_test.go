package engine

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// hugeBlock is a BLOCK timeout whose range check depends on the clock.
const hugeBlock = "9223372036854775000"

// writeForms are write command lines in every form their parsers know,
// errors included, in an order where most of them find something to do:
// run in sequence they exercise both the parse and the state-dependent
// paths. "<empty>" stands for an empty argument.
var writeForms = []string{
	"XADD s * a b", "XADD s MAXLEN ~ 1 * c d", "XADD s MAXLEN = 2 * c d", "XADD s MAXLEN 2 LIMIT 5 * c d",
	"XADD s MAXLEN ~ 5 LIMIT 10 * c d", "XADD s MINID ~ 0 LIMIT 10 * e f", "XADD s MINID = 1-0 * e f",
	"XADD s MAXLEN 1 MINID 0 * a b", "XADD s MAXLEN -1 * a b", "XADD s LIMIT 1 * a b", "XADD s LIMIT 0 * a b",
	"XADD s MAXLEN x * a b", "XADD s MINID x * a b", "XADD s LIMIT -1 MAXLEN ~ 1 * a b",
	"XADD s NOMKSTREAM * a b", "XADD nokey NOMKSTREAM * a b", "XADD s KEEPREF * a b", "XADD s DELREF * a b",
	"XADD s ACKED MAXLEN 100 * a b", "XADD s KEEPREF DELREF * a b",
	"XADD s IDMP p i * a b", "XADD s IDMP p i * a b", "XADD s IDMPAUTO p * a b", "XADD s IDMPAUTO p * a b",
	"XADD s IDMP <empty> i * a b", "XADD s IDMP p <empty> * a b", "XADD s IDMPAUTO <empty> * a b",
	"XADD s IDMP p i 5-1 a b", "XADD s IDMP p i IDMPAUTO q * a b", "XADD s IDMPAUTO q IDMP p i * a b",
	"XADD s 0-0 a b", "XADD t 5-* a b", "XADD t 5-* a b", "XADD t 5-1 a b", "XADD t 9-9 a b", "XADD t 1-1 a b",
	"XADD s * a", "XADD s *", "XADD s x a b", "XADD s FOO * a b", "XADD s * a b c d e f",
	"XADD max 18446744073709551615-18446744073709551615 a b", "XADD max * a b", "XADD max 18446744073709551615-* a b",
	"XTRIM s MAXLEN 100", "XTRIM s MAXLEN ~ 1 LIMIT 1", "XTRIM s MINID 0", "XTRIM s", "XTRIM s FOO",
	"XTRIM s FOO 1", "XTRIM s LIMIT 1 MAXLEN 1", "XTRIM s MAXLEN 8 ACKED", "XTRIM s MAXLEN 6 DELREF",
	"XTRIM s MAXLEN 5 KEEPREF", "XTRIM s MINID 1700000000040", "XTRIM nokey MAXLEN 1", "XTRIM s MAXLEN ~ x",
	"XSETID t 99-0", "XSETID t 99-0 ENTRIESADDED 100 MAXDELETEDID 1-0", "XSETID t 1-0", "XSETID t x",
	"XSETID t 99-0 ENTRIESADDED -1", "XSETID t 99-0 MAXDELETEDID 100-0", "XSETID t 99-0 ENTRIESADDED 0",
	"XSETID nokey 1-1", "XSETID t 99-0 FOO 1",
	"XGROUP CREATE s g 0", "XGROUP CREATE s g 0", "XGROUP CREATE s g2 $ MKSTREAM ENTRIESREAD 3",
	"XGROUP CREATE new g $ MKSTREAM", "XGROUP CREATE nokey g $", "XGROUP CREATE s g3 0 ENTRIESREAD x",
	"XGROUP CREATE s g3 0 ENTRIESREAD -5", "XGROUP CREATE s g3 0 FOO", "XGROUP CREATE s g3 x",
	"XGROUP CREATE s g3 0 ENTRIESREAD -1", "XGROUP SETID s g 0 ENTRIESREAD 1", "XGROUP SETID s g $",
	"XGROUP SETID s nog 0", "XGROUP SETID s g 0 MKSTREAM", "XGROUP SETID s g x", "XGROUP CREATECONSUMER s g c1",
	"XGROUP DESTROY s g3", "XGROUP DELCONSUMER s g c1", "XGROUP CREATE s", "XGROUP NOPE s g",
	"XREADGROUP GROUP g c STREAMS s >", "XADD s * n 1", "XREADGROUP GROUP g c COUNT 1 NOACK STREAMS s >",
	"XADD s * n 2", "XADD s 1800000000000-1 n 3", "XREADGROUP GROUP g c BLOCK 10 STREAMS s >", "XREADGROUP GROUP g c BLOCK " + hugeBlock + " STREAMS s >",
	"XREADGROUP GROUP g c BLOCK " + hugeBlock + " COUNT x STREAMS s >", "XREADGROUP GROUP g c BLOCK x STREAMS s >",
	"XREADGROUP GROUP g d CLAIM 0 STREAMS s >", "XREADGROUP GROUP g c CLAIM -1 STREAMS s >",
	"XREADGROUP GROUP g c CLAIM x STREAMS s >", "XREADGROUP GROUP g c STREAMS s 0", "XREADGROUP GROUP g c STREAMS s $",
	"XREADGROUP GROUP g c STREAMS s new >", "XREADGROUP GROUP nog c STREAMS s >", "XREADGROUP COUNT 1 NOACK STREAMS s >",
	"XREADGROUP GROUP g c COUNT -1 STREAMS s t > >", "XREADGROUP GROUP g c STREAMS s +", "XREADGROUP GROUP g c STREAMS s x",
	"XAUTOCLAIM s g c 0 0", "XAUTOCLAIM s g e 0 0 COUNT 1 JUSTID", "XAUTOCLAIM s g c x 0", "XAUTOCLAIM s g c 0 (0",
	"XAUTOCLAIM s g c 0 0 COUNT 0", "XAUTOCLAIM s nog c 0 0", "XAUTOCLAIM s g c 0 0 FOO", "XAUTOCLAIM s g c -5 - COUNT 2",
	"XAUTOCLAIM s g c 0 x", "XAUTOCLAIM s g c 0 (18446744073709551615-18446744073709551615",
	"XDELEX t IDS 1 5-0", "XDELEX t KEEPREF IDS 2 5-1 2-1", "XDELEX s ACKED IDS 1 x", "XDELEX s IDS 0 1-1",
	"XDELEX s IDS 3 1-1", "XDELEX s KEEPREF", "XDELEX nokey IDS 1 1-1", "XDELEX s IDS 1 1-1 FOO",
	"XACKDEL s g IDS 1 1-1", "XACKDEL s g DELREF IDS 1 1800000000000-1", "XACKDEL s g ACKED IDS 1 1800000000000-1", "XACKDEL s nog IDS 1 1-1", "XACKDEL s g FOO IDS 1 1-1",
	"XACKDEL s g ACKED IDS 2 1-1 x", "XACKDEL s g IDS x 1-1",
	"RS.SETDLQ s g MAXDELIVERIES 2 DEADLETTER dl", "RS.SETDLQ s g DEADLETTER dl MAXDELIVERIES 3",
	"RS.SETDLQ s g DEADLETTER dl2 MAXDELIVERIES 3", "RS.SETDLQ s g OFF", "RS.SETDLQ s g MAXDELIVERIES 0 DEADLETTER dl",
	"RS.SETDLQ s g MAXDELIVERIES 2 DEADLETTER s", "RS.SETDLQ s nog OFF", "RS.SETDLQ nokey g OFF",
	"RS.SETDLQ s g MAXDELIVERIES 2", "RS.SETDLQ s g MAXDELIVERIES x DEADLETTER dl", "RS.SETDLQ s g MAXDELIVERIES 1 DEADLETTER dl",
	"XAUTOCLAIM s g z 0 0 COUNT 5", "XAUTOCLAIM s g z 0 0 COUNT 5",
	"EXPIRE s 100", "EXPIRE s 200 NX", "EXPIRE s 200 XX", "EXPIRE s 300 GT", "EXPIRE s 50 LT", "EXPIRE s 1 NX XX",
	"EXPIRE s 1 GT LT", "EXPIRE s 1 FOO", "PEXPIRE s 100000 GT", "EXPIREAT s " + strconv.FormatInt(testNow/1000+100, 10),
	"PEXPIREAT s " + strconv.FormatInt(testNow+5000, 10), "EXPIRE s 9223372036854775807", "PEXPIRE s 9223372036854775000",
	"EXPIRE s x", "EXPIRE nokey 10", "EXPIRE s 10 XX GT", "PERSIST s",
	"COPY s t", "COPY s t REPLACE", "COPY s t DB 1", "COPY s t DB 1 REPLACE", "COPY s s", "COPY s s DB 0",
	"COPY s t DB 16", "COPY s t DB x", "COPY s t FOO", "COPY s t DB 99999999999", "COPY nokey t", "COPY s u DB -1",
	"PEXPIREAT t " + strconv.FormatInt(testNow-1, 10),
	"DEL nokey", "XDEL s 1-1", "XACK s g 1-1", "XCLAIM s g c 0 1-1", "RENAME s s2", "RENAME s2 s",
	"XADD s2 * a b", "XNACK s g FAIL IDS 1 1-1", "XCFGSET s IDMP-MAXSIZE 1",
	"FLUSHDB A B", "FLUSHALL FOO", "FLUSHDB ASYNC", "XADD s * a b", "FLUSHALL SYNC", "XADD s * a b", "FLUSHDB",
	"XADD s * a b", "FLUSHALL",
}

// formArgv splits a writeForms line.
func formArgv(line string) [][]byte {
	argv := argvOf(line)
	for i, a := range argv {
		if string(a) == "<empty>" {
			argv[i] = []byte{}
		}
	}
	return argv
}

// equivSeqs are the command sequences the equivalence test runs, each
// on fresh states: writeForms, then every case of the command table
// (reads included: they run both ways too).
func equivSeqs() [][][][]byte {
	var forms [][][]byte
	for _, l := range writeForms {
		forms = append(forms, formArgv(l))
	}
	seqs := [][][][]byte{forms}
	for _, tc := range allCases() {
		var seq [][][]byte
		for _, st := range tc.steps {
			argv := make([][]byte, len(st.args))
			for i, a := range st.args {
				argv[i] = []byte(a)
			}
			seq = append(seq, argv)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

// twoWays runs commands on two states, one through Exec (a replica
// applying the logged argv) and one through Command.Parse and RunParsed
// (the node that logged the write), and reports the first difference:
// Parse's error against Check's, reply bytes, signals, and, by snap, the
// snapshot bytes (data, TTLs, WATCH stamps).
type twoWays struct {
	exec, parsed *State
	proto        int
	db           int
	retain       bool
}

func newTwoWays(proto, db int, retain bool) *twoWays {
	return &twoWays{exec: NewState(), parsed: NewState(), proto: proto, db: db, retain: retain}
}

// step runs argv at now both ways; it returns the Exec reply and the
// Parsed that RunParsed ran ("", nil for CONFIG SET).
func (tw *twoWays) step(t *testing.T, argv [][]byte, now int64) (string, *Parsed) {
	t.Helper()
	if len(argv) > 0 && argIs(argv[0], "config") {
		// Replicated CONFIG SET reaches the state typed (runOwn).
		for _, s := range []*State{tw.exec, tw.parsed} {
			if set, msg := ParseConfigSet(argv); msg == "" {
				s.ExecConfigSet(&Ctx{Now: now, W: respWriter(tw.proto)}, set)
			}
		}
		return "", nil
	}
	var sigE, sigP []string
	sig := func(to *[]string) func(int, string) {
		return func(db int, key string) { *to = append(*to, strconv.Itoa(db)+"/"+key) }
	}
	we, wp := respWriter(tw.proto), respWriter(tw.proto)
	tw.exec.Exec(&Ctx{DB: tw.db, Now: now, W: we, Signal: sig(&sigE), Retain: tw.retain}, argv)

	c := resolveName(argv)
	p := c.Parse(argv)
	if c != nil && !p.exec && p.Err() != c.Check(argv) {
		t.Fatalf("%q: Parse's error %q, Check's %q", argv, p.Err(), c.Check(argv))
	}
	if c != nil && c.parser != noParser && c.Check(argv) == "" && ArityOK(c.spec.Arity, len(argv)) && p.exec &&
		!argIs(argv[0], "xread") && !argIs(argv[0], "xreadgroup") {
		t.Fatalf("%q: a command with a parser runs through Exec", argv)
	}
	tw.parsed.RunParsed(&Ctx{DB: tw.db, Now: now, W: wp, Signal: sig(&sigP), Retain: tw.retain}, &p)
	if !bytes.Equal(we.Buf, wp.Buf) {
		t.Fatalf("%q (resp%d): RunParsed replied %q, Exec %q", argv, tw.proto, wp.Buf, we.Buf)
	}
	if strings.Join(sigE, " ") != strings.Join(sigP, " ") {
		t.Fatalf("%q: RunParsed signalled %q, Exec %q", argv, sigP, sigE)
	}
	return string(we.Buf), &p
}

// sameState fails unless both states have the same snapshot bytes.
func (tw *twoWays) sameState(t *testing.T, what string) {
	t.Helper()
	if a, b := snapshotBytes(t, tw.exec), snapshotBytes(t, tw.parsed); !bytes.Equal(a, b) {
		t.Fatalf("%s: the states differ after Exec and RunParsed", what)
	}
}

// Every write form, and every command of the table, gives the same
// replies, signals and state through Parse and RunParsed as through Exec,
// in RESP2 and RESP3, with and without Retain, in database 0 and 3.
func TestParsedWritesMatchExec(t *testing.T) {
	for _, proto := range []int{2, 3} {
		for _, retain := range []bool{false, true} {
			for _, db := range []int{0, 3} {
				for i, seq := range equivSeqs() {
					tw := newTwoWays(proto, db, retain)
					for j, argv := range seq {
						tw.step(t, argv, testNow+int64(j))
					}
					tw.sameState(t, fmt.Sprintf("sequence %d resp%d retain=%v db=%d", i, proto, retain, db))
				}
			}
		}
	}
}

// A write's parse is Check's, for every command with a parser: Check
// (package and Command) gives the error Parse gives, with or without
// keeping the arguments.
func TestParseErrIsCheck(t *testing.T) {
	extra := []string{
		"XGROUP NOSUCH s g", "XGROUP", "XGROUP CREATE s", "XGROUP DESTROY s g extra",
		"XGROUP CREATE s g $ BADOPT", "XADD s", "XDEL s", "XACK s g", "FLUSHALL BAD",
	}
	for _, l := range append(append([]string(nil), writeForms...), extra...) {
		argv := formArgv(l)
		// What the server resolves: the command, a container's too.
		c := commandTable[strings.ToLower(string(argv[0]))]
		if c == nil {
			continue
		}
		p := c.Parse(argv)
		if p.Err() != Check(argv) {
			t.Errorf("%s: Parse %q, Check %q", l, p.Err(), Check(argv))
		}
		if p.exec {
			continue
		}
		if p.Err() != Check(argv) || p.Err() != c.Check(argv) {
			t.Errorf("%s: Parse %q, Check %q, Command.Check %q", l, p.Err(), Check(argv), c.Check(argv))
		}
		if c.parser >= parserXAdd && p.Err() == "" && p.wargs == nil && c.parser != parserFlushDB && c.parser != parserFlushAll {
			t.Errorf("%s: parsed write without arguments", l)
		}
	}
}

// XADD with Retain keeps a big value by reference through RunParsed as
// through Exec: the stored value is the argv's bytes.
func TestParsedXAddRetains(t *testing.T) {
	for _, retain := range []bool{false, true} {
		var replies []string
		for _, parsed := range []bool{false, true} {
			s := NewState()
			argv := [][]byte{[]byte("XADD"), []byte("s"), []byte("1-1"), []byte("f"), bytes.Repeat([]byte("v"), BigValue)}
			ctx := &Ctx{Now: testNow, W: respWriter(2), Retain: retain}
			if parsed {
				p := resolveName(argv).Parse(argv)
				s.RunParsed(ctx, &p)
			} else {
				s.Exec(ctx, argv)
			}
			argv[4][0] = 'Z' // visible in the stream only if it was retained
			replies = append(replies, runOwn(s, 2, testNow, []string{"XRANGE", "s", "-", "+"})[:40])
		}
		if replies[0] != replies[1] {
			t.Errorf("retain=%v: Exec then XRANGE %q, RunParsed %q", retain, replies[0], replies[1])
		}
		if retained := strings.Contains(replies[0], "Z"); retained != retain {
			t.Errorf("retain=%v: value retained: %v", retain, retained)
		}
	}
}

// RunParsed does not modify the Parsed: the same value run on two clones
// of a state, one after the other and then at the same time (the race
// detector watches), gives the same replies, and its printed form is
// unchanged.
func TestRunParsedLeavesParsedAlone(t *testing.T) {
	build := func() *State {
		s := NewState()
		for j, l := range []string{"XADD s 1-1 a b", "XADD s 2-1 c d", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >",
			"RS.SETDLQ s g MAXDELIVERIES 1 DEADLETTER dl", "XADD t 1-1 a b", "EXPIRE t 1000"} {
			runOwn(s, 2, testNow+int64(j), strings.Fields(l))
		}
		return s
	}
	base := build()
	for _, l := range writeForms {
		argv := formArgv(l)
		c := resolveName(argv)
		p := c.Parse(argv)
		before := dumpParsed(&p)
		var replies [4]string
		run := func(i int) {
			w := respWriter(3)
			base.Clone().RunParsed(&Ctx{Now: testNow + 100, W: w, Signal: func(int, string) {}}, &p)
			replies[i] = string(w.Buf)
		}
		// The concurrent runs get states of their own: clones share
		// copy-on-write structure that only one of them may modify at a
		// time (a state and its snapshot clone never both write).
		s2, s3 := build(), build()
		run(0)
		run(1)
		var wg sync.WaitGroup
		for i, s := range []*State{s2, s3} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := respWriter(3)
				s.RunParsed(&Ctx{Now: testNow + 100, W: w, Signal: func(int, string) {}}, &p)
				replies[2+i] = string(w.Buf)
			}()
		}
		wg.Wait()
		for i := 1; i < len(replies); i++ {
			if replies[i] != replies[0] {
				t.Errorf("%s: run %d replied %q, run 0 %q", l, i, replies[i], replies[0])
			}
		}
		if after := dumpParsed(&p); after != before {
			t.Errorf("%s: RunParsed changed the Parsed:\n%s\n%s", l, before, after)
		}
	}
}

// dumpParsed prints p and what its write arguments point to.
func dumpParsed(p *Parsed) string {
	return fmt.Sprintf("%+v|%+v", *p, p.wargs)
}

// A write's arguments do not make Parsed bigger than one interface; an
// XADD's take one 128-byte allocation.
func TestParsedSize(t *testing.T) {
	// A parsed write lives until its entry applies: the value and its
	// arguments are all it costs.
	if n := unsafe.Sizeof(Parsed{}); n > 80 {
		t.Errorf("Sizeof(Parsed) = %d, want at most 80", n)
	}
	if n := unsafe.Sizeof(xaddParsed{}); n != 128 {
		t.Errorf("Sizeof(xaddParsed) = %d, want 128", n)
	}
	argv := argvOf("XADD s MAXLEN ~ 1000 * f v")
	c := resolveName(argv)
	var p Parsed
	if n := testing.AllocsPerRun(100, func() { c.ParseInto(&p, argv) }); n != 1 {
		t.Errorf("ParseInto XADD: %v allocations, want 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = c.Check(argv) }); n != 0 {
		t.Errorf("Check XADD: %v allocations, want 0", n)
	}
	// A read reuses the storage of the value it is parsed into (the
	// server keeps one per connection), also after Reset.
	rargv := argvOf("XRANGE s - + COUNT 10")
	rc := resolveName(rargv)
	p.Reset()
	if n := testing.AllocsPerRun(100, func() { rc.ParseInto(&p, rargv); p.Reset() }); n != 0 {
		t.Errorf("ParseInto XRANGE into a reused value: %v allocations, want 0", n)
	}
	rc.ParseInto(&p, rargv)
	p.Reset()
	if p.argv != nil || p.rd == nil || p.rd.xrange != (xrangeArgs{}) {
		t.Errorf("Reset kept the command or dropped the storage: %+v", p)
	}
}

// BenchmarkXAddApply is an XADD applied through Exec (the logged argv,
// parsed on apply) and through RunParsed (parsed beforehand, on the node
// that logged it: the parse is not timed).
func BenchmarkXAddApply(b *testing.B) {
	argv := argvOf("XADD s MAXLEN ~ 1000 * f v")
	c := resolveName(argv)
	b.Run("Exec", func(b *testing.B) {
		s := NewState()
		w := respWriter(2)
		ctx := &Ctx{Now: testNow, W: w, Retain: true}
		b.ReportAllocs()
		for b.Loop() {
			w.Buf = w.Buf[:0]
			s.Exec(ctx, argv)
		}
	})
	b.Run("RunParsed", func(b *testing.B) {
		s := NewState()
		w := respWriter(2)
		ctx := &Ctx{Now: testNow, W: w, Retain: true}
		p := c.Parse(argv)
		b.ReportAllocs()
		for b.Loop() {
			w.Buf = w.Buf[:0]
			s.RunParsed(ctx, &p)
		}
	})
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if Check(argv) != "" {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("Parse", func(b *testing.B) {
		var p Parsed
		b.ReportAllocs()
		for b.Loop() {
			c.ParseInto(&p, argv)
		}
	})
}
