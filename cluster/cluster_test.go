package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startCluster starts founding members n1..nN over loopback TCP.
func startCluster(t *testing.T, size int) []*Node {
	nodes, _ := startClusterConfigs(t, size, func(*Config) {})
	return nodes
}

// startClusterConfigs is startCluster with a config hook; it also returns
// the configs (without listeners) for restarting nodes on their addresses.
func startClusterConfigs(t *testing.T, size int, tune func(*Config)) ([]*Node, []Config) {
	t.Helper()
	lns := loopbackListeners(t, size)
	var peers []Peer
	for i, ln := range lns {
		peers = append(peers, Peer{ID: "n" + strconv.Itoa(i+1), Addr: ln.Addr().String()})
	}
	nodes := make([]*Node, size)
	cfgs := make([]Config, size)
	for i := range nodes {
		cfg := testConfig(t, peers[i].ID, t.TempDir())
		// Slower than the single-node tests: three nodes under -race on a
		// shared machine must not flap.
		cfg.HeartbeatTimeout = 500 * time.Millisecond
		cfg.ElectionTimeout = 500 * time.Millisecond
		cfg.LeaderLeaseTimeout = 500 * time.Millisecond
		cfg.RaftAddr = ""
		cfg.Listener = lns[i]
		cfg.Peers = peers
		tune(&cfg)
		nodes[i] = openNode(t, cfg)
		cfg.Listener = nil
		cfg.RaftAddr = peers[i].Addr
		cfgs[i] = cfg
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			_ = n.Close()
		}
	})
	return nodes, cfgs
}

// waitConverged waits until every node has applied the same log prefix
// as the leader (background entries such as member metadata may still
// arrive, so it retries) and checks that their states are identical.
func waitConverged(t *testing.T, leader *Node, nodes []*Node) {
	t.Helper()
	var why string
	defer func() {
		if t.Failed() {
			t.Log("last difference:", why)
		}
	}()
	waitFor(t, 15*time.Second, "all nodes to converge", func() bool {
		want := leader.FSM().AppliedIndex()
		for _, n := range nodes {
			if got := n.FSM().AppliedIndex(); got != want {
				why = fmt.Sprintf("%s applied %d, leader %s %d", n.cfg.NodeID, got, leader.cfg.NodeID, want)
				return false
			}
		}
		ref := digest(t, leader)
		for _, n := range nodes {
			if got := digest(t, n); !bytes.Equal(got, ref) {
				why = fmt.Sprintf("%s state differs from leader %s (%d vs %d bytes)", n.cfg.NodeID, leader.cfg.NodeID, len(got), len(ref))
				return false
			}
		}
		return true
	})
}

func writeConcurrently(t *testing.T, n *Node, writers, perWriter int, prefix string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i := 0; i < perWriter; i++ {
				if _, err := n.Propose(xadd(prefix+strconv.Itoa(w%3), i)).Wait(ctx); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestThreeNodeReplication(t *testing.T) {
	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes...)
	followers := others(nodes, leader)

	writeConcurrently(t, leader, 12, 25, "a")
	if got := linearRead(t, leader, "XLEN", "a0"); got != ":100\r\n" {
		t.Fatalf("XLEN a0 on leader = %q", got)
	}
	waitConverged(t, leader, nodes)
	for _, f := range followers {
		if got := read(f, 0, "XLEN", "a0"); got != ":100\r\n" {
			t.Fatalf("XLEN a0 on %s = %q", f.cfg.NodeID, got)
		}
		if st := f.Status(); st.State != "follower" || st.LeaderID != leader.cfg.NodeID {
			t.Fatalf("follower status %+v", st)
		}
	}
	// The leader's status polls report each follower's applied index.
	waitFor(t, 10*time.Second, "the leader to see both followers at its applied index", func() bool {
		ms, err := leader.Members()
		if err != nil {
			return false
		}
		caught := 0
		for _, m := range ms {
			if !m.Self && m.Applied == leader.Status().AppliedIndex && time.Since(m.LastContact) < 5*time.Second {
				caught++
			}
		}
		return caught == 2
	})

	// Raft snapshots on every node hold the same state.
	for _, n := range nodes {
		if err := n.Snapshot(context.Background()); err != nil {
			t.Fatalf("Snapshot on %s: %v", n.cfg.NodeID, err)
		}
	}

	// Fail the leader over; the survivors keep a quorum and converge again.
	if err := leader.Close(); err != nil {
		t.Fatal(err)
	}
	leader2 := waitLeader(t, followers...)
	writeConcurrently(t, leader2, 6, 10, "b")
	if got := linearRead(t, leader2, "XLEN", "a1"); got != ":100\r\n" {
		t.Fatalf("XLEN a1 after failover = %q", got)
	}
	waitConverged(t, leader2, followers)
}

// A follower that missed more than the trailing log catches up through
// InstallSnapshot, i.e. the FSM's Restore on a live cluster.
func TestFollowerCatchesUpFromSnapshot(t *testing.T) {
	nodes, cfgs := startClusterConfigs(t, 3, func(c *Config) {
		c.TrailingLogs = 2
		c.SnapshotThreshold = 8
	})
	leader := waitLeader(t, nodes...)
	writeConcurrently(t, leader, 3, 5, "a")
	waitConverged(t, leader, nodes)

	lag := 0
	for i, n := range nodes {
		if n != leader {
			lag = i
			break
		}
	}
	if err := nodes[lag].Close(); err != nil {
		t.Fatal(err)
	}
	writeConcurrently(t, leader, 3, 20, "b")
	if err := leader.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	first, err := leader.store.log.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	if st := nodes[lag].Status(); first <= st.LastLogIndex+1 {
		t.Fatalf("leader log starts at %d, lagging follower has up to %d: no snapshot needed", first, st.LastLogIndex)
	}

	nodes[lag] = openNode(t, cfgs[lag])
	waitConverged(t, leader, nodes)
	if got := read(nodes[lag], 0, "XLEN", "b0"); got != ":20\r\n" {
		t.Fatalf("XLEN b0 on restarted follower = %q", got)
	}
	// Raft records the installed snapshot just after the FSM restored it.
	waitFor(t, 10*time.Second, "the follower to record the installed snapshot", func() bool {
		return nodes[lag].Status().LastSnapshotIndex >= first-1
	})
}

// Leadership moves while every node takes writes: commands caught by a
// transfer (a placeholder entry raft refuses, a batch in flight when
// leadership goes) fail with ErrNotLeader or ErrUnknownOutcome instead of
// hanging, every acknowledged write is on every node, and the proposers
// keep working afterwards.
func TestTransfersUnderLoad(t *testing.T) {
	nodes := startCluster(t, 3)
	waitLeader(t, nodes...)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			n := nodes[w%len(nodes)]
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				reply, err := n.Propose(xadd("t", w*1_000_000+i)).Wait(ctx)
				cancel()
				switch {
				case err == nil:
					id, ok := bulkID(reply.RESP)
					if !ok {
						t.Errorf("XADD reply %q", reply.RESP)
						return
					}
					mu.Lock()
					acked[id.String()] = true
					mu.Unlock()
				case errors.Is(err, ErrNotLeader), errors.Is(err, ErrUnknownOutcome):
				default:
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}(w)
	}

	for i := 0; i < 4; i++ {
		ackedBefore := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }()
		waitFor(t, 20*time.Second, "writes between transfers", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= ackedBefore+50
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := nodes[i%len(nodes)].TransferLeadership(ctx, ""); err != nil {
			t.Logf("transfer %d: %v", i, err) // e.g. a transfer already running
		}
		cancel()
		t.Logf("leader after transfer %d: %s", i, waitLeader(t, nodes...).cfg.NodeID)
	}
	close(stop)
	wg.Wait()

	leader := waitLeader(t, nodes...)
	write(t, leader, xadd("after", 0))
	waitConverged(t, leader, nodes)
	got := read(leader, 0, "XRANGE", "t", "-", "+")
	mu.Lock()
	defer mu.Unlock()
	for id := range acked {
		if !strings.Contains(got, fmt.Sprintf("$%d\r\n%s\r\n", len(id), id)) {
			t.Fatalf("acknowledged XADD %s missing after the transfers", id)
		}
	}
	t.Logf("%d acknowledged writes survived 4 leadership transfers", len(acked))
}
