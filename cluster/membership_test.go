package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// respSeed serves AUTH and `RAFT ADD id raft-addr client-addr
// incarnation` for n on a loopback port, as the server's RAFT command
// will, and returns its address.
func respSeed(t *testing.T, n *Node, password string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serveSeed(c, n, password)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func serveSeed(c net.Conn, n *Node, password string) {
	br := bufio.NewReader(c)
	authed := password == ""
	for {
		argv, err := readRESPArray(br)
		if err != nil {
			return
		}
		reply := "-ERR unknown command\r\n"
		switch {
		case len(argv) == 2 && strings.EqualFold(argv[0], "AUTH"):
			if argv[1] == password {
				authed, reply = true, "+OK\r\n"
			} else {
				reply = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
			}
		case !authed:
			reply = "-NOAUTH Authentication required.\r\n"
		case len(argv) == 6 && strings.EqualFold(argv[0], "RAFT") && strings.EqualFold(argv[1], "ADD"):
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := n.AddMember(ctx, NodeInfo{ID: argv[2], RaftAddr: argv[3], ClientAddr: argv[4], Incarnation: argv[5]})
			cancel()
			if err != nil {
				reply = "-ERR " + strings.ReplaceAll(err.Error(), "\r\n", " ") + "\r\n"
			} else {
				reply = "+OK\r\n"
			}
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}

func readRESPArray(br *bufio.Reader) ([]string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("not an array: %q", line)
	}
	count, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil {
		return nil, err
	}
	out := make([]string, count)
	for i := range out {
		hdr, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(hdr[1:]))
		if err != nil {
			return nil, err
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		out[i] = string(buf[:size])
	}
	return out, nil
}

// clusterWithClients starts a cluster whose members advertise (fake)
// client addresses.
func clusterWithClients(t *testing.T, size int, tune func(*Config)) ([]*Node, []Config) {
	return startClusterConfigs(t, size, func(c *Config) {
		c.ClientAddr = "client-" + c.NodeID + ":6379"
		c.PromoteInterval = 50 * time.Millisecond
		tune(c)
	})
}

// joinedVoter starts a one-node cluster and a node "j" that joins it,
// and returns them once j is a voter, with j's configuration. The caller
// closes j.
func joinedVoter(t *testing.T) (leader, j *Node, cfg Config) {
	t.Helper()
	nodes, _ := clusterWithClients(t, 1, func(*Config) {})
	leader = waitLeader(t, nodes...)
	cfg = testConfig(t, "j", t.TempDir())
	cfg.Join = []string{leader.RaftAddr()}
	cfg.ClientAddr = "client-j:6379"
	j = openNode(t, cfg)
	waitFor(t, 10*time.Second, "j to be a voter", func() bool {
		m, ok := memberByID(t, leader, "j")
		return ok && m.Suffrage == "voter"
	})
	return leader, j, cfg
}

func memberByID(t *testing.T, n *Node, id string) (Member, bool) {
	t.Helper()
	ms, err := n.Members()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// A fresh node joins through a follower's Raft address (over the cluster
// RPC, authenticated by the cluster secret; the follower forwards the
// request to the leader), after a dead seed.
func TestJoinPromoteRemove(t *testing.T) {
	const secret = "s3cret"
	nodes, _ := clusterWithClients(t, 3, func(c *Config) { c.PromoteInterval = 300 * time.Millisecond; c.ClusterSecret = secret })
	leader := waitLeader(t, nodes...)
	writeConcurrently(t, leader, 4, 10, "pre")
	seed := followersOf(leader, nodes)[0].RaftAddr()

	cfg := testConfig(t, "n4", t.TempDir())
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	cfg.ClientAddr = "client-n4:6379"
	cfg.ClusterSecret = secret
	cfg.Join = []string{"127.0.0.1:1", seed} // a dead seed first
	n4 := openNode(t, cfg)
	t.Cleanup(func() { n4.Close() })

	// It joins as a non-voter, then is promoted once caught up.
	sawNonvoter := false
	waitFor(t, 15*time.Second, "n4 to become a voter", func() bool {
		m, ok := memberByID(t, leader, "n4")
		if ok && m.Suffrage == "nonvoter" {
			sawNonvoter = true
		}
		return ok && m.Suffrage == "voter"
	})
	if !sawNonvoter {
		t.Error("n4 was never seen as a non-voter")
	}
	all := append(append([]*Node(nil), nodes...), n4)
	waitConverged(t, leader, all)
	if got := read(n4, 0, "XLEN", "pre0"); got != ":20\r\n" {
		t.Fatalf("XLEN pre0 on n4 = %q", got)
	}

	// It serves writes (forwarded) and linearizable reads.
	write(t, n4, xadd("post", 1))
	if got := linearRead(t, n4, "XLEN", "post"); got != ":1\r\n" {
		t.Fatalf("XLEN post on n4 = %q", got)
	}
	// Every node knows every member's client address and the leader's.
	for _, n := range all {
		ms, err := n.Members()
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 4 {
			t.Fatalf("%s sees %d members", n.cfg.NodeID, len(ms))
		}
		waitFor(t, 5*time.Second, "client addresses on "+n.cfg.NodeID, func() bool {
			ms, _ := n.Members()
			for _, m := range ms {
				if m.ClientAddr != "client-"+m.ID+":6379" {
					return false
				}
			}
			return n.Status().LeaderClientAddr == "client-"+leader.cfg.NodeID+":6379"
		})
	}
	if st := n4.Status(); st.Suffrage != "voter" || st.Members != 4 || st.ClientAddr != "client-n4:6379" {
		t.Fatalf("n4 status %+v", st)
	}

	// Remove it, through a follower.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := followersOf(leader, nodes)[1].RemoveMember(ctx, "n4"); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		waitFor(t, 5*time.Second, "n4 gone on "+n.cfg.NodeID, func() bool {
			_, inConf := memberByID(t, n, "n4")
			_, hasMeta := n.FSM().Member("n4")
			return !inConf && !hasMeta
		})
	}
	if err := leader.RemoveMember(ctx, "n4"); !errors.Is(err, ErrNoSuchMember) {
		t.Fatalf("removing n4 twice: %v, want ErrNoSuchMember", err)
	}
	n4.Close()
	writeConcurrently(t, leader, 3, 5, "after")
	waitConverged(t, leader, nodes)
}

func TestTransferLeadershipUnderLoad(t *testing.T) {
	nodes, _ := clusterWithClients(t, 3, func(*Config) {})
	leader := waitLeader(t, nodes...)
	target := followersOf(leader, nodes)[0]

	w := startWriters(nodes, 3)
	w.waitAcked(t, 60)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	changes := target.Status().LeaderChanges
	// Asked on the other follower, which forwards it to the leader.
	if err := followersOf(leader, nodes)[1].TransferLeadership(ctx, target.cfg.NodeID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the target to lead", func() bool { return target.IsLeader() })
	// The observation reaches the counter asynchronously.
	waitFor(t, 10*time.Second, "the leader change counted", func() bool { return target.Status().LeaderChanges > changes })
	w.waitAcked(t, w.ackedCount()+60)
	w.stop()
	waitConverged(t, target, nodes)
	w.check(t, target)
	// "" picks any voter.
	if err := target.TransferLeadership(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "another leader", func() bool {
		l := waitLeader(t, nodes...)
		return l != target
	})
	if err := target.TransferLeadership(ctx, "nobody"); !errors.Is(err, ErrNoSuchMember) {
		t.Fatalf("transfer to an unknown node: %v", err)
	}
}

// A node that lost its data rejoins under its old ID: the leader removes
// the old entry, adds it again as a non-voter, and it catches up from a
// snapshot (the log it missed was compacted away).
func TestWipedNodeRejoinsFromSnapshot(t *testing.T) {
	nodes, cfgs := clusterWithClients(t, 3, func(c *Config) {
		c.TrailingLogs = 4
		c.SnapshotThreshold = 8
	})
	leader := waitLeader(t, nodes...)
	writeConcurrently(t, leader, 3, 10, "a")
	waitConverged(t, leader, nodes)
	victim := 0
	for i, n := range nodes {
		if n != leader {
			victim = i
			break
		}
	}
	oldInc := nodes[victim].Incarnation()
	waitFor(t, 5*time.Second, "the victim's metadata", func() bool {
		m, ok := leader.FSM().Member(cfgs[victim].NodeID)
		return ok && m.Incarnation == oldInc
	})
	if err := nodes[victim].Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(cfgs[victim].DataDir); err != nil {
		t.Fatal(err)
	}
	writeConcurrently(t, leader, 3, 20, "b")
	if err := leader.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}

	cfg := cfgs[victim]
	cfg.Peers = nil
	cfg.Join = []string{leader.RaftAddr()}
	nodes[victim] = openNode(t, cfg)
	if nodes[victim].Incarnation() == oldInc {
		t.Fatal("a wiped data dir kept its incarnation")
	}
	waitFor(t, 15*time.Second, "the wiped node to be a voter again", func() bool {
		m, ok := memberByID(t, leader, cfg.NodeID)
		meta, _ := leader.FSM().Member(cfg.NodeID)
		return ok && m.Suffrage == "voter" && meta.Incarnation == nodes[victim].Incarnation()
	})
	waitConverged(t, leader, nodes)
	if got := read(nodes[victim], 0, "XLEN", "b0"); got != ":20\r\n" {
		t.Fatalf("XLEN b0 on the rejoined node = %q", got)
	}
	if st := nodes[victim].Status(); st.LastSnapshotIndex == 0 {
		t.Fatalf("rejoined node did not install a snapshot: %+v", st)
	}
	write(t, nodes[victim], xadd("c", 1))
	waitConverged(t, leader, nodes)
}

// Restarted nodes keep their data and membership: no join, no bootstrap.
func TestRestartedJoinerKeepsItsData(t *testing.T) {
	leader, j, cfg := joinedVoter(t)
	write(t, j, xadd("s", 1))
	inc := j.Incarnation()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Join = []string{"127.0.0.1:1"} // ignored: the dir has state
	j = openNode(t, cfg)
	defer j.Close()
	if j.Incarnation() != inc {
		t.Fatal("incarnation changed across a restart")
	}
	if got := linearRead(t, j, "XLEN", "s"); got != ":1\r\n" {
		t.Fatalf("XLEN after restart = %q", got)
	}
	if m, _ := memberByID(t, leader, "j"); m.Suffrage != "voter" {
		t.Fatalf("j after restart: %+v", m)
	}
}
