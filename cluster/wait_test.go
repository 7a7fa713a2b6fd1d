package cluster

import (
	"context"
	"testing"
	"time"
)

// waitReplicated runs WaitDurable for want other members with a
// deadline of d.
func waitReplicated(n *Node, want int, d time.Duration) (int, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	got := n.WaitDurable(ctx, false, want)
	return got.Replicas, time.Since(start)
}

func TestWaitDurable(t *testing.T) {
	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes...)
	followers := others(nodes, leader)

	// A write taken by a follower (forwarded): every node can say where
	// it is. One other member holds it at once (the quorum bound); both
	// others once they applied it.
	write(t, followers[0], xadd("w", 1))
	for _, n := range nodes {
		if got, _ := waitReplicated(n, 1, 0); got < 1 {
			t.Errorf("%s: WaitDurable(1) with no time to wait = %d, want the quorum bound 1", n.cfg.NodeID, got)
		}
		if got, took := waitReplicated(n, 2, 10*time.Second); got != 2 {
			t.Errorf("%s: WaitDurable(2) = %d after %v, want 2", n.cfg.NodeID, got, took)
		}
	}
	// Every node's own log holds it (WAITAOF's local count) once it
	// applied it; the leader from the start.
	for _, n := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d := n.WaitDurable(ctx, true, 2)
		cancel()
		if !d.Local || d.Replicas != 2 {
			t.Errorf("%s: WaitDurable(local, 2) = %+v, want local and 2", n.cfg.NodeID, d)
		}
	}
	// More than there are: the deadline ends the wait with what is known.
	if got, took := waitReplicated(leader, 3, 100*time.Millisecond); got != 2 || took < 100*time.Millisecond {
		t.Errorf("WaitDurable(3) = %d after %v, want 2 after the deadline", got, took)
	}

	// One follower down: a new write reaches one other member only.
	if err := followers[1].Close(); err != nil {
		t.Fatal(err)
	}
	write(t, leader, xadd("w", 2))
	if got, took := waitReplicated(leader, 2, 200*time.Millisecond); got != 1 || took < 200*time.Millisecond {
		t.Errorf("with a follower down, WaitDurable(2) = %d after %v, want 1 after the deadline", got, took)
	}
	if got, _ := waitReplicated(leader, 1, 10*time.Second); got != 1 {
		t.Errorf("with a follower down, WaitDurable(1) = %d, want 1", got)
	}
}

func TestWaitDurableAlone(t *testing.T) {
	n := openNode(t, testConfig(t, "solo", t.TempDir()))
	t.Cleanup(func() { _ = n.Close() })
	waitLeader(t, n)
	write(t, n, xadd("w", 1))
	if got, _ := waitReplicated(n, 0, time.Second); got != 0 {
		t.Errorf("WaitDurable(0) = %d, want 0", got)
	}
	if got, took := waitReplicated(n, 1, 50*time.Millisecond); got != 0 || took < 50*time.Millisecond {
		t.Errorf("WaitDurable(1) = %d after %v, want 0 after the deadline", got, took)
	}
	if d := n.WaitDurable(context.Background(), true, 0); !d.Local {
		t.Errorf("a single node's WaitDurable(local) = %+v, want local", d)
	}
}
