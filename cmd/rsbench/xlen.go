package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"
)

// xlenPoll is how often xlen mode asks again: fine against the seconds a
// restart or a snapshot install takes, cheap for the node.
const xlenPoll = 10 * time.Millisecond

// runXLenMode measures how long a node takes to serve a stream in full
// after it was (re)started or joined: from the tool's start it dials the
// node until it answers, then polls XLEN -key until it reaches -entries,
// retrying connection failures and error replies (no leader yet, still
// loading) until -timeout. With -readonly the node answers from its own
// state (READONLY), which a follower does once it has the entries; without
// it XLEN is a linearizable read, which also waits for a leader.
func runXLenMode(ctx context.Context, o *options, stdout io.Writer) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var last string
	tick := time.NewTicker(xlenPoll)
	defer tick.Stop()
	for {
		n, err := pollXLen(ctx, o, start)
		if err == nil {
			elapsed := time.Since(start)
			workload := o.workloadOr(fmt.Sprintf("serve %d entries", o.entries))
			switch o.format {
			case "metrics":
				writeMetrics(stdout, o.label, workload, metric{"seconds", elapsed.Seconds()})
			case "md":
				fmt.Fprintf(stdout, "| %s | %s | %.3f s |\n", o.label, workload, elapsed.Seconds())
			default:
				fmt.Fprintf(stdout, "%s: XLEN %s = %d after %.3f s\n", o.label, o.key, n, elapsed.Seconds())
			}
			return nil
		}
		// A poll cut short by the deadline says less than the one before.
		if last == "" || ctx.Err() == nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("XLEN %s on %s did not reach %d within %v (last: %s)", o.key, o.addr, o.entries, o.timeout, last)
		case <-tick.C:
		}
	}
}

// pollXLen dials once and polls XLEN on that connection until it reaches
// o.entries (nil error) or the connection fails.
func pollXLen(ctx context.Context, o *options, start time.Time) (int64, error) {
	c, err := dial(ctx, o.addr, o.proto, time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetTimeout(o.timeout)
	if o.readonly {
		if v, err := c.Do("READONLY"); err != nil {
			return 0, err
		} else if v.IsError() {
			return 0, fmt.Errorf("READONLY: %s", v.Str)
		}
	}
	tick := time.NewTicker(xlenPoll)
	defer tick.Stop()
	for {
		v, err := c.Do("XLEN", o.key)
		if err != nil {
			return 0, err
		}
		if !v.IsError() {
			n, err := strconv.ParseInt(v.Str, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("XLEN reply %q: %w", v.Str, err)
			}
			if n >= int64(o.entries) {
				return n, nil
			}
		}
		select {
		case <-ctx.Done():
			if v.IsError() {
				return 0, fmt.Errorf("XLEN: %s", v.Str)
			}
			return 0, fmt.Errorf("XLEN %s = %s after %v", o.key, v.Str, time.Since(start).Round(time.Millisecond))
		case <-tick.C:
		}
	}
}
