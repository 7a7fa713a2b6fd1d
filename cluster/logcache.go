package cluster

import (
	"fmt"
	"sync"

	"github.com/hashicorp/raft"
)

// logCache keeps the newest entries in memory, like raft.LogCache, and
// lets the leader's replication start before its own write (the
// raft.LogPreparer of third_party/raft): PrepareLogs seals late-packed
// entries (storeGate) and makes them readable, raft then sends them to
// the followers while StoreLogs writes and flushes them here. A commit
// then costs about the slower of the leader's flush and a follower's
// round trip with its flush, not their sum; the leader counts itself
// toward the commit only after its own flush, so a committed entry is
// still durable on a majority.
type logCache struct {
	gate        *storeGate
	beforeStore func([]*raft.Log) error // Config.beforeStore

	mu    sync.RWMutex
	cache []*raft.Log
}

func newLogCache(capacity int, gate *storeGate) *logCache {
	return &logCache{gate: gate, cache: make([]*raft.Log, capacity)}
}

// PrepareLogs seals placeholders and caches the entries before they are
// stored: once it returns, GetLog returns them. Raft's leader loop calls
// it, then StoreLogs.
func (c *logCache) PrepareLogs(logs []*raft.Log) {
	for _, l := range logs {
		c.gate.fill(l)
	}
	c.put(logs)
}

// AbortLogs drops prepared entries whose StoreLogs failed, so GetLog no
// longer returns what the log does not hold.
func (c *logCache) AbortLogs(logs []*raft.Log) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range logs {
		if i := l.Index % uint64(len(c.cache)); c.cache[i] == l {
			c.cache[i] = nil
		}
	}
}

func (c *logCache) put(logs []*raft.Log) {
	c.mu.Lock()
	for _, l := range logs {
		c.cache[l.Index%uint64(len(c.cache))] = l
	}
	c.mu.Unlock()
}

// GetLog returns a cached entry or reads it from the log.
func (c *logCache) GetLog(index uint64, l *raft.Log) error {
	c.mu.RLock()
	cached := c.cache[index%uint64(len(c.cache))]
	c.mu.RUnlock()
	if cached != nil && cached.Index == index {
		*l = *cached
		return nil
	}
	return c.gate.GetLog(index, l)
}

// StoreLog stores one entry.
func (c *logCache) StoreLog(l *raft.Log) error { return c.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries (prepared ones are already sealed and cached;
// a follower's are cached once stored).
func (c *logCache) StoreLogs(logs []*raft.Log) error {
	if c.beforeStore != nil {
		if err := c.beforeStore(logs); err != nil {
			return fmt.Errorf("store log entries: %w", err)
		}
	}
	if err := c.gate.StoreLogs(logs); err != nil {
		return fmt.Errorf("store log entries: %w", err)
	}
	c.put(logs)
	return nil
}

// FirstIndex is the log's.
func (c *logCache) FirstIndex() (uint64, error) { return c.gate.FirstIndex() }

// LastIndex is the log's: the last entry stored, not prepared.
func (c *logCache) LastIndex() (uint64, error) { return c.gate.LastIndex() }

// DeleteRange empties the cache (as raft.LogCache does) and deletes from
// the log.
func (c *logCache) DeleteRange(min, max uint64) error {
	c.mu.Lock()
	clear(c.cache)
	c.mu.Unlock()
	return c.gate.DeleteRange(min, max)
}
