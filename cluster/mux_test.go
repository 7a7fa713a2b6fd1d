package cluster

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestMuxRoutesByKind(t *testing.T) {
	base := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMux(ln, testLogger(), "s3cret")
	raftLn, err := m.Listen(MuxRaft)
	if err != nil {
		t.Fatal(err)
	}
	fwdLn, err := m.Listen(MuxForward)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Listen(MuxRaft); err == nil {
		t.Fatal("registering a kind twice succeeded")
	}

	// A silent connection and one of an unknown kind must not disturb the
	// others.
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	unknown, err := DialKind(ln.Addr().String(), 99, time.Second, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer unknown.Close()

	for _, tc := range []struct {
		kind byte
		ln   net.Listener
		msg  string
	}{
		{MuxForward, fwdLn, "forward"},
		{MuxRaft, raftLn, "raft"},
	} {
		c, err := DialKind(ln.Addr().String(), tc.kind, time.Second, "s3cret")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(tc.msg)); err != nil {
			t.Fatal(err)
		}
		s, err := tc.ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(tc.msg))
		if _, err := io.ReadFull(s, got); err != nil || string(got) != tc.msg {
			t.Fatalf("kind %d read %q, %v; want %q", tc.kind, got, err, tc.msg)
		}
		c.Close()
		s.Close()
	}
	// A dialer with another secret is refused, and learns it.
	if c, err := DialKind(ln.Addr().String(), MuxRaft, time.Second, "other"); err == nil {
		c.Close()
		t.Fatal("dial with a wrong secret succeeded")
	} else if !errors.Is(err, errAuth) {
		t.Fatalf("dial with a wrong secret: %v, want errAuth", err)
	}
	// An acceptor with another secret is refused too: the dialer checks
	// the acceptor's proof before sending anything.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m2 := NewMux(ln2, testLogger(), "")
	if c, err := DialKind(ln2.Addr().String(), MuxRaft, time.Second, "s3cret"); err == nil {
		c.Close()
		t.Fatal("dial to a peer with another secret succeeded")
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}

	// The unknown kind was dropped by the mux.
	_ = unknown.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := unknown.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("unknown kind connection: read error %v, want EOF", err)
	}

	// Close returns promptly despite the silent connection, and unblocks
	// Accept.
	accepted := make(chan error, 1)
	go func() {
		_, err := raftLn.Accept()
		accepted <- err
	}()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err == nil {
		t.Fatal("Accept after Close succeeded")
	}
	if _, err := m.Listen(3); err == nil {
		t.Fatal("Listen after Close succeeded")
	}
	checkNoGoroutineLeak(t, base)
}

func TestHclogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newHclog(l, "raft", hclog.Info).Named("snap").With("peer", "n2")
	h.Debug("hidden by slog level")
	h.Info("configuration", "servers", hclog.Fmt("%d voters", 3))
	h.Warn("careful")
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Fatalf("debug record leaked: %s", out)
	}
	for _, want := range []string{`msg=configuration`, `component=raft.snap`, `peer=n2`, `servers="3 voters"`, `level=WARN msg=careful`} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if h.IsDebug() || !h.IsInfo() {
		t.Fatal("level predicates disagree with the slog handler")
	}
}

// TestMuxLimits: connections in their handshake are shed oldest first, so
// a peer gets through a flood of idle connections; authenticated ones are
// capped, and closing one frees its place.
func TestMuxLimits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMuxWithLimits(ln, testLogger(), "k", MuxLimits{MaxConns: 8, HandshakeTimeout: time.Minute})
	defer m.Close()
	fwd, err := m.Listen(MuxForward)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := fwd.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	addr := ln.Addr().String()
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			_ = c.Close()
		}
	}()
	for range 200 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	waitFor(t, 5*time.Second, "the flood to be shed", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.pending) <= 2 // a quarter of MaxConns
	})
	// The oldest idle connections were closed by the mux.
	_ = idle[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle[0].Read(make([]byte, 1)); err == nil || isTimeoutErr(err) {
		t.Fatalf("the oldest idle connection is still open: %v", err)
	}

	// Authenticated connections fill the cap; beyond it new ones are
	// refused, even with the right secret.
	var peers []net.Conn
	for range 8 {
		c, err := DialKind(addr, MuxForward, 5*time.Second, "k")
		if err != nil {
			t.Fatalf("peer %d during the flood: %v", len(peers), err)
		}
		peers = append(peers, c)
		server := <-accepted
		defer server.Close()
		peers = append(peers, server)
	}
	if c, err := DialKind(addr, MuxForward, 2*time.Second, "k"); err == nil {
		_ = c.Close()
		t.Fatal("a connection beyond MaxConns authenticated connections got through")
	}
	// Closing one (server side) frees a place.
	_ = peers[1].Close()
	c, err := DialKind(addr, MuxForward, 5*time.Second, "k")
	if err != nil {
		t.Fatalf("after a close: %v", err)
	}
	_ = c.Close()
	for _, p := range peers {
		_ = p.Close()
	}
}

func isTimeoutErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
