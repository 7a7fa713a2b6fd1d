package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// Linearizable reads follow rqlite's ReadIndex recipe:
//
//  1. Once per leadership term, a noop entry of our own is applied. Once it
//     is, every entry of earlier terms is applied here too (why not raft's
//     Barrier, and why leadership is confirmed by our own RPC rather than
//     VerifyLeader: "Reads" in DESIGN.md).
//  2. Per read: commit := CommitIndex(); confirm that a quorum of voters
//     is still in our term (so no newer leader can have committed
//     anything); the term is unchanged; wait until the FSM has applied
//     commit.
//
// After step 1 every index in the log of this term is one the FSM sees
// (command batches, expiry, noop, configuration), so the wait in step 2
// ends as soon as the entry at commit has been applied.

// readIndex is the linearizable read path's state: the term whose
// barrier is applied, the barrier being run, and the leadership
// confirmation rounds (verifyLeader).
type readIndex struct {
	readyTerm atomic.Uint64 // term whose read barrier has been applied
	barrierMu sync.Mutex
	barrier   *termBarrier

	// verifyMu guards the running leadership confirmation round and the
	// one queued behind it (see verifyLeader).
	verifyMu   sync.Mutex
	verifyCur  *verifyRound
	verifyNext *verifyRound
}

// termBarrier is the (shared) read barrier of one term.
type termBarrier struct {
	term uint64
	done chan struct{}
	err  error
}

// ReadBarrier returns once the local state reflects every write committed
// before the call (linearizable read point). On the leader it runs the
// ReadIndex steps itself; on a follower it asks the leader for a read
// index over the cluster RPC (one round trip, plus the leader's
// confirmation round) and waits until its own state machine has applied that index, so
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
			if err := n.waitApplied(ctx, index); err != nil {
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

// nudgeAfter is how long a follower's read waits for its read index to be
// applied before it has the leader send the commit index (nudgeCommit).
// Under load the next AppendEntries brings it sooner; an idle leader sends
// one only after CommitTimeout (50 ms by default, which raft stretches at
// random up to twice that), which a read right after a write through this
// follower would otherwise wait out.
const nudgeAfter = 2 * time.Millisecond

// waitApplied waits until the state machine applied index.
func (n *Node) waitApplied(ctx context.Context, index uint64) error {
	if n.fsm.AppliedIndex() >= index || n.raft.State() == raft.Leader {
		return n.fsm.WaitApplied(ctx, index)
	}
	soon, cancel := context.WithTimeout(ctx, nudgeAfter)
	err := n.fsm.WaitApplied(soon, index)
	cancel()
	if err == nil || ctx.Err() != nil {
		return err
	}
	n.nudgeCommit()
	return n.fsm.WaitApplied(ctx, index)
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

// verifyRound is one leadership confirmation shared by every read that
// joined it.
type verifyRound struct {
	done chan struct{}
	err  error
}

// verifyLeader confirms leadership for a read whose commit index was taken
// before the call. Concurrent reads share rounds: a read joins the round
// that starts next (never one already running, which may have begun
// before its commit index was taken), so a burst of reads costs two
// confirmation rounds, not one per read.
func (n *Node) verifyLeader(ctx context.Context) error {
	// The sole voter needs nobody's confirmation: answer inline rather
	// than through a confirmation round's goroutine.
	if _, _, need, err := n.confirmPlan(); err != nil || need <= 0 {
		return err
	}
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
		err := n.confirmLeadership()
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

// confirmLeadership proves that no newer leader can exist: a quorum of the
// voters reports our term, each in answer to a request sent after the
// round began. A newer leader needs a majority in a higher term, terms
// never go back, and any two majorities share a voter, so none was
// elected before the round began.
//
// raft's own VerifyLeader is not enough: it counts any AppendEntries
// response that arrives while it waits, including ones to requests sent
// long before. A leader paused (SIGSTOP, a VM stall) with responses in
// its socket buffers wakes, takes a read, and those stale responses
// "confirm" it while a newer leader has already committed writes: the
// fault tests caught exactly that stale read.
func (n *Node) confirmLeadership() error {
	term, peers, need, err := n.confirmPlan()
	if err != nil {
		return err
	}
	votes := 0
	if need <= 0 {
		return nil
	}
	// A quorum that cannot answer within an election timeout has most
	// likely elected someone else; the caller retries.
	ctx, cancel := context.WithTimeout(n.ctx, n.raft.ReloadableConfig().ElectionTimeout)
	defer cancel()
	answers := make(chan error, len(peers))
	for _, s := range peers {
		if !n.spawn(func() { answers <- n.askTerm(ctx, s, term) }) {
			return ErrClosed
		}
	}
	var lastErr error
	for range peers {
		err := <-answers
		if err == nil {
			if votes++; votes >= need {
				return nil
			}
			continue
		}
		lastErr = err
		if errors.Is(err, errNewerTerm) {
			break
		}
	}
	return fmt.Errorf("%w: leadership not confirmed by a quorum in term %d: %w", ErrNotLeader, term, lastErr)
}

// confirmPlan returns what confirming leadership takes now: our term, the
// other voters, and how many of them must confirm it (our own vote, if we
// are a voter, already counted).
func (n *Node) confirmPlan() (term uint64, peers []raft.Server, need int, err error) {
	if n.raft.State() != raft.Leader {
		return 0, nil, 0, fmt.Errorf("%w: %w", ErrNotLeader, raft.ErrNotLeader)
	}
	term = n.raft.CurrentTerm()
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return 0, nil, 0, fmt.Errorf("%w: %w", ErrNotLeader, err)
	}
	voters, self := 0, false
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage != raft.Voter {
			continue
		}
		voters++
		if s.ID == raft.ServerID(n.cfg.NodeID) {
			self = true
		} else {
			peers = append(peers, s)
		}
	}
	need = voters/2 + 1
	if self {
		need--
	}
	return term, peers, need, nil
}

// errNewerTerm: a voter is in a later term than ours.
var errNewerTerm = errors.New("a voter is in a newer term")

// askTerm asks voter s for its current term and accepts only ours.
func (n *Node) askTerm(ctx context.Context, s raft.Server, term uint64) error {
	status, body, err := n.pool.call(ctx, string(s.Address), opTerm, nil)
	if err != nil {
		return fmt.Errorf("term of %s: %w", s.ID, err)
	}
	if err := statusError(status, body); err != nil {
		return fmt.Errorf("term of %s: %w", s.ID, err)
	}
	r := rbuf{b: body}
	id, theirs := r.str(), r.uvarint()
	switch {
	case r.end() != nil:
		return fmt.Errorf("term of %s: %w", s.ID, errBadBody)
	case id != string(s.ID):
		// The address now belongs to another node: it is no vote.
		return fmt.Errorf("term of %s: %s answered at %s", s.ID, id, s.Address)
	case theirs > term:
		return fmt.Errorf("%w: %s is in term %d, we are in %d", errNewerTerm, s.ID, theirs, term)
	case theirs != term:
		return fmt.Errorf("term of %s: %d, not yet %d", s.ID, theirs, term)
	}
	return nil
}
