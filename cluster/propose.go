package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// Group commit. Many client goroutines call Propose; one proposer goroutine
// drains whatever is queued into a single log entry and hands it to
// raft.Apply without waiting, so the next batch forms while the previous
// one is written. A completer goroutine waits on the futures in log order
// and hands each command its reply. The entries in flight are capped
// (MaxInflight): when the log falls behind, commands pile up into bigger
// entries instead of more entries, which is what amortises the fsync.

// inflight is one entry handed to raft: a command batch or a control entry.
type inflight struct {
	future   raft.ApplyFuture
	pendings []*Pending
	ctrl     *ctrlReq
}

// ctrlReq asks the proposer for a non-command entry (expiry cycle, read
// barrier) and reports its outcome.
type ctrlReq struct {
	typ   fsm.EntryType
	done  chan struct{}
	index uint64
	err   error
}

func wrapUnknown(err error) error { return fmt.Errorf("%w: %w", ErrUnknownOutcome, err) }

// Propose queues cmd for the next log entry without waiting (group commit).
// Commands proposed by one goroutine are applied in the order proposed.
// Propose blocks only while the queue is full.
func (n *Node) Propose(cmd fsm.Command) *Pending {
	p := &Pending{node: n, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Validate(); err != nil {
		p.finish(nil, err)
		return p
	}
	p.size = fsm.CommandSize(&cmd)
	n.proposeMu.RLock()
	if n.closed {
		n.proposeMu.RUnlock()
		p.finish(nil, ErrClosed)
		return p
	}
	// The proposer drains the queue until Close has set closed, which
	// needs this lock released, so blocking here cannot deadlock.
	n.queue <- p
	n.proposeMu.RUnlock()
	return p
}

// control proposes a non-command entry and waits until it is applied. It
// returns the entry's log index.
func (n *Node) control(ctx context.Context, typ fsm.EntryType) (uint64, error) {
	c := &ctrlReq{typ: typ, done: make(chan struct{})}
	select {
	case n.ctrl <- c:
	case <-n.ctx.Done():
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case <-c.done:
		return c.index, c.err
	case <-ctx.Done():
		return 0, wrapUnknown(ctx.Err())
	case <-n.dead:
		return 0, wrapUnknown(ErrClosed)
	}
}

func (n *Node) proposeLoop() {
	defer close(n.inflight)
	batch := make([]*Pending, 0, n.cfg.MaxBatch)
	cmds := make([]fsm.Command, 0, n.cfg.MaxBatch)
	var carry *Pending
	stopping := false
	for {
		first := carry
		carry = nil
		if first == nil {
			if stopping {
				// Close: nothing new can be queued; submit what is left so
				// writes accepted before Close still get their answer.
				select {
				case first = <-n.queue:
				default:
					return
				}
			} else {
				select {
				case first = <-n.queue:
				case c := <-n.ctrl:
					n.submitCtrl(c)
					continue
				case <-n.stopPropose:
					stopping = true
					continue
				}
			}
		}
		// Wait for an in-flight slot before filling the batch: whatever
		// arrives meanwhile joins this entry instead of queueing one more.
		n.slots <- struct{}{}
		batch = append(batch[:0], first)
		size := first.size
	fill:
		for len(batch) < n.cfg.MaxBatch {
			select {
			case p := <-n.queue:
				if size+p.size > n.cfg.MaxBatchBytes {
					carry = p
					break fill
				}
				batch = append(batch, p)
				size += p.size
			default:
				break fill
			}
		}
		cmds = n.submit(batch, cmds)
		clear(batch)
	}
}

// submit encodes batch as one entry and hands it to raft. cmds is scratch
// space, returned for reuse.
func (n *Node) submit(batch []*Pending, cmds []fsm.Command) []fsm.Command {
	if n.raft.State() != raft.Leader {
		<-n.slots
		err := fmt.Errorf("%w: %w", ErrNotLeader, raft.ErrNotLeader)
		for _, p := range batch {
			p.finish(nil, err)
		}
		return cmds
	}
	cmds = cmds[:0]
	for _, p := range batch {
		cmds = append(cmds, p.cmd)
	}
	e := fsm.Entry{Type: fsm.EntryCommands, Now: n.now(), Commands: cmds}
	data, err := fsm.AppendEntry(make([]byte, 0, fsm.EncodedSize(&e)), &e)
	clear(cmds) // drop argv references held by the scratch slice
	if err != nil {
		// Propose validated every command, so this is a bug; fail the
		// batch rather than the node.
		n.log.Error("cannot encode command batch", "err", err)
		<-n.slots
		for _, p := range batch {
			p.finish(nil, err)
		}
		return cmds
	}
	pendings := append([]*Pending(nil), batch...)
	for _, p := range pendings {
		p.cmd = fsm.Command{} // encoded; let the client's buffers go
	}
	f := n.raft.Apply(data, 0)
	n.inflight <- inflight{future: f, pendings: pendings}
	return cmds
}

func (n *Node) submitCtrl(c *ctrlReq) {
	if n.raft.State() != raft.Leader {
		c.err = fmt.Errorf("%w: %w", ErrNotLeader, raft.ErrNotLeader)
		close(c.done)
		return
	}
	data, err := fsm.AppendEntry(nil, &fsm.Entry{Type: c.typ, Now: n.now()})
	if err != nil {
		c.err = err
		close(c.done)
		return
	}
	n.slots <- struct{}{}
	n.inflight <- inflight{future: n.raft.Apply(data, 0), ctrl: c}
}

// completeLoop resolves in-flight entries in log order.
func (n *Node) completeLoop() {
	defer close(n.completed)
	for in := range n.inflight {
		var res *fsm.Result
		err := in.future.Error()
		<-n.slots
		if err != nil {
			err = mapApplyErr(err)
		} else if r, ok := in.future.Response().(*fsm.Result); !ok {
			err = fmt.Errorf("cluster: unexpected apply response %T", in.future.Response())
		} else if r.Err != nil {
			// Committed but not executed (undecodable): a definite failure.
			err = r.Err
		} else {
			res = r
		}
		if in.ctrl != nil {
			in.ctrl.err = err
			if err == nil {
				in.ctrl.index = in.future.Index()
			}
			close(in.ctrl.done)
			continue
		}
		if err == nil && len(res.Replies) != len(in.pendings) {
			err = fmt.Errorf("cluster: %d replies for %d commands", len(res.Replies), len(in.pendings))
		}
		for i, p := range in.pendings {
			if err != nil {
				p.finish(nil, err)
			} else {
				p.finish(res.Replies[i], nil)
			}
		}
	}
}

// now is the leader clock stamped into entries.
func (n *Node) now() int64 { return time.Now().UnixMilli() }

// waitFuture waits for a raft future without trusting it to resolve after
// shutdown (hashicorp/raft#498): ctx and Close both end the wait.
func waitFuture(ctx context.Context, f raft.Future) error {
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
