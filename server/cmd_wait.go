package server

import (
	"context"
	"time"

	"github.com/tidwall/redcon"

	"github.com/raftstream/raftstream/engine"
)

// replicaBackend is the part of the node behind WAIT; backends without
// it (test fakes) behave as a node without replicas.
type replicaBackend interface {
	// WaitReplicated reports how many other members hold every write
	// acknowledged before the call, waiting until want do or ctx ends.
	WaitReplicated(ctx context.Context, want int) int
}

// cmdWait is WAIT numreplicas timeout. The connection's earlier writes
// are already committed when it runs (readsState drains them), so they
// are on a majority: WAIT answers at once when that is enough, and
// otherwise blocks until enough other members applied them, the timeout
// (ms, 0 for none) passes, CLIENT UNBLOCK, or the client leaves. Unlike
// Redis, a follower accepts it too: it takes writes (forwarding them), so
// it can say where they are. Inside MULTI it does not block.
func cmdWait(x *call) {
	want, ok := parseInt64(x.argv[1])
	if !ok {
		x.w.WriteError(errNotInteger)
		return
	}
	timeout, msg := engine.ParseTimeoutMS(x.argv[2], time.Now().UnixMilli())
	if msg != "" {
		x.w.WriteError(msg)
		return
	}
	waitFn := func(ctx context.Context, want int) int {
		if want > 0 {
			<-ctx.Done()
		}
		return 0
	}
	if rb, ok := x.s.be.(replicaBackend); ok {
		waitFn = rb.WaitReplicated
	}
	wantN := int(min(max(want, 0), 1<<30))
	if x.inTxn {
		wantN = 0 // what is known now, without waiting
	}
	// First without blocking: the quorum bound may already do.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if n := waitFn(done, wantN); n >= wantN {
		x.w.WriteInt(int64(n))
		return
	}

	// Blocking: replies so far must reach the client first.
	x.blocked = true
	_ = redcon.BaseWriter(x.conn).Flush()
	watch := x.cl.pc.watch()
	defer watch.stop()
	w := x.s.waiters.register(x.cl.id, x.cl.getDB(), nil, "", false)
	defer x.s.waiters.unregister(w)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if timeout > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeout(ctx, time.Duration(timeout)*time.Millisecond)
		defer cancelT()
	}
	result := make(chan int, 1)
	go func() { result <- waitFn(ctx, wantN) }()
	var n int
	select {
	case n = <-result:
	case r := <-w.unblock:
		stop()
		n = <-result
		if r == unblockError {
			x.w.WriteError(errUnblocked)
			return
		}
	case <-watch.gone:
		stop()
		<-result
		x.quit = true
		return
	}
	x.w.WriteInt(int64(n))
}
