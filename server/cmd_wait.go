package server

import (
	"context"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/internal/redisutil"
)

// replicaBackend is the part of the node behind WAIT and WAITAOF;
// backends without it (test fakes) behave as a lone node.
type replicaBackend interface {
	// WaitDurable reports where the writes acknowledged before the call
	// are stored, waiting until this node (if wantLocal) and at least
	// wantReplicas other members hold them, or ctx ends.
	WaitDurable(ctx context.Context, wantLocal bool, wantReplicas int) cluster.Durability
}

// cmdWait is WAIT numreplicas timeout: how many other members hold the
// connection's earlier writes (docs/operations.md). Unlike Redis, a
// follower accepts it too: it takes writes (forwarding them), so it can
// say where they are.
func cmdWait(x *call) {
	want, ok := redisutil.ParseLL(x.argv[1])
	if !ok {
		x.w.WriteError(errNotInteger)
		return
	}
	timeout, msg := engine.ParseTimeoutMS(x.argv[2], time.Now().UnixMilli())
	if msg != "" {
		x.w.WriteError(msg)
		return
	}
	d, ok := waitDurable(x, false, want, timeout)
	if ok {
		x.w.WriteInt(int64(d.Replicas))
	}
}

// cmdWaitAOF is WAITAOF numlocal numreplicas timeout: whether this
// node's log (0 or 1) and how many other members' logs hold the
// connection's earlier writes on disk. Every log entry is fsynced before
// it counts as stored, so Raft's "stored" is AOF's "fsynced".
func cmdWaitAOF(x *call) {
	var want int64
	local, ok := redisutil.ParseLL(x.argv[1])
	if !ok {
		x.w.WriteError(errNotInteger)
		return
	}
	if local < 0 || local > 1 {
		x.w.WriteError("ERR value is out of range, value must between 0 and 1")
		return
	}
	// Redis's getPositiveLongFromObjectOrReply: one message for both.
	if want, ok = redisutil.ParseLL(x.argv[2]); !ok || want < 0 {
		x.w.WriteError("ERR value is out of range, must be positive")
		return
	}
	timeout, msg := engine.ParseTimeoutMS(x.argv[3], time.Now().UnixMilli())
	if msg != "" {
		x.w.WriteError(msg)
		return
	}
	d, ok := waitDurable(x, local == 1, want, timeout)
	if ok {
		var held int64
		if d.Local {
			held = 1
		}
		x.w.WriteArray(2)
		x.w.WriteInt(held)
		x.w.WriteInt(int64(d.Replicas))
	}
}

// waitDurable runs the wait of WAIT and WAITAOF. The connection's earlier
// writes are committed when it starts (readsState drains them). It
// answers at once when what is known suffices, or inside MULTI; otherwise
// it blocks until enough is stored, the timeout (ms, 0 for none) passes,
// CLIENT UNBLOCK, or the client leaves. ok is false when the reply is
// already written (UNBLOCKED error) or the client is gone.
func waitDurable(x *call, wantLocal bool, wantReplicas, timeout int64) (d cluster.Durability, ok bool) {
	waitFn := func(ctx context.Context, wantLocal bool, want int) cluster.Durability {
		if want > 0 {
			<-ctx.Done()
		}
		return cluster.Durability{Local: true}
	}
	if rb, ok := x.s.be.(replicaBackend); ok {
		waitFn = rb.WaitDurable
	}
	want := int(min(max(wantReplicas, 0), 1<<30))
	enough := func(d cluster.Durability) bool { return (d.Local || !wantLocal) && d.Replicas >= want }
	// First without blocking: what is known may already do.
	now, cancel := context.WithCancel(context.Background())
	cancel()
	if d := waitFn(now, wantLocal, want); enough(d) || x.inTxn {
		return d, true
	}

	// Blocking: replies so far must reach the client first.
	x.blocked = true
	x.s.flush(x.cl)
	watch := x.cl.pc.watch()
	defer watch.stop()
	w := x.s.waiters.register(x.cl.id, x.cl.getDB(), nil, "", false, nil, 0)
	defer x.s.waiters.unregister(w)
	w.park()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if timeout > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeout(ctx, time.Duration(timeout)*time.Millisecond)
		defer cancelT()
	}
	result := make(chan cluster.Durability, 1)
	go func() { result <- waitFn(ctx, wantLocal, want) }()
	select {
	case d = <-result:
		return d, true
	case r := <-w.unblock:
		stop()
		d = <-result
		if r == unblockError {
			x.w.WriteError(errUnblocked)
			return d, false
		}
		return d, true
	case <-watch.gone:
		stop()
		<-result
		x.quit = true
		return d, false
	}
}
