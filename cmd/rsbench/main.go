package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "rsbench:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	addr      string
	mode      string
	clients   int
	pipeline  int
	duration  time.Duration
	requests  int64
	mix       string
	valueSize int
	keys      int
	proto     int
	prefix    string
	runs      int
	format    string
	label     string
	workload  string
	entries   int
	key       string
	readonly  bool
	baseline  string
	waitRepl  int
	settle    time.Duration
	timeout   time.Duration
	noCleanup bool
	freeport  bool

	// clientName: see the -client-name flag.
	clientName string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("rsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:6379", "server address host:port")
	fs.StringVar(&o.mode, "mode", "load", "load: closed-loop throughput and latency; memory: bytes per stream entry; queue: task queue and XREAD/XREADGROUP wake-up; xlen: time until a stream holds -entries entries; report: median table of -format metrics lines read from stdin; tracegaps: where a lone write's time goes, from perf trace output on stdin (trace.sh)")
	fs.IntVar(&o.clients, "clients", 50, "concurrent connections")
	fs.IntVar(&o.pipeline, "pipeline", 1, "commands per round trip on each connection")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each run (load mode)")
	fs.Int64Var(&o.requests, "requests", 0, "stop each run after this many commands instead of -duration (0: use -duration)")
	fs.StringVar(&o.mix, "mix", "xadd", "commands, with weights assigning clients to them: e.g. xadd or xadd=8,xreadgroup=4 (xadd, xrange, xrevrange, xlen, xread, xreadgroup; xaddwait: each XADD followed by WAIT 1 0)")
	fs.IntVar(&o.valueSize, "value-size", 16, "bytes in the XADD field value")
	fs.IntVar(&o.keys, "keys", 1, "number of streams the clients spread over")
	fs.IntVar(&o.proto, "proto", 2, "RESP version (2, or 3 via HELLO 3)")
	fs.StringVar(&o.clientName, "client-name", "", "load mode: every connection sends CLIENT SETNAME with this name (as a go-redis pool with ClientName does), and each XADD's value is made unique (client and sequence number, padded to -value-size), so raftstream's --auto-idempotent stores every XADD; empty: no name, every XADD the same value")
	fs.StringVar(&o.prefix, "prefix", "rsbench", "key prefix; every run uses fresh keys under it")
	fs.IntVar(&o.runs, "runs", 1, "repeat the workload this many times and report the median")
	fs.StringVar(&o.format, "format", "text", "text; md for a markdown table row of the median; metrics for one tab-separated line per figure and run (label, workload, metric, value), the input of -mode report")
	fs.StringVar(&o.label, "label", "", "label for the report (default: the address)")
	fs.StringVar(&o.workload, "workload", "", "workload name in md and metrics output (default: derived from the mode and flags)")
	fs.IntVar(&o.entries, "entries", 1_000_000, "entries to load (memory mode) or to wait for (xlen mode)")
	fs.StringVar(&o.key, "key", "", "stream key of memory and xlen modes (memory default: a fresh key under -prefix)")
	fs.BoolVar(&o.readonly, "readonly", false, "xlen mode: send READONLY first, so a follower answers from its own state")
	fs.StringVar(&o.baseline, "baseline", "", "report mode: label the other labels' figures are divided by (empty: no ratio columns)")
	fs.IntVar(&o.waitRepl, "wait-replicas", 1, "numreplicas of the WAIT after each XADD of the xaddwait mix")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "memory mode: how long to watch used_memory before and after loading")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound on each round trip and dial")
	fs.BoolVar(&o.noCleanup, "no-cleanup", false, "keep the benchmark keys instead of deleting them after each run")
	fs.BoolVar(&o.freeport, "freeport", false, "print a free loopback TCP port and exit (for scripts)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: rsbench [flags]\n\nLoad generator and memory probe for raftstream and Redis.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.clients < 1:
		return nil, errors.New("-clients must be >= 1")
	case o.pipeline < 1:
		return nil, errors.New("-pipeline must be >= 1")
	case o.keys < 1:
		return nil, errors.New("-keys must be >= 1")
	case o.runs < 1:
		return nil, errors.New("-runs must be >= 1")
	case o.proto != 2 && o.proto != 3:
		return nil, errors.New("-proto must be 2 or 3")
	case o.format != "text" && o.format != "md" && o.format != "metrics":
		return nil, errors.New("-format must be text, md or metrics")
	case !slices.Contains([]string{"load", "memory", "queue", "xlen", "report", "tracegaps"}, o.mode):
		return nil, errors.New("-mode must be load, memory, queue, xlen, report or tracegaps")
	case o.valueSize < 0:
		return nil, errors.New("-value-size must be >= 0")
	case o.waitRepl < 0:
		return nil, errors.New("-wait-replicas must be >= 0")
	case o.mode == "xlen" && o.key == "":
		return nil, errors.New("-mode xlen needs -key")
	case strings.ContainsAny(o.label+o.workload, "\t\n"):
		return nil, errors.New("-label and -workload must not contain tabs or newlines")
	}
	if o.label == "" {
		o.label = o.addr
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.freeport {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		fmt.Fprintln(stdout, l.Addr().(*net.TCPAddr).Port)
		return nil
	}
	switch o.mode {
	case "memory":
		return runMemoryMode(ctx, o, stdout, stderr)
	case "queue":
		return runQueueMode(ctx, o, stdout, stderr) // queue.go
	case "xlen":
		return runXLenMode(ctx, o, stdout) // xlen.go
	case "report":
		return runReport(os.Stdin, stdout, o.baseline) // report.go
	case "tracegaps":
		return runTraceGapsMode(os.Stdin, o, stdout) // tracegaps.go
	}
	return runLoadMode(ctx, o, stdout, stderr)
}

func runLoadMode(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	mix, err := parseMix(o.mix)
	if err != nil {
		return err
	}
	cfg := loadConfig{
		addr: o.addr, proto: o.proto, clients: o.clients, pipeline: o.pipeline,
		duration: o.duration, requests: o.requests, mix: mix, valueSize: o.valueSize,
		keys: o.keys, prefix: o.prefix, timeout: o.timeout, cleanup: !o.noCleanup,
		waitReplicas: o.waitRepl, clientName: o.clientName,
	}
	if cfg.requests > 0 {
		cfg.duration = 24 * time.Hour // the request budget ends the run
	}
	workload := o.workloadOr(fmt.Sprintf("%s c=%d P=%d", o.mix, o.clients, o.pipeline))
	var results []*result
	for r := 0; r < o.runs; r++ {
		res, err := runLoad(ctx, cfg, r)
		if err != nil {
			return fmt.Errorf("run %d: %w", r+1, err)
		}
		results = append(results, res)
		fmt.Fprintf(o.runLog(stdout, stderr), "%s run %d/%d: %s\n", o.label, r+1, o.runs, describe(res))
		if o.format == "metrics" {
			writeMetrics(stdout, o.label, workload,
				metric{"ops/s", res.opsPerSec()}, metric{"p50 ms", ms(res.lat.Quantile(0.5))}, metric{"p99 ms", ms(res.lat.Quantile(0.99))})
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	med := medians(results)
	switch o.format {
	case "metrics":
		return nil
	case "md":
		fmt.Fprintf(stdout, "| %s | %s | %.0f | %.3f | %.3f |\n", o.label, workload, med.opsPerSec, ms(med.p50), ms(med.p99))
		return nil
	}
	if o.runs > 1 {
		fmt.Fprintf(stdout, "%s median of %d: %.0f ops/s p50=%.3fms p90=%.3fms p99=%.3fms\n",
			o.label, o.runs, med.opsPerSec, ms(med.p50), ms(med.p90), ms(med.p99))
	}
	return nil
}

func describe(r *result) string {
	s := fmt.Sprintf("%d ops in %.2fs = %.0f ops/s, latency p50=%.3fms p90=%.3fms p99=%.3fms p99.9=%.3fms max=%.3fms",
		r.ops, r.elapsed.Seconds(), r.opsPerSec(),
		ms(r.lat.Quantile(0.5)), ms(r.lat.Quantile(0.9)), ms(r.lat.Quantile(0.99)), ms(r.lat.Quantile(0.999)), ms(r.lat.max))
	if r.consumed > 0 {
		s += fmt.Sprintf(", consumed %.0f entries/s", float64(r.consumed)/r.elapsed.Seconds())
	}
	if r.errors > 0 {
		s += fmt.Sprintf(", %d errors (first: %s)", r.errors, r.firstErr)
	}
	return s
}

// summary is the median of each figure over runs.
type summary struct {
	opsPerSec     float64
	p50, p90, p99 time.Duration
}

func medians(rs []*result) summary {
	ops := make([]float64, len(rs))
	var p50, p90, p99 []time.Duration
	for i, r := range rs {
		ops[i] = r.opsPerSec()
		p50 = append(p50, r.lat.Quantile(0.5))
		p90 = append(p90, r.lat.Quantile(0.9))
		p99 = append(p99, r.lat.Quantile(0.99))
	}
	return summary{opsPerSec: median(ops), p50: median(p50), p90: median(p90), p99: median(p99)}
}

// median returns the middle value (the lower middle for an even count).
func median[T float64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// workloadOr returns -workload if given, else the derived name.
func (o *options) workloadOr(derived string) string {
	if o.workload != "" {
		return o.workload
	}
	return derived
}

// runLog is where per-run lines go: stdout for text, stderr when stdout
// carries a table row or metrics lines.
func (o *options) runLog(stdout, stderr io.Writer) io.Writer {
	if o.format == "text" {
		return stdout
	}
	return stderr
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func runMemoryMode(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	cfg := memConfig{
		addr: o.addr, entries: o.entries, clients: min(o.clients, 8), pipeline: max(o.pipeline, 64),
		prefix: o.prefix, key: o.key, settle: o.settle, timeout: o.timeout, cleanup: !o.noCleanup,
	}
	workload := o.workloadOr(fmt.Sprintf("memory, %d entries x 3 fields", o.entries))
	var per []float64
	for r := 0; r < o.runs; r++ {
		res, err := runMemory(ctx, cfg)
		if err != nil {
			return fmt.Errorf("memory run %d: %w", r+1, err)
		}
		per = append(per, res.perEntry())
		fmt.Fprintf(o.runLog(stdout, stderr), "%s memory run %d/%d: used_memory %d -> %d over %d entries = %.1f bytes/entry (load %.1fs)\n",
			o.label, r+1, o.runs, res.before, res.after, res.entries, res.perEntry(), res.loadTime.Seconds())
		if o.format == "metrics" {
			writeMetrics(stdout, o.label, workload, metric{"bytes/entry", res.perEntry()})
		}
	}
	switch {
	case o.format == "md":
		fmt.Fprintf(stdout, "| %s | %s | %.1f bytes/entry |\n", o.label, workload, median(per))
	case o.format == "text" && o.runs > 1:
		fmt.Fprintf(stdout, "%s median of %d: %.1f bytes/entry\n", o.label, o.runs, median(per))
	}
	return nil
}
