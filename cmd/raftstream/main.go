// Command raftstream runs one raftstream node: a Redis Streams compatible
// RESP server whose writes are committed through a Raft log.
//
// Startup opens the Raft node (a fresh data dir bootstraps a cluster),
// then serves clients. SIGTERM or SIGINT shuts down in the reverse order:
// stop accepting clients and let every connection finish the commands it
// is running, then drain the node's in-flight writes and close the log.
// A write is acknowledged only once committed, so none is lost.
//
// The same binary is its own container tooling: `raftstream health` and
// `raftstream transfer-leadership` talk to a node over RESP (a few lines
// of client, no library), so images need no shell or redis-cli for
// probes and hooks. Every flag can also come from a RAFTSTREAM_<FLAG>
// environment variable, the natural shape for ConfigMaps and Secrets,
// and the subcommands read the same variables to find their node. With
// --raft-advertise the node binds the Raft port itself so that the
// advertised name, not the IP it resolves to today, goes into the Raft
// configuration (raftlisten.go).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/internal/gcfloor"
	"github.com/raftstream/raftstream/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv); err != nil {
		if !errors.Is(err, errUsage) && !errors.Is(err, errHelp) {
			fmt.Fprintln(os.Stderr, "raftstream:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, errHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// dispatch runs a client subcommand if the first argument names one, else
// a node. Subcommands are words, flags start with '-', so the two cannot
// be confused.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) error {
	if len(args) > 0 {
		switch args[0] {
		case "health":
			return runHealth(ctx, args[1:], stdout, stderr, lookup)
		case "transfer-leadership":
			return runTransfer(ctx, args[1:], stdout, stderr, lookup)
		case "migrate-log", "check":
			return runDataDirTool(ctx, args[0], args[1:], stdout, stderr, lookup)
		case "backup":
			return runBackup(ctx, args[1:], stdout, stderr, lookup)
		case "restore":
			return runRestore(ctx, args[1:], stdout, stderr, lookup)
		case "recover":
			return runRecover(ctx, args[1:], stdout, stderr, lookup)
		case "version", "--version", "-version":
			fmt.Fprint(stdout, versionLine(debug.ReadBuildInfo()))
			return nil
		}
	}
	return run(ctx, args, stderr, nil)
}

// started is told the listening addresses once the node serves clients
// (tests use it; main passes nil).
type started func(clientAddr, raftAddr string)

// run starts a node and serves until ctx is cancelled, then shuts down
// gracefully.
func run(ctx context.Context, args []string, stderr io.Writer, onStart started) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, opts.logLevel, opts.logFormat)
	opts.node.Logger = logger
	if opts.gomaxprocs > 0 {
		runtime.GOMAXPROCS(opts.gomaxprocs)
	}
	defer gcfloor.Start(uint64(opts.gcHeapFloor)).Stop()
	opts.server.Version = version
	// SHUTDOWN from a client stops the node the same way SIGTERM does.
	ctx, shutdown := context.WithCancelCause(ctx)
	defer shutdown(nil)
	opts.server.Shutdown = func() { shutdown(errors.New("SHUTDOWN command received")) }
	if opts.discoverDNS != "" {
		opts.node.Discover = cluster.DNSDiscovery(opts.discoverDNS, raftPort(opts.node), nil)
	}

	if opts.pprofListen != "" {
		stopPprof, err := startPprof(opts.pprofListen, logger)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	if opts.server.TLSAddr != "" {
		if opts.server.TLS, err = opts.tls.config(); err != nil {
			return err
		}
	}
	if opts.node.PeerTLS, err = opts.tls.peer(); err != nil {
		return err
	}
	// Clients are served from the start: while the node restores its
	// snapshot and replays its log they get -LOADING, as from Redis.
	loading := cluster.NewLoadProgress()
	opts.node.Loading, opts.server.Loading = loading, loading
	srv, err := server.NewLoading(opts.server, logger)
	if err != nil {
		return fmt.Errorf("start client server: %w", err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve() }()
	node, err := cluster.Open(opts.node)
	if err != nil {
		return errors.Join(fmt.Errorf("open raft node: %w", err), srv.Close())
	}
	if err := srv.Attach(node); err != nil {
		return errors.Join(err, srv.Close(), node.Close())
	}
	stopConsole := func() {}
	if opts.httpListen != "" {
		if stopConsole, err = startConsole(ctx, opts.httpListen, node, srv, logger); err != nil {
			return errors.Join(err, srv.Close(), node.Close())
		}
	}
	stopMetrics := func() {}
	if opts.metricsListen != "" {
		if stopMetrics, err = startMetrics(opts.metricsListen, node, srv, logger); err != nil {
			stopConsole()
			return errors.Join(err, srv.Close(), node.Close())
		}
	}
	if opts.node.ClientAddr == "" {
		// --listen had port 0 (or no advertise address): advertise what
		// the listener got, if other hosts can dial it.
		bound := srv.Addr().String()
		if a := announced(defaultClientAddr(bound), bound, opts.announceIP, opts.announcePort); a != "" {
			node.SetClientAddr(a)
		} else {
			logger.Warn("no advertised client address: set --advertise-client so other nodes can name this one to clients")
		}
	}
	logger.Info("raftstream started", "version", version, "commit", buildCommit(), "go", runtime.Version(), "node_id", opts.node.NodeID,
		"listen", srv.Addr().String(), "tls_listen", opts.server.TLSAddr, "raft_listen", node.RaftAddr(), "data_dir", opts.node.DataDir,
		"gomaxprocs", runtime.GOMAXPROCS(0), "gc_heap_floor", opts.gcHeapFloor)
	if onStart != nil {
		onStart(srv.Addr().String(), node.RaftAddr())
	}

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "reason", context.Cause(ctx))
		handOff(node, logger)
	case err := <-serveErr:
		// Serve only returns early on a listener failure.
		runErr = fmt.Errorf("client server stopped: %w", err)
	case <-node.Failed():
		// Removed from the cluster, or the join was refused: exit with
		// the reason rather than serve errors (as etcd does).
		runErr = node.Err()
	}
	// The console and the metrics only read; they go first. Clients next, so their
	// in-flight writes still reach a live node; then the node, which
	// drains what is left in the log pipeline.
	stopMetrics()
	stopConsole()
	if err := srv.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("close client server: %w", err))
	}
	if runErr == nil {
		if err := <-serveErr; err != nil {
			runErr = fmt.Errorf("client server: %w", err)
		}
	}
	if err := node.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("close raft node: %w", err))
	}
	logger.Info("raftstream stopped")
	return runErr
}

// handOffTimeout bounds the leadership hand-off at shutdown; raft itself
// gives a transfer one election timeout.
const handOffTimeout = 5 * time.Second

// handOff, on a leader, hands leadership to another voter before the node
// stops, so that writes wait for one hand-over (tens of milliseconds)
// instead of an election timeout. The node keeps serving its clients
// meanwhile: as a follower it forwards their writes to the new leader.
func handOff(node *cluster.Node, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), handOffTimeout)
	defer cancel()
	start := time.Now()
	to, err := node.HandOff(ctx)
	switch {
	case err != nil:
		logger.Warn("leadership hand-off failed; the cluster elects a new leader once this node stops", "err", err)
	case to != "":
		logger.Info("handed leadership over before stopping", "to", to, "took", time.Since(start).Round(time.Microsecond))
	}
}

// raftPort is the port peers dial for Raft: the advertised one if set.
func raftPort(c cluster.Config) string {
	addr := c.RaftAddr
	if c.RaftAdvertise != "" {
		addr = c.RaftAdvertise
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return port
}

// newLogger builds the process logger; parseFlags validated level and format.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	hopts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}
