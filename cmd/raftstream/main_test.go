package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/internal/testports"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.node.DataDir != "./data" || o.server.Addr != "127.0.0.1:6379" || o.node.RaftAddr != "127.0.0.1:7379" || o.node.NodeID == "" {
		t.Fatalf("defaults: %+v", o)
	}
	if o.server.AutoIdempotent {
		t.Fatal("--auto-idempotent is on by default")
	}
	if o.gomaxprocs != 0 {
		t.Fatalf("--gomaxprocs defaults to %d, not Go's own (0)", o.gomaxprocs)
	}
	if o.gcHeapFloor != 64<<20 {
		t.Fatalf("--gc-heap-floor defaults to %d, want 64 MiB", o.gcHeapFloor)
	}
	if o, err := parseFlags([]string{"--gc-heap-floor", "0"}, io.Discard); err != nil || o.gcHeapFloor != 0 {
		t.Fatalf("--gc-heap-floor 0: %v, got %d", err, o.gcHeapFloor)
	}
	if o, err := parseFlags([]string{"--gomaxprocs", "1"}, io.Discard); err != nil || o.gomaxprocs != 1 {
		t.Fatalf("--gomaxprocs 1: %v, got %d", err, o.gomaxprocs)
	}
	if o, err := parseFlags([]string{"--auto-idempotent"}, io.Discard); err != nil || !o.server.AutoIdempotent {
		t.Fatalf("--auto-idempotent: %v, on %v", err, o.server.AutoIdempotent)
	}
	o, err = parseFlags([]string{"--node-id", "a", "--peers", "a=127.0.0.1:1, b=127.0.0.1:2", "--max-batch", "7", "--log-format", "json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []cluster.Peer{{ID: "a", Addr: "127.0.0.1:1"}, {ID: "b", Addr: "127.0.0.1:2"}}
	if fmt.Sprint(o.node.Peers) != fmt.Sprint(want) || o.node.MaxBatch != 7 || o.logFormat != "json" {
		t.Fatalf("parsed %+v", o)
	}

	for _, tc := range []struct {
		args []string
		want error
	}{
		{[]string{"--help"}, errHelp},
		{[]string{"--nope"}, errUsage},
		{[]string{"extra"}, errUsage},
		{[]string{"--log-level", "loud"}, errUsage},
		{[]string{"--log-format", "xml"}, errUsage},
		{[]string{"--node-id", "a", "--peers", "b=h:1"}, errUsage},
		{[]string{"--node-id", "a", "--peers", "a=h:1,a=h:2"}, errUsage},
		{[]string{"--node-id", "a", "--peers", "a"}, errUsage},
		{[]string{"--raft-max-append-entries", "2000"}, errUsage},
		{[]string{"--join", "nope"}, errUsage},
		{[]string{"--bootstrap-expect", "3"}, errUsage},
		{[]string{"--discover-dns", "rs.svc"}, errUsage},
		{[]string{"--bootstrap-expect", "-1", "--discover-dns", "rs.svc"}, errUsage},
		{[]string{"--join", "h:1", "--bootstrap-expect", "3", "--discover-dns", "rs.svc"}, errUsage},
		{[]string{"--node-id", "a", "--peers", "a=h:1", "--join", "h:2"}, errUsage},
		{[]string{"--leader-wait", "0s"}, errUsage},
		{[]string{"--gomaxprocs", "-1"}, errUsage},
		{[]string{"--gc-heap-floor", "-1"}, errUsage},
	} {
		var stderr bytes.Buffer
		if _, err := parseFlags(tc.args, &stderr); !errors.Is(err, tc.want) {
			t.Errorf("parseFlags(%q) = %v, want %v", tc.args, err, tc.want)
		}
		if stderr.Len() == 0 {
			t.Errorf("parseFlags(%q) printed nothing", tc.args)
		}
	}
}

// --join takes members' Raft addresses (client addresses too: told apart
// at join time); what cannot be a seed is refused with the reason.
func TestParseJoinFlag(t *testing.T) {
	for _, tc := range []struct {
		join, want string
	}{
		{"nope", `"nope" is not host:port (a member's Raft address, e.g. node1:7379)`},
		{":7379", `":7379" is not host:port`},
		{"h:0", `"h:0": port "0" is not 1..65535`},
		{"h:raft", `"h:raft": port "raft" is not 1..65535`},
		{"h:7379,h:7379", "h:7379 given twice"},
		{"127.0.0.1:7379", "127.0.0.1:7379 is this node's own Raft address"},
	} {
		var stderr bytes.Buffer
		if _, err := parseFlags([]string{"--join", tc.join}, &stderr); !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), "--join: "+tc.want) {
			t.Errorf("--join %q: %v, stderr %q; want it to say %q", tc.join, err, firstLine(stderr.String()), tc.want)
		}
	}
	// This node's own address is left out: every node may get one list.
	o, err := parseFlags([]string{"--join", " node1:7379,,node4:7379,10.0.0.2:6379 ", "--raft-advertise", "node4:7379"}, io.Discard)
	if err != nil || fmt.Sprint(o.node.Join) != "[node1:7379 10.0.0.2:6379]" {
		t.Fatalf("--join parsed as %q, %v", o.node.Join, err)
	}
	if _, err := parseFlags([]string{"--join", "node4:7379", "--raft-advertise", "node4:7379"}, io.Discard); err == nil {
		t.Fatal("--join naming only this node's --raft-advertise was accepted")
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestParseClusterFlags(t *testing.T) {
	o, err := parseFlags([]string{"--join", "10.0.0.1:7379, 10.0.0.2:7379", "--requirepass", "pw",
		"--cluster-secret", "s", "--leader-wait", "2s", "--clock-offset", "-1h", "--listen", "10.0.0.9:6379"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n := o.node
	if fmt.Sprint(n.Join) != "[10.0.0.1:7379 10.0.0.2:7379]" || n.JoinPassword != "pw" || n.ClusterSecret != "s" ||
		n.LeaderWait != 2*time.Second || n.ClockOffset != -time.Hour || n.ClientAddr != "10.0.0.9:6379" {
		t.Fatalf("parsed %+v", n)
	}
	o, err = parseFlags([]string{"--bootstrap-expect", "3", "--discover-dns", "rs.ns.svc", "--listen", "0.0.0.0:6379",
		"--raft-listen", "0.0.0.0:7000", "--raft-advertise", "10.1.1.1:7001", "--advertise-client", "rs-0:6379", "--cluster-secret", "s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.node.BootstrapExpect != 3 || o.discoverDNS != "rs.ns.svc" || o.node.ClientAddr != "rs-0:6379" || raftPort(o.node) != "7001" {
		t.Fatalf("parsed %+v", o)
	}
	for listen, want := range map[string]string{"0.0.0.0:6379": "", "127.0.0.1:0": "", ":6379": "", "h:6379": "h:6379"} {
		if got := defaultClientAddr(listen); got != want {
			t.Errorf("defaultClientAddr(%q) = %q, want %q", listen, got, want)
		}
	}
	var help bytes.Buffer
	if _, err := parseFlags([]string{"--help"}, &help); !errors.Is(err, errHelp) {
		t.Fatal(err)
	}
	for _, f := range []string{"-join ", "-bootstrap-expect", "-discover-dns", "-advertise-client", "-cluster-secret", "-leader-wait"} {
		if !strings.Contains(help.String(), f) {
			t.Errorf("--help does not explain %s", f)
		}
	}
	for _, hook := range []string{"clock-offset", "dial-via"} {
		if strings.Contains(help.String(), hook) {
			t.Errorf("--help shows the %s test hook", hook)
		}
	}
}

// A Raft port reachable from other hosts needs a cluster secret, or an
// explicit --insecure-peers; protected mode is on unless turned off.
func TestParsePeerSecurityFlags(t *testing.T) {
	cases := []struct {
		args    []string
		ok      bool
		noProt  bool
		stderrs string
	}{
		{args: nil, ok: true},
		{args: []string{"--raft-listen", "localhost:7379"}, ok: true},
		{args: []string{"--raft-listen", "[::1]:7379"}, ok: true},
		{args: []string{"--raft-listen", "0.0.0.0:7379"}, stderrs: "no --cluster-secret is set"},
		{args: []string{"--raft-listen", ":7379"}, stderrs: "no --cluster-secret is set"},
		{args: []string{"--raft-listen", "10.0.0.1:7379"}, stderrs: "--insecure-peers"},
		{args: []string{"--raft-listen", "0.0.0.0:7379", "--cluster-secret", "s"}, ok: true},
		{args: []string{"--raft-listen", "0.0.0.0:7379", "--insecure-peers"}, ok: true},
		{args: []string{"--raft-listen", "0.0.0.0:7379", "--tls-cluster", "yes", "--tls-cert-file", "c", "--tls-key-file", "k", "--tls-ca-cert-file", "ca"}, ok: true},
		{args: []string{"--tls-cluster", "yes", "--tls-cert-file", "c"}, stderrs: "--tls-cluster yes needs --tls-cert-file, --tls-key-file and --tls-ca-cert-file"},
		{args: []string{"--tls-cluster", "maybe"}, stderrs: `--tls-cluster "maybe": want yes or no`},
		{args: []string{"--protected-mode", "no"}, ok: true, noProt: true},
		{args: []string{"--protected-mode", "yes"}, ok: true},
		{args: []string{"--protected-mode", "off"}, stderrs: `--protected-mode "off": want yes or no`},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		o, err := parseFlags(tc.args, &stderr)
		switch {
		case tc.ok && err != nil:
			t.Errorf("%q: %v\n%s", tc.args, err, stderr.String())
		case tc.ok && o.server.NoProtectedMode != tc.noProt:
			t.Errorf("%q: NoProtectedMode = %v", tc.args, o.server.NoProtectedMode)
		case !tc.ok && (!errors.Is(err, errUsage) || !strings.Contains(stderr.String(), tc.stderrs)):
			t.Errorf("%q: %v, want a usage error saying %q; stderr:\n%s", tc.args, err, tc.stderrs, stderr.String())
		}
	}
}

// TestParseDialVia: the fault harness's hook parses into Config.DialMap,
// and a malformed value is a usage error, not a silently direct dial.
func TestParseDialVia(t *testing.T) {
	o, err := parseFlags([]string{"--dial-via", "127.0.0.1:7001=127.0.0.1:9001, 127.0.0.1:7002=127.0.0.1:9002"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"127.0.0.1:7001": "127.0.0.1:9001", "127.0.0.1:7002": "127.0.0.1:9002"}
	if fmt.Sprint(o.node.DialMap) != fmt.Sprint(want) {
		t.Errorf("DialMap = %v, want %v", o.node.DialMap, want)
	}
	if o, err := parseFlags(nil, io.Discard); err != nil || o.node.DialMap != nil {
		t.Errorf("no --dial-via: DialMap = %v, %v; want nil", o.node.DialMap, err)
	}
	for _, bad := range []string{"127.0.0.1:7001", "127.0.0.1:7001=nope", "a:1=b:2,a:1=c:3"} {
		var stderr bytes.Buffer
		if _, err := parseFlags([]string{"--dial-via", bad}, &stderr); !errors.Is(err, errUsage) {
			t.Errorf("--dial-via %q: %v, want a usage error", bad, err)
		}
	}
}

// respClient speaks just enough RESP for the test.
type respClient struct {
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *respClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &respClient{conn: c, r: bufio.NewReader(c)}
}

// do sends a command and returns the first line of the reply.
func (c *respClient) do(t *testing.T, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c.conn, b.String()); err != nil {
		t.Fatal(err)
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if line[0] == '$' && line != "$-1\r\n" {
		body, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return line + body
	}
	return line
}

// untilOK retries a command until it stops answering TRYAGAIN (no leader
// yet right after start) or LOADING (log replay after a restart).
func (c *respClient) untilOK(t *testing.T, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		reply := c.do(t, args...)
		if !strings.HasPrefix(reply, "-TRYAGAIN") && !strings.HasPrefix(reply, "-LOADING") {
			return reply
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: still %q", args, reply)
		}
		time.Sleep(20 * time.Millisecond) // leader election in progress
	}
}

// startNode runs the binary's run() in the background and returns the
// client address and a stop function that waits for a clean exit.
func startNode(t *testing.T, dir string, extra ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	var logs syncBuffer
	args := []string{
		"--node-id", "n1", "--data-dir", dir,
		"--listen", "127.0.0.1:0", "--raft-listen", "127.0.0.1:0",
		"--raft-heartbeat-timeout", "100ms", "--raft-election-timeout", "100ms",
		"--raft-leader-lease-timeout", "100ms", "--log-format", "json",
	}
	go func() {
		done <- run(ctx, append(args, extra...), &logs, func(client, _ string) { addrs <- client })
	}()
	select {
	case addr := <-addrs:
		return addr, func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("run: %v\nlogs:\n%s", err, logs.String())
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("run exited early: %v\nlogs:\n%s", err, logs.String())
	}
	return "", nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freePorts finds loopback addresses nobody listens on (for --peers,
// which must name every address before the nodes start).
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	ports, err := testports.Free(n)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ports {
		out = append(out, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	}
	return out
}

// startThree runs a three-node cluster (cluster secret "s") with extra
// flags on every node; it returns a client of each and their Raft
// addresses. The nodes stop when the test ends.
func startThree(t *testing.T, extra ...string) ([]*respClient, []string) {
	t.Helper()
	raft := freePorts(t, 3)
	peers := fmt.Sprintf("n1=%s,n2=%s,n3=%s", raft[0], raft[1], raft[2])
	var clients []*respClient
	for i := range raft {
		args := append([]string{"--node-id", fmt.Sprintf("n%d", i+1), "--raft-listen", raft[i],
			"--peers", peers, "--raft-heartbeat-timeout", "300ms", "--raft-election-timeout", "300ms",
			"--raft-leader-lease-timeout", "300ms", "--cluster-secret", "s"}, extra...)
		addr, stop := startNode(t, t.TempDir(), args...)
		t.Cleanup(stop)
		clients = append(clients, dial(t, addr))
	}
	return clients, raft
}

// Three processes' worth of nodes: every node's client port takes writes
// and linearizable reads, followers forwarding to the leader.
func TestThreeNodesServeOnEveryNode(t *testing.T) {
	clients, _ := startThree(t)
	for i, c := range clients {
		if reply := c.untilOK(t, "XADD", "s", "*", "node", fmt.Sprint(i)); !strings.HasPrefix(reply, "$") {
			t.Fatalf("XADD via node %d: %q", i+1, reply)
		}
		if got := c.untilOK(t, "XLEN", "s"); got != fmt.Sprintf(":%d\r\n", i+1) {
			t.Fatalf("XLEN via node %d right after its write = %q", i+1, got)
		}
	}
}

func TestRunShutdownAndRecover(t *testing.T) {
	dir := t.TempDir()
	addr, stop := startNode(t, dir)
	c := dial(t, addr)
	for i := 0; i < 5; i++ {
		if reply := c.untilOK(t, "XADD", "s", "*", "i", fmt.Sprint(i)); !strings.HasPrefix(reply, "$") {
			t.Fatalf("XADD reply %q", reply)
		}
	}
	stop()

	addr, stop = startNode(t, dir)
	defer stop()
	c = dial(t, addr)
	if got := c.untilOK(t, "XLEN", "s"); got != ":5\r\n" {
		t.Fatalf("XLEN after restart = %q, want :5", got)
	}
}

// The client TLS flags go together as Redis's do; the TLS port shares
// --listen's host.
func TestParseTLSFlags(t *testing.T) {
	o, err := parseFlags([]string{"--listen", "10.0.0.5:6379", "--tls-port", "6380", "--tls-cert-file", "c", "--tls-key-file", "k",
		"--tls-ca-cert-file", "ca"}, io.Discard)
	if err != nil || o.server.TLSAddr != "10.0.0.5:6380" {
		t.Fatalf("TLSAddr %q, %v", o.server.TLSAddr, err)
	}
	if o, err := parseFlags(nil, io.Discard); err != nil || o.server.TLSAddr != "" {
		t.Fatalf("no --tls-port: TLSAddr %q, %v", o.server.TLSAddr, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-port", "6380"}, "--tls-port needs --tls-cert-file and --tls-key-file"},
		{[]string{"--tls-port", "6380", "--tls-cert-file", "c", "--tls-key-file", "k"}, "needs --tls-ca-cert-file"},
		{[]string{"--tls-port", "70000", "--tls-cert-file", "c", "--tls-key-file", "k"}, "want 1 to 65535"},
		{[]string{"--tls-auth-clients", "maybe"}, `--tls-auth-clients "maybe": want yes, no or optional`},
	} {
		var stderr bytes.Buffer
		if _, err := parseFlags(tc.args, &stderr); !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: %v, want a usage error saying %q; stderr:\n%s", tc.args, err, tc.want, stderr.String())
		}
	}
	o, err = parseFlags([]string{"--tls-port", "6380", "--tls-cert-file", "c", "--tls-key-file", "k", "--tls-auth-clients", "no"}, io.Discard)
	if err != nil || o.server.TLSAddr != "127.0.0.1:6380" {
		t.Fatalf("--tls-auth-clients no without a CA: %q, %v", o.server.TLSAddr, err)
	}
}

// TestRaftPortFlood: 2,000 idle connections to a node's Raft port cost it
// at most --raft-max-conns descriptors; its client port keeps serving, the
// cluster keeps committing, and a peer's connection still gets through.
func TestRaftPortFlood(t *testing.T) {
	clients, raft := startThree(t, "--raft-max-conns", "64", "--raft-handshake-timeout", "1s")
	if reply := clients[0].untilOK(t, "XADD", "s", "*", "before", "flood"); !strings.HasPrefix(reply, "$") {
		t.Fatalf("XADD: %q", reply)
	}
	openFDs := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("no /proc/self/fd: %v", err)
		}
		return len(ents)
	}
	before := openFDs()
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			_ = c.Close()
		}
	}()
	for range 2000 {
		c, err := net.Dial("tcp", raft[0])
		if err != nil {
			t.Fatalf("flood dial %d: %v", len(flood), err)
		}
		flood = append(flood, c)
	}
	// Our 2,000 ends stay open; the node keeps at most 64 of the others.
	deadline := time.Now().Add(10 * time.Second)
	for openFDs()-before > len(flood)+64+16 {
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors more than before the flood of %d connections", openFDs()-before, len(flood))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := clients[0].do(t, "PING"); got != "+PONG\r\n" {
		t.Fatalf("PING during the flood: %q", got)
	}
	for i, c := range clients {
		if reply := c.untilOK(t, "XADD", "s", "*", "node", fmt.Sprint(i)); !strings.HasPrefix(reply, "$") {
			t.Fatalf("XADD via node %d during the flood: %q", i+1, reply)
		}
	}
	peer, err := cluster.DialKind(raft[0], cluster.MuxForward, 5*time.Second, "s")
	if err != nil {
		t.Fatalf("a peer's connection during the flood: %v", err)
	}
	_ = peer.Close()
	if got := clients[1].untilOK(t, "XLEN", "s"); got != ":4\r\n" {
		t.Fatalf("XLEN = %q", got)
	}
}
