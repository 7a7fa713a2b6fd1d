package fsm

import (
	"bytes"
	"io"
	"os"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
)

func sha(p string) string { return engine.HashPassword(p) }

// ACL SETUSER/DELUSER entries change the published ACL on every FSM
// alike, whatever the batching; the hook fires once per changing batch;
// snapshots carry the users.
func TestACLReplicatedAndSnapshotted(t *testing.T) {
	entries := []Entry{
		{Type: EntryCommands, Now: 1000, Commands: []Command{cmd(0, 2, "XADD", "s", "*", "f", "v")}},
		{Type: EntryCommands, Now: 1001, Commands: []Command{
			cmd(0, 2, "ACL", "SETUSER", "alice", "on", "#"+sha("pw"), "~app:*", "+@stream"),
			cmd(0, 2, "ACL", "SETUSER", "bob", "on", "nopass", "+@read"),
		}},
		{Type: EntryCommands, Now: 1002, Commands: []Command{cmd(0, 2, "ACL", "SETUSER", "alice", "bogus")}},
		{Type: EntryCommands, Now: 1003, Commands: []Command{cmd(0, 2, "ACL", "DELUSER", "bob")}},
		{Type: EntryCommands, Now: 1004, Commands: []Command{cmd(0, 2, "XADD", "s", "*", "f", "v")}},
	}
	a, b := New(quietLogger()), New(quietLogger())
	var hooks atomic.Int64
	a.SetACLHook(func() { hooks.Add(1) })
	var rl []*raft.Log
	for i, e := range entries {
		a.Apply(logOf(t, uint64(i+1), e))
		rl = append(rl, logOf(t, uint64(i+1), e))
	}
	b.ApplyBatch(rl)
	if hooks.Load() != 2 {
		t.Errorf("ACL hook ran %d times, want 2 (SETUSER batch, DELUSER)", hooks.Load())
	}
	for _, f := range []*FSM{a, b} {
		acl := f.ACL()
		if u := acl.User("alice"); u == nil || !u.CheckPassword([]byte("pw")) || u.DescribeKeys() != "~app:*" {
			t.Fatalf("alice: %+v", u)
		}
		if acl.User("bob") != nil {
			t.Fatal("bob not deleted")
		}
	}
	snap := snapshotBytes(t, a)
	if !bytes.Equal(snap, snapshotBytes(t, b)) {
		t.Fatal("FSMs fed the same entries have different snapshots")
	}
	c := New(quietLogger())
	var restoreHooks atomic.Int64
	c.SetACLHook(func() { restoreHooks.Add(1) })
	if err := c.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if c.ACL().User("alice") == nil || restoreHooks.Load() != 1 {
		t.Fatalf("after restore: alice %v, hook %d", c.ACL().User("alice"), restoreHooks.Load())
	}
	if !bytes.Equal(snapshotBytes(t, c), snap) {
		t.Fatal("re-snapshot after restore differs")
	}
}

// A snapshot written before ACL users existed (its engine part is
// engine/testdata/snapshot-v3.bin, made by the code before this change)
// restores with no users, and a restore drops users the FSM had.
func TestACLOldSnapshotRestores(t *testing.T) {
	old, err := os.ReadFile("../engine/testdata/snapshot-v3.bin")
	if err != nil {
		t.Fatal(err)
	}
	f := New(quietLogger())
	f.Apply(logOf(t, 1, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{
		cmd(0, 2, "ACL", "SETUSER", "alice", "on"),
	}}))
	empty := snapshotBytes(t, New(quietLogger()))
	i := bytes.Index(empty, []byte("RSTRSNAP"))
	if i < 0 {
		t.Fatal("no engine snapshot in the FSM snapshot")
	}
	snap := append(append([]byte{}, empty[:i]...), old...)
	if err := f.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if n := len(f.ACL().Users()); n != 0 {
		t.Fatalf("%d users after restoring a snapshot without ACL data", n)
	}
}
