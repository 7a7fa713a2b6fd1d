package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// leaderWatch follows raft's leader observations, so that waiters for a
// leader wake as soon as one is elected.
type leaderWatch struct {
	// leaderMu guards leaderCh, closed and replaced at every leader change
	// raft reports (startLeaderWatch).
	leaderMu sync.Mutex
	leaderCh chan struct{}
	// leaderChanges counts the leaders raft reported elected.
	leaderChanges atomic.Uint64
}

// startLeaderWatch turns raft's leader observations into a broadcast:
// leaderChanged returns a channel closed at the next change, so waiting
// for a leader is event-driven rather than polled.
func (n *Node) startLeaderWatch() {
	ch := make(chan raft.Observation, 16)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	n.raft.RegisterObserver(obs)
	n.spawn(func() {
		defer n.raft.DeregisterObserver(obs)
		for {
			select {
			case o := <-ch:
				lo, _ := o.Data.(raft.LeaderObservation)
				n.observed(lo.LeaderID != "")
			case <-n.ctx.Done():
				return
			}
		}
	})
}

// leaderChanged returns a channel closed at the next leader change. Take
// it before looking at the leader, so no change is missed.
func (w *leaderWatch) leaderChanged() <-chan struct{} {
	w.leaderMu.Lock()
	defer w.leaderMu.Unlock()
	return w.leaderCh
}

// observed records a leader change raft reported: elected if it names a
// leader. It wakes everyone waiting on leaderChanged.
func (w *leaderWatch) observed(elected bool) {
	if elected {
		w.leaderChanges.Add(1)
	}
	w.leaderMu.Lock()
	close(w.leaderCh)
	w.leaderCh = make(chan struct{})
	w.leaderMu.Unlock()
}

// awaitLeader returns the current leader, waiting up to LeaderWait for
// one to be elected.
func (n *Node) awaitLeader(ctx context.Context) (id, addr string, err error) {
	t := time.NewTimer(n.cfg.LeaderWait)
	defer t.Stop()
	for {
		changed := n.leaderChanged()
		a, i := n.raft.LeaderWithID()
		if i != "" {
			return string(i), string(a), nil
		}
		select {
		case <-changed:
		case <-t.C:
			return "", "", errNoLeader(n.cfg.LeaderWait)
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-n.ctx.Done():
			return "", "", ErrClosed
		}
	}
}

// retryWait sleeps before retrying a call to the leader: until the leader
// changes or d passes. It returns false if ctx or the node ended.
func (n *Node) retryWait(ctx context.Context, changed <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	case <-ctx.Done():
		return false
	case <-n.ctx.Done():
		return false
	}
	return true
}
