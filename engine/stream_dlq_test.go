package engine

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// run executes a command line at now and returns the RESP2 reply.
func run(s *State, now int64, line string) string {
	return runOwn(s, 2, now, strings.Fields(line))
}

// mustRun is run that fails the test unless the reply is want.
func mustRun(t *testing.T, s *State, now int64, line, want string) {
	t.Helper()
	if got := run(s, now, line); got != want {
		t.Fatalf("%s:\n got %q\nwant %q", line, got, want)
	}
}

// dlqGroupInfo is XINFO GROUPS's element for a group with a dead-letter
// setting (RESP2).
func dlqGroupInfo(name string, consumers, pending int64, last, er, lag string, max int64, key string, moved int64) string {
	return ar(bs("name"), bs(name), bs("consumers"), in(consumers), bs("pending"), in(pending),
		bs("last-delivered-id"), bs(last), bs("entries-read"), er, bs("lag"), lag,
		bs("max-deliveries"), in(max), bs("dead-letter-key"), bs(key), bs("dead-lettered"), in(moved))
}

// deliveredOnce is a stream s whose entry 1-1 group g delivered once, to
// alice, with MAXDELIVERIES max and dead-letter stream dlq.
func deliveredOnce(t *testing.T, max string) *State {
	t.Helper()
	s := NewState()
	mustRun(t, s, testNow, "XADD s 1-1 f v", bs("1-1"))
	mustRun(t, s, testNow, "XGROUP CREATE s g 0", ok())
	mustRun(t, s, testNow, "RS.SETDLQ s g MAXDELIVERIES "+max+" DEADLETTER dlq", ok())
	mustRun(t, s, testNow, "XREADGROUP GROUP g alice STREAMS s >", ar(ar(bs("s"), ar(ent("1-1", "f", "v")))))
	return s
}

// TestDeadLetterEachDeliveryPath drives one entry through every delivery
// path a group has: the delivery that would pass MAXDELIVERIES moves it to
// the dead-letter stream, in the same command, instead of delivering it.
func TestDeadLetterEachDeliveryPath(t *testing.T) {
	const later = testNow + 10
	cases := []struct {
		name string
		// redeliver delivers 1-1 again; first is its reply while allowed,
		// moved its reply once the entry is dead-lettered.
		redeliver, first, moved string
		// consumer is who the dead-letter entry names.
		consumer string
	}{
		{name: "xreadgroup history", redeliver: "XREADGROUP GROUP g alice STREAMS s 0",
			first: ar(ar(bs("s"), ar(ent("1-1", "f", "v")))), moved: ar(ar(bs("s"), ar())), consumer: "alice"},
		{name: "xreadgroup claim", redeliver: "XREADGROUP GROUP g bob CLAIM 0 STREAMS s >",
			first: ar(ar(bs("s"), ar(ar(bs("1-1"), bss("f", "v"), in(10), in(1))))),
			moved: ar(ar(bs("s"), ar())), consumer: "bob"},
		{name: "xclaim", redeliver: "XCLAIM s g bob 0 1-1",
			first: ar(ent("1-1", "f", "v")), moved: ar(), consumer: "bob"},
		{name: "xautoclaim", redeliver: "XAUTOCLAIM s g bob 0 0",
			first: autoclaim("0-0", ar(ent("1-1", "f", "v")), ar()), moved: autoclaim("0-0", ar(), ar()), consumer: "bob"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deliveredOnce(t, "2")
			mustRun(t, s, later, tc.redeliver, tc.first)
			mustRun(t, s, later, "XPENDING s g - + 10", ar(pend("1-1", tc.consumer, 0, 2)))
			mustRun(t, s, later+10, tc.redeliver, tc.moved)
			mustRun(t, s, later+10, "XPENDING s g", ar(in(0), nullBulk(), nullBulk(), nullArr()))
			mustRun(t, s, later+10, "XRANGE dlq - +", ar(ar(bs("1700000000020-0"), bss(
				"dlq-id", "1-1", "dlq-stream", "s", "dlq-group", "g", "dlq-consumer", tc.consumer,
				"dlq-deliveries", "2", "f", "v"))))
			mustRun(t, s, later+10, "XINFO GROUPS s", ar(dlqGroupInfo("g", 2-boolInt(tc.consumer == "alice"), 0, "1-1", in(1), in(0), 2, "dlq", 1)))
			// The source stream keeps the entry: only the group let go.
			mustRun(t, s, later+10, "XLEN s", in(1))
		})
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// TestDeadLetterNotADelivery covers what does not count as a delivery, and
// a setting turned off.
func TestDeadLetterNotADelivery(t *testing.T) {
	cases := []struct {
		name, line, want string
	}{
		{"xclaim justid", "XCLAIM s g bob 0 1-1 JUSTID", bss("1-1")},
		{"xclaim retrycount", "XCLAIM s g bob 0 1-1 RETRYCOUNT 9", ar(ent("1-1", "f", "v"))},
		{"xautoclaim justid", "XAUTOCLAIM s g bob 0 0 JUSTID", autoclaim("0-0", bss("1-1"), ar())},
		{"new entries", "XREADGROUP GROUP g bob STREAMS s >", nullArr()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deliveredOnce(t, "1")
			mustRun(t, s, testNow, tc.line, tc.want)
			mustRun(t, s, testNow, "EXISTS dlq", in(0))
		})
	}
	t.Run("off", func(t *testing.T) {
		s := NewState()
		mustRun(t, s, testNow, "XADD s 1-1 f v", bs("1-1"))
		mustRun(t, s, testNow, "XGROUP CREATE s g 0", ok())
		mustRun(t, s, testNow, "RS.SETDLQ s g DEADLETTER dlq MAXDELIVERIES 1", ok())
		mustRun(t, s, testNow, "RS.SETDLQ s g off", ok())
		run(s, testNow, "XREADGROUP GROUP g alice STREAMS s >")
		mustRun(t, s, testNow, "XCLAIM s g bob 0 1-1", ar(ent("1-1", "f", "v")))
		mustRun(t, s, testNow, "EXISTS dlq", in(0))
		mustRun(t, s, testNow, "XINFO GROUPS s", ar(groupInfo(shape2, "g", 2, 1, "1-1", in(1), in(0))))
	})
}

func TestRSSetDLQErrors(t *testing.T) {
	s := NewState()
	for _, tc := range []struct{ line, want string }{
		{"RS.SETDLQ s g MAXDELIVERIES 1 DEADLETTER d", er(errNoSuchKey)},
		{"XADD s 1-1 f v", bs("1-1")},
		{"RS.SETDLQ s g MAXDELIVERIES 1 DEADLETTER d", er(errNoGroupForKey([]byte("g"), []byte("s")))},
		{"XGROUP CREATE s g 0", ok()},
		{"RS.SETDLQ s g MAXDELIVERIES 0 DEADLETTER d", er(errDLQMaxRange)},
		{"RS.SETDLQ s g MAXDELIVERIES x DEADLETTER d", er(errNotInt)},
		{"RS.SETDLQ s g MAXDELIVERIES 1 DEADLETTER s", er(errDLQSameKey)},
		{"RS.SETDLQ s g MAXDELIVERIES 1", er(errSyntax)},
		{"RS.SETDLQ s g MAXDELIVERIES 1 MAXDELIVERIES 2 DEADLETTER d", er(errSyntax)},
		{"RS.SETDLQ s g MAXDELIVERIES 1 DEADLETTER d EXTRA", er(errSyntax)},
		{"RS.SETDLQ s g", er(errArity("rs.setdlq"))},
		{"RS.SETDLQ s g maxdeliveries 3 deadletter d", ok()},
	} {
		mustRun(t, s, testNow, tc.line, tc.want)
		if err := Check(argvOf(tc.line)); err != "" && er(err) != tc.want {
			t.Fatalf("%s: Check says %q", tc.line, err)
		}
	}
}

// TestDeadLetterSnapshot checks that the setting and counter survive a
// snapshot and that the restored state dead-letters like the original.
func TestDeadLetterSnapshot(t *testing.T) {
	a := NewState()
	for _, line := range []string{"XADD s 1-1 f v", "XADD s 2-1 f w", "XGROUP CREATE s g 0", "XGROUP CREATE s h 0",
		"RS.SETDLQ s g MAXDELIVERIES 1 DEADLETTER dlq", "XREADGROUP GROUP g alice STREAMS s >",
		"XCLAIM s g bob 0 1-1", "XCFGSET s MAXAGE 5000 ACKED"} {
		run(a, testNow, line)
	}
	snap := snapshotBytes(t, a)
	b, err := ReadSnapshot(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, b), snap) {
		t.Fatal("re-encoded snapshot differs")
	}
	for _, line := range []string{"XINFO GROUPS s", "XINFO STREAM s", "XCLAIM s g bob 0 2-1", "XRANGE dlq - +",
		"XINFO GROUPS s", "XADD s * f x", "XLEN s"} {
		now := testNow + 6000
		if x, y := run(a, now, line), run(b, now, line); x != y {
			t.Fatalf("%s: original %q, restored %q", line, x, y)
		}
	}
}

// TestSnapshotV2Loads decodes a snapshot written by the previous version
// (stream encoding 2: groups without dead-letter settings, no retention),
// generated by that version's WriteSnapshot.
func TestSnapshotV2Loads(t *testing.T) {
	data, err := os.ReadFile("testdata/snapshot-v2-groups.bin")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, s, testNow, "XINFO GROUPS s", ar(
		groupInfo(shape2, "g", 2, 2, "2-1", in(2), in(1)),
		groupInfo(shape2, "h", 0, 0, "3-1", nullBulk(), in(0))))
	mustRun(t, s, testNow, "XPENDING s g - + 10", ar(pend("1-1", "alice", 0, 1), pend("2-1", "bob", 0, 2)))
	mustRun(t, s, testNow, "XRANGE other - +", ar(ent("5-5", "a", "b")))
	// It takes a setting and round-trips in the current encoding.
	mustRun(t, s, testNow, "RS.SETDLQ s g MAXDELIVERIES 2 DEADLETTER dlq", ok())
	mustRun(t, s, testNow, "XCLAIM s g carol 0 2-1", ar())
	r, err := ReadSnapshot(bytes.NewReader(snapshotBytes(t, s)))
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, r, testNow, "XINFO GROUPS s", run(s, testNow, "XINFO GROUPS s"))
	mustRun(t, r, testNow, "XLEN dlq", in(1))
}

// TestXInfoStreamFullDeadLetter: XINFO STREAM FULL appends the same three
// fields to a group with a setting, after Redis's own.
func TestXInfoStreamFullDeadLetter(t *testing.T) {
	s := NewState()
	mustRun(t, s, testNow, "XADD s 1-1 f v", bs("1-1"))
	mustRun(t, s, testNow, "XGROUP CREATE s g 0", ok())
	plain := run(s, testNow, "XINFO STREAM s FULL")
	mustRun(t, s, testNow, "RS.SETDLQ s g MAXDELIVERIES 2 DEADLETTER d", ok())
	got := run(s, testNow, "XINFO STREAM s FULL")
	tail := bs("max-deliveries") + in(2) + bs("dead-letter-key") + bs("d") + bs("dead-lettered") + in(0)
	// The group's map grows from 8 to 11 pairs and ends with the fields.
	want := strings.Replace(plain, "*16\r\n$4\r\nname", "*22\r\n$4\r\nname", 1) + tail
	if got != want {
		t.Fatalf("XINFO STREAM FULL:\n got %q\nwant %q", got, want)
	}
}
