package server

import (
	"context"
	"strings"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// MULTI/EXEC: the connection queues commands after MULTI (replying
// +QUEUED) and EXEC proposes them as one transaction (cluster.KindTxn) in a
// log entry, which the state machine applies atomically and in order;
// its reply is the array of the commands' replies. Reads are queued too
// and run inside the entry, so they see the transaction's writes, exactly
// as in Redis.
// Errors found while queuing (unknown command, wrong arity) make EXEC
// fail with EXECABORT; errors while executing are elements of the reply.
//
// The server's own commands (TIME, CLIENT, CONFIG, INFO, ...) can be
// queued too, as in Redis. They cannot run inside the log entry, so a
// transaction holding one is committed first and waited for; then EXEC's
// reply is assembled in queue order from the entry's replies and those of
// the server commands, run right after it. They touch no keys, so running
// them after the entry's commands is indistinguishable from running them
// between. PING, ECHO, UNWATCH and SELECT are answered inside the entry
// (engine.ExecTxn); SELECT switches the database of the commands
// after it and, once EXEC ran, the connection's. SHUTDOWN is refused, as
// in Redis.
//
// WATCH reads the keys' versions from the local state after a read
// barrier (engine.State.WatchKey) and EXEC sends them with the
// transaction;
// the state machine aborts the transaction (null reply) if any changed.
// The decision is taken in the log, so a follower's WATCH/EXEC is as
// exact as the leader's.

// txState is a connection's transaction state: watched keys, and the
// queue once MULTI was given.
type txState struct {
	open bool // between MULTI and EXEC/DISCARD
	cmds [][][]byte
	// srv[i] is the server command cmds[i] runs after the log entry, or
	// nil for a command the state machine executes.
	srv     []*command
	mixed   bool // some command needs the synchronous EXEC (execMixed)
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
	switch cmd.Name() {
	case "multi", "exec", "discard", "watch", "quit", "reset":
		return true
	}
	return false
}

// queueTxn queues a command of an open transaction.
func (s *Server) queueTxn(cl *client, cmd *command, argv [][]byte) []byte {
	var srv *command
	if !isEngine(cmd) {
		switch {
		case cmd.Name() == "shutdown" || hookOf(cmd) == nil:
			cl.tx.dirty = true
			return errorBytes("ERR Command not allowed inside a transaction")
		case cmd.Name() == "ping" || cmd.Name() == "echo" || cmd.Name() == "unwatch":
			// Answered inside the log entry.
		case cmd.Name() == "select":
			cl.tx.mixed = true
		default:
			srv, cl.tx.mixed = cmd, true
		}
	}
	if cmd.Write() {
		// EXEC of a transaction whose reply was lost may be resent
		// too: its XADDs get IDMP like single ones.
		argv, _ = s.autoIdempotent(cl, argv, nil)
	}
	// redcon gives each request its own buffer: argv can be kept.
	cl.tx.cmds = append(cl.tx.cmds, argv)
	cl.tx.srv = append(cl.tx.srv, srv)
	return []byte("+QUEUED\r\n")
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
	if !tx.dirty {
		x.s.recheckTxnACL(x.cl, tx)
	}
	switch {
	case tx.dirty:
		x.w.WriteError(errExecAbort)
	case len(tx.cmds) == 0 && len(tx.watches) == 0:
		x.w.WriteArray(0)
	case tx.mixed:
		x.s.execMixed(x, tx)
	default:
		x.write = tx.command(tx.cmds)
	}
}

// command is the log's transaction of cmds under tx's watches.
func (tx *txState) command(cmds [][][]byte) *cluster.Command {
	return &cluster.Command{Kind: cluster.KindTxn, Txn: &cluster.Txn{Watches: tx.watches, Cmds: cmds}}
}

// execMixed runs a transaction holding server commands or SELECT: the
// state machine's part is committed and waited for, then the reply is
// merged in queue order with the server commands' replies.
func (s *Server) execMixed(x *call, tx *txState) {
	s.drain(x.conn, x.cl) // the batch's earlier writes go first
	var logged [][][]byte
	for i, c := range tx.cmds {
		if tx.srv[i] == nil {
			logged = append(logged, c)
		}
	}
	var elems [][]byte
	if len(logged) > 0 || len(tx.watches) > 0 {
		reply := s.commitNow(x.cl, x.cmd, tx.command(logged))
		if reply.Outcome != cluster.OutcomeValue {
			x.w.Buf = append(x.w.Buf, reply.RESP...) // WATCH abort, or not committed
			return
		}
		if elems = reply.Parts; len(elems) != len(logged) {
			x.w.WriteError("ERR internal error: malformed transaction reply")
			return
		}
	}
	x.w.WriteArray(len(tx.cmds))
	for i, c := range tx.cmds {
		if cmd := tx.srv[i]; cmd != nil {
			y := &call{s: s, cl: x.cl, conn: x.conn, argv: c, cmd: cmd, w: &resp.Writer{Version: x.cl.getProto()}, inTxn: true}
			hookOf(cmd).run(y)
			if y.write != nil {
				// A server command that commits (CONFIG SET of a
				// replicated setting, ...).
				reply := s.commitNow(x.cl, cmd, y.write)
				y.w.Buf = reply.RESP
				if y.onCommit != nil {
					y.onCommit(reply.Outcome != cluster.OutcomeError)
				}
			}
			x.w.Buf = append(x.w.Buf, y.w.Buf...)
			continue
		}
		x.w.Buf = append(x.w.Buf, elems[0]...)
		elems = elems[1:]
		if strings.EqualFold(string(c[0]), "select") && len(c) == 2 {
			if db, msg := engine.TxnSelect(c[1]); msg == "" {
				x.cl.setDB(db)
			}
		}
	}
}

// commitNow proposes c, which server command cmd commits, in the client's
// database and protocol and waits for its reply (an error reply if it was
// not committed).
func (s *Server) commitNow(cl *client, cmd *command, c *cluster.Command) cluster.Reply {
	if msg := checkWrite(cmd, c); msg != "" {
		return cluster.Reply{RESP: errorBytes(msg), Outcome: cluster.OutcomeError}
	}
	cl.mu.Lock()
	c.DB, c.Proto = uint8(cl.db), uint8(cl.proto)
	cl.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
	defer cancel()
	reply, err := s.be.Propose(*c).Wait(ctx)
	if err != nil {
		return cluster.Reply{RESP: errorBytes(writeError(err, s.be.Status())), Outcome: cluster.OutcomeError}
	}
	return reply
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
