// Package testports gives tests loopback TCP ports to name before the
// servers that listen on them start, as a cluster's --peers must name
// every node's address up front.
//
// The usual way, listening on port 0 and closing the listener, hands out a
// port from the kernel's ephemeral range, and the kernel may give that
// port to the next bind to port 0 before the intended server binds it:
// another node's own client listener in the same test, or any other
// process. That made TestRaftPortFlood fail with "address already in use"
// in CI. Ports drawn from below the ephemeral range are never handed out
// for port 0, so only another test that draws the same port at the same
// moment can collide.
package testports

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is the smallest port Free hands out: below it are well-known
// services' ports.
const lowest = 10000

// Free returns n distinct loopback ports that nothing listened on a moment
// ago.
func Free(n int) ([]int, error) {
	lo, hi := lowest, ephemeralLow()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	if hi-lo < 1000 {
		// No room below the ephemeral range: fall back to port 0.
		for len(ports) < n {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, fmt.Errorf("listen: %w", err)
			}
			ls = append(ls, l)
			ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		}
		return ports, nil
	}
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("no free port in %d..%d after %d tries", lo, hi-1, tries)
		}
		p := lo + rand.IntN(hi-lo)
		// Listening also keeps the ports distinct until all are picked.
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, p)
	}
	return ports, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 32768
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return lo
}
