package fsm

import (
	"bytes"
	"strconv"

	"github.com/raftstream/raftstream/engine"
)

// Before command kinds (flagKinds), a transaction and a replicated CONFIG
// SET travelled as plain commands: a transaction as argv {legacyTxnName,
// watch count, {db key ver delVer}*, {argc argv...}*} in decimal text, a
// CONFIG SET as the client's argv. Logs, snapshots' trailing entries and
// forwarded requests from nodes of that version still hold them, so a
// plain command of either shape is run as its kind, with the replies that
// version gave; nothing writes them any more. (That version also took a
// CONFIG SET queued inside a tunnelled transaction as one; its server
// never logged such a thing, and here it is a plain, unknown command.)

// legacyTxnName is argv[0] of a tunnelled transaction: it starts with a
// NUL byte, so no client command can be mistaken for it.
const legacyTxnName = "\x00exec"

const errLegacyTxn = "ERR malformed transaction"

// legacyCommand reports whether argv is a tunnelled transaction or CONFIG
// SET, and if so runs it in ctx.
func legacyCommand(st *engine.State, ctx *engine.Ctx, argv [][]byte, mark func()) bool {
	switch {
	case string(argv[0]) == legacyTxnName:
		ws, cmds, ok := decodeLegacyTxn(argv[1:])
		if !ok {
			ctx.W.WriteError(errLegacyTxn)
			return true
		}
		st.ExecTxn(ctx, ws, cmds, mark)
	case isConfig(argv[0]):
		set, msg := engine.ParseConfigSet(argv)
		if msg != "" {
			ctx.W.WriteError(msg)
			return true
		}
		st.ExecConfigSet(ctx, set)
	default:
		return false
	}
	return true
}

// isConfig matches the command name as the engine did: up to a NUL
// byte, ASCII case folded.
func isConfig(name []byte) bool {
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return bytes.EqualFold(name, []byte("config")) && len(name) == len("config")
}

// decodeLegacyTxn reads a tunnelled transaction after its name; ok is
// false where the previous version replied errLegacyTxn.
func decodeLegacyTxn(argv [][]byte) (ws []engine.Watch, cmds [][][]byte, ok bool) {
	if len(argv) == 0 {
		return nil, nil, false
	}
	n, err := strconv.Atoi(string(argv[0]))
	if err != nil || n < 0 || n > (len(argv)-1)/4 {
		return nil, nil, false
	}
	ws = make([]engine.Watch, n)
	for i := range ws {
		f := argv[1+4*i : 5+4*i]
		db, err1 := strconv.Atoi(string(f[0]))
		ver, err2 := strconv.ParseUint(string(f[2]), 10, 64)
		del, err3 := strconv.ParseUint(string(f[3]), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, nil, false
		}
		ws[i] = engine.Watch{DB: db, Key: string(f[1]), Ver: ver, DelVer: del}
	}
	argv = argv[1+4*n:]
	for i := 0; i < len(argv); {
		n, err := strconv.Atoi(string(argv[i]))
		if err != nil || n < 1 || n > len(argv)-i-1 {
			return nil, nil, false
		}
		cmd := argv[i+1 : i+1+n]
		if string(cmd[0]) == legacyTxnName {
			return nil, nil, false // transactions do not nest
		}
		cmds = append(cmds, cmd)
		i += 1 + n
	}
	return ws, cmds, true
}

// LegacyForm returns c as the previous version wrote it: a transaction
// as a tunnel (legacyTxnName, the inverse of decodeLegacyTxn), a CONFIG
// SET as the client's argv; other commands are returned unchanged. It
// runs with the same reply and effect as c, and nodes of the previous
// version can decode it, so a leader writes it while a member may be of
// that version (a rolling upgrade). The result aliases c's arguments.
func LegacyForm(c Command) Command {
	var argv [][]byte
	switch c.Kind {
	case KindTxn:
		t := c.Txn
		n := 2 + 4*len(t.Watches) + len(t.Cmds)
		for _, cmd := range t.Cmds {
			n += len(cmd)
		}
		argv = make([][]byte, 0, n)
		argv = append(argv, []byte(legacyTxnName), strconv.AppendInt(nil, int64(len(t.Watches)), 10))
		for _, w := range t.Watches {
			argv = append(argv, strconv.AppendInt(nil, int64(w.DB), 10), []byte(w.Key),
				strconv.AppendUint(nil, w.Ver, 10), strconv.AppendUint(nil, w.DelVer, 10))
		}
		for _, cmd := range t.Cmds {
			argv = append(argv, strconv.AppendInt(nil, int64(len(cmd)), 10))
			argv = append(argv, cmd...)
		}
	case KindConfigSet:
		argv = make([][]byte, 0, 2+2*len(c.Config))
		argv = append(argv, []byte("CONFIG"), []byte("SET"))
		for _, s := range c.Config {
			argv = append(argv, []byte(s.Name), s.Value)
		}
	default:
		return c
	}
	return Command{Kind: KindArgv, DB: c.DB, Proto: c.Proto, Argv: argv}
}
