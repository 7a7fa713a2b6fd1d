package cluster

import (
	"sync"
	"unsafe"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// storeGate wraps the Raft log store so that a command entry is packed at the
// moment the leader writes it (late packing).
//
// Why late packing: "Group commit" in DESIGN.md. The proposer hands raft a
// placeholder entry as soon as a command is queued; raft's leader loop
// picks it up when it is free and calls PrepareLogs on the log cache
// (logcache.go; StoreLogs where nothing prepares), and there, on the
// leader loop's goroutine and before anything else has read the entry,
// the gate asks the proposer's seal function for the real contents:
// everything queued by then. Raft keeps the same *raft.Log for the local
// FSM and for replication, so the filled Data is what every node stores
// and applies. The placeholder is recognised by the address of its Data,
// which no replicated or stored entry can share.
type storeGate struct {
	raft.LogStore

	mu   sync.Mutex
	open *placeholder // handed to raft, not yet written
	seal func(*placeholder) ([]byte, *fsm.Carried)
}

func newStoreGate(s raft.LogStore) *storeGate {
	return &storeGate{LogStore: s}
}

// StoreLog stores one entry, filling it first if it is the open placeholder.
func (g *storeGate) StoreLog(l *raft.Log) error {
	g.fill(l)
	return g.LogStore.StoreLog(l)
}

// StoreLogs stores a batch of entries, filling the open placeholder first.
func (g *storeGate) StoreLogs(logs []*raft.Log) error {
	for _, l := range logs {
		g.fill(l)
	}
	return g.LogStore.StoreLogs(logs)
}

func (g *storeGate) fill(l *raft.Log) {
	if l.Type != raft.LogCommand || len(l.Data) == 0 {
		return
	}
	g.mu.Lock()
	ph := g.open
	if ph == nil || unsafe.SliceData(l.Data) != unsafe.SliceData(ph.token) {
		g.mu.Unlock()
		return
	}
	g.open = nil
	g.mu.Unlock()
	l.Data, l.Local = g.seal(ph)
}

// setOpen registers ph as the placeholder about to be handed to raft.
func (g *storeGate) setOpen(ph *placeholder) {
	g.mu.Lock()
	g.open = ph
	g.mu.Unlock()
}

// abandon withdraws ph if it was never written, reporting whether it was.
// After it returns true the gate will not fill ph.
func (g *storeGate) abandon(ph *placeholder) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open != ph {
		return false
	}
	g.open = nil
	return true
}
