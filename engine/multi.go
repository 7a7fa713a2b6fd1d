package engine

import (
	"math"
	"strconv"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// TxnName is argv[0] of a transaction (MULTI ... EXEC) as one command: it
// starts with a NUL byte, so no client can send it (the server's command
// lookup never matches it) and it needs no new log entry type.
const TxnName = "\x00exec"

const errTxnMalformed = "ERR malformed transaction"

// EncodeTxn packs a transaction into one argv: TxnName, the watched key
// versions (watch.go), then for each command its argument count followed
// by its arguments. The result is proposed as a single command, so the whole
// transaction is one log entry applied atomically.
func EncodeTxn(watches []Watch, cmds [][][]byte) [][]byte {
	n := 2 + 4*len(watches)
	for _, c := range cmds {
		n += 1 + len(c)
	}
	argv := make([][]byte, 0, n)
	argv = append(argv, []byte(TxnName))
	argv = appendWatches(argv, watches)
	for _, c := range cmds {
		argv = append(argv, strconv.AppendInt(nil, int64(len(c)), 10))
		argv = append(argv, c...)
	}
	return argv
}

// decodeTxn is the inverse of EncodeTxn; ok is false for malformed input.
func decodeTxn(argv [][]byte) (ws []Watch, cmds [][][]byte, ok bool) {
	ws, argv, ok = decodeWatches(argv[1:])
	if !ok {
		return nil, nil, false
	}
	for i := 0; i < len(argv); {
		n, err := strconv.Atoi(string(argv[i]))
		if err != nil || n < 1 || n > len(argv)-i-1 {
			return nil, nil, false
		}
		cmd := argv[i+1 : i+1+n]
		if isTxn(cmd[0]) {
			return nil, nil, false // transactions do not nest
		}
		cmds = append(cmds, cmd)
		i += 1 + n
	}
	return ws, cmds, true
}

func isTxn(name []byte) bool { return string(name) == TxnName }

// checkTxn validates a transaction's encoding. Its commands are not
// checked: as in Redis, a command that fails inside EXEC gets its error
// in the reply array and does not stop the others.
func checkTxn(argv [][]byte) string {
	if _, _, ok := decodeTxn(argv); !ok {
		return errTxnMalformed
	}
	return ""
}

// execTxn runs a transaction's commands in order and replies with the
// array of their replies, as EXEC does; or, if a watched key changed, it
// runs nothing and replies with a null array. Reads run here too, so they
// see the transaction's earlier writes.
func (s *State) execTxn(ctx *Ctx, argv [][]byte) {
	ws, cmds, ok := decodeTxn(argv)
	if !ok {
		ctx.W.WriteError(errTxnMalformed)
		return
	}
	for _, w := range ws {
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
