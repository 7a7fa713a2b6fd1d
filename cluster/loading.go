package cluster

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

// LoadProgress follows a starting node's loading, for Redis's -LOADING
// replies and INFO persistence: first the restore of the newest snapshot
// (inside raft.NewRaft, before Open returns), then the replay of the log
// entries the node held at startup, which raft applies once it learns
// they are committed. Create one with NewLoadProgress, pass it in
// Config.Loading, and give it to the client server before calling Open,
// so clients are answered while Open restores. The zero value is not
// usable.
type LoadProgress struct {
	start time.Time
	// Snapshot bytes: the newest snapshot's size, and how much of it the
	// state machine has read.
	snapTotal, snapRead atomic.Int64
	// Log replay: entries (from, to] must be applied; to is 0 until Open
	// knows it.
	from, to atomic.Uint64
	fsm      atomic.Pointer[fsm.FSM]
	// commit reports the commit index, and whether a leader is known.
	// replayStart and grace are set before commit.
	commit      atomic.Pointer[func() (uint64, bool)]
	replayStart time.Time
	grace       time.Duration
	done        atomic.Bool
}

// LoadStatus is a LoadProgress reading.
type LoadStatus struct {
	Loading     bool
	Start       time.Time
	TotalBytes  int64 // of the snapshot being restored
	LoadedBytes int64
	// Perc is the progress in percent: of the snapshot's bytes while it
	// is restored, then of the log entries replayed.
	Perc float64
}

// NewLoadProgress returns a progress in the loading state, started now.
func NewLoadProgress() *LoadProgress { return &LoadProgress{start: time.Now()} }

// Done reports whether the node has loaded: the snapshot is restored and
// the log it held at startup is applied, as far as it is committed. Once
// true it stays true, so clients never see -LOADING after other replies.
// Replaying needs the commit index, which only a leader gives: a node
// that knows no leader within the grace period (cut off from a quorum) is
// not loading but unavailable, and is done; its clients then get Raft's
// errors (TRYAGAIN) as reads wait for the leader, as before.
func (p *LoadProgress) Done() bool {
	if p.done.Load() {
		return true
	}
	f, to, commit := p.fsm.Load(), p.to.Load(), p.commit.Load()
	if f == nil || commit == nil {
		return false // still restoring the snapshot inside Open
	}
	applied := f.AppliedIndex()
	ci, leader := (*commit)()
	var done bool
	switch {
	case applied >= to:
		done = true
	case !leader:
		done = time.Since(p.replayStart) > p.grace
	case ci <= p.from.Load():
		// A new leader's commit index moves only once its first entry
		// commits; a follower's once the leader's first message came.
		done = false
	default:
		done = applied >= min(ci, to)
	}
	if done {
		p.done.Store(true)
	}
	return done
}

// Status reports where loading is.
func (p *LoadProgress) Status() LoadStatus {
	st := LoadStatus{Loading: !p.Done(), Start: p.start, TotalBytes: p.snapTotal.Load(), LoadedBytes: p.snapRead.Load()}
	if !st.Loading {
		st.Perc = 100
		return st
	}
	f, from, to := p.fsm.Load(), p.from.Load(), p.to.Load()
	switch {
	case f != nil && p.commit.Load() != nil && to > from:
		st.Perc = 100 * float64(f.AppliedIndex()-min(from, f.AppliedIndex())) / float64(to-from)
	case f == nil && st.TotalBytes > 0:
		st.Perc = 100 * float64(st.LoadedBytes) / float64(st.TotalBytes)
	}
	return st
}

// restoring notes the snapshot about to be restored.
func (p *LoadProgress) restoring(size int64) { p.snapTotal.Store(size) }

// replaying notes that the snapshot is restored and f must apply the log
// up to last, as far as commit reports it committed, before the node has
// loaded. Without a leader for longer than grace the node stops loading.
func (p *LoadProgress) replaying(f *fsm.FSM, last uint64, grace time.Duration, commit func() (uint64, bool)) {
	p.replayStart, p.grace = time.Now(), grace
	from := f.AppliedIndex()
	p.from.Store(from)
	p.to.Store(max(last, 1))
	p.commit.Store(&commit)
	p.fsm.Store(f)
	if last <= from {
		p.done.Store(true)
	}
}

// countingReader counts the bytes read from a snapshot: in n, and in
// also if set (the LoadProgress of a starting node).
type countingReader struct {
	io.ReadCloser
	n, also *atomic.Int64
}

func (r *countingReader) Read(b []byte) (int, error) {
	n, err := r.ReadCloser.Read(b)
	r.n.Add(int64(n))
	if r.also != nil {
		r.also.Add(int64(n))
	}
	return n, err
}
