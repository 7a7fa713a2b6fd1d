package cluster

import (
	"errors"

	"github.com/hashicorp/raft"
)

// snapshotTermLogs wraps the log store to answer one question raft asks
// it but cannot always answer itself: the term of the entry a snapshot
// ends at, once that entry is no longer in the log.
//
// Why: hashicorp/raft's follower checks an AppendEntries' previous entry
// against its last entry, or else reads it from the log store; it never
// looks at its snapshot. A follower whose log starts after its snapshot
// (a node that rejoined empty, got a snapshot at S and then entry S+1)
// rejects every AppendEntries whose previous entry is S. The leader then
// walks back to its own compacted prefix, sends the snapshot again, and
// probes at S again: a livelock. It was seen in the wipe-rejoin test when
// the response carrying S+1 was lost under load, and a stale entry at S+1
// from an older term causes it every time (TestRejoinAfterSnapshotLivelock).
//
// The answer is a fact, not a guess: a snapshot at index S records the
// term of entry S of the committed log. The entry handed back carries that
// index and term and no data (LogNoop). It is only made for the newest
// snapshot's index, when that index lies before the log's first entry, and
// never for index 1. No reader can mistake it for data there: the FSM
// applies only entries after its snapshot, and a leader only reads entries
// it would send, which start at nextIndex >= 2 and are preceded by an entry
// it must also read (or by its own snapshot index, which raft handles
// without reading): in a log missing S because its prefix is gone, the
// entry before S is gone too, so raft falls back to sending the snapshot
// before it would reach S.
type snapshotTermLogs struct {
	raft.LogStore
	snaps raft.SnapshotStore
}

// cachedSnapshotTermLogs is snapshotTermLogs over the node's logCache,
// passing raft.LogPreparer through, so that the wrapper does not turn off
// replication during the leader's own write.
type cachedSnapshotTermLogs struct {
	*snapshotTermLogs
	cache *logCache
}

// PrepareLogs is the cache's.
func (s cachedSnapshotTermLogs) PrepareLogs(logs []*raft.Log) { s.cache.PrepareLogs(logs) }

// AbortLogs is the cache's.
func (s cachedSnapshotTermLogs) AbortLogs(logs []*raft.Log) { s.cache.AbortLogs(logs) }

// GetLog reads entry index, or makes the term-only entry described above.
func (s *snapshotTermLogs) GetLog(index uint64, l *raft.Log) error {
	err := s.LogStore.GetLog(index, l)
	if !errors.Is(err, raft.ErrLogNotFound) || index < 2 {
		return err
	}
	if first, ferr := s.LogStore.FirstIndex(); ferr != nil || (first != 0 && index >= first) {
		return err
	}
	metas, lerr := s.snaps.List() // newest first
	if lerr != nil || len(metas) == 0 || metas[0].Index != index {
		return err
	}
	*l = raft.Log{Index: index, Term: metas[0].Term, Type: raft.LogNoop}
	return nil
}
