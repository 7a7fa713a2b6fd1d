package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

const transferUsage = `Usage: raftstream transfer-leadership [flags]

If the node at --addr is the Raft leader, asks it to hand leadership to
another voter (RAFT TRANSFER) and waits until it has stepped down; if it is
not the leader, does nothing. Meant for a Kubernetes preStop hook, so that
stopping the leader's pod costs no election timeout: exits 0 when there
was nothing to do, when leadership moved, and also when the server does
not implement RAFT TRANSFER (the cluster then elects a new leader after
the old one stops, as it would without the hook).

Flags:
`

const (
	// transferPoll is how often the step-down is checked for.
	transferPoll = 100 * time.Millisecond
	// transferLearn is how long to wait, after stepping down, to learn
	// the new leader's ID for the message.
	transferLearn = 2 * time.Second
)

// runTransfer is the transfer-leadership subcommand.
func runTransfer(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) error {
	fs := flag.NewFlagSet("transfer-leadership", flag.ContinueOnError)
	var po probeOptions
	addProbeFlags(fs, &po, 20*time.Second)
	to := fs.String("to", "", "node ID to hand leadership to (default: the most up-to-date voter)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), transferUsage)
		fs.PrintDefaults()
	}
	if err := parseSubFlags(fs, &po, args, stderr, lookup); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, po.timeout)
	defer cancel()
	msg, err := transferLeadership(ctx, po, *to)
	if err != nil {
		return fmt.Errorf("transfer leadership at %s: %w", po.addr, err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", po.addr, msg)
	return nil
}

func transferLeadership(ctx context.Context, po probeOptions, to string) (string, error) {
	c, err := po.connect(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	ri, err := fetchRaftInfo(c)
	if err != nil {
		return "", err
	}
	switch {
	case ri.state != "leader":
		return fmt.Sprintf("not the leader (state %s, leader %q): nothing to do", ri.state, ri.leaderID), nil
	case ri.members == 1:
		return "the only member of the cluster: no one to hand leadership to", nil
	case to != "" && to == ri.nodeID:
		return "already the leader", nil
	}
	args := []string{"RAFT", "TRANSFER"}
	if to != "" {
		args = append(args, to)
	}
	v, err := c.Do(args...)
	if err == nil {
		err = v.Err()
	}
	if err != nil {
		if isUnknownCommand(err) {
			return fmt.Sprintf("the server does not support RAFT TRANSFER (%v): leadership not transferred", err), nil
		}
		return "", fmt.Errorf("RAFT TRANSFER: %w", err)
	}
	// RAFT TRANSFER returns once raft has finished the hand-over, but
	// check: the point of the hook is that this node no longer leads.
	// Then wait briefly to learn the new leader, for the message only.
	t := time.NewTicker(transferPoll)
	defer t.Stop()
	const unknown = "leadership transferred (new leader not known here yet)"
	var learnBy time.Time // set once this node has stepped down
	for {
		ri, err := fetchRaftInfo(c)
		switch {
		case err != nil && !learnBy.IsZero():
			return unknown, nil // ctx ended the wait for the new leader's name
		case err != nil:
			return "", err
		case ri.state != "leader" && ri.leaderID != "" && ri.leaderID != ri.nodeID:
			return fmt.Sprintf("leadership transferred to %s", ri.leaderID), nil
		case ri.state != "leader" && learnBy.IsZero():
			learnBy = time.Now().Add(transferLearn)
		case ri.state != "leader" && time.Now().After(learnBy):
			return unknown, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			if !learnBy.IsZero() {
				return unknown, nil
			}
			return "", errors.New("still the leader when the timeout ran out")
		}
	}
}
