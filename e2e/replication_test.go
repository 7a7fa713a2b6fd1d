package e2e

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestWaitAcrossTheCluster is the Redis durability idiom "XADD, then
// WAIT (or WAITAOF) for replicas" through go-redis against three real
// nodes: on every node WAIT counts the other members that applied the
// client's writes,
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
		// WAITAOF: this node's log and both others hold the write.
		if got, err := c.WaitAOF(ctx, 1, 2, 10*time.Second).Result(); err != nil || len(got) != 2 || got[0] != 1 || got[1] != 2 {
			t.Errorf("WAITAOF 1 2 on %s = %v, %v; want [1 2]", p.Name, got, err)
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

// TestRoleAcrossTheCluster checks ROLE as Redis-aware clients read it:
// the leader is a master listing the other members (client address and
// applied index) once they answered its status poll, and each follower
// is a connected replica of the leader's client address.
func TestRoleAcrossTheCluster(t *testing.T) {
	nodes := StartCluster(t, 3)
	leader := waitLeader(t, nodes)
	ctx := context.Background()
	role := func(p *Proc) []any {
		c := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1})
		defer c.Close()
		v, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			t.Fatalf("ROLE on %s: %v", p.Name, err)
		}
		return v
	}
	others := map[string]bool{}
	for _, p := range nodes {
		if p != leader {
			others[p.Addr] = true
		}
	}
	waitFor(t, 30*time.Second, "the leader's ROLE to list both replicas", func() bool {
		v := role(leader)
		if len(v) != 3 || v[0] != "master" {
			t.Fatalf("ROLE on the leader = %v", v)
		}
		replicas, _ := v[2].([]any)
		seen := map[string]bool{}
		for _, r := range replicas {
			e, _ := r.([]any)
			if len(e) != 3 {
				t.Fatalf("ROLE replica entry %v", r)
			}
			seen[e[0].(string)+":"+e[1].(string)] = true
		}
		return maps.Equal(seen, others)
	})
	// A follower names the leader once it has applied the leader's
	// member metadata, which can come after the leader lists it.
	host, port, _ := strings.Cut(leader.Addr, ":")
	for _, p := range nodes {
		if p == leader {
			continue
		}
		var v []any
		waitFor(t, 30*time.Second, "ROLE on "+p.Name+" to name the leader", func() bool {
			v = role(p)
			return len(v) == 5 && v[1] == host
		})
		if v[0] != "slave" || fmt.Sprint(v[2]) != port || v[3] != "connected" {
			t.Errorf("ROLE on %s = %v, want a connected replica of %s", p.Name, v, leader.Addr)
		}
	}
}
