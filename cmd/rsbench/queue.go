package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Queue mode (-mode queue) measures the blocking-read paths: 4 producers
// XADD, 4 consumers loop XREADGROUP COUNT 10 BLOCK 1000 + XACK, for
// -duration; it reports acknowledged messages/s and the XADD-to-receipt
// latency (producer's timestamp in the entry to the consumer's receipt).
// Then one client blocks in XREAD BLOCK 0 $ and, once INFO clients shows
// it blocked, another XADDs, 200 times, for the wake-up latency; then the
// same with XREADGROUP BLOCK 0 > (an idle worker handed a job). -runs
// repeats everything; the report shows each run and the medians.

type queueResult struct {
	msgsPerSec         float64
	e2eP50, e2eP99     time.Duration
	wakeP50, wakeP99   time.Duration
	gwakeP50, gwakeP99 time.Duration
}

func runQueueMode(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	workload := o.workloadOr(fmt.Sprintf("queue %dp/%dc", queueProducers, queueConsumers))
	var results []queueResult
	for r := 0; r < o.runs; r++ {
		res, err := queueRun(ctx, o, r)
		if err != nil {
			return fmt.Errorf("queue run %d: %w", r+1, err)
		}
		w := stdout
		if o.format == "metrics" {
			w = stderr
			writeMetrics(stdout, o.label, workload, metric{"msgs/s", res.msgsPerSec},
				metric{"xadd->receipt p50 ms", ms(res.e2eP50)}, metric{"xadd->receipt p99 ms", ms(res.e2eP99)},
				metric{"xread wake p50 ms", ms(res.wakeP50)}, metric{"xread wake p99 ms", ms(res.wakeP99)},
				metric{"xreadgroup wake p50 ms", ms(res.gwakeP50)}, metric{"xreadgroup wake p99 ms", ms(res.gwakeP99)})
		}
		fmt.Fprintf(w, "%s run %d: %.0f msgs/s, xadd->receipt p50 %v p99 %v, xread wake p50 %v p99 %v, xreadgroup wake p50 %v p99 %v\n",
			o.label, r+1, res.msgsPerSec, res.e2eP50, res.e2eP99, res.wakeP50, res.wakeP99, res.gwakeP50, res.gwakeP99)
		results = append(results, res)
	}
	if o.format == "metrics" {
		return nil
	}
	med := func(f func(queueResult) float64) float64 {
		v := make([]float64, len(results))
		for i, r := range results {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	dur := func(f func(queueResult) time.Duration) time.Duration {
		return time.Duration(med(func(r queueResult) float64 { return float64(f(r)) })).Round(10 * time.Microsecond)
	}
	fmt.Fprintf(stdout, "| %s | %.0f | %v | %v | %v | %v | %v | %v |\n", o.label,
		med(func(r queueResult) float64 { return r.msgsPerSec }),
		dur(func(r queueResult) time.Duration { return r.e2eP50 }), dur(func(r queueResult) time.Duration { return r.e2eP99 }),
		dur(func(r queueResult) time.Duration { return r.wakeP50 }), dur(func(r queueResult) time.Duration { return r.wakeP99 }),
		dur(func(r queueResult) time.Duration { return r.gwakeP50 }), dur(func(r queueResult) time.Duration { return r.gwakeP99 }))
	return nil
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

// queueProducers and queueConsumers are the task queue's clients.
const queueProducers, queueConsumers = 4, 4

func queueRun(ctx context.Context, o *options, run int) (queueResult, error) {
	key := fmt.Sprintf("%s:queue:%d:%d", o.prefix, time.Now().UnixNano(), run)
	newClient := func() *redis.Client {
		return redis.NewClient(&redis.Options{Addr: o.addr, Protocol: o.proto, MaxRetries: -1, PoolSize: 1,
			ReadTimeout: o.timeout, WriteTimeout: o.timeout, DialTimeout: o.timeout})
	}
	admin := newClient()
	defer admin.Close()
	if err := admin.XGroupCreateMkStream(ctx, key, "g", "$").Err(); err != nil {
		return queueResult{}, err
	}
	defer func() {
		if !o.noCleanup {
			admin.Del(context.Background(), key, key+":wake", key+":gwake")
		}
	}()

	var (
		produced, acked atomic.Int64
		mu              sync.Mutex
		lat             []time.Duration
		firstErr        error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	deadline := time.Now().Add(o.duration)
	stopConsumers := make(chan struct{})
	var pwg, cwg sync.WaitGroup
	for i := 0; i < queueProducers; i++ {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			c := newClient()
			defer c.Close()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				ts := strconv.FormatInt(time.Now().UnixNano(), 10)
				if err := c.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"ts", ts}}).Err(); err != nil {
					fail(err)
					return
				}
				produced.Add(1)
			}
		}()
	}
	start := time.Now()
	for i := 0; i < queueConsumers; i++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			c := newClient()
			defer c.Close()
			var local []time.Duration
			defer func() {
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
			name := fmt.Sprint("c", i)
			for {
				select {
				case <-stopConsumers:
					return
				default:
				}
				res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: name, Streams: []string{key, ">"},
					Count: 10, Block: time.Second}).Result()
				if errors.Is(err, redis.Nil) {
					continue
				}
				if err != nil {
					fail(err)
					return
				}
				now := time.Now().UnixNano()
				ids := make([]string, 0, 10)
				for _, m := range res[0].Messages {
					if ts, err := strconv.ParseInt(fmt.Sprint(m.Values["ts"]), 10, 64); err == nil {
						local = append(local, time.Duration(now-ts))
					}
					ids = append(ids, m.ID)
				}
				if err := c.XAck(ctx, key, "g", ids...).Err(); err != nil {
					fail(err)
					return
				}
				acked.Add(int64(len(ids)))
			}
		}()
	}
	pwg.Wait()
	for acked.Load() < produced.Load() && time.Since(deadline) < 10*time.Second && firstErr == nil {
		time.Sleep(5 * time.Millisecond) // draining the queue's tail
	}
	elapsed := time.Since(start)
	close(stopConsumers)
	cwg.Wait()
	if firstErr != nil {
		return queueResult{}, firstErr
	}
	res := queueResult{
		msgsPerSec: float64(acked.Load()) / elapsed.Seconds(),
		e2eP50:     quantile(lat, 0.50),
		e2eP99:     quantile(lat, 0.99),
	}

	// Wake-up latency of XREAD BLOCK, then of XREADGROUP BLOCK.
	reader, writer := newClient(), newClient()
	defer reader.Close()
	defer writer.Close()
	wkey, gkey := key+":wake", key+":gwake"
	wake, err := wakeLatency(ctx, writer, wkey, func() error {
		return reader.XRead(ctx, &redis.XReadArgs{Streams: []string{wkey, "$"}, Block: 0}).Err()
	})
	if err != nil {
		return res, fmt.Errorf("XREAD wake-up: %w", err)
	}
	res.wakeP50, res.wakeP99 = quantile(wake, 0.50), quantile(wake, 0.99)
	if err := admin.XGroupCreateMkStream(ctx, gkey, "g", "$").Err(); err != nil {
		return res, err
	}
	gwake, err := wakeLatency(ctx, writer, gkey, func() error {
		return reader.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "idle", Streams: []string{gkey, ">"},
			Count: 1, Block: 0}).Err()
	})
	if err != nil {
		return res, fmt.Errorf("XREADGROUP wake-up: %w", err)
	}
	res.gwakeP50, res.gwakeP99 = quantile(gwake, 0.50), quantile(gwake, 0.99)
	return res, nil
}

// wakeLatency measures, 200 times, the time from an XADD to key by writer
// until read, a blocking read of key that blocked before the XADD, returns.
func wakeLatency(ctx context.Context, writer *redis.Client, key string, read func() error) ([]time.Duration, error) {
	var wake []time.Duration
	for i := 0; i < 200 && ctx.Err() == nil; i++ {
		if err := waitBlocked(ctx, writer, 0); err != nil { // the last round's reader has left
			return nil, err
		}
		ch := make(chan error, 1)
		var got time.Time
		go func() {
			err := read()
			got = time.Now()
			ch <- err
		}()
		// The XADD must come after the reader blocked, or "$" would miss
		// it and the reader wait forever.
		if err := waitBlocked(ctx, writer, 1); err != nil {
			return nil, err
		}
		sent := time.Now()
		if err := writer.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"f", "v"}}).Err(); err != nil {
			return nil, err
		}
		if err := <-ch; err != nil {
			return nil, err
		}
		wake = append(wake, got.Sub(sent))
	}
	return wake, nil
}

// waitBlocked polls INFO clients until blocked_clients is n, for up to 10 s.
func waitBlocked(ctx context.Context, c *redis.Client, n int) error {
	want := fmt.Sprintf("blocked_clients:%d\r\n", n)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.Info(ctx, "clients").Result()
		if err != nil {
			return fmt.Errorf("INFO clients: %w", err)
		}
		if strings.Contains(info, want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("blocked_clients did not reach %d within 10s", n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
