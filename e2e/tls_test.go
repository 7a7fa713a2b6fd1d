package e2e

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftstream/raftstream/internal/testcerts"
)

// TestClientTLS serves a node's TLS port (client certificates required,
// as Redis's default tls-auth-clients yes) and drives it with go-redis,
// redis-py and redis-cli --tls, each with the client certificate.
func TestClientTLS(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream's TLS flags")
	}
	certs, err := testcerts.New()
	must(t, err)
	files, err := certs.Files(t.TempDir())
	must(t, err)
	ports, err := freePorts(1)
	must(t, err)
	tlsPort := strconv.Itoa(ports[0])
	p := StartNode(t, "--tls-port", tlsPort, "--tls-cert-file", files["server.crt"], "--tls-key-file", files["server.key"],
		"--tls-ca-cert-file", files["ca.crt"])
	host, _, _ := net.SplitHostPort(p.Addr)
	tlsAddr := net.JoinHostPort(host, tlsPort)

	t.Run("go-redis", func(t *testing.T) {
		cert, err := certs.Client()
		must(t, err)
		for _, proto := range []int{2, 3} {
			c := redis.NewClient(&redis.Options{Addr: tlsAddr, Protocol: proto,
				TLSConfig: &tls.Config{RootCAs: certs.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{cert}}})
			ctx := testCtx(t, 30*time.Second)
			id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "tls", Values: []string{"via", "go-redis"}}).Result()
			must(t, err)
			msgs, err := c.XRange(ctx, "tls", id, id).Result()
			must(t, err)
			wantEq(t, "XRANGE over TLS (RESP"+strconv.Itoa(proto)+")", msgs[0].Values["via"], any("go-redis"))
			must(t, c.Close())
		}
		// Without a client certificate the handshake fails.
		c := redis.NewClient(&redis.Options{Addr: tlsAddr, MaxRetries: -1,
			TLSConfig: &tls.Config{RootCAs: certs.Pool(), ServerName: "localhost"}})
		defer c.Close()
		if err := c.Ping(testCtx(t, 10*time.Second)).Err(); err == nil {
			t.Fatal("PING without a client certificate succeeded")
		}
	})

	t.Run("redis-cli", func(t *testing.T) {
		out := redisCLI(t, tlsAddr, "", "--tls", "--cacert", files["ca.crt"], "--cert", files["client.crt"], "--key", files["client.key"],
			"XADD", "tls", "*", "via", "redis-cli")
		if _, _, ok := strings.Cut(strings.TrimSpace(out), "-"); !ok {
			t.Fatalf("redis-cli --tls XADD: %q", out)
		}
		out = redisCLI(t, tlsAddr, "", "--tls", "--cacert", files["ca.crt"], "--cert", files["client.crt"], "--key", files["client.key"], "XLEN", "tls")
		if strings.TrimSpace(out) != "3" { // two from go-redis, one from redis-cli
			t.Fatalf("redis-cli --tls XLEN: %q", out)
		}
	})

	t.Run("redis-py", func(t *testing.T) {
		if _, err := os.Stat(systemPython); err != nil {
			t.Skipf("%s not found", systemPython)
		}
		if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err != nil {
			t.Skipf("redis-py not importable by %s: %v\n%s", systemPython, err, out)
		}
		const script = `
import sys, redis
host, port, ca, cert, key = sys.argv[1:6]
r = redis.Redis(host=host, port=int(port), ssl=True, ssl_ca_certs=ca, ssl_certfile=cert, ssl_keyfile=key)
assert r.ping() is True
i = r.xadd("tls", {"via": "redis-py"})
print(r.xlen("tls"), r.xrange("tls", i, i)[0][1][b"via"].decode())
`
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, port, _ := net.SplitHostPort(tlsAddr)
		out, err := exec.CommandContext(ctx, systemPython, "-c", script, "localhost", port, files["ca.crt"], files["client.crt"], files["client.key"]).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "4 redis-py" {
			t.Fatalf("redis-py over TLS: %v\n%s", err, out)
		}
	})
	p.RequireAlive(t)
}

// TestClusterTLS runs three real nodes whose peer links are mutual TLS
// (--tls-cluster yes, no cluster secret, Raft on loopback) and writes
// through a follower; a joiner without TLS is refused.
func TestClusterTLS(t *testing.T) {
	certs, err := testcerts.New()
	must(t, err)
	files, err := certs.Files(t.TempDir())
	must(t, err)
	pl := planCluster(t, 3)
	tlsFlags := []string{"--tls-cluster", "yes", "--tls-cert-file", files["server.crt"], "--tls-key-file", files["server.key"],
		"--tls-ca-cert-file", files["ca.crt"]}
	nodes := make([]*Proc, 3)
	for i := range nodes {
		id := "n" + strconv.Itoa(i+1)
		p := newProc(t, "raftstream", pl.bin, func(p *Proc) []string {
			return append([]string{"--node-id", id, "--data-dir", p.Dir, "--listen", p.Addr, "--raft-listen", p.RaftAddr,
				"--peers", pl.peers}, tlsFlags...)
		})
		p.Name, p.Addr, p.RaftAddr, p.pingOnly = "raftstream-"+id, pl.addrs[i], pl.raftAddrs[i], true
		nodes[i] = p
	}
	for _, p := range nodes {
		p.Start()
	}
	leader := waitLeader(t, nodes)
	for _, p := range nodes {
		if p == leader {
			continue
		}
		if r := do(p.Addr, "XADD", "tls", "*", "via", p.Name); !strings.HasPrefix(r, "$") {
			t.Fatalf("XADD through %s: %q", p.Name, r)
		}
	}
	if r := do(leader.Addr, "XLEN", "tls"); r != ":2\r\n" {
		t.Fatalf("XLEN on the leader: %q", r)
	}
	// Through a client-address seed (the deprecated join path) the
	// joiner reaches the leader, whose check of the joiner's Raft port
	// refuses it. (Through a Raft address its plain handshake with the
	// TLS port fails first; cluster TestPeerTLS covers that path.)
	code, out := runBinary(t, time.Minute, append(freshNodeArgs(t, "plain"), "--join", leader.Addr)...)
	if code != 1 || !strings.Contains(out, "join refused: the leader cannot authenticate") {
		t.Fatalf("a joiner without TLS: exit %d:\n%s", code, out)
	}
}
