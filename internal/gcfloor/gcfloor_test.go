package gcfloor

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name        string
		floor, live uint64
		base, want  int
	}{
		{"no live heap yet", 64 * mib, 0, 100, maxPercent},
		{"tiny heap is capped", 64 * mib, 1000, 100, maxPercent},
		{"small heap reaches the floor", 64 * mib, 4 * mib, 100, 1500},
		{"heap at half the floor", 64 * mib, 32 * mib, 100, 100},
		{"heap past half the floor keeps GOGC", 64 * mib, 40 * mib, 100, 100},
		{"heap past the floor keeps GOGC", 64 * mib, 200 * mib, 100, 100},
		{"a higher GOGC is kept", 64 * mib, 16 * mib, 400, 400},
		{"a lower GOGC is raised", 64 * mib, 16 * mib, 50, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percent(tc.floor, tc.live, tc.base); got != tc.want {
				t.Fatalf("percent(%d, %d, %d) = %d, want %d", tc.floor, tc.live, tc.base, got, tc.want)
			}
		})
	}
}

func TestEnvPercent(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
		ok   bool
	}{
		{"", 100, true},
		{"200", 200, true},
		{"off", 0, false},
		{"0", 0, false},
		{"-1", -1, false},
		{"junk", 100, true},
	} {
		if got, ok := envPercent(tc.env); got != tc.want || ok != tc.ok {
			t.Errorf("envPercent(%q) = %d, %v; want %d, %v", tc.env, got, ok, tc.want, tc.ok)
		}
	}
}

// gcPercent reads the current setting without writing it, which could
// undo a write of the cleanup running at the same time.
func gcPercent(t *testing.T) int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("runtime/metrics has no %s", s[0].Name)
	}
	return int(s[0].Value.Uint64())
}

// TestStartRaisesAndStopRestores runs the real callback: after a
// collection of a small heap the percentage is raised towards the floor,
// and Stop puts GOGC's back.
func TestStartRaisesAndStopRestores(t *testing.T) {
	t.Setenv("GOGC", "")
	if Start(0) != nil {
		t.Fatal("Start(0) tunes the collector")
	}
	f := Start(1 << 30)
	if f == nil {
		t.Fatal("Start(1 GiB) returned nil with GOGC unset")
	}
	deadline := time.Now().Add(10 * time.Second)
	for gcPercent(t) <= 100 {
		if time.Now().After(deadline) {
			f.Stop()
			t.Fatalf("GC percentage still %d after collections with a 1 GiB floor", gcPercent(t))
		}
		runtime.GC()
		// The cleanup runs on its own goroutine after the cycle.
		runtime.Gosched()
	}
	f.Stop()
	if p := gcPercent(t); p != 100 {
		t.Fatalf("after Stop the GC percentage is %d, want GOGC's 100", p)
	}
	// A cleanup already queued must not raise it again.
	runtime.GC()
	runtime.GC()
	if p := gcPercent(t); p != 100 {
		t.Fatalf("after Stop and two collections the GC percentage is %d, want 100", p)
	}
}

func TestStartOffWithGOGCOff(t *testing.T) {
	t.Setenv("GOGC", "off")
	if f := Start(64 << 20); f != nil {
		f.Stop()
		t.Fatal("Start tuned a collector that GOGC=off turned off")
	}
}
