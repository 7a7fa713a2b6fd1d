package cluster

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
	"github.com/raftstream/raftstream/fsm"
)

func followersOf(leader *Node, nodes []*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if n != leader {
			out = append(out, n)
		}
	}
	return out
}

func TestFollowerForwardsWritesAndReads(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		nodes := startCluster(t, 3)
		leader := waitLeader(t, nodes...)
		f := followersOf(leader, nodes)[0]

		// A follower's write is applied by the leader and answered with
		// the leader's reply (the stream ID the leader's clock gave it).
		reply := write(t, f, xadd("s", 1))
		id, ok := bulkID(reply)
		if !ok {
			t.Fatalf("forwarded XADD reply %q", reply)
		}
		// Read-your-writes on the follower through its read barrier.
		if got := linearRead(t, f, "XLEN", "s"); got != ":1\r\n" {
			t.Fatalf("XLEN on follower after its write = %q", got)
		}
		if got := linearRead(t, f, "XRANGE", "s", "-", "+"); got != fmt.Sprintf("*1\r\n*2\r\n$%d\r\n%s\r\n*2\r\n$1\r\nn\r\n$1\r\n1\r\n", len(id.String()), id) {
			t.Fatalf("XRANGE on follower = %q", got)
		}
		// A write on the leader is visible to a linearizable read on the
		// follower at once.
		write(t, leader, xadd("s", 2))
		if got := linearRead(t, f, "XLEN", "s"); got != ":2\r\n" {
			t.Fatalf("XLEN on follower after a leader write = %q", got)
		}

		// Pipelined writes from one goroutine on a follower stay in order,
		// and replies match their commands.
		const n = 300
		ps := make([]*Pending, n)
		for i := range ps {
			ps[i] = f.Propose(xadd("order", i))
		}
		var prev engine.ID
		for i, p := range ps {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			r, err := p.Wait(ctx)
			cancel()
			if err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			id, ok := bulkID(r.RESP)
			if !ok || (i > 0 && !prev.Less(id)) {
				t.Fatalf("write %d: reply %q after %v", i, r.RESP, prev)
			}
			prev = id
		}
		if got := linearRead(t, f, "XLEN", "order"); got != ":300\r\n" {
			t.Fatalf("XLEN order = %q", got)
		}
		// Entry i holds value i: applied in proposal order.
		var last string
		f.FSM().Read(func(st *engine.State) {
			w := resp.NewWriter(2)
			st.Exec(&engine.Ctx{Now: st.Clock(), W: w}, args("XREVRANGE", "order", "+", "-", "COUNT", "1"))
			last = string(w.Buf)
		})
		if want := "$3\r\n299\r\n"; len(last) < len(want) || last[len(last)-len(want):] != want {
			t.Fatalf("last entry of order = %q, want value 299", last)
		}

		// Many concurrent writers on every node.
		var wg sync.WaitGroup
		for _, nd := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				writeConcurrently(t, nd, 8, 20, "c"+nd.cfg.NodeID)
			}()
		}
		wg.Wait()
		waitConverged(t, leader, nodes)
		for _, nd := range nodes {
			if got := read(f, 0, "XLEN", "c"+nd.cfg.NodeID+"0"); got != ":60\r\n" {
				t.Fatalf("XLEN c%s0 = %q", nd.cfg.NodeID, got)
			}
		}
		// Errors are replies too: a forwarded command failing in the
		// engine gives the engine's error reply.
		if r := write(t, f, fsm.Command{Proto: 2, Argv: args("XADD", "s", "0-0", "f", "v")}); string(r) != "-ERR The ID specified in XADD must be greater than 0-0\r\n" {
			t.Fatalf("bad XADD via follower = %q", r)
		}
		for _, nd := range nodes {
			if err := nd.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}()
	checkNoGoroutineLeak(t, base)
}

// The same forwarded request delivered twice (a retry after a lost
// answer) is applied once and both copies get the same reply.
func TestForwardedRequestDedupe(t *testing.T) {
	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes...)
	f := followersOf(leader, nodes)[0]
	cmds := []fsm.Command{xadd("d", 1), {Proto: 2, Argv: args("XLEN", "d")}}
	entry, err := fsm.AppendEntry(nil, &fsm.Entry{Type: fsm.EntryCommands, Commands: cmds})
	if err != nil {
		t.Fatal(err)
	}
	body := wbuf(nil).str("test/origin").uvarint(1).uvarint(0).bytes(entry)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var first []fsm.Reply
	// Copies go as either operation: the previous version's answer has
	// the replies' bytes only, this one's their outcomes too.
	for attempt, op := range []byte{opProposeResults, opPropose, opProposeResults} {
		status, resp, err := f.pool.call(ctx, leader.RaftAddr(), op, body)
		if err != nil || status != stOK {
			t.Fatalf("attempt %d: status %d, %v", attempt, status, err)
		}
		var replies []fsm.Reply
		if op == opPropose {
			replies, err = decodeReplies(resp, cmds)
		} else {
			replies, err = decodeResults(resp, len(cmds))
		}
		if err != nil {
			t.Fatal(err)
		}
		if attempt == 0 {
			first = replies
			if string(replies[1].RESP) != ":1\r\n" || replies[1].Outcome != fsm.OutcomeValue {
				t.Fatalf("first XLEN = %+v", replies[1])
			}
			continue
		}
		if fmt.Sprint(replies) != fmt.Sprint(first) {
			t.Fatalf("attempt %d replies %+v, first %+v", attempt, replies, first)
		}
	}
	if got := linearRead(t, leader, "XLEN", "d"); got != ":1\r\n" {
		t.Fatalf("XLEN d = %q after three copies of one request", got)
	}
	// A follower refuses forwarded batches: only the leader proposes them.
	if status, _, err := leader.pool.call(ctx, f.RaftAddr(), opPropose, body); err != nil || status != stNotLeader {
		t.Fatalf("forward to a follower: status %d, %v; want stNotLeader", status, err)
	}
	waitConverged(t, leader, nodes)
}

// With no leader, writes and reads wait LeaderWait, then fail with
// ErrNoLeader (which is also ErrNotLeader: nothing was appended).
func TestNoLeaderFailsAfterLeaderWait(t *testing.T) {
	nodes, _ := startClusterConfigs(t, 3, func(c *Config) { c.LeaderWait = 300 * time.Millisecond })
	leader := waitLeader(t, nodes...)
	fs := followersOf(leader, nodes)
	if err := leader.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fs[1].Close(); err != nil {
		t.Fatal(err)
	}
	lone := fs[0]
	// Until lone's heartbeat timeout it may still follow a leader that was
	// just closed (the old one, or the other follower if it won an
	// election in between); a write forwarded to that leader has a
	// genuinely unknown outcome. This test is about having no leader.
	waitFor(t, 10*time.Second, "the lone node to see no leader", func() bool { return lone.Status().LeaderID == "" })
	start := time.Now()
	_, err := lone.Propose(xadd("s", 1)).Wait(context.Background())
	if !errors.Is(err, ErrNoLeader) || !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Propose without a leader: %v, want ErrNoLeader", err)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("failed after %v, before LeaderWait", el)
	}
	if err := lone.ReadBarrier(context.Background()); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("ReadBarrier without a leader: %v, want ErrNoLeader", err)
	}
	if err := lone.ReadBarrierStale(); err != nil {
		t.Fatalf("ReadBarrierStale: %v", err)
	}
	if err := lone.AddMember(context.Background(), NodeInfo{ID: "x", RaftAddr: "127.0.0.1:1"}); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("AddMember without a leader: %v, want ErrNoLeader", err)
	}
}

// TestForwardToPreviousVersion: a leader of the previous version does not
// know opProposeResults; the follower then forwards with opPropose and
// recovers the outcomes from the replies' bytes.
func TestForwardToPreviousVersion(t *testing.T) {
	nodes, _ := startClusterConfigs(t, 3, func(c *Config) { c.oldForwardRPC = true })
	leader := waitLeader(t, nodes...)
	f := followersOf(leader, nodes)[0]
	txn := fsm.Command{Kind: fsm.KindTxn, Proto: 2, Txn: &fsm.Txn{Cmds: [][][]byte{args("XLEN", "s"), args("XADD", "s", "bad", "f", "v")}}}
	for i, tc := range []struct {
		cmd     fsm.Command
		outcome fsm.Outcome
		parts   int
	}{
		{xadd("s", 1), fsm.OutcomeValue, 0},
		{fsm.Command{Proto: 2, Argv: args("XADD", "s", "0-1", "f", "v")}, fsm.OutcomeError, 0},
		{fsm.Command{Proto: 3, Argv: args("XREADGROUP", "GROUP", "g", "c", "STREAMS", "nope", ">")}, fsm.OutcomeError, 0},
		{txn, fsm.OutcomeValue, 2},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r, err := f.Propose(tc.cmd).Wait(ctx)
		cancel()
		if err != nil || r.Outcome != tc.outcome || len(r.Parts) != tc.parts {
			t.Fatalf("write %d: %q %s %d parts, %v; want %s %d parts", i, r.RESP, r.Outcome, len(r.Parts), err, tc.outcome, tc.parts)
		}
	}
	f.fwd.mu.Lock()
	old := f.fwd.oldPeer != nil
	f.fwd.mu.Unlock()
	if !old {
		t.Fatal("the follower did not mark the leader's connection as the previous version's")
	}
}
