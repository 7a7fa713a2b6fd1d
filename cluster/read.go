package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// Linearizable reads follow rqlite's ReadIndex recipe:
//
//  1. Once per leadership term, a noop entry of our own is applied. Once it
//     is, every entry of earlier terms is applied here too (raft's own
//     barrier would do, but raft does not hand LogBarrier or LogNoop to the
//     FSM, so the FSM's applied index would never reach them).
//  2. Per read: commit := CommitIndex(); VerifyLeader() (a quorum still
//     follows us, so no newer leader can have committed anything); the
//     term is unchanged; wait until the FSM has applied commit.
//
// After step 1 every index in the log of this term is one the FSM sees
// (command batches, expiry, noop, configuration), so the wait in step 2
// ends as soon as the entry at commit has been applied.

// termBarrier is the (shared) read barrier of one term.
type termBarrier struct {
	term uint64
	done chan struct{}
	err  error
}

// ReadBarrier returns once the local state reflects every write committed
// before the call (linearizable read point). On the leader it runs the
// ReadIndex steps itself; on a follower it asks the leader for a read
// index over the cluster RPC (one round trip, plus the leader's heartbeat
// round) and waits until its own state machine has applied that index, so
// the read then runs locally. With no leader it waits up to LeaderWait,
// then fails with ErrNoLeader (which matches ErrNotLeader too).
func (n *Node) ReadBarrier(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Close ends the wait too.
	stop := context.AfterFunc(n.ctx, cancel)
	defer stop()

	deadline := time.Now().Add(n.cfg.LeaderWait)
	var lastErr error
	for {
		changed := n.leaderChanged()
		var index uint64
		var err error
		if n.raft.State() == raft.Leader {
			index, err = n.leaderReadIndex(ctx)
		} else {
			index, err = n.remoteReadIndex(ctx)
		}
		if err == nil {
			if err := n.fsm.WaitApplied(ctx, index); err != nil {
				return n.readErr(ctx, err)
			}
			return nil
		}
		// Only "not the leader (any more)" is worth another try, at
		// whoever leads next.
		if !errors.Is(err, ErrNotLeader) || errors.Is(err, ErrNoLeader) {
			return err
		}
		lastErr = err
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w: %w", errNoLeader(n.cfg.LeaderWait), lastErr)
		}
		if !n.retryWait(ctx, changed, retryBackoffMax) {
			return n.readErr(ctx, ctx.Err())
		}
	}
}

// remoteReadIndex asks the leader for a read index.
func (n *Node) remoteReadIndex(ctx context.Context) (uint64, error) {
	id, addr, err := n.awaitLeader(ctx)
	if err != nil {
		return 0, n.readErr(ctx, err)
	}
	if id == n.cfg.NodeID {
		// Raft names us leader but is not in the leader state yet, or
		// no longer: try again shortly.
		return 0, fmt.Errorf("%w: leadership in transition", ErrNotLeader)
	}
	status, body, err := n.pool.call(ctx, addr, opReadIndex, nil)
	if err != nil {
		if ctx.Err() != nil || n.ctx.Err() != nil {
			return 0, n.readErr(ctx, err)
		}
		return 0, fmt.Errorf("%w: read index from %s: %w", ErrNotLeader, id, err)
	}
	if err := statusError(status, body); err != nil {
		if errors.Is(err, ErrUnknownOutcome) {
			// A read changes nothing: an unknown outcome is a failure.
			return 0, fmt.Errorf("%w: %w", ErrNotLeader, err)
		}
		return 0, err
	}
	r := rbuf{b: body}
	index := r.uvarint()
	return index, r.end()
}

// leaderReadIndex runs the leader's ReadIndex steps and returns an index
// such that a state that applied it reflects every write committed
// before the call.
func (n *Node) leaderReadIndex(ctx context.Context) (uint64, error) {
	if n.raft.State() != raft.Leader {
		return 0, fmt.Errorf("%w: %w", ErrNotLeader, raft.ErrNotLeader)
	}
	term := n.raft.CurrentTerm()
	if err := n.awaitTermBarrier(ctx, term); err != nil {
		return 0, err
	}
	commit := n.raft.CommitIndex()
	if err := n.verifyLeader(ctx); err != nil {
		return 0, n.readErr(ctx, err)
	}
	if n.raft.CurrentTerm() != term {
		return 0, fmt.Errorf("%w: term changed during read", ErrNotLeader)
	}
	return commit, nil
}

// readErr classifies a failed read wait: a read has no side effects, so
// anything but shutdown is "not leader, retry".
func (n *Node) readErr(ctx context.Context, err error) error {
	switch {
	case n.ctx.Err() != nil:
		return ErrClosed
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%w: %w", ErrNotLeader, err)
}

// awaitTermBarrier makes sure the read barrier of term has been applied,
// starting it if needed; concurrent readers share one barrier entry.
func (n *Node) awaitTermBarrier(ctx context.Context, term uint64) error {
	if n.readyTerm.Load() == term {
		return nil
	}
	n.barrierMu.Lock()
	b := n.barrier
	if b == nil || b.term != term || b.failed() {
		b = &termBarrier{term: term, done: make(chan struct{})}
		if !n.spawn(func() { n.runTermBarrier(b) }) {
			n.barrierMu.Unlock()
			return ErrClosed
		}
		n.barrier = b
	}
	n.barrierMu.Unlock()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return n.readErr(ctx, ctx.Err())
	}
}

func (b *termBarrier) failed() bool {
	select {
	case <-b.done:
		return b.err != nil
	default:
		return false
	}
}

func (n *Node) runTermBarrier(b *termBarrier) {
	defer close(b.done)
	if _, err := n.control(n.ctx, fsm.EntryNoop); err != nil {
		b.err = n.readErr(n.ctx, err)
		return
	}
	// Applied while still in the same term: everything before it, i.e.
	// everything earlier leaders committed, is in our state.
	if n.raft.CurrentTerm() != b.term {
		b.err = fmt.Errorf("%w: term changed during read barrier", ErrNotLeader)
		return
	}
	n.readyTerm.Store(b.term)
}

// verifyRound is one VerifyLeader call shared by every read that joined it.
type verifyRound struct {
	done chan struct{}
	err  error
}

// verifyLeader confirms leadership for a read whose commit index was taken
// before the call. Concurrent reads share rounds: a read joins the round
// that starts next (never one already running, which may have begun
// before its commit index was taken), so a burst of reads costs two
// heartbeat rounds, not one per read.
func (n *Node) verifyLeader(ctx context.Context) error {
	n.verifyMu.Lock()
	var r *verifyRound
	if n.verifyCur == nil {
		r = &verifyRound{done: make(chan struct{})}
		if !n.startVerify(r) {
			n.verifyMu.Unlock()
			return ErrClosed
		}
	} else {
		if n.verifyNext == nil {
			n.verifyNext = &verifyRound{done: make(chan struct{})}
		}
		r = n.verifyNext
	}
	n.verifyMu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startVerify runs round r; the caller holds verifyMu.
func (n *Node) startVerify(r *verifyRound) bool {
	n.verifyCur = r
	ok := n.spawn(func() {
		// VerifyLeader always resolves: at quorum, on step-down, or with
		// ErrRaftShutdown.
		err := n.raft.VerifyLeader().Error()
		n.verifyMu.Lock()
		defer n.verifyMu.Unlock()
		r.err = err
		close(r.done)
		n.verifyCur = nil
		if next := n.verifyNext; next != nil {
			n.verifyNext = nil
			if !n.startVerify(next) {
				next.err = ErrClosed
				close(next.done)
			}
		}
	})
	if !ok {
		n.verifyCur = nil
	}
	return ok
}
