package cluster

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// TestHistogram checks the bucketing (an observation on a bound counts in
// that bucket, as Prometheus's le does), the cumulative reading, the sum,
// and that concurrent observations are all counted.
func TestHistogram(t *testing.T) {
	h := newHistogram([]float64{1, 2, 4})
	for _, v := range []float64{0.5, 1, 1.5, 4, 9} {
		h.Observe(v)
	}
	s := h.Snapshot()
	if !slices.Equal(s.Cumulative, []uint64{2, 3, 4}) || s.Count != 5 || s.Sum != 16 {
		t.Fatalf("snapshot %+v", s)
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				h.Observe(3)
			}
		}()
	}
	wg.Wait()
	if s := h.Snapshot(); s.Count != 4005 || s.Sum != 16+3*4000 || s.Cumulative[2] != 4004 {
		t.Fatalf("after concurrent observations: %+v", s)
	}

	var none *Histogram
	none.Observe(1) // a nil histogram ignores observations
}

// TestNodeStats: writes are counted in the commit and batch histograms
// (every command in exactly one entry), the log writes and wal flushes
// are timed, a snapshot is measured, and restarting restores it with
// the same size.
func TestNodeStats(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, "n1", dir)
	n := openNode(t, cfg)
	waitLeader(t, n)
	const writes = 20
	for i := range writes {
		write(t, n, xadd("s", i))
	}
	if err := n.Snapshot(context.Background()); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	st := n.Stats()
	if st.CommitSeconds.Count != writes || st.CommitSeconds.Sum <= 0 {
		t.Errorf("commit latency: %+v", st.CommitSeconds)
	}
	if st.BatchCommands.Count == 0 || st.BatchCommands.Sum != writes {
		t.Errorf("batch sizes: %+v", st.BatchCommands)
	}
	if st.LogStoreSeconds.Count == 0 || st.LogFlushSeconds.Count == 0 {
		t.Errorf("log store %+v, flush %+v", st.LogStoreSeconds, st.LogFlushSeconds)
	}
	if st.SnapshotSeconds.Count != 1 || st.SnapshotBytes.Count != 1 || st.LastSnapshotBytes <= 0 ||
		st.SnapshotBytes.Sum != float64(st.LastSnapshotBytes) || st.LastSnapshotSeconds <= 0 {
		t.Errorf("snapshot: %+v %+v last %d bytes %v s", st.SnapshotSeconds, st.SnapshotBytes, st.LastSnapshotBytes, st.LastSnapshotSeconds)
	}
	if st.RestoreSeconds.Count != 0 {
		t.Errorf("a fresh node restored: %+v", st.RestoreSeconds)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n2 := openNode(t, cfg)
	defer n2.Close()
	st2 := n2.Stats()
	if st2.RestoreSeconds.Count != 1 || st2.LastRestoreBytes != st.LastSnapshotBytes {
		t.Errorf("restore: %+v, %d bytes (snapshot was %d)", st2.RestoreSeconds, st2.LastRestoreBytes, st.LastSnapshotBytes)
	}
}
