package cluster

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// storeGate wraps the Raft log store so the proposer can see when the
// leader's disk write finishes.
//
// Group commit works best when each entry is packed at the moment the disk
// becomes free: everything that arrived during the previous write then shares
// one fsync. Packing earlier (as soon as raft.Apply returns) would seal an
// entry with the few commands queued at that instant, leave it waiting for the
// disk, and push everything arriving meanwhile one write later — roughly
// doubling latency and halving the commands per write. Raft's own leader loop
// writes entries one StoreLogs call at a time, so "a write finished" is the
// signal to pack the next entry.
type storeGate struct {
	raft.LogStore

	mu      sync.Mutex
	started uint64        // StoreLogs calls begun
	done    uint64        // StoreLogs calls finished
	changed chan struct{} // closed (and replaced) when done grows
}

func newStoreGate(s raft.LogStore) *storeGate {
	return &storeGate{LogStore: s, changed: make(chan struct{})}
}

// StoreLog stores one entry.
func (g *storeGate) StoreLog(l *raft.Log) error {
	g.begin()
	defer g.end()
	return g.LogStore.StoreLog(l)
}

// StoreLogs stores a batch of entries.
func (g *storeGate) StoreLogs(logs []*raft.Log) error {
	g.begin()
	defer g.end()
	return g.LogStore.StoreLogs(logs)
}

func (g *storeGate) begin() {
	g.mu.Lock()
	g.started++
	g.mu.Unlock()
}

func (g *storeGate) end() {
	g.mu.Lock()
	g.done++
	close(g.changed)
	g.changed = make(chan struct{})
	g.mu.Unlock()
}

// mark returns how many writes have begun. Taken just before raft.Apply, the
// entry being applied is in a later write than any counted.
func (g *storeGate) mark() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started
}

// wait returns once the write after mark has finished, after max, or when
// stop is closed. It is only a pacing hint: returning early or late costs
// batching efficiency, never correctness (an entry that is never written,
// e.g. after losing leadership, just runs into max).
func (g *storeGate) wait(mark uint64, max time.Duration, stop <-chan struct{}) {
	var timer *time.Timer
	for {
		g.mu.Lock()
		if g.done > mark {
			g.mu.Unlock()
			break
		}
		ch := g.changed
		g.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(max)
		}
		select {
		case <-ch:
			continue
		case <-timer.C:
		case <-stop:
		}
		break
	}
	if timer != nil {
		timer.Stop()
	}
}
