package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// blockedPair is one XREADGROUP BLOCK 0 and one XREAD BLOCK 0 client,
// both blocked on one node.
type blockedPair struct {
	node     *c3node
	consumer string
	group    chan blockedResult
	read     chan blockedResult
	clients  []*redis.Client
}

type blockedResult struct {
	ids []string
	err error
}

func streamIDs(res []redis.XStream) []string {
	var ids []string
	for _, s := range res {
		for _, m := range s.Messages {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// blockOn starts the two blocking reads on node n and waits until the
// node counts both as blocked, so a failover cannot race their arrival.
// from is the XREAD start ID: the last ID before the writes to come.
func blockOn(t *testing.T, n *c3node, consumer, from string) *blockedPair {
	t.Helper()
	p := &blockedPair{node: n, consumer: consumer, group: make(chan blockedResult, 1), read: make(chan blockedResult, 1)}
	before := infoField(n.Addr, "clients", "blocked_clients")
	for i := 0; i < 2; i++ {
		c := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, ReadTimeout: -1, PoolSize: 1})
		p.clients = append(p.clients, c)
	}
	go func() {
		res, err := p.clients[0].XReadGroup(context.Background(), &redis.XReadGroupArgs{
			Group: "g", Consumer: consumer, Streams: []string{"q", ">"}, Count: 1, Block: 0,
		}).Result()
		p.group <- blockedResult{streamIDs(res), err}
	}()
	go func() {
		res, err := p.clients[1].XRead(context.Background(), &redis.XReadArgs{Streams: []string{"q", from}, Count: 1, Block: 0}).Result()
		p.read <- blockedResult{streamIDs(res), err}
	}()
	waitFor(t, 30*time.Second, "two clients blocked on "+n.id, func() bool {
		return infoField(n.Addr, "clients", "blocked_clients") == fmt.Sprint(atoi(before)+2)
	})
	return p
}

func (p *blockedPair) close() {
	for _, c := range p.clients {
		_ = c.Close()
	}
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscan(s, &n)
	return n
}

// infoField returns one field of INFO section on addr ("" if unknown).
func infoField(addr, section, field string) string {
	for _, line := range strings.Split(do(addr, "INFO", section), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return v
		}
	}
	return ""
}

// xaddRetry adds one entry through addr, retrying while the cluster has
// no leader (TRYAGAIN: certainly not applied).
func xaddRetry(t *testing.T, addr string, val string) string {
	t.Helper()
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		last = do(addr, "XADD", "q", "*", "v", val)
		if strings.HasPrefix(last, "$") {
			return strings.Split(last, "\r\n")[1]
		}
		if !strings.HasPrefix(last, "-TRYAGAIN") && last != "" {
			break
		}
		time.Sleep(100 * time.Millisecond) // retry pacing while an election runs
	}
	t.Fatalf("XADD through %s: %q", addr, last)
	return ""
}

// TestBlockedReadsAcrossFailover: clients blocked in XREADGROUP and XREAD
// on every node are served after leadership moves (RAFT TRANSFER, then
// kill -9 of the leader), wherever they are blocked; clients of the
// killed node get an error instead of hanging; every delivery is in the
// group's PEL under the consumer that received it.
func TestBlockedReadsAcrossFailover(t *testing.T) {
	nodes := startCluster3(t, 3)
	leader := waitNewLeader(t, nodes)
	if r := do(leader.Addr, "XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"); r != "+OK\r\n" {
		t.Fatalf("XGROUP CREATE: %q", r)
	}
	waitConverged(t, nodes)

	// addEach adds one entry per blocked XREADGROUP client, so each gets
	// one (COUNT 1), and returns the first ID, which every XREAD gets.
	addEach := func(t *testing.T, addr, prefix string, n int) (first string) {
		for i := 0; i < n; i++ {
			if id := xaddRetry(t, addr, fmt.Sprint(prefix, i)); i == 0 {
				first = id
			}
		}
		return first
	}
	delivered := map[string]string{} // entry ID -> consumer
	collect := func(t *testing.T, pairs []*blockedPair, want string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for _, p := range pairs {
			for _, ch := range []chan blockedResult{p.group, p.read} {
				select {
				case r := <-ch:
					if r.err != nil || len(r.ids) != 1 {
						t.Fatalf("blocked read on %s: %v %v", p.node.id, r.ids, r.err)
					}
					if ch == p.read && r.ids[0] != want {
						t.Errorf("XREAD on %s got %s, want the first new entry %s", p.node.id, r.ids[0], want)
					}
					if ch == p.group {
						if c, dup := delivered[r.ids[0]]; dup {
							t.Errorf("entry %s delivered to %s and %s", r.ids[0], c, p.consumer)
						}
						delivered[r.ids[0]] = p.consumer
					}
				case <-timeout:
					t.Fatalf("a client blocked on %s was not served after the leader change", p.node.id)
				}
			}
		}
	}

	// Leadership moves away from a live leader: its blocked clients are
	// now on a follower and must still be served.
	t.Run("transfer", func(t *testing.T) {
		var pairs []*blockedPair
		for _, n := range nodes {
			p := blockOn(t, n, "t-"+n.id, "$")
			defer p.close()
			pairs = append(pairs, p)
		}
		if r := do(leader.Addr, "RAFT", "TRANSFER"); r != "+OK\r\n" {
			t.Fatalf("RAFT TRANSFER: %q", r)
		}
		old := leader
		waitFor(t, time.Minute, "a new leader", func() bool {
			l := raftInfo(old.Addr)["raft_leader_id"]
			return l != "" && l != old.id
		})
		leader = waitNewLeader(t, nodes)
		collect(t, pairs, addEach(t, old.Addr, "t", len(pairs)))
	})
	if t.Failed() {
		return
	}

	// The leader dies: clients blocked on the survivors are served by
	// the new leader's log; those on the dead node see their connection
	// fail rather than hang.
	t.Run("kill", func(t *testing.T) {
		var pairs []*blockedPair
		var dead *blockedPair
		for _, n := range nodes {
			p := blockOn(t, n, "k-"+n.id, "$")
			defer p.close()
			if n == leader {
				dead = p
			} else {
				pairs = append(pairs, p)
			}
		}
		leader.Kill()
		leader = waitNewLeader(t, nodes)
		for _, ch := range []chan blockedResult{dead.group, dead.read} {
			select {
			case r := <-ch:
				if r.err == nil {
					t.Errorf("a client blocked on the killed node got %v, want a connection error", r.ids)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("a client blocked on the killed node still hangs")
			}
		}
		collect(t, pairs, addEach(t, leader.Addr, "k", len(pairs)))
	})
	if t.Failed() {
		return
	}

	// Every delivery is pending under its consumer, on every survivor.
	survivors := alive(nodes)
	waitConverged(t, survivors)
	for _, n := range survivors {
		c := redis.NewClient(&redis.Options{Addr: n.Addr})
		pend, err := c.XPendingExt(context.Background(), &redis.XPendingExtArgs{Stream: "q", Group: "g", Start: "-", End: "+", Count: 100}).Result()
		_ = c.Close()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("XPENDING on %s: %v", n.id, err)
		}
		got := map[string]string{}
		for _, p := range pend {
			got[p.ID] = p.Consumer
		}
		if fmt.Sprint(got) != fmt.Sprint(delivered) {
			t.Errorf("XPENDING on %s: %v, want what the clients received: %v", n.id, got, delivered)
		}
	}
}
