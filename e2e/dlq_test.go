package e2e

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestDeadLetterQueue drives poison messages through a group with several
// consumers, with go-redis: workers read new jobs and reclaim stale ones
// with XAUTOCLAIM and XREADGROUP CLAIM, acknowledge good jobs and never
// poison ones. Every good job must be acknowledged, no job delivered more
// than MAXDELIVERIES times, and every poison job must end in the
// dead-letter stream with its original fields.
func TestDeadLetterQueue(t *testing.T) {
	if targetIsRedis() {
		t.Skip("dead-letter streams are a raftstream extension")
	}
	p := StartNode(t)
	ctx := testCtx(t, 2*time.Minute)
	admin := newClient(t, p.Addr, 2, 0)
	const (
		key, group, dead = "jobs", "workers", "jobs:dead"
		maxDeliveries    = 3
		jobs             = 120
		poisonEvery      = 10 // jobs 0, 10, 20... fail every time
		workers          = 3
	)
	if err := admin.XGroupCreateMkStream(ctx, key, group, "$").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "RS.SETDLQ", key, group, "MAXDELIVERIES", maxDeliveries, "DEADLETTER", dead).Err(); err != nil {
		t.Fatal(err)
	}
	poison := map[string]bool{} // entry ID -> poison
	for i := 0; i < jobs; i++ {
		id, err := admin.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"job", strconv.Itoa(i)}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		poison[id] = i%poisonEvery == 0
	}

	var (
		mu        sync.Mutex
		delivered = map[string]int{} // entry ID -> deliveries seen by workers
		acked     = map[string]bool{}
	)
	stop := make(chan struct{})
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		c := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: 2, MaxRetries: -1, PoolSize: 1, ReadTimeout: ioTimeout})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			name := fmt.Sprint("worker-", w)
			handle := func(msgs []redis.XMessage) error {
				for _, m := range msgs {
					mu.Lock()
					delivered[m.ID]++
					mu.Unlock()
					if poison[m.ID] {
						continue // fails: never acknowledged
					}
					if err := c.XAck(ctx, key, group, m.ID).Err(); err != nil {
						return err
					}
					mu.Lock()
					acked[m.ID] = true
					mu.Unlock()
				}
				return nil
			}
			for round := 0; ; round++ {
				select {
				case <-stop:
					return
				default:
				}
				var msgs []redis.XMessage
				switch round % 3 {
				case 0: // new jobs
					res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: name,
						Streams: []string{key, ">"}, Count: 7, Block: 20 * time.Millisecond}).Result()
					if err != nil && !errors.Is(err, redis.Nil) {
						errc <- err
						return
					}
					for _, s := range res {
						msgs = append(msgs, s.Messages...)
					}
				case 1: // reclaim jobs idle for a while
					res, _, err := c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: key, Group: group,
						Consumer: name, MinIdle: 5 * time.Millisecond, Start: "0", Count: 5}).Result()
					if err != nil {
						errc <- err
						return
					}
					msgs = res
				case 2: // Redis 8.4's XREADGROUP CLAIM, the third delivery path
					res, err := c.Do(ctx, "XREADGROUP", "GROUP", group, name, "COUNT", 5, "CLAIM", 5,
						"STREAMS", key, ">").Slice()
					if err != nil && !errors.Is(err, redis.Nil) {
						errc <- err
						return
					}
					msgs = claimedIDs(res)
				}
				if err := handle(msgs); err != nil {
					errc <- err
					return
				}
			}
		}()
	}

	var poisonCount int64
	for _, bad := range poison {
		if bad {
			poisonCount++
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		mu.Lock()
		goodDone := len(acked) == jobs-int(poisonCount)
		mu.Unlock()
		n, err := admin.XLen(ctx, dead).Result()
		if err != nil {
			t.Fatal(err)
		}
		if goodDone && n == poisonCount {
			break
		}
		select {
		case err := <-errc:
			t.Fatal(err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %d of %d good jobs acked, %d of %d poison jobs dead-lettered", len(acked), jobs-int(poisonCount), n, poisonCount)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	close(stop)
	wg.Wait()

	for id, n := range delivered {
		if n > maxDeliveries {
			t.Errorf("%s delivered %d times, limit %d", id, n, maxDeliveries)
		}
	}
	if pending, err := admin.XPending(ctx, key, group).Result(); err != nil || pending.Count != 0 {
		t.Fatalf("XPENDING after the run: %+v, %v", pending, err)
	}
	entries, err := admin.XRange(ctx, dead, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		id, _ := e.Values["dlq-id"].(string)
		if !poison[id] || seen[id] {
			t.Fatalf("dead-letter entry %v: not a poison job, or twice", e.Values)
		}
		seen[id] = true
		if e.Values["dlq-deliveries"] != strconv.Itoa(maxDeliveries) || e.Values["dlq-stream"] != key ||
			e.Values["dlq-group"] != group || e.Values["job"] == nil {
			t.Fatalf("dead-letter entry %v", e.Values)
		}
	}
	// go-redis still parses XINFO GROUPS with the dead-letter fields.
	groups, err := admin.XInfoGroups(ctx, key).Result()
	if err != nil || len(groups) != 1 || groups[0].Pending != 0 {
		t.Fatalf("XINFO GROUPS = %+v, %v", groups, err)
	}
	info, err := admin.Do(ctx, "XINFO", "GROUPS", key).Slice()
	if err != nil {
		t.Fatal(err)
	}
	g := info[0].([]interface{})
	if got := fmt.Sprint(g[len(g)-6:]); got != fmt.Sprint([]interface{}{"max-deliveries", int64(maxDeliveries),
		"dead-letter-key", dead, "dead-lettered", poisonCount}) {
		t.Fatalf("XINFO GROUPS dead-letter fields = %s", got)
	}
}

// claimedIDs turns an XREADGROUP CLAIM reply (RESP2: [[key, [[id, fields,
// idle, count], ...]]]) into messages carrying only their IDs.
func claimedIDs(res []interface{}) []redis.XMessage {
	var out []redis.XMessage
	for _, s := range res {
		pair, ok := s.([]interface{})
		if !ok || len(pair) != 2 {
			continue
		}
		entries, _ := pair[1].([]interface{})
		for _, e := range entries {
			if fields, ok := e.([]interface{}); ok && len(fields) > 0 {
				if id, ok := fields[0].(string); ok {
					out = append(out, redis.XMessage{ID: id})
				}
			}
		}
	}
	return out
}
