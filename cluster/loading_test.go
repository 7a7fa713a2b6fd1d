package cluster

import (
	"context"
	"testing"
	"time"
)

// TestLoadProgress: a restarted node reports loading while it restores
// its snapshot (counted in bytes) and until it has applied the log it
// held, then done for good; a fresh node has nothing to load.
func TestLoadProgress(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, "n1", dir)
	cfg.TrailingLogs = 100
	fresh := NewLoadProgress()
	cfg.Loading = fresh
	n := openNode(t, cfg)
	if !fresh.Done() {
		t.Fatal("a fresh node is loading")
	}
	waitLeader(t, n)
	for i := range 30 {
		write(t, n, xadd("s", i))
	}
	if err := n.Snapshot(context.Background()); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	for i := 30; i < 60; i++ {
		write(t, n, xadd("s", i))
	}
	want := linearRead(t, n, "XRANGE", "s", "-", "+")
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	p := NewLoadProgress()
	if st := p.Status(); !st.Loading || p.Done() {
		t.Fatalf("a new progress is not loading: %+v", st)
	}
	cfg.Loading = p
	// Elections wait long enough to see the replay pending.
	cfg.HeartbeatTimeout, cfg.ElectionTimeout = time.Second, time.Second
	n2 := openNode(t, cfg)
	defer n2.Close()
	st := p.Status()
	if st.TotalBytes == 0 || st.LoadedBytes < st.TotalBytes {
		t.Errorf("snapshot bytes: loaded %d of %d", st.LoadedBytes, st.TotalBytes)
	}
	if p.to.Load() <= p.from.Load() {
		t.Fatalf("nothing to replay: from %d to %d", p.from.Load(), p.to.Load())
	}
	waitLeader(t, n2)
	waitFor(t, 10*time.Second, "the replay to finish", p.Done)
	if st := p.Status(); st.Loading || st.Perc != 100 {
		t.Errorf("after the replay: %+v", st)
	}
	if got := linearRead(t, n2, "XRANGE", "s", "-", "+"); got != want {
		t.Fatalf("after restart XRANGE differs")
	}
}
