package fsm

import (
	"fmt"
	"runtime/debug"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// internalError is the reply of a command whose execution panicked.
const internalError = "ERR internal error while executing the command"

// Apply applies one committed log entry. It returns nil for entries that
// are not ours (configuration changes) and a *Result otherwise.
func (f *FSM) Apply(l *raft.Log) interface{} {
	f.mu.Lock()
	res := f.applyLocked(l)
	aclChanged := f.publishACL()
	f.mu.Unlock()
	f.setApplied(l.Index)
	if aclChanged {
		f.aclChanged()
	}
	return res
}

// ApplyBatch applies consecutive committed entries under one lock
// acquisition, so readers see whole batches and the lock is not bounced
// per entry.
func (f *FSM) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	if len(logs) == 0 {
		return out
	}
	f.mu.Lock()
	for i, l := range logs {
		out[i] = f.applyLocked(l)
	}
	aclChanged := f.publishACL()
	f.mu.Unlock()
	f.setApplied(logs[len(logs)-1].Index)
	if aclChanged {
		f.aclChanged()
	}
	return out
}

func (f *FSM) applyLocked(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		// Configuration entries only move the applied index.
		return nil
	}
	e, err := DecodeEntry(l.Data)
	if err != nil {
		// Every replica decodes the same bytes and so skips the same
		// entry: state stays identical and the node stays up.
		f.log.Error("skipping undecodable log entry", "index", l.Index, "term", l.Term, "len", len(l.Data), "err", err)
		return &Result{Err: fmt.Errorf("log entry %d: %w", l.Index, err)}
	}
	prev := f.st.Clock()
	now := f.st.AdvanceClock(e.Now)
	f.sessions.sweep(prev, now)
	switch e.Type {
	case EntryCommands:
		return f.execBatch(l.Index, e.Commands, e.Requests)
	case EntryExpire:
		// An expire cycle also applies age retention (XCFGSET MAXAGE):
		// both are due at the leader's clock, carried by this entry.
		f.st.ExpireKeysNotify(now, f.signalFunc())
		f.st.RetainStreams(now)
	case EntryMember:
		m := e.Member
		if m.Op == MemberSet {
			f.members[m.Meta.ID] = m.Meta
		} else {
			delete(f.members, m.Meta.ID)
		}
	}
	return &Result{}
}

// execBatch runs the commands of one entry at the state clock. All replies
// go into one buffer, sliced per command at the end, to keep the apply
// path to a couple of allocations per entry. Commands of a forwarded
// request already applied are not run again: they get the saved replies.
// Requests are decided in order, each just before its first command, so a
// request repeated within one entry is still applied once.
func (f *FSM) execBatch(index uint64, cmds []Command, reqs []Request) *Result {
	w := resp.Writer{Buf: make([]byte, 0, 32*len(cmds))}
	now := f.st.Clock()
	ctx := engine.Ctx{Now: now, W: &w, Signal: f.signalFunc()}
	// starts[i]/ends[i] delimit command i's reply in w.Buf; a negative
	// start means its reply is already in res (a repeat or a refused copy).
	starts := make([]int, len(cmds))
	ends := make([]int, len(cmds))
	res := &Result{Replies: make([][]byte, len(cmds))}
	i := 0
	run := func(to int) {
		for ; i < to; i++ {
			starts[i] = len(w.Buf)
			f.execOne(&ctx, &w, index, &cmds[i])
			ends[i] = len(w.Buf)
		}
	}
	for k := range reqs {
		r := &reqs[k]
		run(r.Start)
		state, saved := f.sessions.begin(r, now)
		if state == requestNew {
			run(r.Start + r.Count)
			out := make([][]byte, r.Count)
			for j := range out {
				out[j] = w.Buf[starts[r.Start+j]:ends[r.Start+j]]
			}
			f.sessions.save(r, copyReplies(out))
			continue
		}
		for ; i < r.Start+r.Count; i++ {
			starts[i] = -1
			if j := i - r.Start; state == requestDuplicate && j < len(saved) {
				res.Replies[i] = saved[j]
			} else {
				res.Replies[i] = staleReply(int(cmds[i].Proto))
			}
		}
	}
	run(len(cmds))
	for i := range cmds {
		if starts[i] >= 0 {
			res.Replies[i] = w.Buf[starts[i]:ends[i]:ends[i]]
		}
	}
	return res
}

// execOne runs one command, turning an engine panic into an error reply.
func (f *FSM) execOne(ctx *engine.Ctx, w *resp.Writer, index uint64, c *Command) {
	ctx.DB = int(c.DB)
	w.Version = int(c.Proto)
	start := len(w.Buf)
	if p := f.exec(ctx, c, nil); p != nil {
		// A panic is an engine bug. Recovering keeps every replica up
		// and, since they all run the same code on the same input, in
		// the same state; the client gets an error instead of a reply.
		w.Buf = w.Buf[:start]
		w.WriteError(internalError)
		f.log.Error("command panicked", "index", index, "command", commandName(c), "panic", p, "stack", string(debug.Stack()))
	}
	if len(w.Buf) > start && w.Buf[start] != '-' {
		f.changes.Add(1)
	}
}

// staleReply is the reply of a command in a refused stale request copy.
// Nobody normally waits for it: its origin had already given up on it.
func staleReply(proto int) []byte {
	w := resp.Writer{Version: proto}
	w.WriteError(staleRequestMessage)
	return w.Buf
}

func (f *FSM) signalFunc() func(int, string) {
	if p := f.signal.Load(); p != nil {
		return *p
	}
	return nil
}

// exec runs c, reporting a panic instead of propagating it.
func (f *FSM) exec(ctx *engine.Ctx, c *Command, mark func()) (panicked any) {
	defer func() { panicked = recover() }()
	execCommand(f.st, ctx, c, mark)
	return nil
}

// execCommand runs c on st by its kind; mark is ExecTxn's.
func execCommand(st *engine.State, ctx *engine.Ctx, c *Command, mark func()) {
	switch c.Kind {
	case KindTxn:
		st.ExecTxn(ctx, c.Txn.Watches, c.Txn.Cmds, mark)
	case KindConfigSet:
		st.ExecConfigSet(ctx, c.Config)
	default:
		if !legacyCommand(st, ctx, c.Argv, mark) {
			st.Exec(ctx, c.Argv)
		}
	}
}

// Exec runs c on st at time now as Apply runs a command of an entry, but
// without forwarded-request dedupe or panic recovery, and returns its
// reply. It serves running the data path without Raft (tests' backends).
func Exec(st *engine.State, now int64, c *Command) []byte {
	w := resp.Writer{Version: int(c.Proto)}
	execCommand(st, &engine.Ctx{DB: int(c.DB), Now: now, W: &w}, c, nil)
	return w.Buf
}

// commandName names c for logs.
func commandName(c *Command) string {
	if c.Kind == KindArgv {
		return string(c.Argv[0])
	}
	return c.Kind.String()
}
