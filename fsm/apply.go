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
	f.mu.Unlock()
	f.setApplied(l.Index)
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
	f.mu.Unlock()
	f.setApplied(logs[len(logs)-1].Index)
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
	f.st.AdvanceClock(e.Now)
	switch e.Type {
	case EntryCommands:
		return f.execBatch(l.Index, e.Commands)
	case EntryExpire:
		f.st.ExpireKeysNotify(f.st.Clock(), f.signalFunc())
	}
	return &Result{}
}

// execBatch runs the commands of one entry at the state clock. All replies
// go into one buffer, sliced per command at the end, to keep the apply
// path to a couple of allocations per entry.
func (f *FSM) execBatch(index uint64, cmds []Command) *Result {
	w := resp.Writer{Buf: make([]byte, 0, 32*len(cmds))}
	ctx := engine.Ctx{Now: f.st.Clock(), W: &w, Signal: f.signalFunc()}
	ends := make([]int, len(cmds))
	for i := range cmds {
		c := &cmds[i]
		ctx.DB = int(c.DB)
		w.Version = int(c.Proto)
		start := len(w.Buf)
		if p := f.exec(&ctx, c.Argv); p != nil {
			// A panic is an engine bug. Recovering keeps every replica up
			// and, since they all run the same code on the same input, in
			// the same state; the client gets an error instead of a reply.
			w.Buf = w.Buf[:start]
			w.WriteError(internalError)
			f.log.Error("command panicked", "index", index, "command", string(c.Argv[0]), "panic", p, "stack", string(debug.Stack()))
		}
		ends[i] = len(w.Buf)
	}
	res := &Result{Replies: make([][]byte, len(cmds))}
	start := 0
	for i, end := range ends {
		res.Replies[i] = w.Buf[start:end:end]
		start = end
	}
	return res
}

func (f *FSM) signalFunc() func(int, string) {
	if p := f.signal.Load(); p != nil {
		return *p
	}
	return nil
}

func (f *FSM) exec(ctx *engine.Ctx, argv [][]byte) (panicked any) {
	defer func() { panicked = recover() }()
	f.st.Exec(ctx, argv)
	return nil
}
