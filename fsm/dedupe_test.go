package fsm

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// fwd is an entry carrying one forwarded request made of cmds.
func fwd(now int64, origin string, seq, ack uint64, cmds ...Command) Entry {
	return Entry{Type: EntryCommands, Now: now, Commands: cmds,
		Requests: []Request{{Origin: origin, Seq: seq, Ack: ack, Count: len(cmds)}}}
}

func applyReplies(t *testing.T, f *FSM, index uint64, e Entry) []string {
	t.Helper()
	return replies(t, []interface{}{f.Apply(logOf(t, index, e))})
}

func TestDedupeAppliesRequestOnce(t *testing.T) {
	f := New(quietLogger())
	xadd := cmd(0, 2, "XADD", "s", "*", "f", "v")
	first := applyReplies(t, f, 1, fwd(1000, "a/1", 1, 0, xadd, cmd(0, 3, "XLEN", "s")))
	if want := []string{"$6\r\n1000-0\r\n", ":1\r\n"}; fmt.Sprint(first) != fmt.Sprint(want) {
		t.Fatalf("first apply = %q, want %q", first, want)
	}
	// The retried copy, later and even next to a local command: same
	// replies, nothing executed again.
	again := applyReplies(t, f, 2, Entry{Type: EntryCommands, Now: 2000,
		Commands: []Command{cmd(0, 2, "XLEN", "s"), xadd, cmd(0, 3, "XLEN", "s")},
		Requests: []Request{{Origin: "a/1", Seq: 1, Start: 1, Count: 2}}})
	if want := append([]string{":1\r\n"}, first...); fmt.Sprint(again) != fmt.Sprint(want) {
		t.Fatalf("retried copy = %q, want %q", again, want)
	}
	// Another origin with the same seq is another request.
	other := applyReplies(t, f, 3, fwd(3000, "b/1", 1, 0, xadd))
	if want := []string{"$6\r\n3000-0\r\n"}; fmt.Sprint(other) != fmt.Sprint(want) {
		t.Fatalf("other origin = %q, want %q", other, want)
	}
	// Two copies inside one entry: the second is the duplicate.
	both := applyReplies(t, f, 4, Entry{Type: EntryCommands, Now: 4000,
		Commands: []Command{xadd, xadd},
		Requests: []Request{{Origin: "a/1", Seq: 2, Ack: 1, Count: 1}, {Origin: "a/1", Seq: 2, Ack: 1, Start: 1, Count: 1}}})
	if want := []string{"$6\r\n4000-0\r\n", "$6\r\n4000-0\r\n"}; fmt.Sprint(both) != fmt.Sprint(want) {
		t.Fatalf("two copies in one entry = %q, want %q", both, want)
	}
	if got := read(f, "XLEN", "s"); got != ":3\r\n" {
		t.Fatalf("XLEN = %q, want 3", got)
	}
	// Once acknowledged (Ack past it), a copy is refused, not re-run.
	applyReplies(t, f, 5, fwd(5000, "a/1", 3, 3, cmd(0, 2, "PING")))
	stale := applyReplies(t, f, 6, fwd(6000, "a/1", 2, 0, xadd))
	if len(stale) != 1 || !strings.HasPrefix(stale[0], "-ERR forwarded request") {
		t.Fatalf("stale copy = %q, want an error", stale)
	}
	if got := read(f, "XLEN", "s"); got != ":3\r\n" {
		t.Fatalf("XLEN after stale copy = %q, want 3", got)
	}
}

func read(f *FSM, args ...string) string {
	var out []byte
	f.Read(func(st *engine.State) {
		w := resp.NewWriter(2)
		st.Exec(&engine.Ctx{Now: st.Clock(), W: w}, argv(args...))
		out = w.Buf
	})
	return string(out)
}

func TestDedupeBoundsAndExpiry(t *testing.T) {
	f := New(quietLogger())
	ping := cmd(0, 2, "PING")
	idx := uint64(0)
	apply := func(e Entry) []string {
		idx++
		return applyReplies(t, f, idx, e)
	}
	// An origin that never acknowledges keeps at most maxSavedPerSession
	// replies; the oldest are then refused.
	for seq := uint64(1); seq <= maxSavedPerSession+2; seq++ {
		apply(fwd(1000, "a/1", seq, 0, ping))
	}
	f.Read(func(*engine.State) {
		s := f.sessions["a/1"]
		if len(s.saved) != maxSavedPerSession || s.floor != 3 {
			t.Errorf("session keeps %d saved, floor %d; want %d, 3", len(s.saved), s.floor, maxSavedPerSession)
		}
	})
	if got := apply(fwd(1000, "a/1", 2, 0, ping)); !strings.HasPrefix(got[0], "-ERR") {
		t.Fatalf("evicted request copy = %q, want refused", got)
	}
	// Acknowledging drops the saved replies below Ack.
	apply(fwd(1000, "a/1", maxSavedPerSession+3, maxSavedPerSession+3, ping))
	f.Read(func(*engine.State) {
		if s := f.sessions["a/1"]; len(s.saved) != 1 {
			t.Errorf("after ack the session keeps %d saved, want 1", len(s.saved))
		}
	})
	// Sessions idle for SessionTTL of log time go at the next sweep.
	apply(fwd(2000, "b/1", 1, 0, ping))
	later := 2000 + SessionTTL.Milliseconds() + sessionSweepEvery.Milliseconds()
	apply(Entry{Type: EntryNoop, Now: later})
	if n := f.SessionCount(); n != 0 {
		t.Fatalf("%d sessions after the TTL, want 0", n)
	}
	// Too many sessions: the least recently used go first.
	for i := 0; i < maxSessions+5; i++ {
		apply(fwd(later+int64(i), fmt.Sprintf("o/%d", i), 1, 0, ping))
	}
	if n := f.SessionCount(); n != maxSessions {
		t.Fatalf("%d sessions, want the cap %d", n, maxSessions)
	}
	f.Read(func(*engine.State) {
		if f.sessions["o/0"] != nil || f.sessions[fmt.Sprintf("o/%d", maxSessions+4)] == nil {
			t.Error("eviction did not drop the least recently used sessions")
		}
	})
}

func TestTablesSurviveSnapshot(t *testing.T) {
	f := New(quietLogger())
	f.Apply(logOf(t, 1, Entry{Type: EntryMember, Now: 1, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "n2", RaftAddr: "r2", ClientAddr: "c2", Incarnation: "i2"}}}))
	f.Apply(logOf(t, 2, Entry{Type: EntryMember, Now: 1, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "n1", RaftAddr: "r1", ClientAddr: "c1"}}}))
	f.Apply(logOf(t, 3, Entry{Type: EntryMember, Now: 1, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "n3", RaftAddr: "r3"}}}))
	f.Apply(logOf(t, 4, Entry{Type: EntryMember, Now: 1, Member: &MemberChange{Op: MemberRemove, Meta: NodeMeta{ID: "n3"}}}))
	first := applyReplies(t, f, 5, fwd(1000, "a/1", 7, 6, cmd(0, 2, "XADD", "s", "*", "f", "v")))
	want := "[{n1 r1 c1 } {n2 r2 c2 i2}]"
	if got := fmt.Sprint(f.Members()); got != want {
		t.Fatalf("Members = %s, want %s", got, want)
	}

	snap := snapshotBytes(t, f)
	g := New(quietLogger())
	if err := g.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(g.Members()); got != want {
		t.Fatalf("Members after restore = %s, want %s", got, want)
	}
	if m, ok := g.Member("n2"); !ok || m.ClientAddr != "c2" {
		t.Fatalf("Member(n2) = %+v, %v", m, ok)
	}
	// The restored dedupe table still recognises the request.
	again := applyReplies(t, g, 6, fwd(2000, "a/1", 7, 6, cmd(0, 2, "XADD", "s", "*", "f", "v")))
	if fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("retry after restore = %q, want %q", again, first)
	}
}

func TestRestoreVersion1Snapshot(t *testing.T) {
	f := New(quietLogger())
	f.Apply(logOf(t, 1, Entry{Type: EntryCommands, Now: 5, Commands: []Command{cmd(0, 2, "XADD", "s", "*", "a", "b")}}))
	var engineBytes bytes.Buffer
	f.Read(func(st *engine.State) {
		if err := st.WriteSnapshot(&engineBytes); err != nil {
			t.Fatal(err)
		}
	})
	v1 := append([]byte("RSFSMSNP"), 1, 0, 0, 0, 0, 0, 0, 0, 1)
	v1 = append(v1, engineBytes.Bytes()...)
	g := New(quietLogger())
	if err := g.Restore(io.NopCloser(bytes.NewReader(v1))); err != nil {
		t.Fatal(err)
	}
	if got := read(g, "XLEN", "s"); got != ":1\r\n" || g.AppliedIndex() != 1 {
		t.Fatalf("after v1 restore: XLEN %q, applied %d", got, g.AppliedIndex())
	}
}

func TestDigest(t *testing.T) {
	a, b := New(quietLogger()), New(quietLogger())
	for _, f := range []*FSM{a, b} {
		d, err := f.Digest()
		if err != nil || d != engine.ZeroDigest {
			t.Fatalf("empty digest = %q, %v; want zeros", d, err)
		}
	}
	logs := workload(t)
	applyInChunks(a, logs, 1)
	applyInChunks(b, logs, 9)
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db || len(da) != 40 || da == engine.ZeroDigest {
		t.Fatalf("digests %q and %q of equal states", da, db)
	}
	keys := []string{"s0", "s1", "nope", "s0"}
	ka, err := digestKeys(a, 0, keys)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := digestKeys(b, 0, keys)
	if fmt.Sprint(ka) != fmt.Sprint(kb) || ka[2] != engine.ZeroDigest || ka[0] == engine.ZeroDigest || ka[0] != ka[3] || ka[0] == ka[1] {
		t.Fatalf("DigestKeys = %q / %q", ka, kb)
	}
	// DEBUG DIGEST-VALUE hashes one key; it must agree with the walk.
	for i, k := range keys {
		if got := a.st.DigestValue(0, k); got != ka[i] {
			t.Fatalf("DigestValue(%q) = %s, the snapshot walk gives %s", k, got, ka[i])
		}
	}
	// A change to one key changes its digest and the state's, not others.
	a.Apply(logOf(t, 1000, Entry{Type: EntryCommands, Now: 1 << 42, Commands: []Command{cmd(0, 2, "XADD", "s1", "*", "x", "y")}}))
	ka2, _ := digestKeys(a, 0, keys)
	da2, _ := a.Digest()
	if ka2[0] != ka[0] || ka2[1] == ka[1] || da2 == da {
		t.Fatalf("after XADD s1: keys %q (before %q), digest changed %v", ka2, ka, da2 != da)
	}
	if _, err := digestKeys(a, 16, keys); err == nil {
		t.Fatal("DigestKeys(16) did not fail")
	}
}

func TestDecodeTablesRejectsDamage(t *testing.T) {
	ss := sessions{"a/1": {floor: 3, touched: 7, saved: []savedRequest{{seq: 3, replies: [][]byte{[]byte("+OK\r\n"), nil}}, {seq: 5}}}}
	good := encodeTables(map[string]NodeMeta{"n1": {ID: "n1", RaftAddr: "r", ClientAddr: "c", Incarnation: "i"}}, ss)
	members, got, err := decodeTables(good)
	if err != nil || len(members) != 1 || len(got["a/1"].saved) != 2 || got["a/1"].floor != 3 {
		t.Fatalf("round trip: %v %v %v", members, got, err)
	}
	if again := encodeTables(members, got); !bytes.Equal(again, good) {
		t.Fatal("re-encoding differs")
	}
	for i := 0; i < len(good); i++ {
		if _, _, err := decodeTables(good[:i]); err == nil {
			t.Fatalf("prefix of %d bytes decoded", i)
		}
	}
	if _, _, err := decodeTables(append(append([]byte{}, good...), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}
