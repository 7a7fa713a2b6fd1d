package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/cluster"
)

// TestPipelineGroupCommit checks that a pipeline's consecutive writes are
// all proposed before the first is waited for, and that replies come back
// in request order, with reads seeing the writes before them.
func TestPipelineGroupCommit(t *testing.T) {
	s, be := startDirect(t, Config{})
	c := dialRaw(t, s)
	var req bytes.Buffer
	const n = 50
	for i := 0; i < n; i++ {
		req.Write(encode("XADD", "s", fmt.Sprintf("%d-1", i+1), "f", "v"))
	}
	req.Write(encode("XLEN", "s"))
	req.Write(encode("PING"))
	req.Write(encode("GET", "x"))
	req.Write(encode("XADD", "s", "*", "f")) // rejected by the syntax check
	req.Write(encode("XADD", "s", "1000-1", "f", "v"))
	req.Write(encode("SELECT", "1"))
	req.Write(encode("XADD", "s", "1-1", "f", "v"))
	req.Write(encode("XLEN", "s"))
	c.send(req.Bytes())
	for i := 0; i < n; i++ {
		if got, want := c.read(), fmt.Sprintf("$%d\r\n%d-1\r\n", len(fmt.Sprint(i+1))+2, i+1); got != want {
			t.Fatalf("reply %d: got %q want %q", i, got, want)
		}
	}
	for _, want := range []string{
		":50\r\n",
		"+PONG\r\n",
		"-ERR unsupported command 'GET': raftstream keys hold only streams\r\n",
		"-ERR wrong number of arguments for 'xadd' command\r\n",
		"$6\r\n1000-1\r\n",
		"+OK\r\n",
		"$3\r\n1-1\r\n", // database 1 is a different keyspace
		":1\r\n",
	} {
		if got := c.read(); got != want {
			t.Fatalf("got %q want %q", got, want)
		}
	}
	if got := be.maxBatch.Load(); got < n {
		t.Errorf("at most %d writes were outstanding at once, want the whole run of %d", got, n)
	}
}

func TestWriteErrorReplies(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"not leader", fmt.Errorf("%w: %w", cluster.ErrNotLeader, raft.ErrNotLeader),
			"-TRYAGAIN the Raft leader could not confirm its leadership; the command was not applied\r\n"},
		{"leadership lost", fmt.Errorf("%w: %w", cluster.ErrUnknownOutcome, raft.ErrLeadershipLost),
			"-ERR the write's outcome is unknown: Raft leadership was lost before the commit was confirmed; it may or may not have been applied\r\n"},
		{"shut down", fmt.Errorf("%w: %w", cluster.ErrUnknownOutcome, cluster.ErrClosed),
			"-ERR the Raft node shut down before the write was confirmed; it may or may not have been applied\r\n"},
		{"closed before proposing", cluster.ErrClosed,
			"-ERR the Raft node is shutting down; the command was not applied\r\n"},
	}
	s, be := startDirect(t, Config{})
	c := dialRaw(t, s)
	for _, tc := range cases {
		err := tc.err
		be.proposeErr.Store(&err)
		c.expect(tc.want, "XADD", "s", "*", "f", "v")
	}
	be.proposeErr.Store(nil)

	t.Run("follower", func(t *testing.T) {
		s, be := startDirect(t, Config{})
		be.setState("follower")
		err := error(fmt.Errorf("%w: %w", cluster.ErrNotLeader, raft.ErrNotLeader))
		be.proposeErr.Store(&err)
		be.barrierErr.Store(&err)
		c := dialRaw(t, s)
		c.expect("-TRYAGAIN this node is not the Raft leader (the leader is direct, serving clients at 127.0.0.1:6380); the command was not applied\r\n",
			"XADD", "s", "*", "f", "v")
		c.expect("-TRYAGAIN this node is not the Raft leader (the leader is direct, serving clients at 127.0.0.1:6380); the read was not served\r\n",
			"XLEN", "s")
		if r := c.do("INFO", "replication"); !strings.Contains(r, "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6380\r\n") {
			t.Errorf("INFO replication on a follower: %q", r)
		}
	})
	t.Run("commit timeout", func(t *testing.T) {
		s, be := startDirect(t, Config{CommandTimeout: 200 * time.Millisecond})
		hold := make(chan struct{})
		be.hold.Store(&hold)
		c := dialRaw(t, s)
		c.expect("-ERR the write's outcome is unknown: no commit confirmation within the command timeout; it may or may not have been applied\r\n",
			"XADD", "s", "*", "f", "v")
		close(hold)
	})
}

// TestCloseFinishesInflight checks that Close lets a connection finish the
// batch it is executing and flush its replies before closing it, while
// idle connections are closed at once.
func TestCloseFinishesInflight(t *testing.T) {
	be := newDirectBackend()
	s, err := newServer(Config{Addr: "127.0.0.1:0"}, be, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	idle := dialRaw(t, s)
	idle.expect("+PONG\r\n", "PING")

	hold := make(chan struct{})
	be.hold.Store(&hold)
	busy := dialRaw(t, s)
	busy.send(append(append(encode("XADD", "s", "1-1", "a", "b"), encode("XADD", "s", "2-1", "a", "b")...), encode("XLEN", "s")...))
	waitFor(t, 5*time.Second, "the writes to be proposed", func() bool { return be.proposals.Load() == 2 })

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	idle.expectClosed()
	select {
	case <-closed:
		t.Fatal("Close returned while a batch was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(hold)
	for _, want := range []string{"$3\r\n1-1\r\n", "$3\r\n2-1\r\n", ":2\r\n"} {
		if got := busy.read(); got != want {
			t.Fatalf("got %q want %q", got, want)
		}
	}
	busy.expectClosed()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// panicBackend panics on reads, standing in for any bug below the
// server: the server must drop that client only.
type panicBackend struct{ *directBackend }

func (panicBackend) ReadBarrier(context.Context) error { panic("boom") }

func TestPanicClosesOnlyThatClient(t *testing.T) {
	watch := newPanicWatch()
	s, err := newServer(Config{Addr: "127.0.0.1:0"}, panicBackend{newDirectBackend()}, slog.New(watch))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	other := dialRaw(t, s)
	other.expect("+PONG\r\n", "PING")
	c := dialRaw(t, s)
	c.send(append(encode("PING"), encode("XLEN", "s")...))
	if got := c.read(); got != "+PONG\r\n" {
		t.Fatalf("reply before the panic: %q", got)
	}
	c.expectClosed()
	if watch.errors.Load() == 0 {
		t.Error("the panic was not logged")
	}
	other.expect("+PONG\r\n", "PING")
	dialRaw(t, s).expect("+PONG\r\n", "PING")
}

func TestErrorMappingIsExhaustive(t *testing.T) {
	// Anything unexpected is reported as an unknown outcome, never as
	// "not applied": a retry could apply it twice.
	got := writeError(errors.New("disk on fire"), cluster.Status{})
	if !strings.Contains(got, "may or may not have been applied") {
		t.Errorf("unexpected error mapped to %q", got)
	}
}
