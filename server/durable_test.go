package server

import (
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
)

// flushGateBackend is a directBackend whose writes are applied before they
// are durable, as a lone voter's (cluster.logFlusher): every Propose
// moves the applied index, and SyncThrough blocks until the test opens
// the gate.
type flushGateBackend struct {
	*directBackend
	applied atomic.Uint64
	// notify wakes the clients blocked on a key a write changed, as the
	// state machine's signal does (set once the server exists).
	notify func(db int, key string)

	mu     sync.Mutex
	cond   *sync.Cond
	open   bool
	err    error
	asked  uint64 // highest index SyncThrough was called with
	called int
}

func newFlushGateBackend() *flushGateBackend {
	b := &flushGateBackend{directBackend: newDirectBackend()}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *flushGateBackend) Propose(cmd cluster.Command) pendingWrite {
	w := b.directBackend.Propose(cmd)
	b.applied.Add(1)
	if b.notify != nil && len(cmd.Argv) > 1 {
		b.notify(int(cmd.DB), string(cmd.Argv[1]))
	}
	return w
}

func (b *flushGateBackend) AppliedIndex() uint64 { return b.applied.Load() }

func (b *flushGateBackend) SyncThrough(index uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.called++
	b.asked = max(b.asked, index)
	b.cond.Broadcast()
	for !b.open && b.err == nil {
		b.cond.Wait()
	}
	return b.err
}

// waitAsked waits until a SyncThrough call asked for at least index.
func (b *flushGateBackend) waitAsked(t *testing.T, index uint64) {
	t.Helper()
	waitFor(t, 10*time.Second, "a SyncThrough call for the reply", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.asked >= index
	})
}

func (b *flushGateBackend) release(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.err = err
	} else {
		b.open = true
	}
	b.cond.Broadcast()
}

// expectNothingYet checks that no reply byte reached the client while
// the flush it waits for is held.
func expectNothingYet(t *testing.T, r *rawConn) {
	t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if b, err := r.br.Peek(1); err == nil {
		t.Fatalf("reply byte %q sent before the log flush it shows", b)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("connection failed while its reply waited for the flush: %v", err)
	}
}

// TestRepliesWaitForTheLogFlush checks the server's half of the deferred
// log flush: no reply leaves before the entries whose state it shows are
// durable, be it a write's, a read's or a blocked client's; and a failed
// flush closes the connection instead of sending it.
func TestRepliesWaitForTheLogFlush(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, s *Server, b *flushGateBackend) *rawConn // returns the client whose reply waits
		want string
	}{
		{"write", func(t *testing.T, s *Server, b *flushGateBackend) *rawConn {
			c := dialRaw(t, s)
			c.send(encode("XADD", "s", "1-1", "f", "v"))
			b.waitAsked(t, 1)
			return c
		}, "$3\r\n1-1\r\n"},
		{"pipelined writes", func(t *testing.T, s *Server, b *flushGateBackend) *rawConn {
			c := dialRaw(t, s)
			c.send(append(encode("XADD", "s", "1-1", "f", "v"), encode("XLEN", "s")...))
			b.waitAsked(t, 1)
			return c
		}, "$3\r\n1-1\r\n:1\r\n"},
		{"read of a write not yet flushed", func(t *testing.T, s *Server, b *flushGateBackend) *rawConn {
			w := dialRaw(t, s)
			w.send(encode("XADD", "s", "1-1", "f", "v"))
			b.waitAsked(t, 1)
			r := dialRaw(t, s)
			b.mu.Lock()
			calls := b.called
			b.mu.Unlock()
			r.send(encode("XLEN", "s"))
			waitFor(t, 10*time.Second, "the read's SyncThrough", func() bool {
				b.mu.Lock()
				defer b.mu.Unlock()
				return b.called > calls
			})
			return r
		}, ":1\r\n"},
		{"blocked reader woken by a write", func(t *testing.T, s *Server, b *flushGateBackend) *rawConn {
			r := dialRaw(t, s)
			r.send(encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
			waitFor(t, 10*time.Second, "a blocked client", func() bool { return s.waiters.blocked() > 0 })
			w := dialRaw(t, s)
			w.send(encode("XADD", "s", "1-1", "f", "v"))
			b.waitAsked(t, 1)
			return r
		}, "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newFlushGateBackend()
			s, err := newServer(Config{Addr: "127.0.0.1:0"}, b, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			b.notify = s.waiters.notify
			serve(t, s)
			t.Cleanup(func() { b.release(nil) }) // before the server closes
			c := tc.run(t, s, b)
			expectNothingYet(t, c)
			b.release(nil)
			got := c.read()
			for len(got) < len(tc.want) {
				got += c.read()
			}
			if got != tc.want {
				t.Fatalf("reply %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("failed flush", func(t *testing.T) {
		b := newFlushGateBackend()
		s, err := newServer(Config{Addr: "127.0.0.1:0"}, b, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		serve(t, s)
		c := dialRaw(t, s)
		c.send(encode("XADD", "s", "1-1", "f", "v"))
		b.waitAsked(t, 1)
		b.release(errors.New("input/output error"))
		c.expectClosed()
		// The server goes on serving (and waiting for flushes).
		b.mu.Lock()
		b.err, b.open = nil, true
		b.mu.Unlock()
		if got := dialRaw(t, s).do("PING"); !strings.HasPrefix(got, "+PONG") {
			t.Fatalf("PING after a failed flush: %q", got)
		}
	})
}
