package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Trace-gaps mode (-mode tracegaps) reads the output of
//
//	perf trace -p <server pid> -e fdatasync,pwrite64,write
//
// taken while one client XADDs in a loop, and reports where a lone
// write's time goes on the server (trace.sh runs it): the p50 of the
// flush itself and of the gaps between the system calls of one write:
// flush end to the reply's write, the reply's write to the next log
// write (the client's round trip, the server's read and its way to the
// log), the log write to the flush. The log's descriptor is the one
// fdatasync is called on; a write to any other descriptor is a reply.

// traceLine matches a completed call: time and duration in ms, the
// comm/tid, the call and its first argument's descriptor.
var traceLine = regexp.MustCompile(`^\s*([\d.]+) \(\s*([\d.]+) ms\):\s*\S+\s+(fdatasync|pwrite64|write)\((?:fd: (\d+))?`)

type traceCall struct {
	start, dur time.Duration
	name, fd   string
}

type traceGaps struct {
	flush, flushToReply, replyToLog, logToFlush []time.Duration
}

func parseTrace(r io.Reader) ([]traceCall, error) {
	var calls []traceCall
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	ms := func(s string) time.Duration {
		f, _ := strconv.ParseFloat(s, 64) // the pattern admits digits and dots only
		return time.Duration(f * float64(time.Millisecond))
	}
	for sc.Scan() {
		m := traceLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue // a call split by another thread's, perf's own lines
		}
		calls = append(calls, traceCall{start: ms(m[1]), dur: ms(m[2]), name: m[3], fd: m[4]})
	}
	return calls, sc.Err()
}

func gapsOf(calls []traceCall) (traceGaps, error) {
	var g traceGaps
	logFD := ""
	for _, c := range calls {
		if c.name == "fdatasync" {
			logFD = c.fd
		}
	}
	if logFD == "" {
		return g, errors.New("no fdatasync in the trace")
	}
	isLog := func(c traceCall) bool { return c.name == "pwrite64" || c.name == "write" && c.fd == logFD }
	isReply := func(c traceCall) bool { return c.name == "write" && c.fd != logFD }
	for i, c := range calls {
		if c.name == "fdatasync" {
			g.flush = append(g.flush, c.dur)
		}
		if i+1 == len(calls) {
			break
		}
		next := calls[i+1]
		gap := next.start - (c.start + c.dur)
		switch {
		case c.name == "fdatasync" && isReply(next):
			g.flushToReply = append(g.flushToReply, gap)
		case isReply(c) && isLog(next):
			g.replyToLog = append(g.replyToLog, gap)
		case isLog(c) && next.name == "fdatasync":
			g.logToFlush = append(g.logToFlush, gap)
		}
	}
	return g, nil
}

func p50(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func runTraceGapsMode(r io.Reader, o *options, stdout io.Writer) error {
	calls, err := parseTrace(r)
	if err != nil {
		return fmt.Errorf("reading the trace: %w", err)
	}
	g, err := gapsOf(calls)
	if err != nil {
		return err
	}
	us := func(d []time.Duration) float64 { return float64(p50(d)) / float64(time.Microsecond) }
	ms := []metric{
		{"fdatasync p50 µs", us(g.flush)},
		{"flush end -> reply p50 µs", us(g.flushToReply)},
		{"reply -> next log write p50 µs", us(g.replyToLog)},
		{"log write -> flush p50 µs", us(g.logToFlush)},
	}
	workload := o.workloadOr("xadd c=1 trace")
	if o.format == "metrics" {
		writeMetrics(stdout, o.label, workload, ms...)
		return nil
	}
	for _, m := range ms {
		fmt.Fprintf(stdout, "%s %s: %.0f\n", o.label, m.name, m.value)
	}
	return nil
}
