package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

func cmd(a ...string) fsm.Command { return fsm.Command{Proto: 2, Argv: args(a...)} }

// deadLetterCluster starts three nodes and writes, through the leader, a
// stream key of n entries whose group g dead-letters to "dead" what would
// be delivered a second time.
func deadLetterCluster(t *testing.T, key string, n int) (nodes []*Node, leader *Node) {
	t.Helper()
	nodes = startCluster(t, 3)
	leader = waitLeader(t, nodes...)
	for i := 0; i < n; i++ {
		write(t, leader, xadd(key, i))
	}
	write(t, leader, cmd("XGROUP", "CREATE", key, "g", "0"))
	write(t, leader, cmd("RS.SETDLQ", key, "g", "MAXDELIVERIES", "1", "DEADLETTER", "dead"))
	return nodes, leader
}

// TestRetentionWithoutWrites checks that age retention (XCFGSET MAXAGE)
// trims a stream nobody writes to: only the leader's expiry loop can
// propose the trim, and every node applies it at the same log position.
// Poison entries are dead-lettered along the way, so the converged states
// also cover dead-letter streams.
func TestRetentionWithoutWrites(t *testing.T) {
	nodes, leader := deadLetterCluster(t, "events", 5)
	write(t, leader, cmd("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "events", ">"))
	if got := string(write(t, leader, cmd("XAUTOCLAIM", "events", "g", "c2", "0", "0"))); got != "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n" {
		t.Fatalf("XAUTOCLAIM of two poison entries = %q, want nothing claimed", got)
	}
	write(t, leader, xadd("events", 5))
	if got := string(write(t, leader, cmd("XCFGSET", "events", "MAXAGE", "300"))); got != "+OK\r\n" {
		t.Fatalf("XCFGSET = %q", got)
	}
	applied := leader.FSM().AppliedIndex()
	// No client command from here on.
	waitFor(t, 10*time.Second, "retention to empty the stream", func() bool {
		return read(leader, 0, "XLEN", "events") == ":0\r\n"
	})
	if leader.FSM().AppliedIndex() == applied {
		t.Fatal("stream trimmed without a log entry")
	}
	waitConverged(t, leader, nodes)
	for _, n := range nodes {
		if got := read(n, 0, "XLEN", "dead"); got != ":2\r\n" {
			t.Fatalf("%s: XLEN dead = %q, want 2", n.cfg.NodeID, got)
		}
	}
}

// TestDeadLetterAcrossFailover dead-letters on one leader, moves
// leadership, dead-letters on the next, and checks that every node holds
// the same state: the setting and the moved count live in the replicated
// state, not in the leader.
func TestDeadLetterAcrossFailover(t *testing.T) {
	nodes, leader := deadLetterCluster(t, "jobs", 4)
	write(t, leader, cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "jobs", ">"))
	write(t, leader, cmd("XAUTOCLAIM", "jobs", "g", "c2", "0", "0", "COUNT", "2"))

	next := others(nodes, leader)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := leader.TransferLeadership(ctx, next.cfg.NodeID); err != nil {
		t.Fatal(err)
	}
	leader = waitLeader(t, next)
	write(t, leader, cmd("XAUTOCLAIM", "jobs", "g", "c3", "0", "0"))
	waitConverged(t, leader, nodes)
	for _, n := range nodes {
		if got := read(n, 0, "XLEN", "dead"); got != ":4\r\n" {
			t.Fatalf("%s: XLEN dead = %q, want 4", n.cfg.NodeID, got)
		}
		if got := read(n, 0, "XPENDING", "jobs", "g"); got != "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n" {
			t.Fatalf("%s: XPENDING = %q, want empty", n.cfg.NodeID, got)
		}
	}
}
