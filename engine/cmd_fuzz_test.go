package engine

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzExec runs random command lines (one per input line, arguments split
// on spaces, the first byte of the input shifting the clock) against a
// state in RESP2 and RESP3. It checks that Exec never panics, that it
// always writes a reply, that an error Check reports is exactly Exec's
// reply, that the registry entry a server resolves the name to checks and
// runs (Command.Check, State.Run: every other line) as Check and Exec do,
// and that the final state survives a snapshot round trip.
func FuzzExec(f *testing.F) {
	for _, seed := range execFuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		now := testNow + int64(data[0])*1000 - 100000
		s := NewState()
		for i, line := range bytes.Split(data[1:], []byte("\n")) {
			argv := bytes.Split(line, []byte(" "))
			if len(argv) > 64 {
				argv = argv[:64]
			}
			check := Check(argv)
			c := resolveName(argv)
			if c != nil && c.Check(argv) != check {
				t.Fatalf("%q: Command.Check says %q, Check %q", argv, c.Check(argv), check)
			}
			w := respWriter(2 + i%2)
			ctx := &Ctx{DB: i % 3, Now: now + int64(i), W: w, Signal: func(int, string) {}}
			if c != nil && i%2 == 1 {
				s.Run(ctx, c, argv)
			} else {
				s.Exec(ctx, argv)
			}
			if len(w.Buf) == 0 {
				t.Fatalf("%q: no reply", argv)
			}
			if check != "" && string(w.Buf) != errReply(check) {
				t.Fatalf("%q: Check says %q, Exec replied %q", argv, check, w.Buf)
			}
		}
		s.ExpireKeys(now + 50)
		var b bytes.Buffer
		if err := s.WriteSnapshot(&b); err != nil {
			t.Fatal(err)
		}
		r, err := ReadSnapshot(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("ReadSnapshot: %v", err)
		}
		var b2 bytes.Buffer
		if err := r.WriteSnapshot(&b2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), b2.Bytes()) {
			t.Fatal("snapshot round trip changed bytes")
		}
	})
}

// execFuzzSeeds are the seed inputs of FuzzExec and FuzzParsedWrite:
// every case of the command table, then command mixes that shift the
// clock.
func execFuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, tc := range allCases() {
		var lines []string
		for _, st := range tc.steps {
			lines = append(lines, strings.Join(st.args, " "))
		}
		seeds = append(seeds, []byte("\x00"+strings.Join(lines, "\n")))
	}
	seeds = append(seeds, []byte("\x05XADD s * a b\nXADD s MAXLEN ~ 1 * c d\nEXPIRE s 0\nXREAD STREAMS s +"))
	seeds = append(seeds, []byte("\xffCONFIG SET stream-node-max-entries 1\nXADD s 1-* a b\nXADD s 1-* a b\nXTRIM s MINID ~ 2"))
	// Consumer-group vocabulary, clock shifts included: the first byte
	// moves the clock and every line runs 1 ms later.
	seeds = append(seeds, []byte("\x10XADD s * a b\nXGROUP CREATE s g 0\nXREADGROUP GROUP g c COUNT 1 STREAMS s >\n"+
		"XADD s * c d\nXREADGROUP GROUP g d CLAIM 0 STREAMS s >\nXNACK s g FAIL IDS 1 0-1\n"+
		"XAUTOCLAIM s g e 0 0 COUNT 1\nXPENDING s g - + 10\nXINFO STREAM s FULL"))
	seeds = append(seeds, []byte("\x80XGROUP CREATE s g $ MKSTREAM\nXADD s IDMP p i * a b\nXADD s IDMP p i * a b\n"+
		"XREADGROUP GROUP g c NOACK STREAMS s >\nXCLAIM s g c 0 0-1 FORCE\nXACKDEL s g ACKED IDS 1 0-1\n"+
		"XDELEX s DELREF IDS 1 0-1\nXTRIM s MAXLEN ~ 0 ACKED\nXGROUP SETID s g 0\nXCFGSET s IDMP-MAXSIZE 1"))
	seeds = append(seeds, []byte("\x01XADD s 1-1 a b\nXADD s 2-1 a b\nXGROUP CREATE s g 0\nXREADGROUP GROUP g c STREAMS s >\n"+
		"XDEL s 1-1\nXREADGROUP GROUP g c STREAMS s 0\nXCLAIM s g d 0 1-1 2-1\nXGROUP DELCONSUMER s g d\n"+
		"XINFO CONSUMERS s g\nXINFO GROUPS s\nCOPY s t\nRENAME t u\nXGROUP DESTROY u g"))
	// ACL users: rules, failures, deletion; they go through the snapshot
	// round trip below too.
	seeds = append(seeds, []byte("\x02ACL SETUSER u on >p ~a* %R~b* &c +@read -xrange +config|get\nACL SETUSER u <p #"+HashPassword("x")+
		"\nACL SETUSER u %W~ allkeys ~x\nACL SETUSER v reset\nACL DELUSER v w\nACL SETUSER default -flushall nopass"))
	return seeds
}

// resolveName finds argv's registry entry by name the way the server does
// (the subcommand if argv names one), before any arity check.
func resolveName(argv [][]byte) *Command {
	if len(argv) == 0 {
		return nil
	}
	c := lookupCommand(argv[0])
	if c != nil && c.subs != nil && len(argv) >= 2 {
		c = c.lookupSub(argv[1])
	}
	return c
}

// FuzzParsedWrite runs random command lines (FuzzExec's input format) on
// two states, one through Exec (a replica applying the logged argv), the
// other through Command.Parse and RunParsed (the node that logged it). It
// checks that Parse's error is Check's, that the replies and signals are
// the same, that running the same Parsed again on a clone of the state it
// ran on gives the same reply (RunParsed leaves it alone), and that the
// two states end with the same snapshot bytes (data, TTLs, WATCH stamps).
func FuzzParsedWrite(f *testing.F) {
	for _, seed := range execFuzzSeeds() {
		f.Add(seed)
	}
	f.Add([]byte("\x03" + strings.Join(writeForms, "\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		now := testNow + int64(data[0])*1000 - 100000
		tw := newTwoWays(2, 0, data[0]&1 == 1)
		for i, line := range bytes.Split(data[1:], []byte("\n")) {
			argv := bytes.Split(line, []byte(" "))
			if len(argv) > 64 {
				argv = argv[:64]
			}
			tw.proto, tw.db = 2+i%2, i%3
			// Err is Check's for any argv the server resolves to a
			// command (a container's included): it refuses writes on it.
			if c := lookupCommand(argv[0]); c != nil {
				if p := c.Parse(argv); p.Err() != Check(argv) {
					t.Fatalf("%q: Parse's error %q, Check's %q", argv, p.Err(), Check(argv))
				}
			}
			before := tw.parsed.Clone()
			got, p := tw.step(t, argv, now+int64(i))
			if p == nil {
				continue
			}
			w := respWriter(tw.proto)
			before.RunParsed(&Ctx{DB: tw.db, Now: now + int64(i), W: w, Retain: tw.retain}, p)
			if string(w.Buf) != got {
				t.Fatalf("%q: the Parsed run again on a clone replied %q, first %q", argv, w.Buf, got)
			}
		}
		tw.sameState(t, "end")
	})
}
