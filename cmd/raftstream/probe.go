package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

// Client-side subcommands (health, transfer-leadership) talk to a node's
// RESP port like any client. They exist so that container probes and
// hooks need no shell or redis-cli in the image, and they read the same
// RAFTSTREAM_* environment as the node (RAFTSTREAM_LISTEN,
// RAFTSTREAM_REQUIREPASS), so inside the node's container they find it
// with no flags at all.

// errUnhealthy: the check ran and failed (exit status 1).
var errUnhealthy = errors.New("unhealthy")

// probeOptions are the connection settings every client subcommand takes.
type probeOptions struct {
	addr     string
	user     string // ACL user; "" authenticates as the default user
	password string
	timeout  time.Duration
}

// addProbeFlags registers --addr, --user, --password and --timeout. Their
// defaults come from the node's own environment variables, read by
// parseSubFlags (not here, so --help never prints a password).
func addProbeFlags(fs *flag.FlagSet, o *probeOptions, timeout time.Duration) {
	fs.StringVar(&o.addr, "addr", "", "client address of the node (default: $RAFTSTREAM_LISTEN with a wildcard host made 127.0.0.1, else 127.0.0.1:6379)")
	fs.StringVar(&o.user, "user", "", "ACL user for AUTH (default: the default user)")
	fs.StringVar(&o.password, "password", "", "password for AUTH (default: $RAFTSTREAM_REQUIREPASS)")
	fs.DurationVar(&o.timeout, "timeout", timeout, "give up after this long")
}

// fillFromEnv applies the environment defaults of the probe flags the
// command line left unset.
func (o *probeOptions) fillFromEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["addr"] {
		o.addr = "127.0.0.1:6379"
		if v, ok := lookup(envName("listen")); ok && v != "" {
			o.addr = localAddr(v)
		}
	}
	if !given["password"] {
		o.password, _ = lookup(envName("requirepass"))
	}
}

// parseSubFlags parses a subcommand's flags, then fills in po's
// environment defaults; it returns errHelp or errUsage (already explained
// on stderr) on a bad command line.
func parseSubFlags(fs *flag.FlagSet, po *probeOptions, args []string, stderr io.Writer, lookup func(string) (string, bool)) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "raftstream %s: unexpected arguments: %q\n", fs.Name(), fs.Args())
		fs.Usage()
		return errUsage
	}
	po.fillFromEnv(fs, lookup)
	return nil
}

// connect dials the node and authenticates if a password is set.
func (o probeOptions) connect(ctx context.Context) (*respclient.Conn, error) {
	c, err := respclient.Dial(ctx, o.addr, o.timeout)
	if err != nil {
		return nil, err
	}
	if o.password != "" {
		args := []string{"AUTH", o.password}
		if o.user != "" {
			args = []string{"AUTH", o.user, o.password}
		}
		if _, err := c.DoString(args...); err != nil {
			c.Close()
			return nil, fmt.Errorf("AUTH: %w", err)
		}
	}
	return c, nil
}

// raftInfo is what the subcommands need to know about a node's Raft
// state, from INFO raft (or, on a server without that section, INFO
// replication).
type raftInfo struct {
	nodeID      string
	state       string // leader, follower, candidate, shutdown
	leaderID    string
	suffrage    string // voter, nonvoter, "" (not a member); "?" when not reported
	members     int    // -1 when not reported
	commitIndex uint64
	applied     uint64
	haveIndexes bool
}

// fetchRaftInfo asks for INFO raft and falls back to INFO replication,
// whose role and raft_* fields tell less but enough to find the leader.
func fetchRaftInfo(c *respclient.Conn) (raftInfo, error) {
	text, err := c.DoString("INFO", "raft")
	if err != nil {
		return raftInfo{}, fmt.Errorf("INFO raft: %w", err)
	}
	f := parseInfo(text)
	if _, ok := f["raft_state"]; !ok {
		if text, err = c.DoString("INFO", "replication"); err != nil {
			return raftInfo{}, fmt.Errorf("INFO replication: %w", err)
		}
		f = parseInfo(text)
	}
	ri := raftInfo{
		nodeID:   f["raft_node_id"],
		state:    f["raft_state"],
		leaderID: f["raft_leader_id"],
		suffrage: "?",
		members:  -1,
	}
	if ri.state == "" {
		switch f["role"] {
		case "master":
			ri.state = "leader"
		case "slave":
			ri.state = "follower"
		default:
			return raftInfo{}, errors.New("INFO reports neither raft_state nor role")
		}
	}
	if v, ok := f["raft_suffrage"]; ok {
		ri.suffrage = v
	}
	if v, err := strconv.Atoi(f["raft_members"]); err == nil {
		ri.members = v
	}
	commit, err1 := strconv.ParseUint(f["raft_commit_index"], 10, 64)
	applied, err2 := strconv.ParseUint(f["raft_applied_index"], 10, 64)
	if err1 == nil && err2 == nil {
		ri.commitIndex, ri.applied, ri.haveIndexes = commit, applied, true
	}
	return ri, nil
}

// isUnknownCommand reports whether err is the server saying it does not
// implement a command or subcommand.
func isUnknownCommand(err error) bool {
	var re respclient.Error
	if !errors.As(err, &re) {
		return false
	}
	s := strings.ToLower(string(re))
	return strings.HasPrefix(s, "err unknown command") || strings.HasPrefix(s, "err unknown subcommand")
}
