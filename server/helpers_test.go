package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
)

// testLogger is silent unless RAFTSTREAM_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("RAFTSTREAM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// nodeConfig is a single-node cluster's configuration with fast
// timeouts, in a fresh data dir.
func nodeConfig(t testing.TB) cluster.Config {
	return cluster.Config{
		NodeID:             "n1",
		DataDir:            t.TempDir(),
		RaftAddr:           "127.0.0.1:0",
		Logger:             testLogger(),
		HeartbeatTimeout:   100 * time.Millisecond,
		ElectionTimeout:    100 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		DrainTimeout:       5 * time.Second,
	}
}

// startNode opens a single-node cluster in a temp dir and waits until it
// leads.
func startNode(t testing.TB) *cluster.Node {
	t.Helper()
	n, err := cluster.Open(nodeConfig(t))
	if err != nil {
		t.Fatalf("cluster.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("node close: %v", err)
		}
	})
	waitFor(t, 10*time.Second, "leadership", func() bool { return n.Status().State == "leader" })
	return n
}

// startServer serves cfg (on 127.0.0.1:0 unless set) over node.
func startServer(t testing.TB, cfg Config, node *cluster.Node) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := New(cfg, node, testLogger())
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	serve(t, s)
	return s
}

// serve runs s.Serve and closes s when the test ends; cleanup runs before
// the node's (registered earlier), so clients go before Raft does.
func serve(t testing.TB, s *Server) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("server close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Serve did not return after Close")
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawConn is a client that sends raw bytes and reads whole RESP frames as
// bytes, to check replies byte for byte.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, s *Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// encode builds a multibulk request.
func encode(args ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

func (r *rawConn) send(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// do sends one command and returns its reply frame.
func (r *rawConn) do(args ...string) string {
	r.t.Helper()
	r.send(encode(args...))
	return r.read()
}

// expect sends one command and checks the exact reply bytes.
func (r *rawConn) expect(want string, args ...string) {
	r.t.Helper()
	if got := r.do(args...); got != want {
		r.t.Errorf("%q:\n got %q\nwant %q", args, got, want)
	}
}

// read returns the next complete reply frame.
func (r *rawConn) read() string {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := readFrame(r.br)
	if err != nil {
		r.t.Fatalf("read reply: %v", err)
	}
	return f
}

// expectClosed checks that the server closed the connection.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := r.br.ReadByte()
	if err == nil {
		rest, _ := r.br.Peek(r.br.Buffered())
		r.t.Fatalf("connection still open: read %q%q", b, rest)
	}
	if !errors.Is(err, io.EOF) && !isConnReset(err) {
		r.t.Fatalf("expected EOF, got %v", err)
	}
}

func isConnReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// readFrame reads one RESP2/RESP3 frame and returns its bytes.
func readFrame(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("bad line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', '_', '#', ',', '(':
		return line, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil {
			return "", fmt.Errorf("bad length in %q", line)
		}
		if n < 0 {
			return line, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return "", err
		}
		return line + string(buf), nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return "", fmt.Errorf("bad length in %q", line)
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		out := line
		for i := 0; i < n; i++ {
			f, err := readFrame(br)
			if err != nil {
				return "", err
			}
			out += f
		}
		return out, nil
	}
	return "", fmt.Errorf("unknown frame type in %q", line)
}
