package server

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func xrgBlock(c *redis.Client, key, consumer string, block time.Duration) <-chan result[[]redis.XStream] {
	return goRun(func() ([]redis.XStream, error) {
		return c.XReadGroup(context.Background(), &redis.XReadGroupArgs{
			Group: "g", Consumer: consumer, Streams: []string{key, ">"}, Count: 10, Block: block,
		}).Result()
	})
}

func TestBlockingXReadGroupFIFO(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	ctx := context.Background()
	admin := newGoRedis(t, s, &redis.Options{})
	if err := admin.XGroupCreateMkStream(ctx, "q", "g", "$").Err(); err != nil {
		t.Fatal(err)
	}
	c1 := newGoRedis(t, s, &redis.Options{})
	c2 := newGoRedis(t, s, &redis.Options{})
	r1 := xrgBlock(c1, "q", "first", 0)
	waitBlocked(t, s, 1)
	r2 := xrgBlock(c2, "q", "second", 0)
	waitBlocked(t, s, 2)
	admin.XAdd(ctx, &redis.XAddArgs{Stream: "q", ID: "1-1", Values: []string{"job", "1"}})
	got1 := recv(t, r1)
	if got1.err != nil || len(got1.val) != 1 || got1.val[0].Messages[0].ID != "1-1" {
		t.Fatalf("first consumer got %v, %v", got1.val, got1.err)
	}
	select {
	case r := <-r2:
		t.Fatalf("second consumer served before its turn: %v %v", r.val, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	admin.XAdd(ctx, &redis.XAddArgs{Stream: "q", ID: "2-1", Values: []string{"job", "2"}})
	got2 := recv(t, r2)
	if got2.err != nil || len(got2.val) != 1 || got2.val[0].Messages[0].ID != "2-1" {
		t.Fatalf("second consumer got %v, %v", got2.val, got2.err)
	}
	pend, err := admin.XPending(ctx, "q", "g").Result()
	if err != nil || pend.Count != 2 || pend.Consumers["first"] != 1 || pend.Consumers["second"] != 1 {
		t.Fatalf("XPENDING = %+v, %v", pend, err)
	}
}

func TestBlockingXReadGroupErrors(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	ctx := context.Background()
	admin := newGoRedis(t, s, &redis.Options{})
	for _, tc := range []struct {
		name string
		kill func(key string) error
	}{
		{"group destroyed", func(key string) error { return admin.XGroupDestroy(ctx, key, "g").Err() }},
		{"key deleted", func(key string) error { return admin.Del(ctx, key).Err() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "-")
			if err := admin.XGroupCreateMkStream(ctx, key, "g", "$").Err(); err != nil {
				t.Fatal(err)
			}
			c := newGoRedis(t, s, &redis.Options{})
			c2 := newGoRedis(t, s, &redis.Options{})
			r := xrgBlock(c, key, "c", 0)
			waitBlocked(t, s, 1)
			r2 := xrgBlock(c2, key, "c2", 0)
			waitBlocked(t, s, 2)
			if err := tc.kill(key); err != nil {
				t.Fatal(err)
			}
			want := "NOGROUP No such key '" + key + "' or consumer group 'g' in XREADGROUP with GROUP option"
			for _, ch := range []<-chan result[[]redis.XStream]{r, r2} {
				got := recv(t, ch)
				if got.err == nil || got.err.Error() != want {
					t.Fatalf("blocked XREADGROUP = %v, %v; want %s", got.val, got.err, want)
				}
			}
		})
	}
}

func TestClientUnblock(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	ctx := context.Background()
	admin := newGoRedis(t, s, &redis.Options{})
	admin.XGroupCreateMkStream(ctx, "s", "g", "$")
	for _, tc := range []struct {
		reason string
		group  bool
	}{{"TIMEOUT", false}, {"ERROR", false}, {"TIMEOUT", true}, {"ERROR", true}} {
		t.Run(fmt.Sprintf("%s-group=%v", tc.reason, tc.group), func(t *testing.T) {
			c := newGoRedis(t, s, &redis.Options{PoolSize: 1})
			id, err := c.ClientID(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			var ch <-chan result[[]redis.XStream]
			if tc.group {
				ch = xrgBlock(c, "s", "c", 0)
			} else {
				ch = goRun(func() ([]redis.XStream, error) {
					return c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "$"}, Block: 0}).Result()
				})
			}
			waitBlocked(t, s, 1)
			n, err := admin.Do(ctx, "CLIENT", "UNBLOCK", id, tc.reason).Int()
			if err != nil || n != 1 {
				t.Fatalf("CLIENT UNBLOCK = %d, %v", n, err)
			}
			got := recv(t, ch)
			switch tc.reason {
			case "TIMEOUT":
				if got.err != redis.Nil {
					t.Fatalf("unblocked with TIMEOUT: %v, %v", got.val, got.err)
				}
			case "ERROR":
				if got.err == nil || got.err.Error() != "UNBLOCKED client unblocked via CLIENT UNBLOCK" {
					t.Fatalf("unblocked with ERROR: %v, %v", got.val, got.err)
				}
			}
			waitBlocked(t, s, 0)
			if n, err := admin.Do(ctx, "CLIENT", "UNBLOCK", id).Int(); err != nil || n != 0 {
				t.Fatalf("CLIENT UNBLOCK of an unblocked client = %d, %v", n, err)
			}
		})
	}
	raw := dialRaw(t, s)
	raw.expect("-ERR value is not an integer or out of range\r\n", "CLIENT", "UNBLOCK", "x")
	raw.expect("-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n", "CLIENT", "UNBLOCK", "1", "foo")
}

// TestBlockedDisconnect checks that a client that goes away while blocked
// is released at once and leaves no goroutine behind.
func TestBlockedDisconnect(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c0 := dialRaw(t, s)
	c0.do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	c0.expect("+PONG\r\n", "PING")
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		c := dialRaw(t, s)
		if i%2 == 0 {
			c.send(encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
		} else {
			c.send(encode("XREADGROUP", "GROUP", "g", fmt.Sprint("c", i), "BLOCK", "0", "STREAMS", "s", ">"))
		}
		waitBlocked(t, s, 1)
		_ = c.c.Close()
		waitBlocked(t, s, 0)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), bytes.TrimSpace(buf[:n]))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.clients.count(); got != 1 {
		t.Errorf("%d clients connected, want 1", got)
	}
}

// TestBlockedIdle parks many blocked clients and checks that, once the
// consumers exist, nothing is proposed while they wait.
func TestBlockedIdle(t *testing.T) {
	node := startNode(t)
	s := startServer(t, Config{}, node)
	c0 := dialRaw(t, s)
	c0.do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	const n = 1000
	for i := 0; i < n; i++ {
		c := dialRaw(t, s)
		if i%2 == 0 {
			c.send(encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
		} else {
			c.send(encode("XREADGROUP", "GROUP", "g", fmt.Sprint("c", i), "BLOCK", "0", "STREAMS", "s", ">"))
		}
	}
	waitBlocked(t, s, n)
	// Every blocked XREADGROUP proposed once, to create its consumer.
	waitFor(t, 20*time.Second, "consumers created", func() bool {
		return strings.Contains(c0.do("XINFO", "GROUPS", "s"), fmt.Sprintf("$9\r\nconsumers\r\n:%d\r\n", n/2))
	})
	waitFor(t, 10*time.Second, "applied catches up", func() bool {
		st := node.Status()
		return st.AppliedIndex == st.CommitIndex
	})
	idx := node.Status().CommitIndex
	time.Sleep(500 * time.Millisecond) // measuring idleness: nothing to wait for
	if got := node.Status().CommitIndex; got != idx {
		t.Errorf("commit index moved from %d to %d while clients idled", idx, got)
	}
	// One XADD wakes them: every XREAD and one XREADGROUP are served.
	c0.do("XADD", "s", "1-1", "f", "v")
	waitBlocked(t, s, n/2-1)
}

// TestBlockingClaimWakesAtDeadline checks that XREADGROUP CLAIM with BLOCK
// wakes when a pending entry becomes claimable, without any new signal.
func TestBlockingClaimWakesAtDeadline(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	c.do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	c.do("XADD", "s", "1-1", "f", "v")
	if got := c.do("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"); !strings.Contains(got, "1-1") {
		t.Fatalf("first read = %q", got)
	}
	start := time.Now()
	got := c.do("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "300", "BLOCK", "5000", "STREAMS", "s", ">")
	if !strings.Contains(got, "1-1") {
		t.Fatalf("blocked CLAIM read = %q", got)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Errorf("claimed after %v, want about 300ms", d)
	}
}

// On the leader, a blocked XREADGROUP rides in the entry of the XADD that
// serves it (waiters.go, Ride): one entry for both, where the client
// proposing its read once woken would take a second one. A ride that
// finds nothing (here because the XADD failed) leaves the client waiting;
// XREADGROUP CLAIM never rides.
func TestBlockedXReadGroupRides(t *testing.T) {
	node := startNode(t)
	s := startServer(t, Config{}, node)
	ctx := context.Background()
	admin := newGoRedis(t, s, &redis.Options{})
	if err := admin.XGroupCreateMkStream(ctx, "q", "g", "$").Err(); err != nil {
		t.Fatal(err)
	}
	rides := func() string {
		info := admin.Info(ctx, "stats").Val()
		_, v, _ := strings.Cut(info, "blocked_xreadgroup_rides:")
		v, _, _ = strings.Cut(v, "\r\n")
		return v
	}
	c := newGoRedis(t, s, &redis.Options{})
	r := xrgBlock(c, "q", "c", 0)
	waitBlocked(t, s, 1)
	if err := admin.XAdd(ctx, &redis.XAddArgs{Stream: "q", ID: "5-1", Values: []string{"job", "1"}}).Err(); err != nil {
		t.Fatal(err)
	}
	got := recv(t, r)
	if got.err != nil || len(got.val) != 1 || got.val[0].Messages[0].ID != "5-1" {
		t.Fatalf("consumer got %v, %v", got.val, got.err)
	}
	if v := rides(); v != "1" {
		t.Fatalf("blocked_xreadgroup_rides:%s after one ride", v)
	}

	r = xrgBlock(c, "q", "c", 0)
	waitBlocked(t, s, 1)
	err := admin.XAdd(ctx, &redis.XAddArgs{Stream: "q", ID: "1-1", Values: []string{"job", "stale"}}).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "ERR The ID specified in XADD is equal or smaller") {
		t.Fatalf("XADD of a stale ID: %v", err)
	}
	// The failed XADD's entry, with the ride, is applied once a read
	// barrier returns; the client is still blocked, and waiting again
	// once its goroutine has taken the ride's empty answer (until then
	// an XADD would wake it rather than take it along).
	if err := node.ReadBarrier(ctx); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, s, 1)
	waitFor(t, 10*time.Second, "the client waiting again after an empty ride", func() bool {
		s.waiters.mu.Lock()
		defer s.waiters.mu.Unlock()
		for _, w := range s.waiters.byClient {
			if w.state.Load() != waiterWaiting {
				return false
			}
		}
		return len(s.waiters.byClient) == 1
	})
	select {
	case got := <-r:
		t.Fatalf("served by a failed XADD: %v, %v", got.val, got.err)
	default:
	}
	if err := admin.XAdd(ctx, &redis.XAddArgs{Stream: "q", ID: "6-1", Values: []string{"job", "2"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, r); got.err != nil || len(got.val) != 1 || got.val[0].Messages[0].ID != "6-1" {
		t.Fatalf("consumer got %v, %v", got.val, got.err)
	}
	if v := rides(); v != "2" {
		t.Fatalf("blocked_xreadgroup_rides:%s after two rides", v)
	}

	r2 := goRun(func() (any, error) {
		return c.Do(ctx, "XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "BLOCK", "0", "CLAIM", "100000",
			"STREAMS", "q", ">").Result()
	})
	waitBlocked(t, s, 1)
	admin.XAdd(ctx, &redis.XAddArgs{Stream: "q", ID: "7-1", Values: []string{"job", "3"}})
	if got := recv(t, r2); got.err != nil {
		t.Fatalf("XREADGROUP CLAIM: %v", got.err)
	}
	if v := rides(); v != "2" {
		t.Fatalf("blocked_xreadgroup_rides:%s after XREADGROUP CLAIM", v)
	}
}

// In a cluster, only the leader's blocked clients ride: one blocked on
// the leader is served in the entry of an XADD sent to a follower (and
// forwarded), one blocked on a follower is woken when the follower
// applies the XADD and proposes its read, and every node ends with the
// same state.
func TestBlockedXReadGroupRidesAcrossNodes(t *testing.T) {
	servers, nodes := startACLCluster(t)
	li := -1
	for i, n := range nodes {
		if n.Status().State == "leader" {
			li = i
		}
	}
	fi := (li + 1) % len(nodes)
	ctx := context.Background()
	leader := newGoRedis(t, servers[li], &redis.Options{})
	follower := newGoRedis(t, servers[fi], &redis.Options{})
	if err := leader.XGroupCreateMkStream(ctx, "q", "g", "$").Err(); err != nil {
		t.Fatal(err)
	}
	rides := func(c *redis.Client) string {
		_, v, _ := strings.Cut(c.Info(ctx, "stats").Val(), "blocked_xreadgroup_rides:")
		v, _, _ = strings.Cut(v, "\r\n")
		return v
	}
	for _, tc := range []struct {
		name       string
		blockOn    int
		addVia     *redis.Client
		id         string
		wantRides  string
		ridesShown *redis.Client
	}{
		{"blocked on the leader, XADD via a follower", li, follower, "1-1", "1", leader},
		{"blocked on a follower, XADD via the leader", fi, leader, "2-1", "0", follower},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newGoRedis(t, servers[tc.blockOn], &redis.Options{})
			r := xrgBlock(c, "q", "c"+tc.id, 0)
			waitBlocked(t, servers[tc.blockOn], 1)
			if err := tc.addVia.XAdd(ctx, &redis.XAddArgs{Stream: "q", ID: tc.id, Values: []string{"job", tc.id}}).Err(); err != nil {
				t.Fatal(err)
			}
			got := recv(t, r)
			if got.err != nil || len(got.val) != 1 || got.val[0].Messages[0].ID != tc.id {
				t.Fatalf("consumer got %v, %v", got.val, got.err)
			}
			if v := rides(tc.ridesShown); v != tc.wantRides {
				t.Errorf("blocked_xreadgroup_rides:%s, want %s", v, tc.wantRides)
			}
		})
	}
	// Background entries (member metadata) may still arrive: retry until
	// every node has applied the leader's log and their states agree.
	waitFor(t, 10*time.Second, "every node to hold the same state", func() bool {
		want := nodes[li].FSM().AppliedIndex()
		var first string
		for i, n := range nodes {
			if n.FSM().AppliedIndex() != want {
				return false
			}
			d, err := n.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = d
			} else if d != first {
				return false
			}
		}
		return true
	})
}
