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
	f.applied.Store(l.Index)
	f.mu.Unlock()
	f.wakeApplied()
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
	f.applied.Store(logs[len(logs)-1].Index)
	f.mu.Unlock()
	f.wakeApplied()
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
		f.attachParsed(l, &e)
		return f.execBatch(l.Index, e.Commands, e.Requests, retainArgs(l.Data, e.Commands))
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

// attachParsed gives the entry's commands the values this node parsed
// them into, if it did: all of them on the leader that built the entry
// (l.Local), a forwarded request's on the follower that sent it (the
// carrier). Every node thus parses a command's argv once: the node that
// received it when it checked it, any other when it applies it.
func (f *FSM) attachParsed(l *raft.Log, e *Entry) {
	if c, ok := l.Local.(*Carried); ok && c != nil && len(c.Parsed) == len(e.Commands) {
		for i, p := range c.Parsed {
			if e.Commands[i].Kind == KindArgv {
				e.Commands[i].Parsed = p
			}
		}
		return
	}
	cp := f.carrier.Load()
	if cp == nil {
		return
	}
	for _, r := range e.Requests {
		c := (*cp)(r.Origin, r.Seq, r.Count)
		if c == nil || len(c.Parsed) != r.Count || r.Start+r.Count > len(e.Commands) {
			continue
		}
		for j, p := range c.Parsed {
			if c := &e.Commands[r.Start+j]; c.Kind == KindArgv {
				c.Parsed = p
			}
		}
	}
}

// execBatch runs the commands of one entry at the state clock. All replies
// go into one buffer, sliced per command at the end, to keep the apply
// path to a couple of allocations per entry. Commands of a forwarded
// request already applied are not run again: they get the saved replies.
// Requests are decided in order, each just before its first command, so a
// request repeated within one entry is still applied once.
func (f *FSM) execBatch(index uint64, cmds []Command, reqs []Request, retain bool) *Result {
	w := &ReplyWriter{Writer: resp.Writer{Buf: make([]byte, 0, 32*len(cmds))}}
	w.markFn = w.mark
	now := f.st.Clock()
	ctx := engine.Ctx{Now: now, W: w, Signal: f.signalFunc(), Retain: retain}
	// spans[i] is where command i's reply is in w.Buf; ran[i] is false
	// when its reply is already in res (a repeat or a refused copy).
	spans := make([]replySpan, len(cmds))
	ran := make([]bool, len(cmds))
	res := &Result{Replies: make([]Reply, len(cmds))}
	i := 0
	run := func(to int) {
		for ; i < to; i++ {
			spans[i] = f.execOne(&ctx, w, index, &cmds[i])
			ran[i] = true
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
				sp := &spans[r.Start+j]
				out[j] = w.Buf[sp.start:sp.end]
			}
			f.sessions.save(r, copyReplies(out))
			continue
		}
		for ; i < r.Start+r.Count; i++ {
			if j := i - r.Start; state == requestDuplicate && j < len(saved) {
				res.Replies[i] = ReplyOf(&cmds[i], saved[j])
			} else {
				res.Replies[i] = Reply{RESP: staleReply(int(cmds[i].Proto)), Outcome: OutcomeError}
			}
		}
	}
	run(len(cmds))
	for i := range cmds {
		if ran[i] {
			res.Replies[i] = spans[i].reply(w.Buf)
		}
	}
	return res
}

// retainArgs decides whether the engine may keep big values of an entry's
// commands by reference (engine.Ctx.Retain) instead of copying them: an
// XADD of a 60 MiB value then costs the apply no copy, so the commands
// queued behind it wait microseconds, not the tens of milliseconds of a
// copy (docs/verification.md, issue 12).
//
// The values' bytes never change once raft hands the entry to the FSM:
// the leader applies the buffer it packed (fresh, or around a client's
// argument, whose scanner buffer is never reused; AppendEntryInPlace
// writes only the room around the argument), a follower the slice its
// transport decoded into a fresh Log or raft-wal copied out of its
// segment, and raft's log cache, the log stores and the checksum wrapper
// only read them. A reference keeps the whole entry
// alive, though, so it is taken only when such values make up at least
// half of the entry: the rest of it costs at most as much again, as a
// copy would, and in practice a few KiB.
func retainArgs(data []byte, cmds []Command) bool {
	big := 0
	count := func(argv [][]byte) {
		for _, a := range argv {
			if len(a) >= engine.BigValue {
				big += len(a)
			}
		}
	}
	for i := range cmds {
		count(cmds[i].Argv)
		if cmds[i].Txn != nil {
			for _, argv := range cmds[i].Txn.Cmds {
				count(argv)
			}
		}
	}
	return big > 0 && 2*big >= len(data)
}

// ReplyWriter is a resp.Writer that knows the Outcome of the reply
// written since Begin. A reply's outcome is the kind of its first value,
// so the writer notes an error or a null written at the start of the
// reply instead of anyone parsing the bytes later; ExecTxn's marks
// delimit a transaction's replies the same way. Apply writes through one;
// so can a server running a read on the local state.
type ReplyWriter struct {
	resp.Writer
	start   int
	outcome Outcome
	marks   []int
	// markFn is mark as a func value, made once per batch rather than
	// once per command.
	markFn func()
}

// Begin starts a reply at the end of the buffer.
func (w *ReplyWriter) Begin() {
	w.start, w.outcome, w.marks = len(w.Buf), OutcomeValue, w.marks[:0]
}

// Outcome is the outcome of the reply written since Begin.
func (w *ReplyWriter) Outcome() Outcome { return w.outcome }

func (w *ReplyWriter) note(o Outcome) {
	if len(w.Buf) == w.start {
		w.outcome = o
	}
}

// WriteError notes an error reply, then writes it.
func (w *ReplyWriter) WriteError(s string) { w.note(OutcomeError); w.Writer.WriteError(s) }

// WriteNull notes a null reply, then writes it.
func (w *ReplyWriter) WriteNull() { w.note(OutcomeNull); w.Writer.WriteNull() }

// WriteNullArray notes a null reply, then writes it.
func (w *ReplyWriter) WriteNullArray() { w.note(OutcomeNull); w.Writer.WriteNullArray() }

// mark records where the next command of a transaction starts its reply.
func (w *ReplyWriter) mark() { w.marks = append(w.marks, len(w.Buf)) }

// replySpan is one command's reply in the batch buffer, known by offsets
// until the buffer stops growing.
type replySpan struct {
	start, end int
	outcome    Outcome
	marks      []int // a transaction that ran: where each reply starts
}

func (sp *replySpan) reply(buf []byte) Reply {
	r := Reply{RESP: buf[sp.start:sp.end:sp.end], Outcome: sp.outcome}
	if len(sp.marks) > 0 {
		r.Parts = make([][]byte, len(sp.marks))
		for k, m := range sp.marks {
			end := sp.end
			if k+1 < len(sp.marks) {
				end = sp.marks[k+1]
			}
			r.Parts[k] = buf[m:end:end]
		}
	}
	return r
}

// execOne runs one command, turning an engine panic into an error reply.
func (f *FSM) execOne(ctx *engine.Ctx, w *ReplyWriter, index uint64, c *Command) replySpan {
	ctx.DB = int(c.DB)
	w.Version = int(c.Proto)
	w.Begin()
	if p := f.exec(ctx, c, w.markFn); p != nil {
		// A panic is an engine bug. Recovering keeps every replica up
		// and, since they all run the same code on the same input, in
		// the same state; the client gets an error instead of a reply.
		w.Buf = w.Buf[:w.start]
		w.Begin()
		w.WriteError(internalError)
		f.log.Error("command panicked", "index", index, "command", commandName(c), "panic", p, "stack", string(debug.Stack()))
	}
	sp := replySpan{start: w.start, end: len(w.Buf), outcome: w.outcome}
	if len(w.marks) > 0 {
		sp.marks = append([]int(nil), w.marks...)
	}
	if sp.end > sp.start && sp.outcome != OutcomeError {
		f.changes.Add(1)
	}
	return sp
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
		if c.Parsed != nil {
			st.RunParsed(ctx, c.Parsed)
		} else if !legacyCommand(st, ctx, c.Argv, mark) {
			st.Exec(ctx, c.Argv)
		}
	}
}

// Exec runs c on st at time now as Apply runs a command of an entry, but
// without forwarded-request dedupe or panic recovery, and returns its
// reply. It serves running the data path without Raft (tests' backends).
func Exec(st *engine.State, now int64, c *Command) Reply {
	w := &ReplyWriter{Writer: resp.Writer{Version: int(c.Proto)}}
	w.Begin()
	execCommand(st, &engine.Ctx{DB: int(c.DB), Now: now, W: w}, c, w.mark)
	sp := replySpan{start: 0, end: len(w.Buf), outcome: w.outcome, marks: w.marks}
	return sp.reply(w.Buf)
}

// commandName names c for logs.
func commandName(c *Command) string {
	if c.Kind == KindArgv {
		return string(c.Argv[0])
	}
	return c.Kind.String()
}
