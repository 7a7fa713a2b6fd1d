// Package gcfloor keeps the Go collector's heap target from falling below a
// floor while the live heap is small.
//
// With GOGC=100 the collector runs each time the heap doubles. A node whose
// live heap is a few MiB but which allocates a few hundred bytes per
// command (request arguments, Raft log entries, replies) then collects
// many times a second, and every cycle costs CPU that the request path
// needs. A floor under the target, in bytes, makes a small heap grow to
// the floor before it is collected, while a heap already bigger than half
// the floor is collected exactly as GOGC says: the floor costs at most its
// own size in memory and never raises the target of a large heap.
//
// The floor is applied by raising the GC percentage after each cycle from
// the live heap that cycle measured (runtime/metrics "/gc/heap/live:bytes"),
// since Go has a memory limit (GOMEMLIMIT) but no floor. A ballast (a big
// allocation never touched) would do the same but would be counted in the
// heap figures INFO reports.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
)

// maxPercent bounds the percentage set while the live heap is tiny (as
// after start-up), so one cycle's target never runs far past the floor.
const maxPercent = 10_000

// Floor raises the GC percentage of this process while its live heap is
// small. Stop ends it and puts the percentage it found back.
type Floor struct {
	floor  uint64
	base   int // GC percentage found at Start (GOGC)
	sample []metrics.Sample

	// mu orders Stop against a tune already running on the cleanup
	// goroutine, so the last setting written is always Stop's.
	mu      sync.Mutex
	current int
	stopped bool
}

// Start keeps the heap target at no less than floor bytes from the next
// collection on. It returns nil, and changes nothing, when floor is 0 or
// the collector is off (GOGC=off or below 1).
func Start(floor uint64) *Floor {
	if floor == 0 {
		return nil
	}
	base, ok := envPercent(os.Getenv("GOGC"))
	if !ok {
		return nil
	}
	f := &Floor{
		floor:   floor,
		base:    base,
		current: base,
		sample:  []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
	}
	f.arm()
	return f
}

// Stop ends the tuning and restores the GC percentage found at Start.
func (f *Floor) Stop() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.stopped = true
		debug.SetGCPercent(f.base)
	}
}

// arm leaves an unreachable object behind whose cleanup runs after the
// next collection, tunes the percentage and arms again: a callback per GC
// cycle, on the runtime's cleanup goroutine, with no goroutine or timer of
// its own.
func (f *Floor) arm() {
	s := new(sentinel)
	runtime.AddCleanup(s, func(f *Floor) {
		if f.tune() {
			f.arm()
		}
	}, f)
}

// sentinel is big enough not to be batched with other tiny allocations,
// which could keep it reachable and delay its cleanup.
type sentinel struct{ _ [32]byte }

// tune sets the percentage that puts the next target at the floor, or the
// base percentage once the live heap is big enough to pass the floor on
// its own. It writes the setting only when it changes by more than an
// eighth, so a steady heap does not reset it every cycle. It reports false
// once the Floor is stopped.
func (f *Floor) tune() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	metrics.Read(f.sample)
	if f.sample[0].Value.Kind() != metrics.KindUint64 {
		return true
	}
	p := percent(f.floor, f.sample[0].Value.Uint64(), f.base)
	if d := p - f.current; d > f.current/8 || -d > f.current/8 {
		f.current = p
		debug.SetGCPercent(p)
	}
	return true
}

// percent is the GC percentage that puts the heap target of a live heap
// of live bytes at floor bytes, and never below base.
func percent(floor, live uint64, base int) int {
	if live == 0 {
		return maxPercent
	}
	if live >= floor {
		return base
	}
	p := (floor - live) * 100 / live
	switch {
	case p > maxPercent:
		return maxPercent
	case int(p) < base:
		return base
	}
	return int(p)
}

// envPercent reads GOGC as the runtime does (unset or empty: 100), since the
// current setting may already be one a Floor raised. It reports false when
// the collector is off.
func envPercent(v string) (int, bool) {
	if v == "" {
		return 100, true
	}
	if v == "off" {
		return 0, false
	}
	p, err := strconv.Atoi(v)
	if err != nil {
		return 100, true
	}
	return p, p > 0
}
