package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/fsm"
)

func TestSingleNodeProposeWaitRead(t *testing.T) {
	n := openNode(t, testConfig(t, "n1", t.TempDir()))
	defer n.Close()
	waitLeader(t, n)

	const writers, perWriter = 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// Several proposals in flight per writer, like a pipelining client.
			var ps []*Pending
			for i := 0; i < perWriter; i++ {
				ps = append(ps, n.Propose(xadd("s"+strconv.Itoa(w), i)))
			}
			var last engine.ID
			for i, p := range ps {
				reply, err := p.Wait(ctx)
				if err != nil {
					errs <- fmt.Errorf("writer %d command %d: %w", w, i, err)
					return
				}
				// A bulk-string ID; IDs of one writer's stream increase in
				// proposal order.
				id, ok := bulkID(reply.RESP)
				if !ok || !last.Less(id) {
					errs <- fmt.Errorf("writer %d command %d: reply %q after ID %v", w, i, reply, last)
					return
				}
				last = id
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := 0; w < writers; w++ {
		if got, want := linearRead(t, n, "XLEN", "s"+strconv.Itoa(w)), ":"+strconv.Itoa(perWriter)+"\r\n"; got != want {
			t.Fatalf("XLEN s%d = %q, want %q", w, got, want)
		}
	}

	st := n.Status()
	if st.State != "leader" || st.LeaderID != "n1" || st.NodeID != "n1" || st.Term == 0 {
		t.Fatalf("Status = %+v", st)
	}
	if st.AppliedIndex == 0 || st.AppliedIndex > st.CommitIndex || st.CommitIndex > st.LastLogIndex {
		t.Fatalf("inconsistent indexes in %+v", st)
	}
	// Group commit: 500 commands from 20 concurrent writers need far fewer
	// than 500 entries.
	if st.LastLogIndex >= writers*perWriter {
		t.Logf("no batching observed: %d log entries for %d commands", st.LastLogIndex, writers*perWriter)
	}
}

func TestProposeRejectsInvalidCommand(t *testing.T) {
	n := openNode(t, testConfig(t, "n1", t.TempDir()))
	defer n.Close()
	waitLeader(t, n)
	for _, c := range []fsm.Command{
		{Proto: 2},
		{Proto: 5, Argv: args("PING")},
		{DB: 99, Proto: 2, Argv: args("PING")},
	} {
		if _, err := n.Propose(c).Wait(context.Background()); !errors.Is(err, fsm.ErrBadEntry) {
			t.Fatalf("Propose(%+v) error = %v, want ErrBadEntry", c, err)
		}
	}
	// The node is unaffected.
	write(t, n, xadd("s", 1))
}

func TestRestartRecoversState(t *testing.T) {
	for _, tc := range []struct {
		name     string
		snapshot bool
	}{
		{"log replay", false},
		{"snapshot and truncated log", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, "n1", dir)
			cfg.TrailingLogs = 4
			cfg.SnapshotThreshold = 16
			n := openNode(t, cfg)
			waitLeader(t, n)
			var last engine.ID
			for i := 0; i < 60; i++ {
				last, _ = bulkID(write(t, n, xadd("s", i)))
				if tc.snapshot && i == 40 {
					if err := n.Snapshot(context.Background()); err != nil {
						t.Fatalf("Snapshot: %v", err)
					}
					first, err := n.store.log.FirstIndex()
					if err != nil {
						t.Fatal(err)
					}
					if first <= 1 {
						t.Fatalf("log not truncated after snapshot: first index %d", first)
					}
				}
			}
			want := linearRead(t, n, "XRANGE", "s", "-", "+")
			if err := n.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			n2 := openNode(t, cfg)
			defer n2.Close()
			waitLeader(t, n2)
			if got := linearRead(t, n2, "XRANGE", "s", "-", "+"); got != want {
				t.Fatalf("after restart XRANGE =\n%q\nwant\n%q", got, want)
			}
			if tc.snapshot && n2.Status().LastSnapshotIndex == 0 {
				t.Fatal("no snapshot recorded after restart")
			}
			// IDs keep increasing after the restart.
			if id, ok := bulkID(write(t, n2, xadd("s", 60))); !ok || !last.Less(id) {
				t.Fatalf("ID after restart %v not above %v", id, last)
			}
		})
	}
}

func TestCloseWithPendingProposals(t *testing.T) {
	base := runtime.NumGoroutine()
	n := openNode(t, testConfig(t, "n1", t.TempDir()))
	waitLeader(t, n)

	const writers = 30
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ok, bad int
		started = make(chan struct{}, writers)
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				// No deadline: Wait itself must not hang across Close.
				_, err := n.Propose(xadd("s"+strconv.Itoa(w), i)).Wait(context.Background())
				if i == 0 {
					started <- struct{}{}
				}
				mu.Lock()
				if err == nil {
					ok++
				} else {
					bad++
				}
				mu.Unlock()
				if err != nil {
					if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrUnknownOutcome) && !errors.Is(err, ErrNotLeader) {
						t.Errorf("unexpected error class: %v", err)
					}
					return
				}
			}
		}(w)
	}
	for w := 0; w < writers; w++ {
		<-started
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writers still blocked 10s after Close")
	}
	if ok == 0 || bad != writers {
		t.Fatalf("ok=%d failed=%d; want some successes and every writer stopped by an error", ok, bad)
	}

	// After Close everything fails fast.
	if _, err := n.Propose(xadd("s", 0)).Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Propose after Close: %v", err)
	}
	if err := n.ReadBarrier(context.Background()); err == nil {
		t.Fatal("ReadBarrier after Close succeeded")
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if st := n.Status(); st.State != "shutdown" {
		t.Fatalf("state after Close = %q", st.State)
	}
	checkNoGoroutineLeak(t, base)
}

func TestWaitHonoursContext(t *testing.T) {
	n := openNode(t, testConfig(t, "n1", t.TempDir()))
	defer n.Close()
	waitLeader(t, n)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := n.Propose(xadd("s", 1))
	if _, err := p.Wait(ctx); err != nil && !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("Wait with cancelled ctx: %v, want nil or ErrUnknownOutcome", err)
	}
	// The command itself still completes.
	if _, err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestActiveExpiry(t *testing.T) {
	n := openNode(t, testConfig(t, "n1", t.TempDir()))
	defer n.Close()
	waitLeader(t, n)
	write(t, n, xadd("k", 1))
	at := time.Now().Add(150 * time.Millisecond).UnixMilli()
	if got := string(write(t, n, fsm.Command{Proto: 2, Argv: args("PEXPIREAT", "k", strconv.FormatInt(at, 10))})); got != ":1\r\n" {
		t.Fatalf("PEXPIREAT = %q", got)
	}
	signalled := make(chan string, 1)
	n.FSM().SetSignal(func(db int, key string) {
		select {
		case signalled <- key:
		default:
		}
	})
	// No command touches the key: only the leader's expiry cycle can delete
	// it from the replicated state (a read would merely hide it).
	select {
	case key := <-signalled:
		if key != "k" {
			t.Fatalf("signal for %q", key)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("key not expired by the leader")
	}
	var keys int64
	n.FSM().Read(func(st *engine.State) { keys = st.Info().Keys[0] })
	if keys != 0 {
		t.Fatalf("%d keys left after expiry", keys)
	}
}

// Every read after an acknowledged write sees it, with many readers and
// writers sharing leadership confirmation rounds.
func TestReadsSeeAcknowledgedWrites(t *testing.T) {
	n := openNode(t, testConfig(t, "n1", t.TempDir()))
	defer n.Close()
	waitLeader(t, n)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			key := "k" + strconv.Itoa(w)
			for i := 1; i <= 15; i++ {
				if _, err := n.Propose(xadd(key, i)).Wait(ctx); err != nil {
					errs <- err
					return
				}
				if err := n.ReadBarrier(ctx); err != nil {
					errs <- err
					return
				}
				if got, want := read(n, 0, "XLEN", key), ":"+strconv.Itoa(i)+"\r\n"; got != want {
					errs <- fmt.Errorf("%s: XLEN %q after %d acknowledged writes", key, got, i)
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

func TestRaftConfigKeepsInvariants(t *testing.T) {
	for _, c := range []Config{
		{NodeID: "a", HeartbeatTimeout: 100 * time.Millisecond},
		{NodeID: "a", HeartbeatTimeout: 3 * time.Second},
		{NodeID: "a", ElectionTimeout: 500 * time.Millisecond},
		{NodeID: "a", ElectionTimeout: 300 * time.Millisecond, LeaderLeaseTimeout: 200 * time.Millisecond},
		{NodeID: "a", HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond, LeaderLeaseTimeout: 50 * time.Millisecond},
		{NodeID: "a", MaxAppendEntries: 512, SnapshotThreshold: 3, SnapshotInterval: time.Second, TrailingLogs: 1},
	} {
		c.MaxAppendEntries = max(c.MaxAppendEntries, 1)
		rc := c.raftConfig(newHclog(testLogger(), "raft", 0))
		if err := raft.ValidateConfig(rc); err != nil {
			t.Errorf("config %+v: %v", c, err)
		}
		for _, set := range []struct{ got, want time.Duration }{
			{rc.HeartbeatTimeout, c.HeartbeatTimeout},
			{rc.ElectionTimeout, c.ElectionTimeout},
			{rc.LeaderLeaseTimeout, c.LeaderLeaseTimeout},
		} {
			if set.want > 0 && set.got != set.want {
				t.Errorf("config %+v: a timeout set to %v became %v", c, set.want, set.got)
			}
		}
	}
}

func TestOpenFailsOnLockedDataDir(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, testConfig(t, "n1", dir))
	defer n.Close()
	start := time.Now()
	if n2, err := Open(testConfig(t, "n1", dir)); err == nil {
		n2.Close()
		t.Fatal("second Open on the same data dir succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %v to fail; the bolt lock timeout is not applied", d)
	}
	for _, cfg := range []Config{{DataDir: dir, RaftAddr: "127.0.0.1:0"}, {NodeID: "x", RaftAddr: "127.0.0.1:0"}, {NodeID: "x", DataDir: dir}} {
		if _, err := Open(cfg); err == nil {
			t.Fatalf("Open(%+v) succeeded", cfg)
		}
	}
}

// A snapshot a crash left half-written ("<name>.tmp") is removed when the
// node opens again; complete snapshots stay and restore the state.
func TestOpenRemovesPartialSnapshots(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, "n1", dir)
	n := openNode(t, cfg)
	waitLeader(t, n)
	write(t, n, xadd("s", 1))
	if err := n.Snapshot(context.Background()); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	want := linearRead(t, n, "XRANGE", "s", "-", "+")
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(dir, "snapshots", "9-99-123.tmp")
	if err := os.MkdirAll(partial, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partial, "state.bin"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}

	n2 := openNode(t, cfg)
	defer n2.Close()
	waitLeader(t, n2)
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Fatalf("partial snapshot still there: %v", err)
	}
	if got := linearRead(t, n2, "XRANGE", "s", "-", "+"); got != want {
		t.Fatalf("after reopening XRANGE = %q, want %q", got, want)
	}
	if n2.Status().LastSnapshotIndex == 0 {
		t.Fatal("the complete snapshot was not kept")
	}
}
