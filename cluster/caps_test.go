package cluster

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/fsm"
)

// loggedForm finds, in n's log, the latest command that is a transaction
// or a CONFIG SET (typed or in legacy form) and reports whether it was
// written typed.
func loggedForm(t *testing.T, n *Node, kind fsm.CommandKind) (typed bool) {
	t.Helper()
	entries := commandEntries(t, n)
	for k := len(entries) - 1; k >= 0; k-- {
		e := entries[k]
		for j := len(e.Commands) - 1; j >= 0; j-- {
			c := e.Commands[j]
			if c.Kind == kind {
				return true
			}
			legacy := kind == fsm.KindTxn && string(c.Argv[0]) == "\x00exec" ||
				kind == fsm.KindConfigSet && string(c.Argv[0]) == "CONFIG"
			if c.Kind == fsm.KindArgv && legacy {
				return false
			}
		}
	}
	t.Fatalf("no %s command in the log", kind)
	return false
}

// TestTypedKindsWaitForEveryMember: while a member answers the
// capability probe as the previous version does, transactions and
// CONFIG SETs are logged in that version's form, with the same replies;
// once it confirms, they are logged typed.
func TestTypedKindsWaitForEveryMember(t *testing.T) {
	hooks := map[string]*atomic.Bool{}
	nodes, _ := startClusterConfigs(t, 3, func(c *Config) {
		// Every node starts "old", so that no leader confirms anyone
		// before the test picks which one stays old.
		h := &atomic.Bool{}
		h.Store(true)
		hooks[c.NodeID] = h
		c.oldCaps = h
	})
	leader := waitLeader(t, nodes...)
	fs := followersOf(leader, nodes)
	old := fs[1]
	hooks[leader.cfg.NodeID].Store(false)
	hooks[fs[0].cfg.NodeID].Store(false)

	txn := fsm.Command{Kind: fsm.KindTxn, Proto: 2, Txn: &fsm.Txn{Cmds: [][][]byte{args("XADD", "s", "*", "f", "v"), args("XLEN", "s"), args("XADD", "s", "bad", "f", "v")}}}
	cfg := func(v string) fsm.Command {
		return fsm.Command{Kind: fsm.KindConfigSet, Proto: 2, Config: []engine.ConfigSetting{{Name: "stream-node-max-entries", Value: []byte(v)}}}
	}
	propose := func(n *Node, c fsm.Command) fsm.Reply {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := n.Propose(c).Wait(ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.Kind, err)
		}
		return r
	}
	// Through the leader and forwarded by a follower; all legacy, as one
	// member has not confirmed.
	var legacyTxn [2]fsm.Reply
	for i, n := range []*Node{leader, fs[0]} {
		legacyTxn[i] = propose(n, txn)
		if loggedForm(t, leader, fsm.KindTxn) {
			t.Fatalf("transaction %d logged typed while %s answers as the previous version", i, old.cfg.NodeID)
		}
		if r := propose(n, cfg("7")); string(r.RESP) != "+OK\r\n" {
			t.Fatalf("CONFIG SET: %q", r.RESP)
		}
		if loggedForm(t, leader, fsm.KindConfigSet) {
			t.Fatalf("CONFIG SET %d logged typed while %s answers as the previous version", i, old.cfg.NodeID)
		}
	}
	if leader.typed.Load() {
		t.Fatal("gate open with an unconfirmed member")
	}

	// The old member is "upgraded": the leader's retries confirm it.
	hooks[old.cfg.NodeID].Store(false)
	waitFor(t, 15*time.Second, "the leader to confirm every member", leader.typed.Load)
	typedTxn := propose(leader, txn)
	if !loggedForm(t, leader, fsm.KindTxn) {
		t.Fatal("transaction logged in the legacy form after every member confirmed")
	}
	if r := propose(leader, cfg("9")); string(r.RESP) != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", r.RESP)
	}
	if !loggedForm(t, leader, fsm.KindConfigSet) {
		t.Fatal("CONFIG SET logged in the legacy form after every member confirmed")
	}

	// The same replies either way, but for the new entry's ID and the
	// stream's growing length.
	for i, r := range legacyTxn {
		if r.Outcome != typedTxn.Outcome || len(r.Parts) != 3 || len(typedTxn.Parts) != 3 ||
			!bytes.HasPrefix(r.RESP, []byte("*3\r\n")) || !bytes.Equal(r.Parts[2], typedTxn.Parts[2]) {
			t.Fatalf("legacy reply %d %+v, typed %+v", i, r, typedTxn)
		}
	}
	waitFor(t, 10*time.Second, "the members to converge", func() bool {
		d := digest(t, leader)
		return bytes.Equal(d, digest(t, fs[0])) && bytes.Equal(d, digest(t, old))
	})
}

// TestTypedKindsSingleNode: a lone node is its whole configuration, so it
// writes typed kinds at once.
func TestTypedKindsSingleNode(t *testing.T) {
	n := openNode(t, testConfig(t, "solo", t.TempDir()))
	waitLeader(t, n)
	waitFor(t, 10*time.Second, "the gate to open", n.typed.Load)
}
