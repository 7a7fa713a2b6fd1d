package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestWaitAcrossTheCluster is the Redis durability idiom "XADD, then
// WAIT for replicas" through go-redis against three real nodes: on every
// node WAIT counts the other members that applied the client's writes,
// answers at once with the quorum bound, and reports fewer, after its
// timeout, when a member is down.
func TestWaitAcrossTheCluster(t *testing.T) {
	nodes := StartCluster(t, 3)
	leader := waitLeader(t, nodes)
	ctx := context.Background()
	clients := map[*Proc]*redis.Client{}
	for _, p := range nodes {
		c := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1})
		t.Cleanup(func() { _ = c.Close() })
		clients[p] = c
	}
	for _, p := range nodes {
		c := clients[p]
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "audit", Values: []string{"by", p.Name}}).Err(); err != nil {
			t.Fatalf("XADD on %s: %v", p.Name, err)
		}
		began := time.Now()
		n, err := c.Wait(ctx, 2, 10*time.Second).Result()
		t.Logf("WAIT 2 on %s: %d after %v", p.Name, n, time.Since(began))
		if err != nil || n != 2 {
			t.Errorf("WAIT 2 on %s = %d, %v; want 2", p.Name, n, err)
		}
	}

	var down *Proc
	for _, p := range nodes {
		if p != leader {
			down = p
			break
		}
	}
	if err := down.Stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c := clients[leader]
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "audit", Values: []string{"after", "stop"}}).Err(); err != nil {
		t.Fatalf("XADD with %s down: %v", down.Name, err)
	}
	// The quorum bound answers WAIT 1 without waiting, even with timeout 0
	// (no timeout): a blocked WAIT would fail this test by its deadline.
	if n, err := c.Wait(ctx, 1, 0).Result(); err != nil || n != 1 {
		t.Errorf("WAIT 1 0 with %s down = %d, %v; want 1", down.Name, n, err)
	}
	start := time.Now()
	if n, err := c.Wait(ctx, 2, 300*time.Millisecond).Result(); err != nil || n != 1 {
		t.Errorf("WAIT 2 300 with %s down = %d, %v; want 1", down.Name, n, err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("WAIT 2 300 returned after %v, before its timeout", took)
	}
}
