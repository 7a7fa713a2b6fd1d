package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/hashicorp/raft-wal/types"
)

// errLogClosed is SyncThrough's error once the log is closed with entries
// it could not flush.
var errLogClosed = errors.New("raft log closed")

// logFlusher moves a lone voter's log flush from the commit to the reply.
//
// Raft counts an entry toward commitment once the log store has it, so
// every store normally flushes before it returns: raft's leader loop waits
// for the device, then hands the entry to the state machine's goroutine,
// whose reply goes to yet another goroutine, each of which has to be woken
// after a flush that put them all to sleep (docs/benchmarks.md, "Thirteenth
// session"). When this node is the only member of its configuration (no
// voter, no nonvoter besides it), nobody else ever learns a commit index,
// so the flush may come later, provided no effect of an entry leaves the
// node before the entry is on the device: the store writes without
// flushing, raft commits and the state machine applies, and every reply to
// a client waits in SyncThrough for the entries whose state it shows. The
// goroutine that flushes is then the one that writes the reply, and one
// flush covers every entry written before it began (group commit among the
// replying clients).
//
// What a crash can lose is only what no client saw: a kill -9 keeps the
// page cache, so only a machine crash loses an unflushed entry, and no
// reply, read or blocked client's wake-up showed its effect. A snapshot
// flushes the log before it clones the state (observedFSM.Snapshot), so
// it never holds an entry the log could lose.
//
// The moment a configuration with another server is stored (a join),
// everything written is flushed first and every store flushes again, so a
// new member never learns a commit index past what is on this node's
// device. Only the bootstrap configuration, or a restart alone, starts
// deferral: a cluster shrunk to this node at run time keeps flushing at
// every store, since the members it removed may still be sent a last
// append.
type logFlusher struct {
	// written is the last index stored, durable the last flushed. Entries
	// above written (a snapshot installed) are not in this log: nothing to
	// flush.
	written atomic.Uint64
	durable atomic.Uint64

	mu      sync.Mutex
	flushed *sync.Cond
	// localID is this node's server ID: only a configuration of it alone
	// defers flushes.
	localID raft.ServerID
	// solo says that appends defer their flush, configIndex which
	// configuration entry decided it.
	solo        bool
	configIndex uint64
	// deferring is set while an append that defers its flush runs, so the
	// segment file's Sync only records itself as dirty.
	deferring bool
	// rawWrites mirrors deferring for the segment file's WriteAt, which
	// must not take mu.
	rawWrites atomic.Bool
	dirty     []*dataSyncFile
	syncing   bool
	err       error // a failed flush, or errLogClosed

	// flushFile flushes one file (tests fail it); nil: flushDeferred.
	flushFile func(*dataSyncFile) error
	log       *slog.Logger
}

func newLogFlusher(log *slog.Logger) *logFlusher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &logFlusher{log: log}
	f.flushed = sync.NewCond(&f.mu)
	return f
}

// deferSync reports whether file's flush is deferred: during a deferring
// append, the file joins the dirty set instead.
func (f *logFlusher) deferSync(file *dataSyncFile) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.deferring {
		return false
	}
	if !slices.Contains(f.dirty, file) {
		f.dirty = append(f.dirty, file)
	}
	return true
}

// SetConfiguration records the configuration raft holds at index (at
// startup): solo if this node is its only server. A configuration entry
// stored since then decides instead.
func (f *logFlusher) SetConfiguration(local raft.ServerID, c raft.Configuration, index uint64) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.localID = local
	if index < f.configIndex {
		return
	}
	f.configIndex = index
	f.solo = isSolo(local, c)
}

func isSolo(local raft.ServerID, c raft.Configuration) bool {
	return local != "" && len(c.Servers) == 1 && c.Servers[0].ID == local
}

// beginStore prepares an append of logs. plain says the append extends
// the log (no gap, no overlap). It returns whether the append defers its
// flush. A configuration entry with another server in it ends deferral
// before anything is written: the log is flushed first.
func (f *logFlusher) beginStore(logs []*raft.Log, plain bool) (bool, error) {
	if f == nil {
		return false, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	solo := f.solo
	for _, l := range logs {
		if l.Type != raft.LogConfiguration || l.Index < f.configIndex {
			continue
		}
		c, err := decodeConfiguration(l.Data)
		if err != nil {
			return false, err
		}
		// Only the first configuration (bootstrap) may start deferral:
		// members removed at run time may still be sent the commit
		// index, so a cluster shrunk to this node flushes on every
		// store until it restarts (SetConfiguration).
		solo = isSolo(f.localID, c) && (solo || f.configIndex == 0)
		f.configIndex = l.Index
		plain = false
	}
	// An append with a configuration entry never defers: one with another
	// server ends deferral before it, the bootstrap one starts it after.
	deferNow := f.solo && plain && f.err == nil
	f.solo = solo
	if !deferNow {
		return false, f.syncAllLocked()
	}
	f.deferring = true
	f.rawWrites.Store(true)
	return true, nil
}

// endStore records an append's outcome.
func (f *logFlusher) endStore(last uint64, deferred bool, err error) {
	if f == nil {
		return
	}
	f.mu.Lock()
	f.deferring = false
	f.rawWrites.Store(false)
	f.mu.Unlock()
	if err != nil {
		return
	}
	// An append flushed at once is durable before it counts as written,
	// so no reader ever sees it written and not durable.
	if !deferred {
		f.durable.Store(last)
	}
	f.written.Store(last)
}

func decodeConfiguration(b []byte) (c raft.Configuration, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode configuration entry: %v", r)
		}
	}()
	return raft.DecodeConfiguration(b), nil
}

// SyncThrough returns once the log entries up to index are on the device,
// flushing them unless a flush that covers them is under way. Entries
// above the last one stored were never in this log (a restored snapshot)
// and need nothing.
func (f *logFlusher) SyncThrough(index uint64) error {
	if f == nil {
		return nil
	}
	index = min(index, f.written.Load())
	if f.durable.Load() >= index {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.durable.Load() < index {
		if f.err != nil {
			return f.err
		}
		if f.syncing {
			f.flushed.Wait()
			continue
		}
		if err := f.flushLocked(); err != nil {
			return err
		}
	}
	return nil
}

// flushLocked flushes the dirty files, with mu released meanwhile, and
// moves durable to what was written when it began.
func (f *logFlusher) flushLocked() error {
	f.syncing = true
	target := f.written.Load()
	files := slices.Clone(f.dirty)
	f.dirty = f.dirty[:0]
	f.mu.Unlock()
	var err error
	for _, file := range files {
		if f.flushFile != nil {
			err = f.flushFile(file)
		} else {
			err = file.flushDeferred()
		}
		if err != nil {
			err = fmt.Errorf("flush raft log: %w", err)
			break
		}
	}
	f.mu.Lock()
	f.syncing = false
	f.flushed.Broadcast()
	if err != nil {
		// The kernel may have dropped the pages it failed to write:
		// nothing written is known to be durable any more, and no
		// reply may say otherwise.
		f.err = err
		f.log.Error("raft log flush failed: this node sends no more replies and takes no more writes; restart it", "err", err)
		return err
	}
	if target > f.durable.Load() {
		f.durable.Store(target)
	}
	return nil
}

// syncAllLocked flushes everything written so far.
func (f *logFlusher) syncAllLocked() error {
	for f.syncing {
		f.flushed.Wait()
	}
	if f.err != nil {
		return f.err
	}
	if len(f.dirty) == 0 {
		if w := f.written.Load(); w > f.durable.Load() {
			f.durable.Store(w)
		}
		return nil
	}
	return f.flushLocked()
}

// syncAll flushes everything written so far: before raft-wal commits
// its metadata (a segment sealed or deleted) and before the log closes.
func (f *logFlusher) syncAll() error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncAllLocked()
}

// close flushes what is left; later SyncThrough calls for entries it
// could not flush fail.
func (f *logFlusher) close() error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.syncAllLocked()
	if f.err == nil {
		f.err = errLogClosed
	}
	return err
}

// flushingMeta is raft-wal's metadata store with the segments flushed
// before each commit: a segment recorded as sealed, or a new one created,
// must not follow data still in the page cache.
type flushingMeta struct {
	types.MetaStore
	fl *logFlusher
}

// CommitState flushes the segments, then commits the metadata.
func (m flushingMeta) CommitState(s types.PersistentState) error {
	if err := m.fl.syncAll(); err != nil {
		return err
	}
	return m.MetaStore.CommitState(s)
}
