package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/server"
)

var (
	// errHelp: --help was asked for and printed.
	errHelp = errors.New("help requested")
	// errUsage: bad command line, already explained on stderr.
	errUsage = errors.New("usage error")
)

type options struct {
	node      cluster.Config
	server    server.Config
	logLevel  string
	logFormat string
	// discoverDNS is --discover-dns; run turns it into node.Discover.
	discoverDNS string
	// pprofListen is --pprof-listen: where to serve /debug/pprof/ (off if empty).
	pprofListen string
	// gomaxprocs is --gomaxprocs: the Go scheduler's processor count (0:
	// Go's default, the CPUs the process may use).
	gomaxprocs int
	// gcHeapFloor is --gc-heap-floor: the least heap, in bytes, the Go
	// collector lets grow before collecting (0: GOGC alone decides).
	gcHeapFloor int64
	// announceIP and announcePort are --cluster-announce-ip/-port: they
	// override the host and port of the advertised client address.
	announceIP   string
	announcePort int
	// tls holds the client TLS flags; run loads the certificates.
	tls tlsOptions
	// httpListen is --http-listen: where to serve the web console (off if
	// empty).
	httpListen string
	// metricsListen is --metrics-listen: where to serve Prometheus
	// /metrics (off if empty).
	metricsListen string
	// configFile is --config, made absolute ("" without one).
	configFile string
}

const usageHeader = `raftstream: Redis Streams over Raft.

Usage: raftstream [flags]
       raftstream health [--addr host:port] [--require-leader]     (see raftstream health --help)
       raftstream transfer-leadership [--addr host:port] [--to id] (see raftstream transfer-leadership --help)
       raftstream migrate-log --data-dir DIR                         (move a raft.db log to raft-wal, offline)
       raftstream check --data-dir DIR                               (verify a data dir offline)
       raftstream backup --from host:port --out FILE                 (consistent backup of a live cluster)
       raftstream restore --in FILE --data-dir DIR                   (seed a new single-node cluster from a backup)
       raftstream recover --force-new-cluster --data-dir DIR         (make a survivor of a lost majority a cluster of its own)
       raftstream version
       raftstream --version                                        (version, commit, Go version)

Runs one node. An existing --data-dir resumes its cluster (--peers and
--bootstrap-expect are then ignored, --join with a warning), unless this
node was removed from it: then it exits. A fresh one:
  - by default bootstraps a new cluster of this node alone (or of --peers);
  - with --join, joins the cluster of any member given by Raft address,
    authenticated by --cluster-secret (and exits if it is refused: a live
    member has its --node-id or --raft-advertise address, or its
    --cluster-secret differs). A member's client address still works
    (deprecated: RAFT ADD over RESP, with AUTH --join-password);
  - with --bootstrap-expect N --discover-dns NAME, forms one cluster of N
    voters with the nodes NAME resolves to (Kubernetes headless Service),
    or joins it if it exists already.
Any node serves every command: writes and linearizable reads on a follower
go to the leader over the Raft port. SIGTERM or SIGINT shuts down
gracefully: a leader first hands leadership to another voter, and no
acknowledged write is lost. A node removed from its cluster exits.

Every flag can also be set by an environment variable RAFTSTREAM_<FLAG>,
upper case with '_' for '-' (--leader-wait: RAFTSTREAM_LEADER_WAIT); a flag
given on the command line wins.

Flags:
`

// hiddenFlags are test hooks left out of --help.
var hiddenFlags = map[string]bool{"clock-offset": true, "dial-via": true}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	return parseFlagsEnv(args, stderr, os.LookupEnv)
}

// parseFlagsEnv is parseFlags with the environment given as lookup (nil:
// none), so tests need not touch the process environment.
func parseFlagsEnv(args []string, stderr io.Writer, lookup func(string) (string, bool)) (options, error) {
	var o options
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "raftstream"
	}
	fs := flag.NewFlagSet("raftstream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		printDefaults(fs)
	}

	fs.StringVar(&o.configFile, configFlag, "", "config file in redis.conf syntax: Redis setting names (port, bind, dir, requirepass, tls-*, ...) and any other flag by its name; flags and RAFTSTREAM_* variables win over it. CONFIG REWRITE writes changed settings back to it (docs/operations.md, Config file)")

	// Node identity and addresses.
	fs.StringVar(&o.node.NodeID, "node-id", host, "unique, stable name of this node in the Raft cluster")
	fs.StringVar(&o.node.DataDir, "data-dir", "./data", "directory for the Raft log (wal/, or raft.db in data dirs made before raft-wal), stable store and snapshots")
	fs.Int64Var(&o.node.MinFreeDisk, "min-free-disk", cluster.DefaultMinFreeDisk, "free bytes the data dir's disk must keep: below it writes get -MISCONF before they reach the Raft log (so the leader keeps its leadership and reads keep being served); negative: no check")
	fs.StringVar(&o.server.Addr, "listen", "127.0.0.1:6379", "client RESP address (host:port)")
	fs.StringVar(&o.node.RaftAddr, "raft-listen", "127.0.0.1:7379", "Raft address (host:port) for node-to-node traffic")
	fs.StringVar(&o.node.RaftAdvertise, "raft-advertise", "", "Raft address peers should dial, if not --raft-listen (required when listening on 0.0.0.0)")
	peers := fs.String("peers", "", "founding voters as id=host:port,... (this node included); only read when --data-dir is fresh. Empty: a one-node cluster")
	fs.StringVar(&o.node.ClientAddr, "advertise-client", "", "client address (host:port) other nodes and clients should use for this node, reported by RAFT NODES/LEADER (default: --listen, when it names a concrete host)")

	fs.StringVar(&o.announceIP, "cluster-announce-ip", "", "host (IP or DNS name) clients should dial for this node, as CLUSTER SLOTS/SHARDS/NODES, SENTINEL and RAFT NODES report it; replaces the host of --advertise-client (for NAT, containers, Kubernetes)")
	fs.IntVar(&o.announcePort, "cluster-announce-port", 0, "port clients should dial for this node; replaces the port of --advertise-client (0: keep it)")
	fs.StringVar(&o.server.SentinelMasterName, "sentinel-master-name", server.DefaultSentinelMasterName, "master name SENTINEL answers for: give it to failover clients (go-redis NewFailoverClient, redis-py Sentinel) with any nodes as sentinels")

	// Forming and joining a cluster.
	join := fs.String("join", "", "Raft addresses (host:port,...: their --raft-advertise) of existing members; a fresh node asks one of them, over the Raft port authenticated by --cluster-secret, to add it, and catches up as a non-voter, then votes (this node's own address in the list is skipped). A member's client address still works, deprecated: the node notices and sends RAFT ADD over RESP, with a warning")
	fs.StringVar(&o.node.JoinPassword, "join-password", "", "deprecated, only for --join seeds given by client address: password for AUTH (as the default user, which must be allowed RAFT ADD) before RAFT ADD (default: --requirepass). Seeds given by Raft address need --cluster-secret instead")
	fs.IntVar(&o.node.BootstrapExpect, "bootstrap-expect", 0, "with --discover-dns: form a new cluster once this many fresh nodes are found (all start as voters), or join the existing one")
	fs.StringVar(&o.discoverDNS, "discover-dns", "", "DNS name listing the cluster's nodes for --bootstrap-expect: SRV records (host:port of each Raft port), else A/AAAA records with this node's Raft port")
	fs.StringVar(&o.node.ClusterSecret, "cluster-secret", "", "shared secret every node must present on the Raft port (mutual HMAC challenge; it is never sent). Empty: no secret, and nodes with one refuse this node. Required when --raft-listen is not a loopback address, unless --insecure-peers")
	insecurePeers := fs.Bool("insecure-peers", false, "allow a non-loopback --raft-listen without --cluster-secret or --tls-cluster: anyone who can reach the Raft port can then write, read and change the membership")
	fs.IntVar(&o.node.RaftLimits.MaxConns, "raft-max-conns", cluster.DefaultRaftMaxConns, "most connections the Raft port holds open; past it the oldest still unauthenticated ones are closed, so a flood cannot exhaust file descriptors or keep peers out")
	fs.DurationVar(&o.node.RaftLimits.HandshakeTimeout, "raft-handshake-timeout", cluster.DefaultRaftHandshakeTimeout, "longest a connection to the Raft port may take to authenticate")
	fs.DurationVar(&o.node.LeaderWait, "leader-wait", 5*time.Second, "how long a command waits for a Raft leader to be elected before failing with TRYAGAIN")
	fs.DurationVar(&o.node.ClockOffset, "clock-offset", 0, "test hook: offset added to this node's clock when it stamps log entries as leader")
	dialVia := fs.String("dial-via", "", "test hook: raft-addr=dial-addr,... dial a peer's Raft port at dial-addr (a fault-injecting proxy) instead of the address it advertises")

	// Log and snapshots.
	fs.Uint64Var(&o.node.SnapshotThreshold, "snapshot-threshold", 8192, "log entries since the last snapshot that trigger a new one")
	fs.DurationVar(&o.node.SnapshotInterval, "snapshot-interval", 0, "how often to check the snapshot threshold (0: raft's default, 2m)")
	fs.Uint64Var(&o.node.TrailingLogs, "trailing-logs", 10240, "log entries kept after a snapshot, so a lagging follower can catch up without a full snapshot")
	fs.Int64Var(&o.node.SnapshotLogBytes, "snapshot-log-bytes", 256<<20, "log bytes that trigger a snapshot too, after which trailing entries are kept within a quarter of it (negative: off)")
	fs.StringVar(&o.node.LogStore, "log-store", "", "Raft log store of a fresh data dir: wal (default) or boltdb; an existing data dir keeps the store it was made with")

	// Group commit and Raft tuning.
	fs.IntVar(&o.node.MaxBatch, "max-batch", 1024, "most client commands packed into one Raft log entry")
	fs.IntVar(&o.node.MaxBatchBytes, "max-batch-bytes", 1<<20, "most bytes of client commands packed into one Raft log entry")
	fs.IntVar(&o.node.MaxInflight, "max-inflight", 64, "most log entries handed to Raft and not yet applied; beyond that commands wait and form bigger entries")
	fs.IntVar(&o.node.MaxAppendEntries, "raft-max-append-entries", 256, "Raft entries per replication RPC, disk write and apply batch (at most 1024)")
	fs.DurationVar(&o.node.HeartbeatTimeout, "raft-heartbeat-timeout", 0, "follower time without leader contact before an election (0: 1s)")
	fs.DurationVar(&o.node.ElectionTimeout, "raft-election-timeout", 0, "candidate time without winning before a new election (0: 1s)")
	fs.DurationVar(&o.node.LeaderLeaseTimeout, "raft-leader-lease-timeout", 0, "leader time without quorum contact before stepping down (0: 500ms; at most the heartbeat timeout)")
	fs.DurationVar(&o.node.CommitTimeout, "raft-commit-timeout", 0, "longest an idle leader waits before telling followers the commit index (0: 50ms)")

	// Client protocol limits (the server package's, as in Redis).
	fs.StringVar(&o.server.RequirePass, "requirepass", "", "the default user's password, which clients give with AUTH or HELLO (empty: nopass); other users: ACL SETUSER. Once the default user is changed through the ACL (replicated), that definition rules")
	fs.IntVar(&o.tls.port, "tls-port", 0, "also serve clients over TLS on this port, on --listen's host (0: no TLS), as Redis's tls-port; the plain port stays")
	fs.StringVar(&o.tls.certFile, "tls-cert-file", "", "PEM certificate (chain) of the TLS port, and of this node on peer links with --tls-cluster")
	fs.StringVar(&o.tls.keyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
	fs.StringVar(&o.tls.caCertFile, "tls-ca-cert-file", "", "PEM CA certificates that client certificates (and with --tls-cluster, peers' certificates) must chain to")
	fs.StringVar(&o.tls.authClients, "tls-auth-clients", "yes", "client certificates on the TLS port: yes (required), optional (verified if given) or no")
	fs.StringVar(&o.tls.cluster, "tls-cluster", "no", "as Redis's tls-cluster: links between nodes (Raft and forwarding) in mutual TLS with --tls-cert-file, --tls-key-file and --tls-ca-cert-file (yes or no); every node needs it, with certificates of the same CA (extended key usage serverAuth and clientAuth)")
	protectedMode := fs.String("protected-mode", "yes", "as Redis's protected-mode: while the default user has no password, clients that do not connect over the loopback interface get a DENIED error (yes or no)")
	fs.Int64Var(&o.server.MaxBulkLen, "proto-max-bulk-len", server.DefaultMaxBulkLen, "largest bulk argument accepted, in bytes")
	fs.Int64Var(&o.server.MaxMultibulkLen, "max-multibulk-len", server.DefaultMaxMultibulkLen, "most arguments accepted in one command")
	fs.Int64Var(&o.server.ClientQueryBufferLimit, "client-query-buffer-limit", server.DefaultClientQueryBufferLimit, "largest single request in bytes; a client going past it is disconnected")
	fs.IntVar(&o.server.MaxClients, "maxclients", server.DefaultMaxClients, "most concurrent client connections")
	fs.StringVar(&o.server.ClientOutputBufferLimit, "client-output-buffer-limit", "", `unsent reply bytes a client may hold, Redis syntax: "normal <hard> <soft> <soft-seconds>" (default "normal 0 0 0": no limit)`)
	fs.Int64Var(&o.server.MaxMemoryClients, "maxmemory-clients", 0, "unsent reply bytes of all clients together; past it the clients holding the most are disconnected (0: no limit)")
	fs.BoolVar(&o.server.AutoIdempotent, "auto-idempotent", false, "deduplicate each client's XADDs across its reconnects: an XADD with ID * and no IDMP of its own is stored as XADD IDMP <client name> <digest of its arguments>, so a retry by the client library is stored once; connections without a client name are not affected, and an XADD repeated with the same arguments by the same client name within the stream's IDMP window (XCFGSET) is stored once too. RS.IDEMPOTENT changes it per connection")
	fs.DurationVar(&o.server.CommandTimeout, "command-timeout", server.DefaultCommandTimeout, "longest a command waits for Raft (write commit or read barrier) before an error reply")
	slowerThan := fs.Int64("slowlog-log-slower-than", server.DefaultSlowlogSlowerThan, "SLOWLOG records commands slower than this many microseconds (0: every command, negative: none), as Redis's")
	slowlogMaxLen := fs.Int64("slowlog-max-len", server.DefaultSlowlogMaxLen, "most entries SLOWLOG keeps, as Redis's")

	// Logging.
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.httpListen, "http-listen", "", "address (host:port) to serve the read-only web console on (cluster, streams, groups, lag, dead letters); empty: off. While the default user has a password, asks for HTTP basic auth as an ACL user allowed INFO, XINFO and to read every key")
	fs.StringVar(&o.metricsListen, "metrics-listen", "", "address (host:port) to serve Prometheus metrics on at /metrics (streams, groups, raft indexes, command counters, Go runtime); empty: off. While the default user has a password, asks for HTTP basic auth as an ACL user allowed INFO")
	fs.IntVar(&o.gomaxprocs, "gomaxprocs", 0, "how many CPUs run the node's Go code at once (GOMAXPROCS); 0: every CPU the process may use. Measure before lowering it (docs/operations.md, \"CPUs\")")
	fs.Int64Var(&o.gcHeapFloor, "gc-heap-floor", 64<<20, "bytes the Go heap may grow to before it is collected, while the live heap is smaller than half of it: fewer collections for a node with little data (0: GOGC alone decides, as Go's default; docs/operations.md, \"Memory\")")
	fs.StringVar(&o.pprofListen, "pprof-listen", "", "address (host:port) to serve Go profiling endpoints /debug/pprof/ on, for diagnosing performance; empty: off. Never expose it publicly")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, errHelp
		}
		return o, errUsage
	}
	bad := func(format string, a ...any) (options, error) {
		fmt.Fprintf(stderr, "raftstream: "+format+"\n", a...)
		fs.Usage()
		return o, errUsage
	}
	if err := applyEnv(fs, lookup); err != nil {
		return bad("%v", err)
	}
	if o.configFile != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if err := applyConfigFile(fs, o.configFile, set); err != nil {
			fmt.Fprintf(stderr, "\n%v\n", err)
			return o, errUsage
		}
		if o.configFile, err = absConfigPath(o.configFile); err != nil {
			return bad("%v", err)
		}
		o.server.ConfigFile = o.configFile
	}
	if *slowlogMaxLen < 0 {
		return bad("--slowlog-max-len must not be negative")
	}
	if o.gcHeapFloor < 0 {
		return bad("--gc-heap-floor must not be negative")
	}
	if o.gomaxprocs < 0 {
		return bad("--gomaxprocs must not be negative")
	}
	o.server.SlowlogSlowerThan, o.server.SlowlogMaxLen = slowerThan, slowlogMaxLen
	if fs.NArg() > 0 {
		return bad("unexpected arguments: %q", fs.Args())
	}
	if o.node.NodeID == "" {
		return bad("--node-id must not be empty")
	}
	if o.node.Peers, err = parsePeers(*peers); err != nil {
		return bad("--peers: %v", err)
	}
	if o.node.DialMap, err = parseDialVia(*dialVia); err != nil {
		return bad("--dial-via: %v", err)
	}
	if len(o.node.Peers) > 0 && !slices.ContainsFunc(o.node.Peers, func(p cluster.Peer) bool { return p.ID == o.node.NodeID }) {
		return bad("--peers must include this node (--node-id %q)", o.node.NodeID)
	}
	if o.node.Join, err = parseJoin(*join, o.node.RaftAddr, o.node.RaftAdvertise); err != nil {
		return bad("--join: %v", err)
	}
	if o.node.JoinPassword == "" {
		o.node.JoinPassword = o.server.RequirePass
	}
	switch {
	case o.node.BootstrapExpect < 0:
		return bad("--bootstrap-expect must not be negative")
	case (o.node.BootstrapExpect > 0) != (o.discoverDNS != ""):
		return bad("--bootstrap-expect and --discover-dns go together")
	case len(o.node.Join) > 0 && o.node.BootstrapExpect > 0:
		return bad("--join and --bootstrap-expect are exclusive")
	case len(o.node.Peers) > 0 && (len(o.node.Join) > 0 || o.node.BootstrapExpect > 0):
		return bad("--peers cannot be combined with --join or --bootstrap-expect")
	case o.node.LeaderWait <= 0:
		return bad("--leader-wait must be positive")
	}
	if o.announcePort < 0 || o.announcePort > 65535 {
		return bad("--cluster-announce-port %d: want 0..65535", o.announcePort)
	}
	if o.node.ClientAddr == "" {
		o.node.ClientAddr = defaultClientAddr(o.server.Addr)
	}
	o.node.ClientAddr = announced(o.node.ClientAddr, o.server.Addr, o.announceIP, o.announcePort)
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(o.logLevel)); err != nil {
		return bad("--log-level %q: want debug, info, warn or error", o.logLevel)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return bad("--log-format %q: want text or json", o.logFormat)
	}
	if l := o.node.LogStore; l != "" && l != cluster.LogStoreWAL && l != cluster.LogStoreBoltDB {
		return bad("--log-store %q: want %s or %s", l, cluster.LogStoreWAL, cluster.LogStoreBoltDB)
	}
	switch *protectedMode {
	case "yes":
	case "no":
		o.server.NoProtectedMode = true
	default:
		return bad("--protected-mode %q: want yes or no", *protectedMode)
	}
	if o.server.TLSAddr, err = o.tls.check(o.server.Addr); err != nil {
		return bad("%v", err)
	}
	if o.node.ClusterSecret == "" && o.tls.cluster != "yes" && !*insecurePeers && !isLoopback(o.node.RaftAddr) {
		return bad("--raft-listen %s is not a loopback address and no --cluster-secret is set (nor --tls-cluster yes): anyone who can reach the Raft port could write and change the membership. Set --cluster-secret (the same on every node) or --tls-cluster yes, or --insecure-peers to accept that", o.node.RaftAddr)
	}
	if err := server.ParseClientOutputBufferLimit(o.server.ClientOutputBufferLimit); err != nil {
		return bad("--client-output-buffer-limit %q: %v", o.server.ClientOutputBufferLimit, err)
	}
	if o.node.RaftLimits.MaxConns < 1 || o.node.RaftLimits.HandshakeTimeout <= 0 {
		return bad("--raft-max-conns and --raft-handshake-timeout must be positive")
	}
	if o.server.MaxMemoryClients < 0 {
		return bad("--maxmemory-clients must not be negative")
	}
	if o.node.MaxAppendEntries > 1024 {
		return bad("--raft-max-append-entries %d: at most 1024", o.node.MaxAppendEntries)
	}
	return o, nil
}

// defaultClientAddr is --listen when other hosts can dial it as is; a
// wildcard or port-0 address is not advertisable (run fills in the bound
// port later).
func defaultClientAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "0" {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return ""
	}
	return listen
}

// announced is the advertised client address with the host and port
// replaced by --cluster-announce-ip and --cluster-announce-port where
// given. Without an advertised address the port comes from listen; ""
// while host or port is still unknown (run retries with the bound
// listener).
func announced(clientAddr, listen, ip string, port int) string {
	if ip == "" && port == 0 {
		return clientAddr
	}
	host, p, err := net.SplitHostPort(clientAddr)
	if err != nil {
		host = ""
		_, p, _ = net.SplitHostPort(listen)
	}
	if ip != "" {
		host = ip
	}
	if port != 0 {
		p = strconv.Itoa(port)
	}
	if host == "" || p == "" || p == "0" {
		return ""
	}
	return net.JoinHostPort(host, p)
}

// isLoopback tells whether a host:port listens on the loopback interface
// only (a loopback IP or "localhost").
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// printDefaults is flag.PrintDefaults without the hidden flags.
func printDefaults(fs *flag.FlagSet) {
	out := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	out.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		if !hiddenFlags[f.Name] {
			out.Var(f.Value, f.Name, f.Usage)
			out.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	out.PrintDefaults()
}

// parseJoin reads --join: "host:port,..." of members' Raft addresses
// (client addresses are told apart at join time, not here). This node's
// own Raft address is left out, so every node can be given the same list;
// a list of nothing else is refused.
func parseJoin(s, raftListen, raftAdvertise string) ([]string, error) {
	var out []string
	own := ""
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return nil, fmt.Errorf("%q is not host:port (a member's Raft address, e.g. node1:7379)", a)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("%q: port %q is not 1..65535", a, port)
		}
		if slices.Contains(out, a) || a == own {
			return nil, fmt.Errorf("%s given twice", a)
		}
		if a == raftListen || a == raftAdvertise {
			own = a
			continue
		}
		out = append(out, a)
	}
	if own != "" && len(out) == 0 {
		return nil, fmt.Errorf("%s is this node's own Raft address; give the Raft addresses of existing members", own)
	}
	return out, nil
}

// parsePeers reads "id=host:port,id=host:port".
func parsePeers(s string) ([]cluster.Peer, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []cluster.Peer
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("%q is not id=host:port", item)
		}
		if seen[id] {
			return nil, fmt.Errorf("duplicate id %q", id)
		}
		seen[id] = true
		out = append(out, cluster.Peer{ID: id, Addr: addr})
	}
	return out, nil
}

// parseDialVia reads "raft-addr=dial-addr,...". Nil when empty, so a node
// without the hook dials exactly as before.
func parseDialVia(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return nil, fmt.Errorf("%q is not raft-addr=dial-addr", item)
		}
		for _, a := range []string{from, to} {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return nil, fmt.Errorf("%q is not host:port", a)
			}
		}
		if _, dup := out[from]; dup {
			return nil, fmt.Errorf("%s given twice", from)
		}
		out[from] = to
	}
	return out, nil
}
