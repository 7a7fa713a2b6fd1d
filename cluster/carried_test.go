package cluster

import (
	"testing"
	"time"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/fsm"
)

// A write is parsed once per node: the node that received it applies the
// value it parsed (the leader through raft.Log.Local, a follower that
// forwarded it through its forwarder), every other node parses the logged
// argv. The test carries values parsed from a different argv than the
// logged one, which shows on each node which of the two ran (in real use
// they are parsed from the same bytes, and the states agree).
func TestWriteParsedOncePerNode(t *testing.T) {
	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes...)
	fs := others(nodes, leader)
	reg := engine.NewRegistry()
	carry := func(id, logged, carried string) fsm.Command {
		c := fsm.Command{Proto: 2, Argv: args("XADD", "s", id, "f", logged)}
		a := args("XADD", "s", id, "f", carried)
		p := reg.Lookup(a[0]).Parse(a)
		c.Parsed = &p
		return c
	}
	write(t, leader, carry("1-1", "logged", "leader"))
	write(t, fs[0], carry("2-1", "logged", "follower"))
	want := leader.FSM().AppliedIndex()
	waitFor(t, 10*time.Second, "followers to apply both writes", func() bool {
		return fs[0].FSM().AppliedIndex() >= want && fs[1].FSM().AppliedIndex() >= want
	})
	values := func(n *Node) string {
		return read(n, 0, "XRANGE", "s", "-", "+")
	}
	entry := func(id, v string) string {
		return "*2\r\n$3\r\n" + id + "\r\n*2\r\n$1\r\nf\r\n$" + string(rune('0'+len(v))) + "\r\n" + v + "\r\n"
	}
	for _, tc := range []struct {
		n    *Node
		want string
	}{
		{leader, "*2\r\n" + entry("1-1", "leader") + entry("2-1", "logged")},
		{fs[0], "*2\r\n" + entry("1-1", "logged") + entry("2-1", "follower")},
		{fs[1], "*2\r\n" + entry("1-1", "logged") + entry("2-1", "logged")},
	} {
		if got := values(tc.n); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.n.cfg.NodeID, got, tc.want)
		}
	}
	// Nothing is kept once applied.
	fs[0].fwd.carryMu.Lock()
	kept := len(fs[0].fwd.carried)
	fs[0].fwd.carryMu.Unlock()
	if kept != 0 {
		t.Errorf("the forwarder still keeps %d parsed requests", kept)
	}
}
