package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// WAIT and WAITAOF (server/cmd_wait.go): how far acknowledged writes have
// spread, from the quorum bound and the members' applied indexes.

// durablePoll is the pause between two rounds of status requests in
// WaitDurable: about one replication round trip, which is how soon
// followers apply an entry once the leader's nudge tells them it is
// committed.
const durablePoll = 5 * time.Millisecond

// waitNudge is WAIT's state.
type waitNudge struct {
	nudging atomic.Bool // a WAIT's commit nudge is in flight (nudgeCommit)
}

// Durability is how far the writes acknowledged before a WaitDurable
// call have spread.
type Durability struct {
	Local    bool // this node's log holds them
	Replicas int  // this many other members hold them
}

// WaitDurable is WAIT and WAITAOF: it reports where every write
// acknowledged before the call is stored, waiting until this node holds
// them (if wantLocal) and at least wantReplicas other members do, or ctx
// ends, and returns what it last saw.
//
// A write is acknowledged only once a majority of voters stored it, so a
// quorum less one other members (the node answering may be in that
// majority) hold it from the start, and the leader holds every committed
// entry. Beyond that, a read barrier makes this node apply every write
// acknowledged before the call (it then holds them too); its applied
// index is the target, and another member counts once its status shows
// it applied that far. Applied indexes only ever name command entries, so
// the target is one every member can reach, which the leader's last log
// index (possibly raft's own no-op or a configuration entry) is not.
// Without a leader only the quorum bound is known.
func (n *Node) WaitDurable(ctx context.Context, wantLocal bool, wantReplicas int) Durability {
	d := Durability{Local: n.raft.State() == raft.Leader}
	enough := func() bool { return (d.Local || !wantLocal) && d.Replicas >= wantReplicas }
	base, _ := n.replicaSet()
	d.Replicas = base
	if enough() || ctx.Err() != nil {
		return d
	}
	// Followers learn that the writes are committed with the leader's next
	// AppendEntries, which an idle leader sends only after CommitTimeout
	// (50 ms by default, stretched at random up to twice that); a no-op entry sends it now, for this node's read barrier
	// (on a follower) and for the others.
	n.nudgeCommit()
	if n.ReadBarrier(ctx) != nil {
		return d
	}
	target := n.fsm.AppliedIndex()
	d.Local = true
	t := time.NewTimer(durablePoll)
	defer t.Stop()
	for {
		// The configuration is read each round: members may come and go
		// while a client waits.
		base, others := n.replicaSet()
		d.Replicas = max(d.Replicas, base)
		if enough() || ctx.Err() != nil {
			return d
		}
		applied := 0
		for _, st := range n.statuses(ctx, others) {
			if st.AppliedIndex >= target {
				applied++
			}
		}
		d.Replicas = max(d.Replicas, applied)
		if enough() {
			return d
		}
		// Alone, only a new member could change the answer: look rarely.
		t.Reset(durablePoll)
		if len(others) == 0 {
			t.Reset(time.Second)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// nudgeCommit has a no-op entry proposed, without waiting for it, so that
// the commit index reaches the followers at once: by this node if it
// leads, else by the leader (opNudge). One at a time per node: concurrent
// WAITs share it.
func (n *Node) nudgeCommit() {
	if !n.nudging.CompareAndSwap(false, true) {
		return
	}
	if !n.spawn(func() {
		defer n.nudging.Store(false)
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.LeaderWait)
		defer cancel()
		if n.raft.State() == raft.Leader {
			_, _ = n.control(ctx, fsm.EntryNoop)
		} else if addr, _ := n.raft.LeaderWithID(); addr != "" {
			_, _, _ = n.pool.call(ctx, string(addr), opNudge, nil)
		}
	}) {
		n.nudging.Store(false)
	}
}

// replicaSet returns the members other than this node and how many of
// them certainly hold every committed entry: a quorum (voters/2+1) less
// one.
func (n *Node) replicaSet() (base int, others []raft.Server) {
	conf, err := n.configuration()
	if err != nil {
		return 0, nil
	}
	voters := 0
	for _, s := range conf.Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
		if string(s.ID) != n.cfg.NodeID {
			others = append(others, s)
		}
	}
	return voters / 2, others
}

// statusRound bounds one round of status requests: a member that does
// not answer in time is left out of that round.
const statusRound = time.Second

// statuses asks each of servers for its status at once and returns the
// answers that came, by ID.
func (n *Node) statuses(ctx context.Context, servers []raft.Server) map[string]peerStatus {
	ctx, cancel := context.WithTimeout(ctx, statusRound)
	defer cancel()
	var mu sync.Mutex
	out := make(map[string]peerStatus, len(servers))
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := n.askStatus(ctx, string(s.Address))
			if err != nil || st.ID != string(s.ID) {
				return
			}
			mu.Lock()
			out[st.ID] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// askStatus requests the status of the node at addr.
func (n *Node) askStatus(ctx context.Context, addr string) (peerStatus, error) {
	status, body, err := n.pool.call(ctx, addr, opStatus, nil)
	if err == nil {
		err = statusError(status, body)
	}
	if err != nil {
		return peerStatus{}, fmt.Errorf("status of %s: %w", addr, err)
	}
	return decodePeerStatus(body)
}
