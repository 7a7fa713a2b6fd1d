package server

import (
	"bufio"
	"net"
	"strconv"
	"testing"
)

// externalIP is a non-loopback IPv4 address of this host, for connecting
// to a wildcard listener as a non-local client; the test is skipped
// without one.
func externalIP(t testing.TB) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("interface addresses: %v", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address to connect from")
	return ""
}

// dialVia connects to s's port at host.
func dialVia(t testing.TB, s *Server, host string) *rawConn {
	t.Helper()
	port := s.Addr().(*net.TCPAddr).Port
	c, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func TestProtectedMode(t *testing.T) {
	ext := externalIP(t)
	node := startNode(t)
	cases := []struct {
		name   string
		cfg    Config
		host   string
		denied bool
	}{
		{"non-loopback client, no password", Config{}, ext, true},
		{"loopback client, no password", Config{}, "127.0.0.1", false},
		{"non-loopback client with a password set", Config{RequirePass: "pw"}, ext, false},
		{"--protected-mode no", Config{NoProtectedMode: true}, ext, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Addr = "0.0.0.0:0"
			s := startServer(t, tc.cfg, node)
			c := dialVia(t, s, tc.host)
			got := c.do("PING")
			switch {
			case tc.denied:
				if got != protectedModeDenied {
					t.Fatalf("reply %q, want the DENIED error", got)
				}
				c.expectClosed()
				if n := s.stats.rejected.Load(); n != 1 {
					t.Errorf("rejected_connections = %d, want 1", n)
				}
			case tc.cfg.RequirePass != "":
				if got != "-NOAUTH Authentication required.\r\n" {
					t.Fatalf("reply %q, want NOAUTH", got)
				}
			default:
				if got != "+PONG\r\n" {
					t.Fatalf("reply %q, want PONG", got)
				}
			}
		})
	}

	// CONFIG SET protected-mode switches it at run time, as in Redis.
	s := startServer(t, Config{Addr: "0.0.0.0:0"}, node)
	local := dialVia(t, s, "127.0.0.1")
	local.expect("*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n", "CONFIG", "GET", "protected-mode")
	local.expect("+OK\r\n", "CONFIG", "SET", "protected-mode", "no")
	dialVia(t, s, ext).expect("+PONG\r\n", "PING")
	local.expect("+OK\r\n", "CONFIG", "SET", "protected-mode", "YES")
	if got := dialVia(t, s, ext).do("PING"); got != protectedModeDenied {
		t.Fatalf("after CONFIG SET protected-mode yes: %q", got)
	}
	local.expect("-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n",
		"CONFIG", "SET", "protected-mode", "maybe")
}
