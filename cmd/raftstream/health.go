package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

const healthUsage = `Usage: raftstream health [flags]

Checks a node over its client port and exits 0 if it is healthy, 1 if not
(the reason goes to stderr), 2 on a bad command line. Meant for container
health checks and Kubernetes probes: the image needs no shell.

Healthy means the node answers PING (-LOADING, while it loads its data at
startup, counts as healthy unless --require-leader). With --require-leader it must also
know a Raft leader, be a voter of the cluster (a node that joined is
promoted only once it has caught up) and have applied its log to within
--max-lag entries of its commit index.

Flags:
`

// runHealth is the health subcommand.
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	var po probeOptions
	addProbeFlags(fs, &po, 3*time.Second)
	requireLeader := fs.Bool("require-leader", false, "also require a known leader, voter membership and an applied index close to the commit index")
	maxLag := fs.Uint64("max-lag", 1000, "with --require-leader: most committed entries not yet applied")
	quiet := fs.Bool("quiet", false, "print nothing when healthy")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), healthUsage)
		fs.PrintDefaults()
	}
	if err := parseSubFlags(fs, &po, args, stderr, lookup); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, po.timeout)
	defer cancel()
	msg, err := checkHealth(ctx, po, *requireLeader, *maxLag)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errUnhealthy, po.addr, err)
	}
	if !*quiet {
		fmt.Fprintf(stdout, "healthy: %s: %s\n", po.addr, msg)
	}
	return nil
}

// checkHealth returns a one-line description of a healthy node, or why it
// is not healthy.
func checkHealth(ctx context.Context, po probeOptions, requireLeader bool, maxLag uint64) (string, error) {
	c, err := po.connect(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	// The connection's deadlines bound each request; ctx bounds the dial.
	// Closing on ctx's end also cuts a request short.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	pong, err := c.DoString("PING")
	var re respclient.Error
	if errors.As(err, &re) && strings.HasPrefix(string(re), "LOADING ") {
		// Alive: it restores its snapshot or replays its log (a node
		// waiting for a quorum does so until the quorum is back), but it
		// is not ready to serve.
		if requireLeader {
			return "", errors.New("loading its data (PING answered -LOADING)")
		}
		return "PING answered -LOADING: loading its data", nil
	}
	if err != nil {
		return "", fmt.Errorf("PING: %w", err)
	}
	if pong != "PONG" {
		return "", fmt.Errorf("PING answered %q", pong)
	}
	if !requireLeader {
		return "PING answered", nil
	}
	ri, err := fetchRaftInfo(c)
	if err != nil {
		return "", err
	}
	return ri.ready(maxLag)
}

// ready decides readiness from a node's Raft state.
func (ri raftInfo) ready(maxLag uint64) (string, error) {
	switch {
	case ri.state != "leader" && ri.state != "follower":
		return "", fmt.Errorf("raft state %q: no leader", ri.state)
	case ri.leaderID == "" && ri.state != "leader":
		return "", fmt.Errorf("raft state %q but no known leader", ri.state)
	case ri.suffrage != "voter" && ri.suffrage != "?":
		if ri.suffrage == "" {
			return "", fmt.Errorf("not a member of the cluster yet")
		}
		return "", fmt.Errorf("still a %s: not caught up with the cluster yet", ri.suffrage)
	}
	desc := ri.state
	if ri.state == "follower" {
		desc += " of " + ri.leaderID
	}
	if ri.haveIndexes {
		if ri.commitIndex > ri.applied && ri.commitIndex-ri.applied > maxLag {
			return "", fmt.Errorf("applied index %d is %d entries behind commit index %d (max lag %d)",
				ri.applied, ri.commitIndex-ri.applied, ri.commitIndex, maxLag)
		}
		desc += fmt.Sprintf(", applied %d of %d", ri.applied, ri.commitIndex)
	}
	return desc, nil
}
