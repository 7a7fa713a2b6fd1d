package fsm

import (
	"bytes"
	"io"
	"testing"
)

// A backup is the snapshot without member metadata: it restores into the
// same streams, with no members; writing it twice gives the same bytes
// (the server relies on that to stream it after learning its length);
// and it leaves the snapshot bookkeeping alone.
func TestBackup(t *testing.T) {
	logs := workload(t)
	f := New(quietLogger())
	f.ApplyBatch(logs)
	f.Apply(logOf(t, uint64(len(logs)+1), Entry{Type: EntryMember, Now: 1, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "n1", RaftAddr: "10.0.0.1:7379"}}}))
	f.Apply(logOf(t, uint64(len(logs)+2), Entry{Type: EntryMember, Now: 1, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "n2", RaftAddr: "10.0.0.2:7379"}}}))
	changes := f.ChangesSinceSnapshot()

	b := f.Backup()
	defer b.Release()
	var one, two bytes.Buffer
	n1, err := b.WriteTo(&one)
	if err != nil {
		t.Fatal(err)
	}
	// Applies after the clone do not reach it.
	f.Apply(logOf(t, uint64(len(logs)+3), Entry{Type: EntryCommands, Now: 2, Commands: []Command{cmd(0, 2, "XADD", "late", "*", "a", "b")}}))
	n2, err := b.WriteTo(&two)
	if err != nil || n1 != n2 || !bytes.Equal(one.Bytes(), two.Bytes()) || int64(one.Len()) != n1 {
		t.Fatalf("two writes of one backup differ: %d and %d bytes (%v)", n1, n2, err)
	}
	if b.AppliedIndex() != uint64(len(logs)+2) {
		t.Fatalf("AppliedIndex %d", b.AppliedIndex())
	}
	if got := f.ChangesSinceSnapshot(); got != changes+1 {
		t.Fatalf("ChangesSinceSnapshot %d, want %d: a backup is not a snapshot", got, changes+1)
	}

	g := New(quietLogger())
	if err := g.Restore(io.NopCloser(&one)); err != nil {
		t.Fatal(err)
	}
	if len(g.Members()) != 0 {
		t.Fatalf("the backup carried members: %+v", g.Members())
	}
	h := New(quietLogger())
	h.ApplyBatch(logs)
	h.RetainMembers() // the workload records members of its own
	if !bytes.Equal(snapshotBytes(t, g)[17:], snapshotBytes(t, h)[17:]) {
		t.Fatal("the restored backup differs from the state without its members")
	}

	f.RetainMembers("n2", "n9")
	if ms := f.Members(); len(ms) != 1 || ms[0].ID != "n2" {
		t.Fatalf("RetainMembers kept %+v", ms)
	}
}
