package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clusterPlan is the layout of an n-node test cluster founded with
// --peers: nodes n1..nN on free loopback ports.
type clusterPlan struct {
	bin       string
	addrs     []string // client addresses
	raftAddrs []string
	peers     string // the --peers value
}

func planCluster(t *testing.T, n int) clusterPlan {
	t.Helper()
	if targetIsRedis() {
		t.Skip("raftstream clusters only")
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	pl := clusterPlan{bin: raftstreamBinary(t)}
	var peers []string
	for i := 0; i < n; i++ {
		pl.addrs = append(pl.addrs, addr(ports[i]))
		pl.raftAddrs = append(pl.raftAddrs, addr(ports[n+i]))
		peers = append(peers, fmt.Sprintf("n%d=%s", i+1, pl.raftAddrs[i]))
	}
	pl.peers = strings.Join(peers, ",")
	return pl
}

// StartCluster starts n raftstream nodes founding one cluster (--peers)
// and returns them once each answers PING; use waitLeader to find the
// leader.
func StartCluster(t *testing.T, n int) []*Proc {
	t.Helper()
	pl := planCluster(t, n)
	nodes := make([]*Proc, n)
	for i := range nodes {
		id := fmt.Sprintf("n%d", i+1)
		p := newProc(t, "raftstream", pl.bin, func(p *Proc) []string {
			return []string{
				"--node-id", id,
				"--data-dir", p.Dir,
				"--listen", p.Addr,
				"--raft-listen", p.RaftAddr,
				"--peers", pl.peers,
			}
		})
		p.Name = "raftstream-" + id
		p.Addr, p.RaftAddr = pl.addrs[i], pl.raftAddrs[i]
		p.pingOnly = true
		nodes[i] = p
	}
	for _, p := range nodes {
		p.Start()
	}
	return nodes
}

// raftInfo returns the fields of INFO raft, or nil if addr does not answer.
func raftInfo(addr string) map[string]string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	rc := newRawConn(c)
	rc.timeout = 2 * time.Second
	b, err := rc.Do("INFO", "raft")
	if err != nil || len(b) == 0 || b[0] != '$' {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

func infoUint(info map[string]string, key string) uint64 {
	n, _ := strconv.ParseUint(info[key], 10, 64)
	return n
}

// waitLeader waits until exactly one running node reports itself leader
// and serves a leader-backed read, and returns it.
func waitLeader(t *testing.T, nodes []*Proc) *Proc {
	t.Helper()
	var leader *Proc
	waitFor(t, time.Minute, "a single leader serving reads", func() bool {
		leader = nil
		for _, p := range nodes {
			if !p.Alive() {
				continue
			}
			if info := raftInfo(p.Addr); info["raft_state"] == "leader" {
				if leader != nil {
					return false // two claim leadership: an election is settling
				}
				leader = p
			}
		}
		return leader != nil && probe(leader.Addr, false) == nil
	})
	t.Logf("leader is %s", leader.Name)
	return leader
}

// waitCaughtUp waits until p has applied everything the leader committed.
func waitCaughtUp(t *testing.T, p, leader *Proc) {
	t.Helper()
	target := infoUint(raftInfo(leader.Addr), "raft_commit_index")
	waitFor(t, time.Minute, p.Name+" to catch up to index "+strconv.FormatUint(target, 10), func() bool {
		return infoUint(raftInfo(p.Addr), "raft_applied_index") >= target
	})
}

// TestClusterFailover runs a three-node cluster, kills the leader under a
// concurrent XADD load twice (the second time possibly the node that was
// restarted and caught up), and checks after each election that the new
// leader holds every acknowledged entry.
func TestClusterFailover(t *testing.T) {
	nodes := StartCluster(t, 3)
	leader := waitLeader(t, nodes)

	// A follower does not apply writes itself: it either refuses them
	// with TRYAGAIN (not applied) or, once forwarding exists, forwards
	// them to the leader.
	for _, f := range nodes {
		if f == leader {
			continue
		}
		rc := dialRaw(t, f.Addr)
		got := rc.MustDo(t, "XADD", "via-follower", "1-1", "f", "v")
		switch {
		case strings.HasPrefix(string(got), "-TRYAGAIN "):
		case string(got) == "$3\r\n1-1\r\n":
			lc := dialRaw(t, leader.Addr)
			if n := lc.MustDo(t, "XLEN", "via-follower"); string(n) != ":1\r\n" {
				t.Fatalf("write forwarded by %s not on the leader: XLEN %s", f.Name, showResp(n))
			}
		default:
			t.Fatalf("XADD on follower %s: %s", f.Name, showResp(got))
		}
		break
	}

	g := &loadGen{clients: 16, streams: 4, maxPerCl: 50_000}
	for round := 0; round < 2; round++ {
		stopUnderLoad(t, leader, g, syscall.SIGKILL, round, false)
		old := leader
		leader = waitLeader(t, nodes)
		g.verify(t, leader.Addr)
		if t.Failed() {
			return
		}
		old.Start()
		waitCaughtUp(t, old, leader)
	}

	// Every node, restarted from its own data dir, holds the same log.
	for _, p := range nodes {
		if err := p.Stop(syscall.SIGTERM); err != nil {
			t.Fatalf("stopping %s: %v", p.Name, err)
		}
	}
	for _, p := range nodes {
		p.Start()
	}
	leader = waitLeader(t, nodes)
	g.verify(t, leader.Addr)
	for _, p := range nodes {
		waitCaughtUp(t, p, leader)
	}
}
