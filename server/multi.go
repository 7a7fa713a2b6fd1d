package server

import (
	"context"
	"time"

	"github.com/raftstream/raftstream/engine"
)

// MULTI/EXEC: the connection queues commands after MULTI (replying
// +QUEUED) and EXEC proposes them as ONE log entry (engine.EncodeTxn),
// which the state machine applies atomically and in order; its reply is
// the array of the commands' replies. Reads are queued too and run inside
// the entry, so they see the transaction's writes, exactly as in Redis.
// Errors found while queuing (unknown command, wrong arity) make EXEC
// fail with EXECABORT; errors while executing are elements of the reply.
//
// Only engine commands can be queued: the server's own commands (PING,
// SELECT, CLIENT, ...) would have to run outside the log entry, between
// its commands, so queuing one is refused like an unknown command.
//
// WATCH reads the keys' versions from the local state after a read
// barrier (engine.State.WatchKey) and EXEC sends them inside the entry;
// the state machine aborts the transaction (null reply) if any changed.
// The decision is taken in the log, so a follower's WATCH/EXEC is as
// exact as the leader's.

// txState is a connection's transaction state: watched keys, and the
// queue once MULTI was given.
type txState struct {
	open    bool // between MULTI and EXEC/DISCARD
	cmds    [][][]byte
	dirty   bool // a command was refused while queuing
	watches []engine.Watch
}

// inMulti reports whether cl has an open MULTI.
func (cl *client) inMulti() bool { return cl.tx != nil && cl.tx.open }

const (
	errExecAbort    = "EXECABORT Transaction discarded because of previous errors."
	errNestedMulti  = "ERR MULTI calls can not be nested"
	errExecNoMulti  = "ERR EXEC without MULTI"
	errDiscardNoTxn = "ERR DISCARD without MULTI"
)

// txnControl reports whether cmd runs at once even inside MULTI.
func txnControl(cmd *command) bool {
	switch cmd.name {
	case "multi", "exec", "discard", "watch", "quit", "reset":
		return true
	}
	return false
}

// queueTxn queues a command of an open transaction.
func (s *Server) queueTxn(cl *client, cmd *command, argv [][]byte) []byte {
	if cmd.spec == nil && !txnQueueable(cmd) {
		cl.tx.dirty = true
		return errorBytes("ERR '" + cmd.name + "' cannot be used inside MULTI: raftstream transactions hold only stream and keyspace commands")
	}
	// redcon gives each request its own buffer: argv can be kept.
	cl.tx.cmds = append(cl.tx.cmds, argv)
	return []byte("+QUEUED\r\n")
}

// txnQueueable reports whether a server command may be queued in MULTI:
// the connection commands the state machine answers inside EXEC
// (engine's txnConnCommand).
func txnQueueable(cmd *command) bool {
	switch cmd.name {
	case "ping", "echo", "unwatch":
		return true
	}
	return false
}

// txnRejected flags the open transaction after a command was refused
// before it could be queued (unknown, wrong arity, no auth).
func txnRejected(cl *client) {
	if cl.inMulti() {
		cl.tx.dirty = true
	}
}

func txnMulti(x *call) {
	if x.cl.inMulti() {
		x.w.WriteError(errNestedMulti)
		return
	}
	if x.cl.tx == nil {
		x.cl.tx = &txState{}
	}
	x.cl.tx.open = true
	x.w.WriteStatus("OK")
}

func txnDiscard(x *call) {
	if !x.cl.inMulti() {
		x.w.WriteError(errDiscardNoTxn)
		return
	}
	x.cl.tx = nil
	x.w.WriteStatus("OK")
}

func txnExec(x *call) {
	tx := x.cl.tx
	if !x.cl.inMulti() {
		x.w.WriteError(errExecNoMulti)
		return
	}
	x.cl.tx = nil // EXEC also forgets the watched keys
	switch {
	case tx.dirty:
		x.w.WriteError(errExecAbort)
	case len(tx.cmds) == 0 && len(tx.watches) == 0:
		x.w.WriteArray(0)
	default:
		x.write = engine.EncodeTxn(tx.watches, tx.cmds)
	}
}

// txnWatch is WATCH key [key ...]: it records the keys' versions, read
// after a barrier so that they are at least as new as any write the
// client saw acknowledged.
func txnWatch(x *call) {
	if x.cl.inMulti() {
		x.w.WriteError("ERR WATCH inside MULTI is not allowed")
		return
	}
	if !x.cl.barrierDone {
		ctx, cancel := context.WithTimeout(context.Background(), x.s.cfg.CommandTimeout)
		err := x.s.readBarrier(ctx, x.cl)
		cancel()
		if err != nil {
			x.w.WriteError(readError(err, x.s.be.Status()))
			return
		}
		x.cl.barrierDone = true
	}
	if x.cl.tx == nil {
		x.cl.tx = &txState{}
	}
	db := x.cl.getDB()
	x.s.be.Read(func(st *engine.State) {
		now := max(time.Now().UnixMilli(), st.Clock())
		for _, k := range x.argv[1:] {
			x.cl.tx.watches = append(x.cl.tx.watches, st.WatchKey(db, string(k), now))
		}
	})
	x.w.WriteStatus("OK")
}

// txnUnwatch is UNWATCH outside MULTI: it forgets the watched keys.
// Inside MULTI it is queued like Redis does and answers OK in EXEC's reply.
func txnUnwatch(x *call) {
	if x.cl.tx != nil && !x.cl.tx.open {
		x.cl.tx = nil
	}
	x.w.WriteStatus("OK")
}
