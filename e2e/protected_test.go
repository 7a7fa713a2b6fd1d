package e2e

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// hostIP is a non-loopback IPv4 address of this host, or "" if none.
func hostIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String()
		}
	}
	return ""
}

// deniedReply connects to the port of addr through ip, sends PING and
// returns everything the server sends before it closes the connection.
func deniedReply(t *testing.T, ip, addr string) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), 5*time.Second)
	must(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	// Redis writes the error at accept time and closes, so no request is
	// sent: one still unread when the server closes would turn the close
	// into a reset that can discard the reply.
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading from %s via %s: %v (got %q)", addr, ip, err, b)
	}
	return string(b)
}

// TestProtectedModeMatchesRedis binds redis-server and raftstream to every
// interface without a password and connects to both from a non-loopback
// address of this host: both refuse with the same DENIED error and close.
// Redis 7.0 says "Setup a an" where later releases (raftstream follows
// them) say "Set up an"; that is the only difference allowed.
func TestProtectedModeMatchesRedis(t *testing.T) {
	ip := hostIP()
	if ip == "" {
		t.Skip("no non-loopback IPv4 address to connect from")
	}
	redisBin := requireRedis(t)
	if targetIsRedis() {
		t.Skip("compares the two servers itself")
	}
	rs := newProc(t, "redis", redisBin, func(p *Proc) []string {
		_, port, _ := net.SplitHostPort(p.Addr)
		return []string{"--port", port, "--bind", "0.0.0.0", "--dir", p.Dir, "--save", "", "--daemonize", "no", "--logfile", ""}
	})
	rs.startFresh(1)
	node := newProc(t, "raftstream", raftstreamBinary(t), func(p *Proc) []string {
		_, port, _ := net.SplitHostPort(p.Addr)
		return []string{"--node-id", "n1", "--data-dir", p.Dir, "--listen", "0.0.0.0:" + port, "--raft-listen", p.RaftAddr}
	})
	node.startFresh(2)

	want := strings.Replace(deniedReply(t, ip, rs.Addr), "4) Setup a an authentication", "4) Set up an authentication", 1)
	if !strings.HasPrefix(want, "-DENIED Redis is running in protected mode") {
		t.Fatalf("redis-server's reply: %q", want)
	}
	if got := deniedReply(t, ip, node.Addr); got != want {
		t.Fatalf("raftstream:\n%q\nredis-server:\n%q", got, want)
	}
	// Loopback clients are served by both.
	for _, p := range []*Proc{rs, node} {
		if r := do(p.Addr, "PING"); r != "+PONG\r\n" {
			t.Errorf("%s over loopback: %q", p.Name, r)
		}
	}
}
