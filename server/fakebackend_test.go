package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/fsm"
)

// directBackend runs writes straight on an in-memory engine state, with no
// Raft: it exercises the whole connection path fast and deterministically,
// and can be told to fail proposals or barriers the way a Raft node does.
type directBackend struct {
	mu sync.RWMutex
	st *engine.State

	proposeErr atomic.Pointer[error]
	barrierErr atomic.Pointer[error]
	// hold, if set, blocks Wait until it is closed.
	hold atomic.Pointer[chan struct{}]
	// proposals counts Propose calls; maxBatch the most proposals seen
	// outstanding at once (a measure of group commit).
	proposals   atomic.Int64
	outstanding atomic.Int64
	maxBatch    atomic.Int64
	state       atomic.Pointer[string]
}

func newDirectBackend() *directBackend {
	b := &directBackend{st: engine.NewState()}
	b.setState("leader")
	return b
}

func (b *directBackend) setState(s string) { b.state.Store(&s) }

type doneWaiter struct {
	b     *directBackend
	reply fsm.Reply
	err   error
}

func (w doneWaiter) Wait(ctx context.Context) (fsm.Reply, error) {
	defer w.b.outstanding.Add(-1)
	if h := w.b.hold.Load(); h != nil {
		select {
		case <-*h:
		case <-ctx.Done():
			// As cluster.Pending.Wait reports it.
			return fsm.Reply{}, fmt.Errorf("%w: %w", cluster.ErrUnknownOutcome, ctx.Err())
		}
	}
	return w.reply, w.err
}

func (b *directBackend) Propose(cmd fsm.Command) pendingWrite {
	b.proposals.Add(1)
	n := b.outstanding.Add(1)
	for {
		m := b.maxBatch.Load()
		if n <= m || b.maxBatch.CompareAndSwap(m, n) {
			break
		}
	}
	if e := b.proposeErr.Load(); e != nil {
		return doneWaiter{b: b, err: *e}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.st.AdvanceClock(time.Now().UnixMilli())
	return doneWaiter{b: b, reply: fsm.Exec(b.st, now, &cmd)}
}

func (b *directBackend) ReadBarrier(ctx context.Context) error {
	if e := b.barrierErr.Load(); e != nil {
		return *e
	}
	return ctx.Err()
}

func (b *directBackend) Read(fn func(st *engine.State)) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	fn(b.st)
}

func (b *directBackend) Status() cluster.Status {
	return cluster.Status{NodeID: "direct", State: *b.state.Load(), LeaderID: "direct", LeaderAddr: "127.0.0.1:1", LeaderClientAddr: "127.0.0.1:6380"}
}

// startDirect serves cfg over a directBackend.
func startDirect(t testing.TB, cfg Config) (*Server, *directBackend) {
	t.Helper()
	return startDirectLogger(t, cfg, testLogger())
}

func startDirectLogger(t testing.TB, cfg Config, logger *slog.Logger) (*Server, *directBackend) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	be := newDirectBackend()
	s, err := newServer(cfg, be, logger)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	serve(t, s)
	return s, be
}

// panicWatch is a slog handler that records error-level records, so tests
// can assert that no connection hit a recovered panic.
type panicWatch struct {
	slog.Handler
	errors atomic.Int64
	last   atomic.Pointer[string]
}

func newPanicWatch() *panicWatch {
	return &panicWatch{Handler: testLogger().Handler()}
}

func (p *panicWatch) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		p.errors.Add(1)
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			msg += " " + a.String()
			return true
		})
		p.last.Store(&msg)
	}
	return p.Handler.Handle(ctx, r)
}

func (p *panicWatch) Enabled(context.Context, slog.Level) bool { return true }

func (p *panicWatch) WithAttrs(as []slog.Attr) slog.Handler { return p }

func (p *panicWatch) WithGroup(string) slog.Handler { return p }
