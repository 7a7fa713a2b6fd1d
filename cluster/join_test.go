package cluster

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A seed given as a client (RESP) address, as before joins went over the
// cluster RPC, still works: the joiner finds the Raft-port handshake
// failing there, a PING answered in RESP, and sends AUTH and RAFT ADD,
// with one deprecation warning in its log.
func TestJoinThroughClientAddressDeprecated(t *testing.T) {
	nodes, _ := clusterWithClients(t, 3, func(*Config) {})
	leader := waitLeader(t, nodes...)
	seed := respSeed(t, followersOf(leader, nodes)[0], "pw")

	var logs lockedBuffer
	cfg := testConfig(t, "n4", t.TempDir())
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	cfg.ClientAddr = "client-n4:6379"
	cfg.Join = []string{seed}
	cfg.JoinPassword = "pw"
	n4 := openNode(t, cfg)
	defer n4.Close()
	waitFor(t, 15*time.Second, "n4 to be a voter", func() bool {
		m, ok := memberByID(t, leader, "n4")
		return ok && m.Suffrage == "voter" && m.ClientAddr == "client-n4:6379"
	})
	if got := strings.Count(logs.String(), "deprecated: --join seed is a client (RESP) address"); got != 1 {
		t.Fatalf("%d deprecation warnings, want 1; log:\n%s", got, logs.String())
	}
}

// isRESP tells a client port from a Raft port (and from nothing).
func TestJoinSeedKind(t *testing.T) {
	nodes := startCluster(t, 1)
	n := waitLeader(t, nodes...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name, addr string
		want       bool
	}{
		{"client port", respSeed(t, n, ""), true},
		{"client port needing AUTH", respSeed(t, n, "pw"), true},
		{"raft port", n.RaftAddr(), false},
		{"closed port", dead, false},
	} {
		if got := isRESP(t.Context(), tc.addr); got != tc.want {
			t.Errorf("%s: isRESP = %v, want %v", tc.name, got, tc.want)
		}
	}
}
