package cluster

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/raftstream/raftstream/engine"
)

// kill stops n the hard way: Raft stops mid-flight and every connection
// is cut before anything is drained, as in a crash (the data dir stays).
func kill(t *testing.T, n *Node) {
	t.Helper()
	n.cfg.DrainTimeout = 200 * time.Millisecond
	_ = n.mux.Close()
	n.stream.closeAll()
	n.rpc.close()
	_ = n.raft.Shutdown().Error()
	_ = n.Close()
}

// Kill the leader while every node is writing (writes on followers are
// forwarded, and retried at the next leader when the kill cuts them off):
// on the survivors every acknowledged write is present exactly once, and
// their states are identical.
func TestKillLeaderDuringWrites(t *testing.T) {
	nodes, _ := clusterWithClients(t, 3, func(c *Config) {
		c.ClusterSecret = "s3cret"
		c.LeaderWait = 10 * time.Second
	})
	leader := waitLeader(t, nodes...)
	w := startWriters(nodes, 4)
	w.waitAcked(t, 150)
	kill(t, leader)
	survivors := followersOf(leader, nodes)
	leader2 := waitLeader(t, survivors...)
	w.waitAcked(t, w.ackedCount()+150)
	w.stop()
	waitConverged(t, leader2, survivors)
	w.check(t, leader2)
	d1, err := survivors[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d2, _ := survivors[1].Digest(); d1 != d2 || d1 == "" {
		t.Fatalf("digests %q and %q", d1, d2)
	}
}

// A new leader whose clock is an hour behind keeps stream IDs increasing:
// the state machine's clock never goes back (max of entry and state
// clock), so XADD * keeps counting from the last ID.
func TestClockOffsetBackwardsKeepsIDsMonotonic(t *testing.T) {
	nodes, _ := clusterWithClients(t, 3, func(c *Config) {
		if c.NodeID == "n3" {
			c.ClockOffset = -time.Hour
		}
	})
	leader := waitLeader(t, nodes...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slow := nodes[2]
	if leader == slow {
		if err := slow.TransferLeadership(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "n1 to lead", func() bool { return nodes[0].IsLeader() })
	}
	before, ok := bulkID(write(t, nodes[1], xadd("ids", 0)))
	if !ok {
		t.Fatal("no ID")
	}
	if err := nodes[0].TransferLeadership(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the slow node to lead", func() bool { return slow.IsLeader() })
	if now := slow.now(); now > time.Now().Add(-59*time.Minute).UnixMilli() {
		t.Fatalf("slow leader's clock %d is not offset", now)
	}
	prev := before
	for i, n := range nodes {
		id, ok := bulkID(write(t, n, xadd("ids", i+1)))
		if !ok || !prev.Less(id) {
			t.Fatalf("ID %v after %v, written through %s on the slow leader", id, prev, n.cfg.NodeID)
		}
		if id.Ms < before.Ms {
			t.Fatalf("ID %v went back in time from %v", id, before)
		}
		prev = id
	}
	var clock int64
	slow.FSM().Read(func(st *engine.State) { clock = st.Clock() })
	if clock < int64(before.Ms) {
		t.Fatalf("state clock %d behind %d", clock, before.Ms)
	}
	waitConverged(t, slow, nodes)
}

// Three nodes started at once with --bootstrap-expect 3 and a (fake)
// resolver form exactly one cluster; a fourth started later with the same
// settings finds it and joins.
func TestBootstrapExpect(t *testing.T) {
	const size = 4
	lns := loopbackListeners(t, size)
	var mu sync.Mutex
	visible := 3 // the fourth appears in "DNS" later
	discover := func(context.Context) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, ln := range lns[:visible] {
			out = append(out, ln.Addr().String())
		}
		return out, nil
	}
	cfgFor := func(i int) Config {
		cfg := testConfig(t, "node"+strconv.Itoa(i), t.TempDir())
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
		cfg.RaftAddr, cfg.Listener = "", lns[i]
		cfg.BootstrapExpect = 3
		cfg.Discover = discover
		cfg.ClientAddr = "c" + strconv.Itoa(i)
		cfg.PromoteInterval = 50 * time.Millisecond
		return cfg
	}
	nodes := make([]*Node, 3)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := Open(cfgFor(i))
			if err != nil {
				t.Error(err)
				return
			}
			nodes[i] = n
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, n := range nodes {
			if n != nil {
				n.Close()
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	leader := waitLeader(t, nodes...)
	for _, n := range nodes {
		waitFor(t, 10*time.Second, "three voters on "+n.cfg.NodeID, func() bool {
			ms, err := n.Members()
			if err != nil || len(ms) != 3 {
				return false
			}
			for _, m := range ms {
				if m.Suffrage != "voter" {
					return false
				}
			}
			_, id := n.raft.LeaderWithID()
			return string(id) == leader.cfg.NodeID
		})
	}
	write(t, nodes[0], xadd("s", 1))

	mu.Lock()
	visible = 4
	mu.Unlock()
	n4 := openNode(t, cfgFor(3))
	nodes = append(nodes, n4)
	waitFor(t, 15*time.Second, "the late node to become a voter", func() bool {
		m, ok := memberByID(t, leader, "node3")
		return ok && m.Suffrage == "voter"
	})
	waitConverged(t, leader, nodes)
	if got := read(n4, 0, "XLEN", "s"); got != ":1\r\n" {
		t.Fatalf("XLEN on the late node = %q", got)
	}
	// One cluster: the same term and leader everywhere.
	for _, n := range nodes {
		if st := n.Status(); st.LeaderID != leader.cfg.NodeID || st.Members != 4 {
			t.Fatalf("%s status %+v", n.cfg.NodeID, st)
		}
	}
}

type fakeResolver struct {
	srv   []*net.SRV
	hosts []string
}

func (r fakeResolver) LookupSRV(context.Context, string, string, string) (string, []*net.SRV, error) {
	if len(r.srv) == 0 {
		return "", nil, &net.DNSError{Err: "no such host", IsNotFound: true}
	}
	return "", r.srv, nil
}

func (r fakeResolver) LookupHost(context.Context, string) ([]string, error) { return r.hosts, nil }

func TestDNSDiscovery(t *testing.T) {
	ctx := context.Background()
	got, err := DNSDiscovery("rs.ns.svc", "7379", fakeResolver{hosts: []string{"10.0.0.1", "fd00::2"}})(ctx)
	if err != nil || !slices.Equal(got, []string{"10.0.0.1:7379", "[fd00::2]:7379"}) {
		t.Fatalf("A records: %q, %v", got, err)
	}
	got, err = DNSDiscovery("rs.ns.svc", "7379", fakeResolver{
		srv:   []*net.SRV{{Target: "rs-0.rs.ns.svc.", Port: 7000}, {Target: "rs-1.rs.ns.svc.", Port: 7001}},
		hosts: []string{"ignored"},
	})(ctx)
	if err != nil || !slices.Equal(got, []string{"rs-0.rs.ns.svc:7000", "rs-1.rs.ns.svc:7001"}) {
		t.Fatalf("SRV records: %q, %v", got, err)
	}
}
