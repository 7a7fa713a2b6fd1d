package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Snapshots by log bytes. Raft triggers a snapshot after SnapshotThreshold
// entries and then keeps TrailingLogs entries; both count entries, and a
// group-committed entry can hold anything from one command to a megabyte of
// them (or one huge command). Counted in entries, a log of big entries grows
// to many times the state it describes: a 300 MB stream written in 1 MB
// entries would sit on 8 GB of log before the count is reached, and keep
// 10 GB of trailing entries after. So the node also watches the bytes in
// the log: past SnapshotLogBytes it takes a snapshot and keeps only as many
// trailing entries as fit in a quarter of that (within TrailingLogs), so the
// log stays within about 1.25 × SnapshotLogBytes plus one segment file.

const defaultSnapshotLogBytes = 256 << 20

// entryOverhead approximates the bytes a stored entry costs beyond its data
// (index, term, type, timestamps, record framing).
const entryOverhead = 48

// sizedLog is the log store with the stored size of every entry it holds
// tracked, for the byte trigger above.
type sizedLog struct {
	raft.LogStore

	mu    sync.Mutex
	ents  []sizedEntry // ascending index
	total int64
	limit int64
	over  chan struct{} // poked (non-blocking) when total passes limit
	// storeTime, if set, records how long each StoreLogs takes: one
	// append and device flush of the underlying store.
	storeTime *Histogram
}

type sizedEntry struct {
	index uint64
	size  int64
}

func newSizedLog(s raft.LogStore, limit int64) *sizedLog {
	return &sizedLog{LogStore: s, limit: limit, over: make(chan struct{}, 1)}
}

func logSize(l *raft.Log) int64 { return int64(len(l.Data)+len(l.Extensions)) + entryOverhead }

// StoreLog stores one entry and records its size.
func (s *sizedLog) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries and records their sizes.
func (s *sizedLog) StoreLogs(logs []*raft.Log) error {
	start := time.Now()
	if err := s.LogStore.StoreLogs(logs); err != nil {
		return err
	}
	s.storeTime.observeSince(start)
	s.mu.Lock()
	for _, l := range logs {
		s.addLocked(l.Index, logSize(l))
	}
	over := s.limit > 0 && s.total >= s.limit
	s.mu.Unlock()
	if over {
		select {
		case s.over <- struct{}{}:
		default:
		}
	}
	return nil
}

func (s *sizedLog) addLocked(index uint64, size int64) {
	// An entry at or below the last replaces the suffix from it (a
	// conflict); one past a gap follows an installed snapshot, and the
	// store dropped everything before it (walLog.StoreLogs).
	if n := len(s.ents); n > 0 && s.ents[n-1].index >= index {
		s.dropLocked(index, s.ents[n-1].index)
	} else if n > 0 && index > s.ents[n-1].index+1 {
		s.ents, s.total = s.ents[:0], 0
	}
	s.ents = append(s.ents, sizedEntry{index, size})
	s.total += size
}

// DeleteRange deletes entries and forgets their sizes.
func (s *sizedLog) DeleteRange(min, max uint64) error {
	err := s.LogStore.DeleteRange(min, max)
	s.mu.Lock()
	s.dropLocked(min, max)
	s.mu.Unlock()
	return err
}

func (s *sizedLog) dropLocked(min, max uint64) {
	lo := sort.Search(len(s.ents), func(i int) bool { return s.ents[i].index >= min })
	hi := sort.Search(len(s.ents), func(i int) bool { return s.ents[i].index > max })
	for _, e := range s.ents[lo:hi] {
		s.total -= e.size
	}
	if lo == 0 {
		s.ents = s.ents[hi:]
		return
	}
	s.ents = append(s.ents[:lo], s.ents[hi:]...)
}

// bytes reports the tracked size of the log.
func (s *sizedLog) bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// trailingWithin is how many of the newest entries fit in budget bytes, at
// most max.
func (s *sizedLog) trailingWithin(budget int64, max uint64) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	var n uint64
	for i := len(s.ents) - 1; i >= 0 && n < max; i-- {
		if sum += s.ents[i].size; sum > budget {
			break
		}
		n++
	}
	return n
}

// verifyLog reads every entry of the log once, so that a damaged log stops
// the node at startup with the place named, instead of surfacing later as
// a panic inside raft (which cannot run without the entries it has) or as
// wrong data. It records each entry's size on the way.
func verifyLog(s *sizedLog, kind, path string) (err error) {
	defer func() {
		// bbolt panics on some damaged pages; name the file instead.
		if p := recover(); p != nil {
			err = fmt.Errorf("raft log %s is damaged (%v): on a follower, wipe the data dir and rejoin the cluster (docs/operations.md); on the only copy, keep the files and restore from a backup", path, p)
		}
	}()
	first, err := s.LogStore.FirstIndex()
	if err != nil {
		return fmt.Errorf("raft log %s: read first index: %w", path, err)
	}
	last, err := s.LogStore.LastIndex()
	if err != nil {
		return fmt.Errorf("raft log %s: read last index: %w", path, err)
	}
	if last == 0 {
		return nil
	}
	var l raft.Log
	for i := first; i <= last; i++ {
		if err := s.LogStore.GetLog(i, &l); err != nil {
			where := path
			if kind == LogStoreWAL {
				where = walSegmentFor(path, i)
			}
			return fmt.Errorf("raft log entry %d (log holds %d..%d) in %s cannot be read: %w. "+
				"The data dir is damaged: on a follower, wipe the data dir and rejoin the cluster (docs/operations.md); "+
				"on the only copy, keep the files and restore from a backup",
				i, first, last, where, err)
		}
		if l.Index != i {
			return fmt.Errorf("raft log %s: entry %d is stored as index %d: the data dir is damaged", path, i, l.Index)
		}
		s.mu.Lock()
		s.addLocked(i, logSize(&l))
		s.mu.Unlock()
	}
	return nil
}

// walSegmentFor names the segment file of dir that holds index: raft-wal
// names them <base index>-<segment id>.wal, with zero-padded decimal base
// indexes, so the holder is the last file whose base is at most index.
func walSegmentFor(dir string, index uint64) string {
	names, err := os.ReadDir(dir)
	if err != nil {
		return dir
	}
	best := dir
	for _, e := range names { // sorted by name, so by base index
		base, _, ok := strings.Cut(e.Name(), "-")
		if !ok || filepath.Ext(e.Name()) != ".wal" {
			continue
		}
		b, err := strconv.ParseUint(base, 10, 64)
		if err != nil || b > index {
			continue
		}
		best = filepath.Join(dir, e.Name())
	}
	return best
}

// logBytesLoop takes a snapshot when the log grows past SnapshotLogBytes,
// keeping trailing entries within a quarter of it.
func (n *Node) logBytesLoop() {
	limit := n.cfg.SnapshotLogBytes
	if limit <= 0 {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last time.Time
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.logs.over:
		case <-tick.C:
		}
		// A snapshot that frees nothing (no new entries applied yet) is
		// not retried in a loop.
		if n.logs.bytes() < limit || time.Since(last) < 2*time.Second {
			continue
		}
		last = time.Now()
		n.snapshotByBytes(limit)
	}
}

func (n *Node) snapshotByBytes(limit int64) {
	rc := n.raft.ReloadableConfig()
	keep := n.logs.trailingWithin(limit/4, n.cfg.TrailingLogs)
	before := n.logs.bytes()
	if keep < rc.TrailingLogs {
		tight := rc
		tight.TrailingLogs = keep
		if err := n.raft.ReloadConfig(tight); err != nil {
			n.log.Warn("cannot lower trailing logs for a log-size snapshot", "err", err)
			return
		}
		// Raft's own threshold snapshots go on keeping the configured
		// trailing entries; this loop trims again if they are too big.
		defer func() {
			if err := n.raft.ReloadConfig(rc); err != nil {
				n.log.Warn("cannot restore trailing logs", "err", err)
			}
		}()
	}
	start := time.Now()
	err := n.raft.Snapshot().Error()
	switch {
	case errors.Is(err, raft.ErrNothingNewToSnapshot):
		return
	case err != nil:
		n.log.Warn("log-size snapshot failed", "err", err, "log_bytes", before)
		return
	}
	n.log.Info("snapshot taken: the log passed its byte limit", "log_bytes_before", before, "log_bytes_after", n.logs.bytes(),
		"limit", limit, "trailing_entries", keep, "took", time.Since(start).Round(time.Millisecond))
}
