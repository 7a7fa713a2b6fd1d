package cluster

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftstream/raftstream/fsm"
)

// flushLog is a raft-wal log in a temp dir whose segment flushes are
// counted.
type flushLog struct {
	w      walLog
	hist   *Histogram
	next   uint64
	closed bool
}

func openFlushLog(t *testing.T, dir string, conf []raft.ServerID, confIndex uint64) *flushLog {
	t.Helper()
	h := newHistogram([]float64{1})
	w, err := openWAL(dir, 0, h, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	l := &flushLog{w: w, hist: h}
	t.Cleanup(func() {
		if !l.closed {
			_ = l.w.Close()
		}
	})
	w.fl.SetConfiguration("a", configOf(conf...), confIndex)
	last, err := w.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	l.next = last + 1
	return l
}

func configOf(ids ...raft.ServerID) raft.Configuration {
	var c raft.Configuration
	for _, id := range ids {
		c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: id, Address: raft.ServerAddress(id)})
	}
	return c
}

func (l *flushLog) flushes() uint64 { return l.hist.Snapshot().Count }

func (l *flushLog) store(t *testing.T, logs ...*raft.Log) uint64 {
	t.Helper()
	for _, e := range logs {
		e.Index, e.Term = l.next, 1
		l.next++
	}
	if err := l.w.StoreLogs(logs); err != nil {
		t.Fatalf("StoreLogs: %v", err)
	}
	return logs[len(logs)-1].Index
}

func command() *raft.Log { return &raft.Log{Type: raft.LogCommand, Data: []byte("entry")} }

func configuration(ids ...raft.ServerID) *raft.Log {
	return &raft.Log{Type: raft.LogConfiguration, Data: raft.EncodeConfiguration(configOf(ids...))}
}

// TestLogFlusherDefersOnlyForALoneVoter checks when a store leaves its
// flush to SyncThrough: only while this node ("a") alone makes up the
// configuration since the log began or the node started, and never past
// a configuration with another server in it.
func TestLogFlusherDefersOnlyForALoneVoter(t *testing.T) {
	type step struct {
		entry    *raft.Log
		deferred bool // the store leaves its entry unflushed
	}
	cmd := command
	cases := []struct {
		name  string
		steps []step
	}{
		{"bootstrap alone, then commands", []step{
			{configuration("a"), false}, {cmd(), true}, {cmd(), true},
		}},
		{"bootstrap of three", []step{
			{configuration("a", "b", "c"), false}, {cmd(), false},
		}},
		{"a join ends deferral", []step{
			{configuration("a"), false}, {cmd(), true},
			{configuration("a", "b"), false}, {cmd(), false},
		}},
		{"shrinking back to one does not start it", []step{
			{configuration("a"), false}, {configuration("a", "b"), false},
			{configuration("a"), false}, {cmd(), false},
		}},
		{"a configuration of another node alone", []step{
			{configuration("b"), false}, {cmd(), false},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := openFlushLog(t, t.TempDir(), nil, 0)
			for i, st := range tc.steps {
				before := l.w.fl.durable.Load()
				idx := l.store(t, st.entry)
				durable := l.w.fl.durable.Load()
				if st.deferred && durable != before {
					t.Fatalf("step %d: durable moved %d -> %d, want the flush deferred", i, before, durable)
				}
				if !st.deferred && durable != idx {
					t.Fatalf("step %d: durable %d after storing %d, want it flushed", i, durable, idx)
				}
				if got := l.w.fl.written.Load(); got != idx {
					t.Fatalf("step %d: written %d, want %d", i, got, idx)
				}
			}
		})
	}
}

// TestLogFlusherSyncThrough checks that SyncThrough flushes once for
// everything written, that a later call for flushed entries costs no
// flush, that a join flushes what was deferred before its configuration
// is stored, and that Close flushes what is left.
func TestLogFlusherSyncThrough(t *testing.T) {
	l := openFlushLog(t, t.TempDir(), nil, 0)
	l.store(t, configuration("a"))
	l.store(t, command())
	third := l.store(t, command(), command())
	base := l.flushes()
	if err := l.w.fl.SyncThrough(third); err != nil {
		t.Fatal(err)
	}
	if got := l.flushes() - base; got != 1 {
		t.Fatalf("%d flushes for entries up to %d, want 1", got, third)
	}
	if err := l.w.fl.SyncThrough(third - 1); err != nil {
		t.Fatal(err)
	}
	// An index past the log (a restored snapshot) needs nothing.
	if err := l.w.fl.SyncThrough(third + 100); err != nil {
		t.Fatal(err)
	}
	if got := l.flushes() - base; got != 1 {
		t.Fatalf("%d flushes, want still 1", got)
	}

	deferred := l.store(t, command())
	if l.w.fl.durable.Load() >= deferred {
		t.Fatal("entry flushed at store, want it deferred")
	}
	join := l.store(t, configuration("a", "b"))
	if got := l.w.fl.durable.Load(); got != join {
		t.Fatalf("durable %d after the join's configuration %d", got, join)
	}

	// Close flushes a deferred tail.
	l2 := openFlushLog(t, t.TempDir(), nil, 0)
	l2.store(t, configuration("a"))
	last := l2.store(t, command())
	if err := l2.w.Close(); err != nil {
		t.Fatal(err)
	}
	l2.closed = true
	if got := l2.w.fl.durable.Load(); got != last {
		t.Fatalf("durable %d after Close, want %d", got, last)
	}
	if err := l2.w.fl.SyncThrough(last); err != nil {
		t.Fatalf("SyncThrough of flushed entries after Close: %v", err)
	}
}

// TestLogFlusherRestart checks that a node that starts alone in its
// configuration defers again, and one that starts in a larger one does
// not.
func TestLogFlusherRestart(t *testing.T) {
	for _, tc := range []struct {
		conf     []raft.ServerID
		deferred bool
	}{
		{[]raft.ServerID{"a"}, true},
		{[]raft.ServerID{"a", "b", "c"}, false},
	} {
		dir := t.TempDir()
		l := openFlushLog(t, dir, nil, 0)
		l.store(t, configuration(tc.conf...))
		if err := l.w.Close(); err != nil {
			t.Fatal(err)
		}
		l.closed = true
		l = openFlushLog(t, dir, tc.conf, 1)
		idx := l.store(t, command())
		if got := l.w.fl.durable.Load() < idx; got != tc.deferred {
			t.Errorf("configuration %v after restart: deferred = %v, want %v", tc.conf, got, tc.deferred)
		}
	}
}

// TestLogFlusherFailure checks that a failed flush is never taken for a
// durable one: the SyncThrough that hit it, later ones and later stores
// all fail.
func TestLogFlusherFailure(t *testing.T) {
	l := openFlushLog(t, filepath.Join(t.TempDir(), "wal"), nil, 0)
	l.store(t, configuration("a"))
	idx := l.store(t, command())
	boom := errors.New("boom")
	l.w.fl.flushFile = func(*dataSyncFile) error { return boom }
	if err := l.w.fl.SyncThrough(idx); !errors.Is(err, boom) {
		t.Fatalf("SyncThrough = %v, want %v", err, boom)
	}
	l.w.fl.flushFile = nil
	if err := l.w.fl.SyncThrough(idx); !errors.Is(err, boom) {
		t.Fatalf("second SyncThrough = %v, want the first failure", err)
	}
	if got := l.w.fl.durable.Load(); got >= idx {
		t.Fatalf("durable %d after a failed flush of %d", got, idx)
	}
	e := command()
	e.Index, e.Term = l.next, 1
	if err := l.w.StoreLogs([]*raft.Log{e}); !errors.Is(err, boom) {
		t.Fatalf("StoreLogs after a failed flush = %v, want %v", err, boom)
	}
}

// TestLogFlusherConcurrent stores and syncs from several goroutines (run
// with -race): every SyncThrough returns with its index durable, and the
// callers share flushes.
func TestLogFlusherConcurrent(t *testing.T) {
	l := openFlushLog(t, t.TempDir(), nil, 0)
	l.store(t, configuration("a"))
	const writes = 400
	idx := make(chan uint64, writes)
	var wg sync.WaitGroup
	errs := make(chan error, writes)
	for range 4 {
		wg.Go(func() {
			for i := range idx {
				if err := l.w.fl.SyncThrough(i); err != nil {
					errs <- err
					return
				}
				if got := l.w.fl.durable.Load(); got < i {
					errs <- errors.New("SyncThrough returned before its index was durable")
					return
				}
			}
		})
	}
	base := l.flushes()
	for range writes {
		idx <- l.store(t, command())
	}
	close(idx)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := l.flushes() - base; got > writes {
		t.Fatalf("%d flushes for %d writes", got, writes)
	}
}

// proposeIndex proposes cmd, waits for its reply and returns its entry's
// index.
func proposeIndex(t *testing.T, n *Node, cmd fsm.Command) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := n.Propose(cmd)
	if _, err := p.Wait(ctx); err != nil {
		t.Fatalf("%s: %v", cmd.Argv[0], err)
	}
	if p.Index() == 0 {
		t.Fatal("applied write without an index")
	}
	return p.Index()
}

// TestLoneVoterFlushesOnReply checks a real node: alone, it applies a
// write before flushing it, and SyncThrough or a snapshot flushes it; once a node joins,
// the leader flushed everything first and flushes every store again; in
// a cluster of three no node ever defers.
func TestLoneVoterFlushesOnReply(t *testing.T) {
	n := startCluster(t, 1)[0]
	waitLeader(t, n)
	idx := proposeIndex(t, n, xadd("s", 1))
	fl := n.store.flusher
	if fl.durable.Load() >= idx {
		t.Fatalf("lone voter: entry %d durable (%d) before any reply asked", idx, fl.durable.Load())
	}
	if err := n.SyncThrough(idx); err != nil {
		t.Fatal(err)
	}
	if fl.durable.Load() < idx {
		t.Fatalf("SyncThrough(%d) returned with durable %d", idx, fl.durable.Load())
	}
	// A snapshot flushes the log first.
	snapped := proposeIndex(t, n, xadd("s", 2))
	if fl.durable.Load() >= snapped {
		t.Fatalf("entry %d durable before any reply or snapshot asked", snapped)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fl.durable.Load(); got < snapped {
		t.Fatalf("snapshot taken with entry %d applied but not durable (%d)", snapped, got)
	}
	deferred := proposeIndex(t, n, xadd("s", 3))

	jcfg := testConfig(t, "j", t.TempDir())
	jcfg.Join = []string{n.RaftAddr()}
	j := openNode(t, jcfg)
	t.Cleanup(func() { _ = j.Close() })
	waitFor(t, 15*time.Second, "j to be a voter", func() bool {
		m, ok := memberByID(t, n, "j")
		return ok && m.Suffrage == "voter"
	})
	if got := fl.durable.Load(); got < deferred {
		t.Fatalf("after a join, entry %d still not durable (%d)", deferred, got)
	}
	idx = proposeIndex(t, n, xadd("s", 4))
	if got := fl.durable.Load(); got < idx {
		t.Fatalf("with two members, entry %d applied before it was durable (%d)", idx, got)
	}
	waitConverged(t, n, []*Node{n, j})

	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes...)
	for i := range 20 {
		proposeIndex(t, leader, xadd("s", i))
		for _, m := range nodes {
			// written first: an append flushed at once stores durable
			// before written, so durable can only have moved past it.
			w := m.store.flusher.written.Load()
			if d := m.store.flusher.durable.Load(); d < w {
				t.Fatalf("%s: written %d, durable %d: a member of three deferred a flush", m.cfg.NodeID, w, d)
			}
		}
	}
}
