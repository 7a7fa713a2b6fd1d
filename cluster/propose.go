package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// The proposer. Many client goroutines call Propose, which only queues; one
// proposer goroutine hands raft a placeholder entry as soon as something is
// queued (storegate.go packs it when raft writes it) or, on a follower,
// hands each drained batch to the forwarder (forward.go). A completer
// goroutine waits on the futures in log order and hands each command its
// reply. The mechanics and why: "Group commit" in DESIGN.md.

// Pending is a proposed write whose reply is not yet known.
type Pending struct {
	node *Node
	cmd  fsm.Command
	size int

	// start is when Propose queued it, for the commit latency histogram.
	start time.Time

	done  chan struct{}
	reply fsm.Reply
	err   error
	// index is the log index of the entry that carried the command, once
	// it is applied.
	index uint64
}

// Index is the log index of the entry that carried the command, once Wait
// has returned its reply; 0 before, or if it failed.
func (p *Pending) Index() uint64 { return p.index }

// Wait returns the command's reply (its encoding and outcome) once it is
// applied, or an error if it could not be committed (no leader, shutdown,
// ctx done). Errors wrap ErrNotLeader (not appended, safe to retry),
// ErrUnknownOutcome (may have been committed) or ErrClosed. Wait never
// blocks past Close.
func (p *Pending) Wait(ctx context.Context) (fsm.Reply, error) {
	select {
	case <-p.done:
		return p.reply, p.err
	default:
	}
	select {
	case <-p.done:
		return p.reply, p.err
	case <-ctx.Done():
		return fsm.Reply{}, wrapUnknown(ctx.Err())
	case <-p.node.dead:
		select {
		case <-p.done:
			return p.reply, p.err
		default:
			return fsm.Reply{}, wrapUnknown(ErrClosed)
		}
	}
}

// fail ends p without a reply.
func (p *Pending) fail(err error) { p.finish(fsm.Reply{}, err) }

func (p *Pending) finish(reply fsm.Reply, err error) {
	if err == nil && !p.start.IsZero() {
		p.node.stats.commit.observeSince(p.start)
	}
	p.reply, p.err = reply, err
	close(p.done)
}

// proposer is the write path's state: the queue Propose feeds, the
// entries handed to raft and not yet applied, and the gate that packs a
// placeholder entry as raft writes it.
type proposer struct {
	// proposeMu orders Propose against Close: Propose holds it shared
	// while enqueueing, Close takes it exclusively to set closed, after
	// which nothing new can reach the queue.
	proposeMu sync.RWMutex
	closed    bool

	queue       chan qitem
	ctrl        chan *ctrlReq
	inflight    chan inflight
	slots       chan struct{} // one per entry handed to raft, not yet resolved
	gate        *storeGate    // packs command entries as the leader writes them
	stopPropose chan struct{}
	completed   chan struct{} // closed when the completer has exited

	// cmdLists recycles the command lists entries are encoded from: a
	// list lives only until its entry is encoded, and a pipelined load
	// would otherwise allocate one per entry.
	cmdLists sync.Pool

	// riders is the front end's hook that adds commands to an entry as
	// the leader seals it (ride.go).
	riders atomic.Pointer[Riders]
}

// cmdList returns an empty command list with room for n commands.
func (p *proposer) cmdList(n int) *[]fsm.Command {
	l, ok := p.cmdLists.Get().(*[]fsm.Command)
	if !ok {
		l = new([]fsm.Command)
	}
	if cap(*l) < n {
		*l = make([]fsm.Command, 0, n)
	}
	return l
}

// putCmdList recycles l, without the arguments it refers to.
func (p *proposer) putCmdList(l *[]fsm.Command) {
	clear(*l)
	*l = (*l)[:0]
	p.cmdLists.Put(l)
}

// inflight is one entry handed to raft: a command batch or a control entry.
type inflight struct {
	future raft.ApplyFuture
	// ph, if set, is the late-packed entry the pendings and remotes are
	// taken from once it is sealed.
	ph       *placeholder
	pendings []*Pending
	// remotes are batches forwarded by followers, after the pendings in
	// the entry; each one's Request says where its commands are.
	remotes []*remoteProp
	riders  []*Pending // last in the entry
	ctrl    *ctrlReq
}

// ctrlReq asks the proposer for a non-command entry (expiry cycle, read
// barrier, member metadata) and reports its outcome.
type ctrlReq struct {
	typ    fsm.EntryType
	member *fsm.MemberChange
	done   chan struct{}
	index  uint64
	err    error
}

// remoteProp is a batch a follower forwarded to this node (the leader).
type remoteProp struct {
	cmds    []fsm.Command
	req     fsm.Request
	size    int
	respond func(replies []fsm.Reply, err error)
}

// qitem is one queued proposal: a local client command or a forwarded
// batch. One queue for both keeps arrival order and one back-pressure.
type qitem struct {
	p *Pending
	r *remoteProp
}

func (q qitem) size() int {
	if q.p != nil {
		return q.p.size
	}
	return q.r.size
}

func (q qitem) count() int {
	if q.p != nil {
		return 1
	}
	return len(q.r.cmds)
}

func wrapUnknown(err error) error { return fmt.Errorf("%w: %w", ErrUnknownOutcome, err) }

// Propose queues cmd for the next log entry without waiting (group commit).
// On a follower the batch it lands in is forwarded to the leader (see
// forward.go). Commands proposed by one goroutine are applied in the order
// proposed. Propose blocks only while the queue is full.
func (n *Node) Propose(cmd fsm.Command) *Pending {
	p := &Pending{node: n, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Validate(); err != nil {
		p.fail(err)
		return p
	}
	p.size = fsm.CommandSize(&cmd)
	if p.size > MaxCommandBytes {
		p.fail(fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, p.size, MaxCommandBytes))
		return p
	}
	if err := n.disk.admit(int64(p.size)); err != nil {
		p.fail(err)
		return p
	}
	p.start = time.Now()
	if err := n.enqueue(qitem{p: p}); err != nil {
		p.fail(err)
	}
	return p
}

// enqueue hands it to the proposer, or fails with ErrClosed after Close.
func (p *proposer) enqueue(it qitem) error {
	p.proposeMu.RLock()
	defer p.proposeMu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	// The proposer drains the queue until Close has set closed, which
	// needs this lock released, so blocking here cannot deadlock.
	p.queue <- it
	return nil
}

// refuse makes every later enqueue fail with ErrClosed; once it returns,
// nothing new can reach the queue.
func (p *proposer) refuse() {
	p.proposeMu.Lock()
	p.closed = true
	p.proposeMu.Unlock()
}

// control proposes a non-command entry and waits until it is applied. It
// returns the entry's log index.
func (n *Node) control(ctx context.Context, typ fsm.EntryType) (uint64, error) {
	return n.controlEntry(ctx, &ctrlReq{typ: typ})
}

func (n *Node) controlEntry(ctx context.Context, c *ctrlReq) (uint64, error) {
	c.done = make(chan struct{})
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

// batch is what the proposer drained for one entry.
type batch struct {
	pendings []*Pending
	remotes  []*remoteProp
	// riders are commands the leader added as it sealed the entry
	// (ride.go); they go last.
	riders []*Pending
	count  int // commands
	size   int // encoded bytes
}

func (b *batch) add(it qitem) {
	if it.p != nil {
		b.pendings = append(b.pendings, it.p)
	} else {
		b.remotes = append(b.remotes, it.r)
	}
	b.count += it.count()
	b.size += it.size()
}

func (n *Node) proposeLoop() {
	defer close(n.inflight)
	var carry qitem
	hasCarry, stopping := false, false
	for {
		var first qitem
		switch {
		case hasCarry:
			first, hasCarry = carry, false
		case stopping:
			// Close: nothing new can be queued; submit what is left so
			// writes accepted before Close still get their answer.
			select {
			case first = <-n.queue:
			default:
				return
			}
		default:
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
		// Wait for an in-flight slot before packing: whatever arrives
		// meanwhile joins this entry instead of queueing one more.
		n.slots <- struct{}{}
		if n.raft.State() == raft.Leader && !n.fwd.busy() {
			carry, hasCarry = n.submitLate(first)
			continue
		}
		var b batch
		b.add(first)
		carry, hasCarry = n.drain(&b)
		n.dispatch(&b)
	}
}

// drain adds queued items to b up to the batch limits. An item that does
// not fit is returned to go first in the next batch.
func (n *Node) drain(b *batch) (carry qitem, ok bool) {
	for b.count < n.cfg.MaxBatch {
		select {
		case it := <-n.queue:
			if b.size+it.size() > n.cfg.MaxBatchBytes {
				return it, true
			}
			b.add(it)
		default:
			return qitem{}, false
		}
	}
	return qitem{}, false
}

// placeholder is a command entry handed to raft before its contents are
// known; the store gate seals it when the leader writes it (see storeGate).
type placeholder struct {
	token    []byte // Data given to raft.Apply, recognised by its address
	first    qitem
	sealed   chan struct{} // closed once b, data and carry are final
	b        batch
	carry    qitem
	hasCarry bool
}

// submitLate hands raft a placeholder for first and whatever queues up
// until the leader writes it, and waits until it is sealed or refused. It
// returns an item that did not fit in the entry.
func (n *Node) submitLate(first qitem) (carry qitem, ok bool) {
	ph := &placeholder{token: make([]byte, 1), first: first, sealed: make(chan struct{})}
	n.gate.setOpen(ph)
	n.inflight <- inflight{future: n.raft.Apply(ph.token, 0), ph: ph}
	// The completer closes sealed too if raft refuses the entry, so this
	// cannot hang; while raft holds it, new commands wait in the queue for
	// the seal instead of starting another entry.
	<-ph.sealed
	return ph.carry, ph.hasCarry
}

// seal packs a placeholder's entry. It runs on raft's leader loop inside
// StoreLogs, so it must not block: it takes only what is already queued.
// The entry's parsed commands go with it to this node's apply (raft.Log's
// Local).
func (n *Node) seal(ph *placeholder) ([]byte, *fsm.Carried) {
	defer close(ph.sealed)
	b := &ph.b
	b.add(ph.first)
	ph.carry, ph.hasCarry = n.drain(b)
	n.addRiders(b)
	now := n.now()
	data, carried, err := n.encodeBatch(b, now)
	if err != nil {
		// The batch has failed; raft still writes an entry here.
		*b = batch{}
		data, _ = fsm.AppendEntry(nil, &fsm.Entry{Type: fsm.EntryCommands, Now: now})
	}
	return data, carried
}

// encodeBatch encodes b's commands as one entry stamped now: local
// commands first, then each forwarded batch, whose Request records where
// its commands are, then the riders. On success the commands' argv is released (it lives
// on in the entry); on failure everyone in b has been told. carried holds
// the values the local commands were parsed into (nil if none was), for
// this node's apply of the entry.
func (n *Node) encodeBatch(b *batch, now int64) (data []byte, carried *fsm.Carried, err error) {
	list := n.cmdList(b.count)
	defer n.putCmdList(list)
	cmds := *list
	for i, p := range b.pendings {
		cmds = append(cmds, p.cmd)
		if p.cmd.Parsed != nil {
			if carried == nil {
				carried = fsm.NewCarried(b.count)
			}
			carried.Parsed[i] = p.cmd.Parsed
		}
	}
	var reqs []fsm.Request
	for _, r := range b.remotes {
		r.req.Start, r.req.Count = len(cmds), len(r.cmds)
		reqs = append(reqs, r.req)
		cmds = append(cmds, r.cmds...)
	}
	for _, p := range b.riders {
		if p.cmd.Parsed != nil {
			if carried == nil {
				carried = fsm.NewCarried(b.count)
			}
			carried.Parsed[len(cmds)] = p.cmd.Parsed
		}
		cmds = append(cmds, p.cmd)
	}
	*list = cmds
	e := fsm.Entry{Type: fsm.EntryCommands, Now: now, Commands: n.wireForms(cmds), Requests: reqs}
	inPlace := false
	// A command whose big argument came with room around it (a client's
	// big XADD) has its entry built around the argument: one buffer for
	// both, where a copy would double the command's memory.
	for _, c := range cmds {
		if c.Room != nil {
			data, inPlace, err = fsm.AppendEntryInPlace(&e, c.Room)
			break
		}
	}
	if !inPlace && err == nil {
		data, err = fsm.AppendEntry(make([]byte, 0, fsm.EncodedSize(&e)), &e)
	}
	if err != nil {
		// Propose and the RPC server validated every command, so this is
		// a bug; fail the batch rather than the node.
		n.log.Error("cannot encode command batch", "err", err)
		for _, p := range b.pendings {
			p.fail(err)
		}
		for _, r := range b.remotes {
			r.respond(nil, err)
		}
		for _, p := range b.riders {
			p.fail(err)
		}
		return nil, nil, err
	}
	for _, p := range b.pendings {
		p.cmd = fsm.Command{}
	}
	for _, p := range b.riders {
		p.cmd = fsm.Command{}
	}
	for _, r := range b.remotes {
		r.cmds = nil
	}
	n.stats.batch.Observe(float64(b.count))
	return data, carried, nil
}

// dispatch sends a batch drained while not leading (or while the forwarder
// still has requests from when this node followed) on its way. The proposer
// holds one in-flight slot, which an entry handed to raft keeps.
//
//   - Follower: local commands go to the forwarder as one request;
//     forwarded batches (from a node that thought we led) are refused
//     with ErrNotLeader, and their sender retries at the real leader.
//   - Leader whose forwarder still has requests from when it was a
//     follower: local commands queue behind them in the forwarder, which
//     now applies them itself, so they stay in order; forwarded batches
//     go into an entry at once.
func (n *Node) dispatch(b *batch) {
	leader := n.raft.State() == raft.Leader
	remotes := b.remotes
	if !leader {
		err := fmt.Errorf("%w: %w", ErrNotLeader, raft.ErrNotLeader)
		for _, r := range remotes {
			r.respond(nil, err)
		}
		remotes = nil
	}
	if len(remotes) > 0 {
		n.submit(remotes)
	} else {
		<-n.slots
	}
	if len(b.pendings) > 0 {
		n.fwd.submit(b.pendings)
	}
}

// submit hands raft an entry of forwarded batches at once.
func (n *Node) submit(remotes []*remoteProp) {
	b := batch{remotes: remotes}
	data, _, err := n.encodeBatch(&b, n.now())
	if err != nil {
		<-n.slots
		return
	}
	n.inflight <- inflight{future: n.raft.Apply(data, 0), remotes: remotes}
}

func (n *Node) submitCtrl(c *ctrlReq) {
	if n.raft.State() != raft.Leader {
		c.err = fmt.Errorf("%w: %w", ErrNotLeader, raft.ErrNotLeader)
		close(c.done)
		return
	}
	data, err := fsm.AppendEntry(nil, &fsm.Entry{Type: c.typ, Now: n.now(), Member: c.member})
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
		// A placeholder refused before it was written never entered the
		// log: its command may safely be retried.
		abandoned := err != nil && in.ph != nil && n.gate.abandon(in.ph)
		if abandoned {
			err = neverLogged(err)
		} else if err != nil {
			err = mapApplyErr(err)
		} else if r, ok := in.future.Response().(*fsm.Result); !ok {
			err = fmt.Errorf("cluster: unexpected apply response %T", in.future.Response())
		} else if r.Err != nil {
			// Committed but not executed (undecodable): a definite failure.
			err = r.Err
		} else {
			res = r
		}
		if in.ph != nil {
			if abandoned {
				in.ph.b.add(in.ph.first)
				close(in.ph.sealed)
			} else {
				<-in.ph.sealed
			}
			in.pendings, in.remotes, in.riders = in.ph.b.pendings, in.ph.b.remotes, in.ph.b.riders
		}
		if in.ctrl != nil {
			in.ctrl.err = err
			if err == nil {
				in.ctrl.index = in.future.Index()
			}
			close(in.ctrl.done)
			continue
		}
		want := len(in.pendings)
		for _, r := range in.remotes {
			want += r.req.Count
		}
		ridden := want
		want += len(in.riders)
		if err == nil && len(res.Replies) != want {
			err = fmt.Errorf("cluster: %d replies for %d commands", len(res.Replies), want)
		}
		var index uint64
		if err == nil {
			index = in.future.Index()
		}
		for i, p := range in.pendings {
			if err != nil {
				p.fail(err)
			} else {
				p.index = index
				p.finish(res.Replies[i], nil)
			}
		}
		for _, r := range in.remotes {
			if err != nil {
				r.respond(nil, err)
			} else {
				r.respond(res.Replies[r.req.Start:r.req.Start+r.req.Count], nil)
			}
		}
		for i, p := range in.riders {
			if err != nil {
				p.fail(err)
			} else {
				p.index = index
				p.finish(res.Replies[ridden+i], nil)
			}
		}
	}
}

// now is the leader clock stamped into entries (plus the test hook's
// offset).
func (n *Node) now() int64 { return time.Now().Add(n.cfg.ClockOffset).UnixMilli() }

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
