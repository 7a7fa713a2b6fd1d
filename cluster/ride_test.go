package cluster

import (
	"bytes"
	"context"
	"iter"
	"testing"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

// A rider goes into the entry of the command that called for it, after
// every other command, on the leader only; every replica applies it.
// The rider here is an XLEN of each XADD's key: it sees the XADDs of its
// own entry, including one forwarded by a follower, and in the log it is
// in the XADD's entry.
func TestRidersJoinTheSealedEntry(t *testing.T) {
	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes...)
	follower := others(nodes, leader)[0]
	rides := make(chan *Pending, 16)
	hook := rideFunc(func(cmds iter.Seq[*Command], add func(Command) *Pending) {
		for c := range cmds {
			if bytes.EqualFold(c.Argv[0], []byte("xadd")) {
				rides <- add(Command{Proto: 2, Argv: args("XLEN", string(c.Argv[1]))})
			}
		}
	})
	for _, n := range nodes {
		n.SetRiders(hook)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.SetRiders(nil)
		}
	})

	for i, via := range []*Node{leader, follower} {
		write(t, via, xadd("s", i))
		var p *Pending
		select {
		case p = <-rides:
		case <-time.After(10 * time.Second):
			t.Fatal("no rider was added")
		}
		if p == nil {
			t.Fatal("the rider was refused")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		reply, err := p.Wait(ctx)
		cancel()
		if err != nil {
			t.Fatalf("rider: %v", err)
		}
		if want := ":" + string(rune('1'+i)) + "\r\n"; string(reply.RESP) != want {
			t.Errorf("write %d: rider answered %q, want %q", i, reply.RESP, want)
		}
		select {
		case p := <-rides:
			t.Fatalf("a second rider %v: only the leader adds riders", p)
		default:
		}
	}
	// In the log, each XADD is followed by its rider, in the same entry.
	for _, e := range commandEntries(t, leader) {
		for j, c := range e.Commands {
			if string(c.Argv[0]) != "XADD" {
				continue
			}
			if j+1 >= len(e.Commands) || string(e.Commands[j+1].Argv[0]) != "XLEN" {
				t.Errorf("an XADD without its rider after it in its entry: %v", e.Commands)
			}
		}
	}
	waitConverged(t, leader, nodes)
}

// rideFunc is a Riders that always rides.
type rideFunc func(cmds iter.Seq[*Command], add func(Command) *Pending)

func (rideFunc) Waiting() bool { return true }

func (f rideFunc) Ride(cmds iter.Seq[*Command], add func(Command) *Pending) { f(cmds, add) }

// A command the rider hook cannot add (invalid here) is refused with nil
// and leaves the entry as it was.
func TestRiderRefused(t *testing.T) {
	n := openNode(t, testConfig(t, "n1", t.TempDir()))
	t.Cleanup(func() { _ = n.Close() })
	waitLeader(t, n)
	got := make(chan *Pending, 1)
	n.SetRiders(rideFunc(func(cmds iter.Seq[*Command], add func(Command) *Pending) {
		got <- add(Command{Kind: fsm.CommandKind(200)})
	}))
	defer n.SetRiders(nil)
	if r := write(t, n, xadd("s", 1)); r[0] != '$' {
		t.Fatalf("XADD answered %q", r)
	}
	if p := <-got; p != nil {
		t.Errorf("an invalid rider was added: %+v", p)
	}
	for _, e := range commandEntries(t, n) {
		if len(e.Commands) != 1 {
			t.Errorf("an entry of %d commands: %v", len(e.Commands), e.Commands)
		}
	}
}
