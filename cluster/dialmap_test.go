package cluster

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// relay forwards every connection accepted on its listener to target and
// counts them, so a test can see which links a node dialed.
type relay struct {
	ln       net.Listener
	target   string
	accepted atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(r.close)
	return r
}

func (r *relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", r.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		r.accepted.Add(1)
		r.mu.Lock()
		r.conns = append(r.conns, c, up)
		r.mu.Unlock()
		for _, p := range [][2]net.Conn{{c, up}, {up, c}} {
			r.wg.Add(1)
			go func(dst, src net.Conn) {
				defer r.wg.Done()
				_, _ = io.Copy(dst, src)
				_ = dst.Close()
				_ = src.Close()
			}(p[0], p[1])
		}
	}
}

// close cuts the link: no new connections, existing ones closed.
func (r *relay) close() {
	_ = r.ln.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// TestDialMapRoutesEveryPeerLink: with DialMap, Raft replication and the
// forwarding RPC both dial through the mapped address (the fault harness's
// proxies rely on it), while the Raft configuration keeps the real
// addresses.
func TestDialMapRoutesEveryPeerLink(t *testing.T) {
	const size = 3
	lns := loopbackListeners(t, size)
	var peers []Peer
	for i, ln := range lns {
		peers = append(peers, Peer{ID: "n" + strconv.Itoa(i+1), Addr: ln.Addr().String()})
	}
	// relays[i][j] carries connections node i opens to node j.
	relays := make([][]*relay, size)
	nodes := make([]*Node, size)
	for i := range nodes {
		relays[i] = make([]*relay, size)
		via := map[string]string{}
		for j := range peers {
			if j != i {
				relays[i][j] = newRelay(t, peers[j].Addr)
				via[peers[j].Addr] = relays[i][j].ln.Addr().String()
			}
		}
		cfg := testConfig(t, peers[i].ID, t.TempDir())
		cfg.HeartbeatTimeout = 500 * time.Millisecond
		cfg.ElectionTimeout = 500 * time.Millisecond
		cfg.LeaderLeaseTimeout = 500 * time.Millisecond
		cfg.LeaderWait = time.Second
		cfg.ForwardTimeout = 2 * time.Second
		cfg.RaftAddr = ""
		cfg.Listener = lns[i]
		cfg.Peers = peers
		cfg.DialMap = via
		nodes[i] = openNode(t, cfg)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			_ = n.Close()
		}
	})
	leader := waitLeader(t, nodes...)
	li, fi := -1, -1
	for i, n := range nodes {
		if n == leader {
			li = i
		} else if fi < 0 {
			fi = i
		}
	}
	f := nodes[fi]
	write(t, f, xadd("s", 1)) // forwarded to the leader
	waitFor(t, 10*time.Second, "the follower to apply its write", func() bool { return read(f, 0, "XLEN", "s") == ":1\r\n" })
	if relays[fi][li].accepted.Load() == 0 {
		t.Errorf("the forwarded write did not go through the mapped address n%d->n%d", fi+1, li+1)
	}
	for j := range nodes {
		if j != li && relays[li][j].accepted.Load() == 0 {
			t.Errorf("replication n%d->n%d did not go through the mapped address", li+1, j+1)
		}
	}
	ms, err := leader.Members()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, p := range peers {
			if m.ID == p.ID && m.RaftAddr != p.Addr {
				t.Errorf("member %s advertised as %s, want its real address %s", m.ID, m.RaftAddr, p.Addr)
			}
		}
	}

	// Cutting the follower's mapped link to the leader cuts its forwarding,
	// although the direct address still works; the leader's link to the
	// follower is untouched, so replication continues.
	relays[fi][li].close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := f.Propose(xadd("s", 2)).Wait(ctx); err == nil {
		t.Error("a forwarded write succeeded with the follower's mapped link to the leader cut")
	}
	write(t, leader, xadd("s", 3))
	waitFor(t, 10*time.Second, "replication to the follower", func() bool { return read(f, 0, "XLEN", "s") != ":1\r\n" })
}
