package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// replicatedPoll is the pause between two rounds of status requests in
// WaitDurable. Followers learn that an entry is committed with the
// leader's next AppendEntries (at most CommitTimeout later when idle), so
// polling faster than that buys little.
const replicatedPoll = 10 * time.Millisecond

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
// majority) hold it from the start, and the leader holds every
// acknowledged write (it stores an entry before counting it committed).
// Beyond that a node counts once its status shows it applied the
// leader's last log index as of the first round: the leader's log holds
// every committed entry, so that covers every acknowledged write,
// whichever node took it. Without a reachable leader only the quorum
// bound is known.
func (n *Node) WaitDurable(ctx context.Context, wantLocal bool, wantReplicas int) Durability {
	var target uint64
	var d Durability
	if n.raft.State() == raft.Leader {
		target = n.raft.LastIndex()
		d.Local = true
	}
	done := func() bool {
		if !d.Local && target > 0 && n.fsm.AppliedIndex() >= target {
			d.Local = true
		}
		return (d.Local || !wantLocal) && d.Replicas >= wantReplicas
	}
	t := time.NewTimer(replicatedPoll)
	defer t.Stop()
	for {
		// The configuration is read each round: members may come and go
		// while a client waits.
		base, others := n.replicaSet()
		d.Replicas = max(d.Replicas, base)
		if done() || ctx.Err() != nil {
			return d
		}
		if len(others) > 0 {
			statuses := n.statuses(ctx, others)
			if target == 0 {
				_, leader := n.raft.LeaderWithID()
				if st, ok := statuses[string(leader)]; ok {
					target = st.LastLogIndex
				}
			}
			if target > 0 {
				applied := 0
				for _, st := range statuses {
					if st.AppliedIndex >= target {
						applied++
					}
				}
				d.Replicas = max(d.Replicas, applied)
			}
		}
		if done() {
			return d
		}
		// Alone, only a new member could change the answer: look rarely.
		t.Reset(replicatedPoll)
		if len(others) == 0 && d.Local {
			t.Reset(time.Second)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
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
