package testports

import (
	"net"
	"strconv"
	"testing"
)

// Free hands out distinct ports below the ephemeral range that can be
// listened on.
func TestFree(t *testing.T) {
	ports, err := Free(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[int]bool)
	low := ephemeralLow()
	for _, p := range ports {
		if seen[p] {
			t.Errorf("port %d handed out twice", p)
		}
		seen[p] = true
		if low-lowest >= 1000 && (p < lowest || p >= low) {
			t.Errorf("port %d outside %d..%d", p, lowest, low-1)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("port %d: %v", p, err)
			continue
		}
		_ = l.Close()
	}
	if len(ports) != 20 {
		t.Errorf("%d ports, want 20", len(ports))
	}
}
