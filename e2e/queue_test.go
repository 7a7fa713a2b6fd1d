package e2e

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestTaskQueue runs the task-queue pattern against the real binary:
// producers XADD jobs, workers block in XREADGROUP and XACK, some workers
// die between reading and acknowledging, and a reaper XAUTOCLAIMs what
// they left. Every job must end up acknowledged, and only the jobs the
// dead workers held may be delivered twice.
func TestTaskQueue(t *testing.T) {
	p := StartNode(t)
	ctx := testCtx(t, 2*time.Minute)
	admin := newClient(t, p.Addr, 2, 0)
	const (
		key       = "jobs"
		group     = "workers"
		producers = 3
		perProd   = 150
		workers   = 4
		crashers  = 2 // workers 0 and 1 die after their first read
	)
	if err := admin.XGroupCreateMkStream(ctx, key, group, "$").Err(); err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		done      = map[string]int{}   // job -> times processed and acked
		orphaned  = map[string]bool{}  // entry IDs a dead worker held
		reclaimed = map[string]int64{} // entry ID -> delivery count when reclaimed
		produced  = map[string]string{}
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
	}

	for w := 0; w < workers; w++ {
		c := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1, PoolSize: 1, ReadTimeout: ioTimeout})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			name := fmt.Sprint("worker-", w)
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{
					Group: group, Consumer: name, Streams: []string{key, ">"}, Count: 10, Block: 2000 * time.Millisecond,
				}).Result()
				if errors.Is(err, redis.Nil) {
					continue
				}
				if err != nil {
					fail(fmt.Errorf("%s: XREADGROUP: %w", name, err))
					return
				}
				msgs := res[0].Messages
				if w < crashers {
					// Die holding the batch: close the connection, no XACK.
					mu.Lock()
					for _, m := range msgs {
						orphaned[m.ID] = true
					}
					mu.Unlock()
					return
				}
				ids := make([]string, len(msgs))
				mu.Lock()
				for i, m := range msgs {
					done[m.Values["job"].(string)]++
					ids[i] = m.ID
				}
				mu.Unlock()
				if err := c.XAck(ctx, key, group, ids...).Err(); err != nil {
					fail(fmt.Errorf("%s: XACK: %w", name, err))
					return
				}
			}
		}()
	}

	// The reaper claims entries idle for more than 500ms.
	reaper := newClient(t, p.Addr, 2, 0)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			msgs, _, err := reaper.XAutoClaim(ctx, &redis.XAutoClaimArgs{
				Stream: key, Group: group, Consumer: "reaper", MinIdle: 500 * time.Millisecond, Start: "0-0", Count: 100,
			}).Result()
			if err != nil {
				fail(fmt.Errorf("XAUTOCLAIM: %w", err))
				return
			}
			for _, m := range msgs {
				pe, err := reaper.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: group, Start: m.ID, End: m.ID, Count: 1}).Result()
				if err != nil || len(pe) != 1 {
					fail(fmt.Errorf("XPENDING %s: %v, %w", m.ID, pe, err))
					return
				}
				mu.Lock()
				reclaimed[m.ID] = pe[0].RetryCount
				done[m.Values["job"].(string)]++
				mu.Unlock()
				if err := reaper.XAck(ctx, key, group, m.ID).Err(); err != nil {
					fail(fmt.Errorf("reaper XACK: %w", err))
					return
				}
			}
		}
	}()

	var pwg sync.WaitGroup
	for pi := 0; pi < producers; pi++ {
		c := newClient(t, p.Addr, 2, 0)
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for i := 0; i < perProd; i++ {
				job := fmt.Sprintf("p%d-%d", pi, i)
				id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"job", job}}).Result()
				if err != nil {
					fail(fmt.Errorf("XADD: %w", err))
					return
				}
				mu.Lock()
				produced[job] = id
				mu.Unlock()
			}
		}()
	}
	pwg.Wait()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-errc:
			close(stop)
			wg.Wait()
			t.Fatal(err)
		default:
		}
		pend, err := admin.XPending(ctx, key, group).Result()
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := len(done)
		mu.Unlock()
		if pend.Count == 0 && n == producers*perProd {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained: %d of %d jobs done, %d pending", n, producers*perProd, pend.Count)
		}
		time.Sleep(50 * time.Millisecond) // polling the queue's progress
	}
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(orphaned) == 0 {
		t.Fatal("no worker died holding entries; the test did not exercise recovery")
	}
	for job, id := range produced {
		switch n := done[job]; {
		case n == 0:
			t.Errorf("job %s (%s) lost", job, id)
		case n > 1:
			t.Errorf("job %s (%s) processed %d times", job, id, n)
		}
		if cnt, ok := reclaimed[id]; ok {
			if !orphaned[id] {
				t.Errorf("entry %s redelivered but no dead worker held it", id)
			}
			if cnt != 2 {
				t.Errorf("entry %s: delivery count %d after reclaim, want 2", id, cnt)
			}
		} else if orphaned[id] {
			t.Errorf("entry %s held by a dead worker was never reclaimed", id)
		}
	}
	t.Logf("%d jobs, %d reclaimed from dead workers", len(produced), len(reclaimed))

	checkQueueCLI(t, p.Addr, key, group, producers*perProd)
}

// checkQueueCLI sanity-checks redis-cli's views of the drained queue.
func checkQueueCLI(t *testing.T, addr, key, group string, total int) {
	fields := func(out string) map[string]string {
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		m := map[string]string{}
		for i := 0; i+1 < len(lines); i += 2 {
			m[lines[i]] = lines[i+1]
		}
		return m
	}
	g := fields(redisCLI(t, addr, "", "XINFO", "GROUPS", key))
	if g["name"] != group || g["pending"] != "0" || g["entries-read"] != strconv.Itoa(total) || g["lag"] != "0" {
		t.Errorf("XINFO GROUPS: %v", g)
	}
	if n, _ := strconv.Atoi(g["consumers"]); n != 5 {
		t.Errorf("XINFO GROUPS consumers = %q, want 5 (4 workers and the reaper)", g["consumers"])
	}
	cons := redisCLI(t, addr, "", "XINFO", "CONSUMERS", key, group)
	lines := strings.Split(strings.TrimRight(cons, "\n"), "\n")
	names := 0
	for i := 0; i+1 < len(lines); i++ {
		switch lines[i] {
		case "name":
			names++
		case "pending":
			if lines[i+1] != "0" {
				t.Errorf("XINFO CONSUMERS: a consumer has pending %s:\n%s", lines[i+1], cons)
			}
		}
	}
	if names != 5 {
		t.Errorf("XINFO CONSUMERS lists %d consumers:\n%s", names, cons)
	}
	if out := redisCLI(t, addr, "", "XPENDING", key, group); !strings.HasPrefix(out, "0\n") {
		t.Errorf("XPENDING summary = %q", out)
	}
}
