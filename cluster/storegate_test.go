package cluster

import (
	"testing"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

func TestStoreGateFillsOnlyTheOpenPlaceholder(t *testing.T) {
	store := raft.NewInmemStore()
	g := newStoreGate(store)
	seals := 0
	g.seal = func(*placeholder) ([]byte, *fsm.Carried) {
		seals++
		return []byte("sealed"), nil
	}
	get := func(i uint64) string {
		t.Helper()
		var l raft.Log
		if err := store.GetLog(i, &l); err != nil {
			t.Fatal(err)
		}
		return string(l.Data)
	}

	ph := &placeholder{token: make([]byte, 1)}
	g.setOpen(ph)
	// Equal bytes at another address (a replicated entry) are left alone;
	// the placeholder itself is filled, once.
	lookalike := append([]byte(nil), ph.token...)
	if err := g.StoreLogs([]*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogCommand, Data: lookalike},
		{Index: 2, Term: 1, Type: raft.LogCommand, Data: ph.token},
	}); err != nil {
		t.Fatal(err)
	}
	if got := get(1); got != string(lookalike) {
		t.Fatalf("entry 1 = %q, want it unchanged", got)
	}
	if got := get(2); got != "sealed" || seals != 1 {
		t.Fatalf("entry 2 = %q after %d seals, want sealed once", got, seals)
	}
	if g.abandon(ph) {
		t.Fatal("abandon of a written placeholder succeeded")
	}

	// An abandoned placeholder is never filled, even if written later.
	ph2 := &placeholder{token: make([]byte, 1)}
	g.setOpen(ph2)
	if !g.abandon(ph2) {
		t.Fatal("abandon of an unwritten placeholder failed")
	}
	if err := g.StoreLog(&raft.Log{Index: 3, Term: 1, Type: raft.LogCommand, Data: ph2.token}); err != nil {
		t.Fatal(err)
	}
	if seals != 1 {
		t.Fatalf("abandoned placeholder was sealed")
	}
}
