package engine

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// signalLog runs commands and records Ctx.Signal calls.
type signalLog struct {
	s    *State
	got  []string
	now  int64
	db   int
	last string
}

func (l *signalLog) run(line string) string {
	w := respWriter(2)
	ctx := &Ctx{DB: l.db, Now: l.now, W: w, Signal: func(db int, key string) {
		l.got = append(l.got, fmt.Sprintf("%d:%s", db, key))
	}}
	l.s.Exec(ctx, argvOf(line))
	l.last = string(w.Buf)
	return l.last
}

func TestSignals(t *testing.T) {
	tests := []struct {
		name  string
		setup []string
		line  string
		want  []string
	}{
		{"xadd", nil, "XADD s 1-1 f v", []string{"0:s"}},
		{"xadd-error", nil, "XADD s 0-0 f v", nil},
		{"xadd-nomkstream-missing", nil, "XADD s NOMKSTREAM 1-1 f v", nil},
		{"xdel-no-signal", []string{"XADD s 1-1 f v"}, "XDEL s 1-1", nil},
		{"xtrim-no-signal", []string{"XADD s 1-1 f v"}, "XTRIM s MAXLEN 0", nil},
		{"del", []string{"XADD a 1-1 f v", "XADD b 1-1 f v"}, "DEL a b c", []string{"0:a", "0:b"}},
		{"unlink", []string{"XADD a 1-1 f v"}, "UNLINK a", []string{"0:a"}},
		{"rename", []string{"XADD a 1-1 f v"}, "RENAME a b", []string{"0:a", "0:b"}},
		{"renamenx-refused", []string{"XADD a 1-1 f v", "XADD b 1-1 f v"}, "RENAMENX a b", nil},
		{"copy", []string{"XADD a 1-1 f v"}, "COPY a b DB 3", []string{"3:b"}},
		{"flushdb", []string{"XADD a 1-1 f v", "XADD b 1-1 f v"}, "FLUSHDB", []string{"0:a", "0:b"}},
		{"expire-now", []string{"XADD a 1-1 f v"}, "EXPIRE a 0", []string{"0:a"}},
		{"expire-later", []string{"XADD a 1-1 f v"}, "EXPIRE a 10", nil},
		{"lazy-expire-on-write", []string{"XADD a 1-1 f v", "PEXPIREAT a 1"}, "XADD b 1-1 f v", []string{"0:b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &signalLog{s: NewState(), now: testNow}
			for _, s := range tc.setup {
				l.run(s)
			}
			l.got = nil
			l.run(tc.line)
			sort.Strings(l.got)
			if !reflect.DeepEqual(l.got, tc.want) {
				t.Fatalf("signals %v, want %v (reply %q)", l.got, tc.want, l.last)
			}
		})
	}
}

func TestFlushAllSignalsEveryDB(t *testing.T) {
	l := &signalLog{s: NewState(), now: testNow}
	for db := 0; db < NumDBs; db += 5 {
		l.db = db
		l.run("XADD k 1-1 f v")
	}
	l.got = nil
	l.run("FLUSHALL")
	sort.Strings(l.got)
	if want := []string{"0:k", "10:k", "15:k", "5:k"}; !reflect.DeepEqual(l.got, want) {
		t.Fatalf("signals %v, want %v", l.got, want)
	}
}

// TestLazyExpiry checks that reads hide an expired key without removing
// it (they may run concurrently), while writes and ExpireKeys delete it.
func TestLazyExpiry(t *testing.T) {
	s := NewState()
	runOwn(s, 2, testNow, []string{"XADD", "a", "1-1", "f", "v"})
	runOwn(s, 2, testNow, []string{"XADD", "b", "1-1", "f", "v"})
	runOwn(s, 2, testNow, []string{"PEXPIRE", "a", "10"})
	runOwn(s, 2, testNow, []string{"PEXPIRE", "b", "20"})
	if ms, ok := s.NextExpiry(); !ok || ms != testNow+10 {
		t.Fatalf("NextExpiry = %d %v", ms, ok)
	}
	// Redis's keyIsExpired: a key lives through its deadline millisecond.
	if got := runOwn(s, 2, testNow+10, strings.Fields("EXISTS a")); got != in(1) {
		t.Fatalf("EXISTS a at its deadline: %q, want :1", got)
	}
	later := testNow + 11
	for _, tc := range []struct{ line, want string }{
		{"EXISTS a", in(0)},
		{"TYPE a", status("none")},
		{"XLEN a", in(0)},
		{"TTL a", in(-2)},
		{"DBSIZE", in(1)},
		{"KEYS *", bss("b")},
		{"SCAN 0", ar(bs("0"), bss("b"))},
		{"XREAD STREAMS a 0", nullArr()},
		{"PTTL b", in(9)},
	} {
		if got := runOwn(s, 2, later, strings.Fields(tc.line)); got != tc.want {
			t.Fatalf("%s past deadline: %q, want %q", tc.line, got, tc.want)
		}
	}
	if in := s.Info(); in.Keys[0] != 2 || in.Expires[0] != 2 {
		t.Fatalf("a read removed the expired key: %+v", in)
	}
	// A write touching the key deletes it.
	if got := runOwn(s, 2, later, strings.Fields("XADD a NOMKSTREAM 2-1 f v")); got != nullBulk() {
		t.Fatalf("XADD NOMKSTREAM on expired key: %q", got)
	}
	if in := s.Info(); in.Keys[0] != 1 || in.Expires[0] != 1 {
		t.Fatalf("write did not delete the expired key: %+v", in)
	}
	if n := s.ExpireKeys(testNow + 20); n != 0 {
		t.Fatalf("ExpireKeys before deadline deleted %d", n)
	}
	var sig []string
	if n := s.ExpireKeysNotify(testNow+21, func(db int, key string) {
		sig = append(sig, fmt.Sprintf("%d:%s", db, key))
	}); n != 1 || !reflect.DeepEqual(sig, []string{"0:b"}) {
		t.Fatalf("ExpireKeysNotify = %d, signals %v", n, sig)
	}
	if _, ok := s.NextExpiry(); ok {
		t.Fatal("NextExpiry reports a deadline in an empty state")
	}
	if in := s.Info(); in.Keys[0] != 0 {
		t.Fatalf("keys left: %+v", in)
	}
}

func TestNextExpiryAcrossDBs(t *testing.T) {
	s := NewState()
	for db, at := range map[int]int64{3: 500, 7: 200, 9: 900} {
		w := respWriter(2)
		s.Exec(&Ctx{DB: db, Now: 100, W: w}, argvOf("XADD k 1-1 f v"))
		s.Exec(&Ctx{DB: db, Now: 100, W: w}, argvOf(fmt.Sprintf("PEXPIREAT k %d", at)))
	}
	if ms, ok := s.NextExpiry(); !ok || ms != 200 {
		t.Fatalf("NextExpiry = %d %v, want 200", ms, ok)
	}
	if n := s.ExpireKeys(501); n != 2 {
		t.Fatalf("ExpireKeys(501) = %d, want 2", n)
	}
	if ms, ok := s.NextExpiry(); !ok || ms != 900 {
		t.Fatalf("NextExpiry = %d %v, want 900", ms, ok)
	}
}

// TestScanIteration checks the SCAN guarantee: every key present for the
// whole iteration is returned exactly once, whatever is added or removed
// between calls, and the cursor ends at 0.
func TestScanIteration(t *testing.T) {
	for _, count := range []int{1, 3, 10, 1000} {
		t.Run(fmt.Sprint("count", count), func(t *testing.T) {
			s := NewState()
			stable := map[string]bool{}
			for i := 0; i < 300; i++ {
				k := fmt.Sprintf("key:%d", i)
				runOwn(s, 2, testNow, []string{"XADD", k, "1-1", "f", "v"})
				stable[k] = true
			}
			seen := map[string]int{}
			cursor := "0"
			for round := 0; ; round++ {
				reply := runOwn(s, 2, testNow, []string{"SCAN", cursor, "COUNT", fmt.Sprint(count)})
				next, keys := parseScanReply(t, reply)
				for _, k := range keys {
					seen[k]++
				}
				// Churn: add and remove other keys between calls.
				runOwn(s, 2, testNow, []string{"XADD", fmt.Sprintf("tmp:%d", round), "1-1", "f", "v"})
				runOwn(s, 2, testNow, []string{"DEL", fmt.Sprintf("tmp:%d", round-3)})
				cursor = next
				if cursor == "0" {
					break
				}
				if round > 100000 {
					t.Fatal("SCAN does not terminate")
				}
			}
			for k := range stable {
				if seen[k] != 1 {
					t.Fatalf("key %s returned %d times", k, seen[k])
				}
			}
		})
	}
}

// parseScanReply decodes a RESP2 SCAN reply.
func parseScanReply(t *testing.T, r string) (string, []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r, "\r\n"), "\r\n")
	if len(lines) < 4 || lines[0] != "*2" {
		t.Fatalf("bad SCAN reply %q", r)
	}
	cursor := lines[2]
	var keys []string
	for i := 4; i+1 < len(lines); i += 2 {
		keys = append(keys, lines[i+1])
	}
	return cursor, keys
}

func TestScanCollisionGroupNotSplit(t *testing.T) {
	// Force two keys into one hash by inserting slots directly: SCAN must
	// return both in one batch even with COUNT 1.
	s := NewState()
	ks := s.dbs[0]
	for _, k := range []string{"x", "y"} {
		e := &entry{key: k, val: NewStream()}
		ks.keys.Set(slot{hash: 42, key: k, e: e})
	}
	got := runOwn(s, 2, testNow, []string{"SCAN", "0", "COUNT", "1"})
	if want := ar(bs("0"), bss("x", "y")); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestConfigGetSet(t *testing.T) {
	s := NewState()
	for name, want := range map[string]string{"stream-node-max-bytes": "4096", "stream-node-max-entries": "100"} {
		if v, ok := s.ConfigGet(name); !ok || v != want {
			t.Fatalf("%s = %q %v, want %s", name, v, ok, want)
		}
	}
	if _, ok := s.ConfigGet("maxmemory"); ok {
		t.Fatal("ConfigGet knows a non-replicated parameter")
	}
	runOwn(s, 2, testNow, strings.Fields("CONFIG SET stream-node-max-bytes 2kb stream-node-max-entries 7"))
	if v, _ := s.ConfigGet("stream-node-max-bytes"); v != "2048" {
		t.Fatalf("stream-node-max-bytes = %s", v)
	}
	if v, _ := s.ConfigGet("Stream-Node-Max-Entries"); v != "7" {
		t.Fatalf("stream-node-max-entries = %s", v)
	}
	// A failed CONFIG SET changes nothing.
	runOwn(s, 2, testNow, strings.Fields("CONFIG SET stream-node-max-entries 9 stream-node-max-bytes x"))
	if v, _ := s.ConfigGet("stream-node-max-entries"); v != "7" {
		t.Fatalf("failed CONFIG SET applied: %s", v)
	}
	for _, tc := range []struct{ args, want string }{
		{"CONFIG GET x", "ERR unknown subcommand 'GET'. Try CONFIG HELP."},
		{"CONFIG", errArity("config")},
		{"CONFIG SET a", errArity("config|set")},
	} {
		if got := checkOwn(argvOf(tc.args)); got != tc.want {
			t.Fatalf("Check(%s) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestParseCursor(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"+7", 7, true}, {"-1", 1<<64 - 1, true},
		{"18446744073709551615", 1<<64 - 1, true}, {"18446744073709551616", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"x", 0, false}, {"-", 0, false}, {"5\x00junk", 5, true},
	}
	for _, tc := range tests {
		got, ok := parseCursor([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseCursor(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSpecs(t *testing.T) {
	cmds := Commands()
	if !sort.SliceIsSorted(cmds, func(i, j int) bool { return cmds[i].Spec().Name < cmds[j].Spec().Name }) {
		t.Fatal("Commands not sorted")
	}
	if len(cmds) != len(commandTable) {
		t.Fatalf("%d commands for a table of %d", len(cmds), len(commandTable))
	}
	for _, c := range cmds {
		sp := c.Spec()
		if lookupCommand([]byte(strings.ToUpper(sp.Name))) != c {
			t.Errorf("lookupCommand(%s) does not find it", sp.Name)
		}
		hasWrite := false
		for _, f := range sp.Flags {
			hasWrite = hasWrite || f == flagWrite
		}
		if hasWrite != sp.Write {
			t.Errorf("%s: Write=%v but flags %v", sp.Name, sp.Write, sp.Flags)
		}
		if sp.Group == "" || sp.Since == "" || sp.Summary == "" || sp.Arity == 0 {
			t.Errorf("%s: incomplete spec %+v", sp.Name, sp)
		}
	}
	for _, name := range []string{"", "config", "xgroup|create", "averyveryverylongcommandname"} {
		if lookupCommand([]byte(name)) != nil {
			t.Errorf("lookupCommand(%q) found a command", name)
		}
	}
}

func TestParseXReadAndResolve(t *testing.T) {
	a, err := ParseXRead(argvOf("XREAD COUNT 5 BLOCK 100 STREAMS s t u 1-2 $ +"))
	if err != "" {
		t.Fatal(err)
	}
	if a.Count != 5 || !a.Block || a.Timeout != 100 || len(a.Keys) != 3 ||
		a.IDs[0] != (XReadID{Kind: XReadExplicit, ID: ID{1, 2}}) ||
		a.IDs[1].Kind != XReadDollar || a.IDs[2].Kind != XReadPlus {
		t.Fatalf("parsed %+v", a)
	}
	if _, err := ParseXRead(argvOf("XREAD STREAMS s")); err != errArity("xread") {
		t.Fatalf("short XREAD: %q", err)
	}
	s := NewState()
	runOwn(s, 2, testNow, strings.Fields("XADD t 7-7 f v"))
	w := respWriter(3)
	ctx := &Ctx{Now: testNow, W: w}
	s.ResolveXRead(ctx, &a)
	if a.IDs[1] != (XReadID{Kind: XReadExplicit, ID: ID{7, 7}}) {
		t.Fatalf("$ resolved to %+v", a.IDs[1])
	}
	if s.XRead(ctx, &a) {
		t.Fatalf("XRead served %q", w.Buf)
	}
	runOwn(s, 2, testNow, strings.Fields("XADD t 8-0 g w"))
	w.Reset()
	if !s.XRead(ctx, &a) {
		t.Fatal("XRead found nothing after XADD")
	}
	if want := mp(bs("t"), ar(ent("8-0", "g", "w"))); string(w.Buf) != want {
		t.Fatalf("XRead = %q, want %q", w.Buf, want)
	}
}

func TestExecBadDB(t *testing.T) {
	s := NewState()
	for _, db := range []int{-1, NumDBs} {
		w := respWriter(2)
		s.Exec(&Ctx{DB: db, Now: testNow, W: w}, argvOf("XLEN s"))
		if string(w.Buf) != er(errDBRange) {
			t.Fatalf("db %d: %q", db, w.Buf)
		}
	}
}
