package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Fault kinds a schedule may draw from.
const (
	killLeader     = "kill-leader"
	killFollower   = "kill-follower"
	pauseLeader    = "pause-leader"
	pauseFollower  = "pause-follower"
	clockBack      = "clock-back"
	membership     = "membership"
	allFaultsShort = "all"
)

var allFaults = []string{killLeader, killFollower, pauseLeader, pauseFollower, clockBack, membership}

// event is one injected fault, for the report.
type event struct {
	At     time.Duration `json:"at"`
	Healed time.Duration `json:"healed"`
	Kind   string        `json:"kind"`
	Target string        `json:"target"`
	Detail string        `json:"detail,omitempty"`
}

// nemesis injects faults from a schedule, one at a time, with a seeded RNG.
type nemesis struct {
	c     *cluster
	rng   *rand.Rand
	kinds []string
	start time.Time

	mu      sync.Mutex
	events  []event
	joiners int
}

func (n *nemesis) record(e event) {
	n.mu.Lock()
	n.events = append(n.events, e)
	n.mu.Unlock()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (n *nemesis) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(n.rng.Int64N(int64(hi-lo)))
}

// run injects faults until ctx ends. Each fault is healed before the next
// one starts, and before run returns.
func (n *nemesis) run(ctx context.Context) {
	for ctx.Err() == nil {
		sleep(ctx, n.between(300*time.Millisecond, 900*time.Millisecond))
		if ctx.Err() != nil {
			return
		}
		kind := n.kinds[n.rng.IntN(len(n.kinds))]
		e := event{At: time.Since(n.start).Round(time.Millisecond), Kind: kind}
		if err := n.inject(ctx, &e); err != nil {
			e.Detail = "skipped/failed: " + err.Error()
		}
		e.Healed = time.Since(n.start).Round(time.Millisecond)
		n.record(e)
	}
}

// pick returns the leader, or a random running follower.
func (n *nemesis) pick(leader bool) (*node, error) {
	l, err := n.c.waitLeader(20 * time.Second)
	if err != nil {
		return nil, err
	}
	if leader {
		return l, nil
	}
	var fs []*node
	for _, nd := range n.c.members() {
		if nd != l && nd.running() {
			fs = append(fs, nd)
		}
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("no running follower")
	}
	return fs[n.rng.IntN(len(fs))], nil
}

func (n *nemesis) inject(ctx context.Context, e *event) error {
	hold := n.between(500*time.Millisecond, 1500*time.Millisecond)
	switch e.Kind {
	case killLeader, killFollower:
		nd, err := n.pick(e.Kind == killLeader)
		if err != nil {
			return err
		}
		e.Target = nd.id
		nd.kill()
		sleep(ctx, hold)
		return nd.start()
	case pauseLeader, pauseFollower:
		nd, err := n.pick(e.Kind == pauseLeader)
		if err != nil {
			return err
		}
		e.Target = nd.id
		nd.stop()
		sleep(ctx, hold)
		nd.cont()
		return nil
	case clockBack:
		return n.clockBack(ctx, e)
	case membership:
		return n.membership(ctx, e)
	}
	return fmt.Errorf("unknown fault %q", e.Kind)
}

// clockBack restarts a follower with its clock 5-30s behind and hands it
// leadership, so it stamps entries with times older than existing IDs;
// then restarts it with the right clock.
func (n *nemesis) clockBack(ctx context.Context, e *event) error {
	nd, err := n.pick(false)
	if err != nil {
		return err
	}
	e.Target = nd.id
	off := -n.between(5*time.Second, 30*time.Second).Round(time.Millisecond)
	e.Detail = "clock offset " + off.String()
	nd.kill()
	nd.mu.Lock()
	nd.clockOffset = off
	nd.mu.Unlock()
	defer func() {
		nd.kill()
		nd.mu.Lock()
		nd.clockOffset = 0
		nd.mu.Unlock()
		_ = nd.start()
	}()
	if err := nd.start(); err != nil {
		return err
	}
	if err := nd.waitPing(30 * time.Second); err != nil {
		return err
	}
	l, err := n.c.waitLeader(20 * time.Second)
	if err != nil {
		return err
	}
	// The node must have caught up before Raft lets it take over.
	err = waitUntil(20*time.Second, nd.id+" to lead", func() bool {
		if raftInfo(nd.addr)["raft_state"] == "leader" {
			return true
		}
		_, _ = oneShot(l.addr, "RAFT", "TRANSFER", nd.id)
		return raftInfo(nd.addr)["raft_state"] == "leader"
	})
	if err != nil {
		e.Detail += " (transfer did not happen)"
		return nil
	}
	e.Detail += " (led)"
	sleep(ctx, 2*time.Second)
	return nil
}

// membership adds a fresh node with --join, waits for it to be a voter,
// then removes it with RAFT REMOVE (sent to a random member) and stops it.
func (n *nemesis) membership(ctx context.Context, e *event) error {
	n.mu.Lock()
	n.joiners++
	id := fmt.Sprintf("j%d", n.joiners)
	n.mu.Unlock()
	e.Target = id
	nd, err := n.c.addJoiner(id)
	if err != nil {
		if nd != nil {
			n.c.dropNode(nd)
		}
		return err
	}
	err = waitUntil(30*time.Second, id+" to be a voter", func() bool {
		l, err := n.c.waitLeader(5 * time.Second)
		return err == nil && raftMembers(l.addr)[id] == "voter"
	})
	if err != nil {
		e.Detail = "never became a voter"
	}
	sleep(ctx, n.between(500*time.Millisecond, 1500*time.Millisecond))
	others := n.c.members()
	err = waitUntil(30*time.Second, "RAFT REMOVE "+id, func() bool {
		via := others[n.rng.IntN(len(others))]
		if via == nd {
			return false
		}
		v, err := oneShot(via.addr, "RAFT", "REMOVE", id)
		return (err == nil && v == "OK") || err != nil && err.Error() == "ERR no such Raft member '"+id+"'"
	})
	n.c.dropNode(nd)
	return err
}

// raftMembers parses RAFT NODES into id -> suffrage.
func raftMembers(addr string) map[string]string {
	v, err := oneShot(addr, "RAFT", "NODES")
	if err != nil {
		return nil
	}
	out := map[string]string{}
	arr, _ := v.([]any)
	for _, e := range arr {
		kv, _ := e.([]any)
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
		}
		out[m["id"]] = m["suffrage"]
	}
	return out
}

// healAll resumes paused nodes and starts stopped ones. It returns the
// nodes whose process died without the nemesis killing it.
func (n *nemesis) healAll() (crashed []string, err error) {
	for _, nd := range n.c.members() {
		nd.cont()
		if nd.crashed() {
			crashed = append(crashed, nd.id)
		}
		if !nd.running() {
			nd.kill() // forget a crashed process
			if err := nd.start(); err != nil {
				return crashed, err
			}
		}
	}
	return crashed, nil
}
