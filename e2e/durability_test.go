package e2e

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ack is one XADD the server acknowledged.
type ack struct {
	key    string
	id     string
	fields map[string]any
}

// loadGen runs concurrent XADD clients against addr and records every
// acknowledged entry. Each client stops at its first error (the server is
// being killed) or when ctx ends.
type loadGen struct {
	clients  int
	streams  int
	maxPerCl int

	acked   atomic.Int64
	mu      sync.Mutex
	acks    []ack
	errs    []error
	reached chan struct{}
	once    sync.Once
}

// run starts the clients and returns a channel closed when all have
// stopped. reached is closed once threshold entries were acknowledged.
func (g *loadGen) run(ctx context.Context, addr string, round, threshold int) <-chan struct{} {
	g.reached = make(chan struct{})
	g.once = sync.Once{}
	var wg sync.WaitGroup
	for cl := 0; cl < g.clients; cl++ {
		proto := 2 + cl%2 // half the clients speak RESP3
		c := redis.NewClient(&redis.Options{
			Addr: addr, Protocol: proto, MaxRetries: -1, PoolSize: 1,
			DialTimeout: 2 * time.Second, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout,
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			// Every fourth client pipelines, so many commands of one
			// connection are in flight in the same log entries.
			batch := 1
			if cl%4 == 3 {
				batch = 16
			}
			for i := 0; i+batch <= g.maxPerCl && ctx.Err() == nil; i += batch {
				if !g.send(ctx, c, cl, round, i, batch, threshold) {
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// send adds batch entries in one pipeline and records those acknowledged.
// It reports false once the server failed a command.
func (g *loadGen) send(ctx context.Context, c *redis.Client, cl, round, first, batch, threshold int) bool {
	pipe := c.Pipeline()
	type pending struct {
		a   ack
		cmd *redis.StringCmd
	}
	ps := make([]pending, batch)
	for j := range ps {
		i := first + j
		key := fmt.Sprintf("dur:%d", (cl+i)%g.streams)
		fields := map[string]any{
			"client":  fmt.Sprint(cl),
			"round":   fmt.Sprint(round),
			"i":       fmt.Sprint(i),
			"payload": fmt.Sprintf("r%d-c%d-i%d-%064d", round, cl, i, i),
		}
		ps[j] = pending{a: ack{key: key, fields: fields}, cmd: pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: fields})}
	}
	_, _ = pipe.Exec(ctx) // per-command results below
	ok := true
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range ps {
		id, err := p.cmd.Result()
		if err != nil {
			g.errs = append(g.errs, err)
			ok = false
			continue
		}
		p.a.id = id
		g.acks = append(g.acks, p.a)
		if g.acked.Add(1) >= int64(threshold) {
			g.once.Do(func() { close(g.reached) })
		}
	}
	return ok
}

// verify checks that every acknowledged entry is in the stream with the
// same ID and fields, and that each stream's IDs are strictly increasing.
func (g *loadGen) verify(t testing.TB, addr string) {
	t.Helper()
	c := newClient(t, addr, 2, 0)
	ctx := testCtx(t, 2*time.Minute)
	stored := map[string]map[string]any{}
	total := 0
	for s := 0; s < g.streams; s++ {
		key := fmt.Sprintf("dur:%d", s)
		msgs, err := c.XRange(ctx, key, "-", "+").Result()
		must(t, err)
		n, err := c.XLen(ctx, key).Result()
		must(t, err)
		if n != int64(len(msgs)) {
			t.Errorf("%s: XLEN %d but XRANGE returned %d entries", key, n, len(msgs))
		}
		for i, m := range msgs {
			if i > 0 && !idLess(t, msgs[i-1].ID, m.ID) {
				t.Errorf("%s: IDs not increasing: %s then %s", key, msgs[i-1].ID, m.ID)
			}
			stored[key+" "+m.ID] = m.Values
		}
		total += len(msgs)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	missing := 0
	for _, a := range g.acks {
		got, ok := stored[a.key+" "+a.id]
		if !ok {
			if missing++; missing <= 10 {
				t.Errorf("acknowledged entry %s %s is missing after restart", a.key, a.id)
			}
			continue
		}
		if !reflect.DeepEqual(got, a.fields) {
			t.Errorf("entry %s %s: fields %v, acknowledged %v", a.key, a.id, got, a.fields)
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged entries lost", missing, len(g.acks))
	}
	// Entries that were committed but whose reply was lost in the crash
	// may legitimately exist beyond the acknowledged ones.
	t.Logf("%d acknowledged, %d stored", len(g.acks), total)
}

// TestDurabilityKill kills the node with SIGKILL in the middle of a
// concurrent XADD load, twice, and checks after each restart that every
// acknowledged entry survived with its ID and fields.
func TestDurabilityKill(t *testing.T) {
	testDurability(t, syscall.SIGKILL, 2, false)
}

// TestDurabilityTerm does the same with SIGTERM, which must also exit 0.
func TestDurabilityTerm(t *testing.T) {
	testDurability(t, syscall.SIGTERM, 1, false)
}

// TestDurabilitySnapshots makes the node snapshot and truncate its log
// often, kills it after at least one snapshot, and checks the restart
// (snapshot restore plus log replay) keeps every acknowledged entry.
func TestDurabilitySnapshots(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream snapshots only")
	}
	testDurability(t, syscall.SIGKILL, 2, true,
		"--snapshot-threshold", "16", "--snapshot-interval", "50ms", "--trailing-logs", "4")
}

func testDurability(t *testing.T, sig syscall.Signal, rounds int, waitSnapshot bool, flags ...string) {
	p := StartNode(t, flags...)
	g := &loadGen{clients: 16, streams: 4, maxPerCl: 50_000}
	for round := 0; round < rounds; round++ {
		stopUnderLoad(t, p, g, sig, round, waitSnapshot)
		p.Start()
		g.verify(t, p.Addr)
		if t.Failed() {
			return
		}
	}

	// The restarted node keeps accepting writes after the recovered ones.
	c := newClient(t, p.Addr, 3, 0)
	ctx := testCtx(t, 30*time.Second)
	last, err := c.XRevRangeN(ctx, "dur:0", "+", "-", 1).Result()
	must(t, err)
	id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "dur:0", Values: []string{"after", "restart"}}).Result()
	must(t, err)
	if len(last) == 1 && !idLess(t, last[0].ID, id) {
		t.Fatalf("new ID %s is not after recovered %s", id, last[0].ID)
	}
}

// snapshotIndex returns raft_last_snapshot_index from INFO raft.
func snapshotIndex(t testing.TB, addr string) uint64 {
	t.Helper()
	rc := dialRaw(t, addr)
	defer rc.Close()
	info := string(rc.MustDo(t, "INFO", "raft"))
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "raft_last_snapshot_index:"); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("raft_last_snapshot_index %q", v)
			}
			return n
		}
	}
	t.Fatalf("no raft_last_snapshot_index in INFO raft: %q", info)
	return 0
}

// stopUnderLoad runs the load until enough new entries are acknowledged
// (and, if asked, a snapshot was taken), then stops the node with sig while
// the clients are still writing, and waits for the clients to give up.
func stopUnderLoad(t *testing.T, p *Proc, g *loadGen, sig syscall.Signal, round int, waitSnapshot bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	threshold := int(g.acked.Load()) + 2000
	done := g.run(ctx, p.Addr, round, threshold)
	// However this returns (even through t.Fatal), no client outlives it.
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-g.reached:
	case <-done:
		g.mu.Lock()
		errs := firstErrs(g.errs, 5)
		g.mu.Unlock()
		t.Fatalf("round %d: load stopped before %d acks: %d acks, errors: %v", round, threshold, g.acked.Load(), errs)
	case <-time.After(2 * time.Minute):
		t.Fatalf("round %d: only %d acks after 2m", round, g.acked.Load())
	}
	if waitSnapshot {
		before := snapshotIndex(t, p.Addr)
		waitFor(t, time.Minute, "a new snapshot under load", func() bool {
			return snapshotIndex(t, p.Addr) > before
		})
	}
	stopped := time.Now()
	if sig == syscall.SIGKILL {
		p.Kill()
	} else if err := p.Stop(sig); err != nil {
		t.Fatalf("round %d: shutdown on %v: %v\n%s", round, sig, err, p.logTail(16<<10))
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Errorf("clients did not stop within 1m of the node stopping")
	}
	t.Logf("round %d: stopped with %v after %d acks; node and clients down in %v",
		round, sig, g.acked.Load(), time.Since(stopped).Round(time.Millisecond))
}

func firstErrs(errs []error, n int) []error {
	if len(errs) > n {
		errs = errs[:n]
	}
	return append([]error(nil), errs...)
}
