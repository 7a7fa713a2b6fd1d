package engine

import (
	"math"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// ExecTxn runs a transaction's commands in order and replies with the
// array of their replies, as EXEC does; or, if a watched key changed, it
// runs nothing and replies with a null array. Reads run here too, so they see the transaction's earlier writes. As in Redis, a
// command that fails gets its error in the array and does not stop the
// others. mark, if not nil, is called before each command writes its
// reply, so the caller can tell the replies apart without parsing them.
func (s *State) ExecTxn(ctx *Ctx, watches []Watch, cmds [][][]byte, mark func()) {
	for _, w := range watches {
		if s.watchChanged(w, ctx.Now) {
			ctx.W.WriteNullArray()
			return
		}
	}
	ctx.W.WriteArray(len(cmds))
	// SELECT inside the transaction switches the database of the
	// commands after it, so they run with a context of their own.
	tctx := *ctx
	for _, c := range cmds {
		if mark != nil {
			mark()
		}
		if len(c) == 0 { // no entry decodes to one; an error, not a panic
			tctx.W.WriteError(errUnknownCommand(c))
			continue
		}
		if !txnConnCommand(&tctx, c) {
			s.Exec(&tctx, c)
		}
	}
}

// TxnSelect is the database a SELECT queued in a transaction switches to,
// or the error it replies. The server applies the last
// successful one to the connection after EXEC, as Redis does.
func TxnSelect(arg []byte) (db int, errMsg string) {
	id, ok := redisutil.ParseLL(arg)
	switch {
	case !ok || id < math.MinInt32 || id > math.MaxInt32:
		return 0, errNotInt
	case id < 0 || id >= NumDBs:
		return 0, "ERR DB index is out of range"
	}
	return int(id), ""
}

// txnConnCommand answers the connection commands Redis lets a client queue
// inside MULTI without touching the data (the server has already checked
// their arity); SELECT changes ctx's database for the rest. UNWATCH queued in a transaction only answers OK: the watched
// keys were checked before the first command ran.
func txnConnCommand(ctx *Ctx, argv [][]byte) bool {
	w := ctx.W
	switch {
	case argIs(argv[0], "select") && len(argv) == 2:
		db, msg := TxnSelect(argv[1])
		if msg != "" {
			w.WriteError(msg)
		} else {
			ctx.DB = db
			w.WriteStatus("OK")
		}
	case argIs(argv[0], "ping"):
		if len(argv) > 1 {
			w.WriteBulk(argv[1])
		} else {
			w.WriteStatus("PONG")
		}
	case argIs(argv[0], "echo") && len(argv) == 2:
		w.WriteBulk(argv[1])
	case argIs(argv[0], "unwatch"):
		w.WriteStatus("OK")
	default:
		return false
	}
	return true
}
