package server

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// cmdStat is one command's INFO commandstats entry.
type cmdStat struct {
	calls    atomic.Int64
	usec     atomic.Int64
	rejected atomic.Int64 // refused before running: arity, NOAUTH, ...
	failed   atomic.Int64 // ran and replied with an error
}

func (c *cmdStat) reset() {
	c.calls.Store(0)
	c.usec.Store(0)
	c.rejected.Store(0)
	c.failed.Store(0)
}

// maxErrorCodes caps errorstats like Redis (ERROR_STATS_NUMBER): error
// codes are mostly fixed strings, but a bound keeps the map small whatever
// the engine replies.
const maxErrorCodes = 128

// stats are the server-wide counters INFO reports.
type stats struct {
	connections  atomic.Int64 // total_connections_received
	rejected     atomic.Int64 // rejected_connections
	commands     atomic.Int64 // total_commands_processed
	netIn        atomic.Int64
	netOut       atomic.Int64
	errorReplies atomic.Int64
	// Clients dropped by maxmemory-clients (evicted_clients), the output
	// buffer limit and the query buffer limit.
	evictedClients   atomic.Int64
	outputLimitDrops atomic.Int64
	queryLimitDrops  atomic.Int64
	// XADDs rewritten to IDMP by automatic idempotency, and XADDs it
	// left alone because their connection had no client name.
	autoIdemXAdds   atomic.Int64
	autoIdemUnnamed atomic.Int64
	// Blocked XREADGROUPs served by a read that rode in the entry of the
	// XADD that woke them (waiters.go, Ride).
	rides atomic.Int64
	// ACL denials (acl_access_denied_auth, _cmd, _key).
	aclDeniedAuth, aclDeniedCmd, aclDeniedKey atomic.Int64

	mu     sync.Mutex
	errors map[string]int64

	inst instantaneous
}

func newStats() *stats { return &stats{errors: make(map[string]int64)} }

// recordError counts an error reply under its code.
func (s *stats) recordError(code string) {
	s.errorReplies.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.errors[code]; ok || len(s.errors) < maxErrorCodes {
		s.errors[code]++
	}
}

// errorCounts returns the error codes and counts, sorted by code.
func (s *stats) errorCounts() (codes []string, counts []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.errors {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		counts = append(counts, s.errors[c])
	}
	return codes, counts
}

// reset implements CONFIG RESETSTAT for the server-wide counters.
func (s *stats) reset() {
	s.connections.Store(0)
	s.rejected.Store(0)
	s.commands.Store(0)
	s.netIn.Store(0)
	s.netOut.Store(0)
	s.errorReplies.Store(0)
	s.evictedClients.Store(0)
	s.outputLimitDrops.Store(0)
	s.queryLimitDrops.Store(0)
	s.aclDeniedAuth.Store(0)
	s.aclDeniedCmd.Store(0)
	s.aclDeniedKey.Store(0)
	s.mu.Lock()
	clear(s.errors)
	s.mu.Unlock()
	s.inst.reset()
}

// Instantaneous metrics are sampled like Redis's serverCron does: every
// 100ms, averaged over the last 16 samples.
const (
	instSamples  = 16
	instInterval = 100 * time.Millisecond
)

type instSeries struct {
	last    int64
	lastAt  time.Time
	samples [instSamples]float64
	idx     int
}

func (is *instSeries) add(now time.Time, v int64) {
	if !is.lastAt.IsZero() {
		if dt := now.Sub(is.lastAt).Seconds(); dt > 0 {
			is.samples[is.idx] = float64(v-is.last) / dt
			is.idx = (is.idx + 1) % instSamples
		}
	}
	is.last, is.lastAt = v, now
}

func (is *instSeries) mean() float64 {
	var sum float64
	for _, v := range is.samples {
		sum += v
	}
	return sum / instSamples
}

// instantaneous holds the ops/sec and network rates.
type instantaneous struct {
	mu            sync.Mutex
	ops, in, outs instSeries
}

func (in *instantaneous) sample(now time.Time, ops, netIn, netOut int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.ops.add(now, ops)
	in.in.add(now, netIn)
	in.outs.add(now, netOut)
}

// rates returns ops/sec and input/output kbps.
func (in *instantaneous) rates() (ops, inKbps, outKbps float64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.ops.mean(), in.in.mean() / 1024, in.outs.mean() / 1024
}

func (in *instantaneous) reset() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.ops, in.in, in.outs = instSeries{}, instSeries{}, instSeries{}
}

// runSampler samples the counters until ctx is done.
func (s *stats) runSampler(ctx context.Context) {
	t := time.NewTicker(instInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.inst.sample(now, s.commands.Load(), s.netIn.Load(), s.netOut.Load())
		}
	}
}

// CommandStat is one command's counters as INFO commandstats reports
// them, for an exporter (the Prometheus endpoint) to read.
type CommandStat struct {
	Name     string // lower case; subcommands as "xinfo|groups"
	Calls    int64
	Usec     int64 // total time spent running the command
	Rejected int64 // refused before running: arity, NOAUTH, ...
	Failed   int64 // ran and replied with an error
}

// CommandStats returns the counters of every command that has been called,
// rejected or failed since the start or the last CONFIG RESETSTAT, in name
// order. It only loads atomics, so it is cheap to call at scrape time.
func (s *Server) CommandStats() []CommandStat {
	var out []CommandStat
	s.table().all(func(c *command) {
		st := s.table().stat(c)
		cs := CommandStat{Name: c.Name(), Calls: st.calls.Load(), Usec: st.usec.Load(),
			Rejected: st.rejected.Load(), Failed: st.failed.Load()}
		if cs.Calls != 0 || cs.Rejected != 0 || cs.Failed != 0 {
			out = append(out, cs)
		}
	})
	return out
}

// ErrorStats returns the error reply counts by error code (INFO
// errorstats), sorted by code.
func (s *Server) ErrorStats() (codes []string, counts []int64) { return s.stats.errorCounts() }
