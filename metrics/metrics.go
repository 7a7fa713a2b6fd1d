// Package metrics exports a node's state in the Prometheus text format,
// served with --metrics-listen at /metrics.
//
// Everything is read at scrape time by a prometheus.Collector: the streams
// and consumer groups from the FSM under its read lock (the same
// engine.State.StreamStats the web console uses), the Raft indexes from
// cluster.Node.Status, the write-path and snapshot histograms from
// cluster.Node.Stats (kept by the cluster package in plain atomic buckets,
// so it needs no Prometheus dependency), and the command counters INFO
// commandstats and errorstats already keep. Nothing is added to the write path, and the
// registry is the exporter's own (no process-wide default registry). Go
// runtime and process metrics are on the same registry.
//
// Per-stream series are capped (Options.MaxStreams) so a keyspace of many
// small streams cannot blow up the scrape; raftstream_streams_truncated
// says when the cap cut the list short.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/server"
)

// Source is what the exporter reads: a running node and its client server
// (NodeSource) or, in tests, a stand-in.
type Source interface {
	Status() cluster.Status
	// Read runs fn on the replicated state; fn must not keep st.
	Read(fn func(st *engine.State))
	// Stats are the node's latency and size histograms.
	Stats() cluster.Stats
	CommandStats() []server.CommandStat
	ErrorStats() (codes []string, counts []int64)
}

type nodeSource struct {
	*cluster.Node
	srv *server.Server
}

// Read runs fn on the state, then waits until the log entries it saw are
// on the device, as a reply does (cluster.Node.SyncThrough): what the
// page shows survives a machine crash. A failed flush leaves the reading
// as it is; the node then refuses every client reply and store.
func (s nodeSource) Read(fn func(st *engine.State)) {
	s.FSM().Read(fn)
	_ = s.SyncThrough(s.FSM().AppliedIndex())
}

func (s nodeSource) CommandStats() []server.CommandStat { return s.srv.CommandStats() }

func (s nodeSource) ErrorStats() ([]string, []int64) { return s.srv.ErrorStats() }

// NodeSource returns the Source of a running node and its client server.
func NodeSource(n *cluster.Node, srv *server.Server) Source { return nodeSource{n, srv} }

// Options configure the exporter. Zero values take the defaults.
type Options struct {
	// MaxStreams caps the streams exported (default 1000).
	MaxStreams int
}

// Handler returns the HTTP handler of /metrics for src, with its own
// registry holding the raftstream collector and the Go runtime and
// process collectors.
func Handler(src Source, opts Options) http.Handler {
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 1000
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newCollector(src, opts),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// collector reads the state at each scrape.
type collector struct {
	src  Source
	opts Options

	streamLen, streamLastMS, streamAdded     *prometheus.Desc
	groupLag, groupPending, groupConsumers   *prometheus.Desc
	truncated                                *prometheus.Desc
	commit, applied, lastLog, term, isLeader *prometheus.Desc
	members, snapIndex, leaderChanges        *prometheus.Desc
	calls, failed, rejected, cmdSeconds      *prometheus.Desc
	errors                                   *prometheus.Desc

	commitSeconds, batchCommands, logStoreSeconds, logFlushSeconds *prometheus.Desc
	snapSeconds, snapBytes, restoreSeconds                         *prometheus.Desc
	lastSnapSeconds, lastSnapBytes                                 *prometheus.Desc
	lastRestoreSeconds, lastRestoreBytes                           *prometheus.Desc
}

func newCollector(src Source, opts Options) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("raftstream_"+name, help, labels, nil)
	}
	sk := []string{"db", "key"}
	gk := []string{"db", "key", "group"}
	return &collector{
		src: src, opts: opts,
		streamLen:      d("stream_length", "Entries in the stream (XLEN).", sk...),
		streamLastMS:   d("stream_last_id_ms", "Milliseconds part of the stream's last ID.", sk...),
		streamAdded:    d("stream_entries_added_total", "Entries ever added to the stream (XINFO STREAM entries-added).", sk...),
		groupLag:       d("group_lag", "Entries not yet delivered to the group (XINFO GROUPS lag); absent when Redis reports null.", gk...),
		groupPending:   d("group_pending", "Entries delivered to the group and not acknowledged (PEL size).", gk...),
		groupConsumers: d("group_consumers", "Consumers in the group.", gk...),
		truncated:      d("streams_truncated", "1 if there were more streams than the exporter's cap and some are missing."),
		commit:         d("raft_commit_index", "Raft commit index known to this node."),
		applied:        d("raft_applied_index", "Last log index applied to this node's state machine."),
		lastLog:        d("raft_last_log_index", "Last index in this node's Raft log."),
		term:           d("raft_term", "Current Raft term."),
		isLeader:       d("raft_is_leader", "1 if this node is the Raft leader."),
		members:        d("raft_members", "Servers in the latest Raft configuration."),
		snapIndex:      d("raft_last_snapshot_index", "Log index of this node's latest snapshot."),
		leaderChanges:  d("raft_leader_changes_total", "Leaders this node saw elected since it started."),
		calls:          d("command_calls_total", "Calls of the command (INFO commandstats calls).", "command"),
		failed:         d("command_failed_calls_total", "Calls that ran and replied with an error (failed_calls).", "command"),
		rejected:       d("command_rejected_calls_total", "Calls refused before running (rejected_calls).", "command"),
		cmdSeconds:     d("command_seconds_total", "Time spent running the command (usec), in seconds.", "command"),
		errors:         d("errors_total", "Error replies by error code (INFO errorstats).", "code"),

		commitSeconds:      d("commit_seconds", "Time from a write's proposal to its reply, for writes that succeeded, on the node the client is connected to (a follower's include forwarding to the leader)."),
		batchCommands:      d("batch_commands", "Commands per Raft log entry this node packed as leader (group commit)."),
		logStoreSeconds:    d("raft_log_store_seconds", "Time of each write of entries to the Raft log (append and device flush)."),
		logFlushSeconds:    d("raft_log_fsync_seconds", "Time of each flush (fdatasync) of a raft-wal segment file; no observations with the boltdb log store."),
		snapSeconds:        d("snapshot_seconds", "Time of each snapshot this node took (state clone, encoding, write and flush)."),
		snapBytes:          d("snapshot_bytes", "Size of each snapshot this node took."),
		restoreSeconds:     d("snapshot_restore_seconds", "Time of each snapshot restore (at startup or installed from the leader)."),
		lastSnapSeconds:    d("last_snapshot_seconds", "Time the last snapshot this node took lasted (0: none since start)."),
		lastSnapBytes:      d("last_snapshot_size_bytes", "Size of the last snapshot this node took (0: none since start)."),
		lastRestoreSeconds: d("last_snapshot_restore_seconds", "Time the last snapshot restore lasted (0: none since start)."),
		lastRestoreBytes:   d("last_snapshot_restore_bytes", "Size of the last snapshot restored (0: none since start)."),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.streamLen, c.streamLastMS, c.streamAdded, c.groupLag, c.groupPending,
		c.groupConsumers, c.truncated, c.commit, c.applied, c.lastLog, c.term, c.isLeader, c.members, c.snapIndex,
		c.leaderChanges, c.calls, c.failed, c.rejected, c.cmdSeconds, c.errors,
		c.commitSeconds, c.batchCommands, c.logStoreSeconds, c.logFlushSeconds, c.snapSeconds, c.snapBytes,
		c.restoreSeconds, c.lastSnapSeconds, c.lastSnapBytes, c.lastRestoreSeconds, c.lastRestoreBytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}

	var stats []engine.StreamStat
	var truncated bool
	c.src.Read(func(st *engine.State) {
		// As the console does: the state's clock is the last leader stamp,
		// so an idle follower still expires what the leader would.
		stats, truncated = st.StreamStats(max(time.Now().UnixMilli(), st.Clock()), c.opts.MaxStreams)
	})
	for _, s := range stats {
		db := strconv.Itoa(s.DB)
		gauge(c.streamLen, float64(s.Length), db, s.Key)
		gauge(c.streamLastMS, float64(s.LastID.Ms), db, s.Key)
		counter(c.streamAdded, float64(s.EntriesAdded), db, s.Key)
		for _, g := range s.Groups {
			if g.Lag >= 0 {
				gauge(c.groupLag, float64(g.Lag), db, s.Key, g.Name)
			}
			gauge(c.groupPending, float64(g.Pending), db, s.Key, g.Name)
			gauge(c.groupConsumers, float64(g.Consumers), db, s.Key, g.Name)
		}
	}
	gauge(c.truncated, b2f(truncated))

	st := c.src.Status()
	gauge(c.commit, float64(st.CommitIndex))
	gauge(c.applied, float64(st.AppliedIndex))
	gauge(c.lastLog, float64(st.LastLogIndex))
	gauge(c.term, float64(st.Term))
	gauge(c.isLeader, b2f(st.State == "leader"))
	gauge(c.members, float64(st.Members))
	gauge(c.snapIndex, float64(st.LastSnapshotIndex))
	counter(c.leaderChanges, float64(st.LeaderChanges))

	for _, cs := range c.src.CommandStats() {
		counter(c.calls, float64(cs.Calls), cs.Name)
		counter(c.failed, float64(cs.Failed), cs.Name)
		counter(c.rejected, float64(cs.Rejected), cs.Name)
		counter(c.cmdSeconds, float64(cs.Usec)/1e6, cs.Name)
	}
	codes, counts := c.src.ErrorStats()
	for i, code := range codes {
		counter(c.errors, float64(counts[i]), code)
	}

	ns := c.src.Stats()
	histogram := func(d *prometheus.Desc, h cluster.HistogramSnapshot) {
		buckets := make(map[float64]uint64, len(h.Bounds))
		for i, b := range h.Bounds {
			buckets[b] = h.Cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets)
	}
	histogram(c.commitSeconds, ns.CommitSeconds)
	histogram(c.batchCommands, ns.BatchCommands)
	histogram(c.logStoreSeconds, ns.LogStoreSeconds)
	histogram(c.logFlushSeconds, ns.LogFlushSeconds)
	histogram(c.snapSeconds, ns.SnapshotSeconds)
	histogram(c.snapBytes, ns.SnapshotBytes)
	histogram(c.restoreSeconds, ns.RestoreSeconds)
	gauge(c.lastSnapSeconds, ns.LastSnapshotSeconds)
	gauge(c.lastSnapBytes, float64(ns.LastSnapshotBytes))
	gauge(c.lastRestoreSeconds, ns.LastRestoreSeconds)
	gauge(c.lastRestoreBytes, float64(ns.LastRestoreBytes))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
