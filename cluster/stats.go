package cluster

import (
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// Latency and size distributions of the node's write path and snapshots,
// for the Prometheus exporter (metrics/). They are kept here, in plain
// atomic buckets, so that the cluster package does not depend on the
// client library: the exporter reads Node.Stats at scrape time and turns
// each HistogramSnapshot into a Prometheus histogram, as it already does
// with Status for the gauges.

// Histogram counts observations in fixed buckets. Observe is lock-free and
// safe for concurrent use; a nil *Histogram ignores observations.
type Histogram struct {
	bounds []float64       // bucket upper bounds, ascending
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // float64 bits
}

func newHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	if h == nil {
		return
	}
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// observeSince records the seconds since start.
func (h *Histogram) observeSince(start time.Time) { h.Observe(time.Since(start).Seconds()) }

// HistogramSnapshot is a reading of a Histogram, in Prometheus's shape.
type HistogramSnapshot struct {
	// Bounds are the buckets' upper bounds; Cumulative[i] counts the
	// observations at most Bounds[i].
	Bounds     []float64
	Cumulative []uint64
	// Count is every observation (the +Inf bucket), Sum their total.
	Count uint64
	Sum   float64
}

// Snapshot reads h. Count is the sum of the buckets read, so the reading
// is consistent even while observations land.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Bounds: h.bounds, Cumulative: make([]uint64, len(h.bounds))}
	var acc uint64
	for i := range h.counts {
		acc += h.counts[i].Load()
		if i < len(h.bounds) {
			s.Cumulative[i] = acc
		}
	}
	s.Count = acc
	s.Sum = math.Float64frombits(h.sum.Load())
	return s
}

// Bucket bounds. Latencies span a fast disk's 100 µs flush to a stalled
// leader's seconds; snapshots run from milliseconds to minutes and from
// kilobytes to gigabytes.
var (
	latencyBuckets  = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	snapTimeBuckets = []float64{0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	snapSizeBuckets = []float64{1 << 10, 1 << 14, 1 << 17, 1 << 20, 1 << 23, 1 << 26, 1 << 28, 1 << 30, 1 << 32, 1 << 34}
	batchBuckets    = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}
)

// nodeStats are a node's histograms and last-snapshot figures.
type nodeStats struct {
	commit   *Histogram // Propose to reply of a successful write, seconds
	batch    *Histogram // commands per command entry this node packed as leader
	logStore *Histogram // raft log StoreLogs (append and flush), seconds
	logFlush *Histogram // raft-wal segment flush (fdatasync), seconds

	snapSeconds, snapBytes *Histogram // snapshots taken by this node
	restoreSeconds         *Histogram // snapshots restored (startup or from the leader)

	lastSnapBytes, lastSnapNanos       atomic.Int64
	lastRestoreBytes, lastRestoreNanos atomic.Int64
}

func newNodeStats() *nodeStats {
	return &nodeStats{
		commit:         newHistogram(latencyBuckets),
		batch:          newHistogram(batchBuckets),
		logStore:       newHistogram(latencyBuckets),
		logFlush:       newHistogram(latencyBuckets),
		snapSeconds:    newHistogram(snapTimeBuckets),
		snapBytes:      newHistogram(snapSizeBuckets),
		restoreSeconds: newHistogram(snapTimeBuckets),
	}
}

// Stats is a reading of the node's distributions, for the exporter.
type Stats struct {
	// CommitSeconds: from Propose to the reply of each write that
	// succeeded, on the node the client is connected to (so a follower's
	// include the forwarding to the leader).
	CommitSeconds HistogramSnapshot
	// BatchCommands: commands per log entry this node packed as leader
	// (group commit).
	BatchCommands HistogramSnapshot
	// LogStoreSeconds: each write of entries to the Raft log (StoreLogs:
	// append and device flush, one per group commit), on every member.
	LogStoreSeconds HistogramSnapshot
	// LogFlushSeconds: each flush (fdatasync) of a raft-wal segment file;
	// empty with the boltdb log store.
	LogFlushSeconds HistogramSnapshot
	// SnapshotSeconds and SnapshotBytes: snapshots this node took (state
	// clone, encoding and the write to disk, flush included).
	SnapshotSeconds HistogramSnapshot
	SnapshotBytes   HistogramSnapshot
	// RestoreSeconds: snapshots restored, at startup or installed from
	// the leader.
	RestoreSeconds HistogramSnapshot
	// The last snapshot taken and the last restored (zero: none yet).
	LastSnapshotBytes   int64
	LastSnapshotSeconds float64
	LastRestoreBytes    int64
	LastRestoreSeconds  float64
}

// Stats reads the node's latency and size distributions.
func (n *Node) Stats() Stats {
	s := n.stats
	return Stats{
		CommitSeconds:       s.commit.Snapshot(),
		BatchCommands:       s.batch.Snapshot(),
		LogStoreSeconds:     s.logStore.Snapshot(),
		LogFlushSeconds:     s.logFlush.Snapshot(),
		SnapshotSeconds:     s.snapSeconds.Snapshot(),
		SnapshotBytes:       s.snapBytes.Snapshot(),
		RestoreSeconds:      s.restoreSeconds.Snapshot(),
		LastSnapshotBytes:   s.lastSnapBytes.Load(),
		LastSnapshotSeconds: time.Duration(s.lastSnapNanos.Load()).Seconds(),
		LastRestoreBytes:    s.lastRestoreBytes.Load(),
		LastRestoreSeconds:  time.Duration(s.lastRestoreNanos.Load()).Seconds(),
	}
}

// observedFSM is the state machine as raft sees it: snapshots taken and
// restored are timed and measured, and with a LoadProgress the bytes a
// restore reads are counted for INFO persistence. ApplyBatch is the
// embedded FSM's, so raft still applies in batches.
type observedFSM struct {
	*fsm.FSM
	stats *nodeStats
	load  *LoadProgress // nil: not followed
	// flusher is the log's (nil for boltdb): a snapshot never holds an
	// entry the log has not flushed.
	flusher *logFlusher
}

// Snapshot flushes the log, then clones the state; the returned
// snapshot's Persist records the time from here to the flushed file and
// the bytes written.
//
// The flush first: a lone voter applies entries before flushing them
// (logFlusher), and raft compacts the log behind a snapshot, so a
// snapshot of an unflushed entry could leave a machine crash with the
// snapshot and no log after it, which Open refuses.
func (o observedFSM) Snapshot() (raft.FSMSnapshot, error) {
	start := time.Now()
	if err := o.flusher.syncAll(); err != nil {
		return nil, err
	}
	s, err := o.FSM.Snapshot()
	if err != nil {
		return nil, err
	}
	return &observedSnapshot{FSMSnapshot: s, stats: o.stats, start: start}, nil
}

// Restore replaces the state from rc, recording its time and size.
func (o observedFSM) Restore(rc io.ReadCloser) error {
	start := time.Now()
	cr := &countingReader{ReadCloser: rc, n: new(atomic.Int64)}
	if o.load != nil {
		cr.also = &o.load.snapRead
	}
	err := o.FSM.Restore(cr)
	if err == nil {
		d := time.Since(start)
		o.stats.restoreSeconds.Observe(d.Seconds())
		o.stats.lastRestoreNanos.Store(int64(d))
		o.stats.lastRestoreBytes.Store(cr.n.Load())
	}
	return err
}

type observedSnapshot struct {
	raft.FSMSnapshot
	stats *nodeStats
	start time.Time
}

// Persist writes the snapshot through a counting sink.
func (s *observedSnapshot) Persist(sink raft.SnapshotSink) error {
	cs := &countingSink{SnapshotSink: sink}
	if err := s.FSMSnapshot.Persist(cs); err != nil {
		return err
	}
	d := time.Since(s.start)
	s.stats.snapSeconds.Observe(d.Seconds())
	s.stats.snapBytes.Observe(float64(cs.n))
	s.stats.lastSnapNanos.Store(int64(d))
	s.stats.lastSnapBytes.Store(cs.n)
	return nil
}

type countingSink struct {
	raft.SnapshotSink
	n int64 // Persist writes from one goroutine
}

func (c *countingSink) Write(b []byte) (int, error) {
	n, err := c.SnapshotSink.Write(b)
	c.n += int64(n)
	return n, err
}
