package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBigXADDMeasure measures what one big XADD costs a single node, for
// docs/verification.md (issue 12: "a large XADD costs <= 2x its size in RSS
// and never blocks other clients' commands for more than a few ms beyond
// its own commit"). It is a measurement, not a check, so it only runs when
// asked:
//
//	RAFTSTREAM_MEASURE_BIGXADD=1,16,60 RAFTSTREAM_MEASURE_RUNS=3 go test -run TestBigXADDMeasure -v ./e2e
//
// For each size (MiB) and run it starts a fresh node, samples the process's
// VmRSS every millisecond, has another client PING every 2 ms, and sends
// one XADD of a value that size. It logs the RSS peak growth over the value
// size, the XADD's latency, and the PINGs' median, p99 and maximum latency
// from the XADD's start until 100 ms after its reply; then the medians over
// the runs. RAFTSTREAM_MEASURE_PPROF=dir also saves the node's allocation
// profile before and after each XADD (compare with `go tool pprof
// -sample_index=alloc_space -base before after`).
func TestBigXADDMeasure(t *testing.T) {
	spec := os.Getenv("RAFTSTREAM_MEASURE_BIGXADD")
	if spec == "" || targetIsRedis() {
		t.Skip("set RAFTSTREAM_MEASURE_BIGXADD=1,16,60 (MiB) to measure")
	}
	runs := 3
	if v, err := strconv.Atoi(os.Getenv("RAFTSTREAM_MEASURE_RUNS")); err == nil && v > 0 {
		runs = v
	}
	profDir := os.Getenv("RAFTSTREAM_MEASURE_PPROF")
	for _, f := range strings.Split(spec, ",") {
		mib, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatalf("RAFTSTREAM_MEASURE_BIGXADD: %v", err)
		}
		var ratios, xadds, p50s, p99s, maxes []float64
		for run := 0; run < runs; run++ {
			m := measureBigXADD(t, mib<<20, profDir, fmt.Sprintf("%dmib-%d", mib, run))
			t.Logf("%d MiB run %d: RSS %d -> peak %d MB (+%.2fx the value), XADD %v, PING p50 %.2f ms p99 %.2f ms max %.2f ms (%d pings)",
				mib, run, m.base>>20, m.peak>>20, m.ratio, m.xadd.Round(time.Millisecond), m.p50, m.p99, m.max, m.pings)
			ratios = append(ratios, m.ratio)
			xadds = append(xadds, float64(m.xadd.Milliseconds()))
			p50s, p99s, maxes = append(p50s, m.p50), append(p99s, m.p99), append(maxes, m.max)
		}
		t.Logf("MEDIAN %d MiB over %d runs: RSS growth %.2fx, XADD %.0f ms, PING p50 %.2f ms, p99 %.2f ms, max %.2f ms",
			mib, runs, median(ratios), median(xadds), median(p50s), median(p99s), median(maxes))
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

type bigXADDResult struct {
	base, peak    int64
	ratio         float64
	xadd          time.Duration
	p50, p99, max float64 // PING latency, ms
	pings         int
}

func measureBigXADD(t *testing.T, size int, profDir, label string) bigXADDResult {
	var extra []string
	var pprofAddr string
	if profDir != "" {
		ports, err := freePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		pprofAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		extra = append(extra, "--pprof-listen", pprofAddr)
	}
	p := StartNode(t, extra...)
	defer p.Kill()
	p.mu.Lock()
	pid := p.run.cmd.Process.Pid
	p.mu.Unlock()

	c := dialRaw(t, p.Addr)
	c.timeout = 5 * time.Minute
	if r := c.MustDo(t, "XADD", "warm", "*", "f", "v"); r[0] != '$' {
		t.Fatalf("XADD: %q", r)
	}
	req := encodeCommand("XADD", "big", "*", "f", strings.Repeat("v", size))
	saveProfile(t, pprofAddr, profDir, label+"-before")
	var res bigXADDResult
	base, err := vmRSS(pid)
	must(t, err)
	res.base = base

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peak int64
	wg.Add(2)
	go func() { // RSS sampler
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v, err := vmRSS(pid); err == nil && v > peak {
				peak = v
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var lat []float64
	pinger, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pinger.Close()
	pc := newRawConn(pinger)
	go func() { // another client's PING every 2 ms
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			start := time.Now()
			if r, err := pc.Do("PING"); err != nil || string(r) != "+PONG\r\n" {
				t.Errorf("PING: %q %v", r, err)
				return
			}
			lat = append(lat, float64(time.Since(start).Microseconds())/1000)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	if err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	r, err := c.ReadReply()
	res.xadd = time.Since(start)
	if err != nil || r[0] != '$' {
		t.Fatalf("XADD of %d bytes: %.80q %v", size, r, err)
	}
	time.Sleep(100 * time.Millisecond) // the tail of the apply's effects, for the PING figures
	close(stop)
	wg.Wait()
	saveProfile(t, pprofAddr, profDir, label+"-after")
	res.peak = peak
	res.ratio = float64(peak-res.base) / float64(size)
	res.pings = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		res.p50, res.p99, res.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return res
}

// vmRSS reads a process's resident set size from /proc.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// saveProfile saves the node's allocation profile as dir/name.pb.gz,
// after collections (a profile shows allocations up to the last one).
func saveProfile(t *testing.T, addr, dir, name string) {
	if addr == "" {
		return
	}
	var b []byte
	// Twice: the runtime publishes a cycle's allocations only at the end
	// of the next one.
	for range 2 {
		resp, err := http.Get("http://" + addr + "/debug/pprof/allocs?gc=1")
		if err != nil {
			t.Fatalf("allocation profile: %v", err)
		}
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, name+".pb.gz"), b, 0o644))
}
