package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// The forwarder (why it resends and why that is safe: "Forwarding" in
// DESIGN.md). On a follower the proposer hands each drained batch of local
// commands to it as one request (origin, seq): origin names this process
// (node ID plus a random boot nonce), seq counts its requests. Requests go
// to the leader over one pooled, pipelined connection, in seq order; each
// one's replies come back when its entry applies. When one fails before
// its answer, every unanswered request is sent again, in order, to whoever
// leads next, or proposed here if that is this node. Each request carries
// Ack, the lowest seq still unanswered here, which lets the leader's state
// machine drop saved replies below it.
//
// Bounds: at most MaxInflight requests are outstanding (the proposer
// blocks, and batches grow). A request certainly not applied so far (never
// sent, or refused) fails with ErrNoLeader after LeaderWait; one that may
// have been applied fails with ErrUnknownOutcome after ForwardTimeout.

// retryBackoff bounds how fast a failing request is resent.
const (
	retryBackoffMin = 5 * time.Millisecond
	retryBackoffMax = 200 * time.Millisecond
)

type forwarder struct {
	n      *Node
	origin string
	slots  chan struct{}
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup // direct-apply waiters
	count  atomic.Int64   // outstanding requests

	mu      sync.Mutex
	nextSeq uint64
	// oldPeer is a connection to a leader of the previous version (it
	// does not know opProposeResults): requests go to it as opPropose.
	oldPeer *rpcConn
	reqs    []*fwdReq // outstanding, by seq
	idle    chan struct{}
	stopped bool
	backoff time.Duration
	retryAt time.Time

	// carried holds, by seq, the parsed commands of requests sent until
	// this node applies them (take): the leader's entry carries only
	// their argv, and so this node parses each command once, when its
	// client sent it (fsm.Carrier).
	carryMu sync.Mutex
	carried map[uint64]*fsm.Carried
}

// fwdReq is one forwarded request.
type fwdReq struct {
	seq      uint64
	pendings []*Pending
	cmds     []fsm.Command
	created  time.Time
	// maybeApplied: an earlier attempt ended without a definite "not
	// applied" (connection lost after sending, outcome unknown). conn is
	// where the current attempt went (nil: none, unless direct: proposed
	// here); gen numbers attempts so a late answer to an abandoned
	// attempt is ignored.
	maybeApplied bool
	conn         *rpcConn
	direct       bool
	gen          uint64
	done         bool
}

// inFlight reports whether an attempt is under way.
func (r *fwdReq) inFlight() bool { return r.conn != nil || r.direct }

// ambiguous reports whether r may have been applied.
func (r *fwdReq) ambiguous() bool { return r.maybeApplied || r.inFlight() }

func newForwarder(n *Node) *forwarder {
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	origin := n.cfg.NodeID + "/" + hex.EncodeToString(nonce[:])
	if len(origin) > fsm.MaxOriginLen {
		origin = origin[len(origin)-fsm.MaxOriginLen:]
	}
	f := &forwarder{
		n:      n,
		origin: origin,
		slots:  make(chan struct{}, n.cfg.MaxInflight),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),

		carried: map[uint64]*fsm.Carried{},
	}
	go f.loop()
	return f
}

// busy reports whether requests are outstanding; until they are all
// answered, new local commands must queue behind them to keep order.
func (f *forwarder) busy() bool { return f.count.Load() > 0 }

// submit adds a request made of ps. It blocks while MaxInflight requests
// are outstanding.
func (f *forwarder) submit(ps []*Pending) {
	select {
	case f.slots <- struct{}{}:
	case <-f.stop:
		for _, p := range ps {
			p.fail(ErrClosed)
		}
		return
	}
	r := &fwdReq{pendings: append([]*Pending(nil), ps...), cmds: make([]fsm.Command, len(ps)), created: time.Now()}
	var carried *fsm.Carried
	for i, p := range ps {
		r.cmds[i] = p.cmd
		if p.cmd.Parsed != nil {
			if carried == nil {
				carried = fsm.NewCarried(len(ps))
			}
			carried.Parsed[i] = p.cmd.Parsed
		}
		// A request may be encoded more than once (resent, or proposed
		// here after a leader change): never in place (Command.Room).
		r.cmds[i].Room = nil
		p.cmd = fsm.Command{}
	}
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		<-f.slots
		for _, p := range r.pendings {
			p.fail(ErrClosed)
		}
		return
	}
	f.nextSeq++
	r.seq = f.nextSeq
	f.reqs = append(f.reqs, r)
	f.count.Add(1)
	if carried != nil {
		f.carryMu.Lock()
		f.carried[r.seq] = carried
		f.carryMu.Unlock()
	}
	f.mu.Unlock()
	f.poke()
}

// take is the FSM's Carrier: the parsed commands of this node's request
// seq, which the entry being applied holds. Requests apply in seq order,
// so what is kept for earlier ones will not be asked for again (they were
// refused, or applied while this node restored a snapshot) and goes too.
func (f *forwarder) take(origin string, seq uint64, count int) *fsm.Carried {
	if origin != f.origin {
		return nil
	}
	f.carryMu.Lock()
	defer f.carryMu.Unlock()
	c := f.carried[seq]
	for s := range f.carried {
		if s <= seq {
			delete(f.carried, s)
		}
	}
	if c == nil || len(c.Parsed) != count {
		return nil
	}
	return c
}

// forget drops what is kept for a request that failed: if it was applied
// after all, the apply parses its argv.
func (f *forwarder) forget(seq uint64) {
	f.carryMu.Lock()
	delete(f.carried, seq)
	f.carryMu.Unlock()
}

func (f *forwarder) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// waitIdle waits until nothing is outstanding, or the deadline.
func (f *forwarder) waitIdle(deadline time.Time) bool {
	for {
		f.mu.Lock()
		if len(f.reqs) == 0 {
			f.mu.Unlock()
			return true
		}
		if f.idle == nil {
			f.idle = make(chan struct{})
		}
		ch := f.idle
		f.mu.Unlock()
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
			return false
		}
	}
}

// shutdown fails whatever is outstanding and stops the loop. Direct
// waiters are waited for at most until deadline (their raft futures
// resolve while raft runs; see raft#498 for why not unconditionally).
func (f *forwarder) shutdown(deadline time.Time) {
	close(f.stop)
	<-f.done
	waited := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(waited)
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-waited:
	case <-t.C:
		f.n.log.Warn("forwarded writes still waiting on raft at shutdown")
	}
}

func (f *forwarder) loop() {
	defer close(f.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		changed := f.n.leaderChanged()
		wait := f.step()
		timer.Reset(wait)
		select {
		case <-f.wake:
		case <-changed:
		case <-timer.C:
		case <-f.stop:
			f.failAll()
			return
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (f *forwarder) failAll() {
	f.mu.Lock()
	f.stopped = true
	reqs := f.reqs
	f.mu.Unlock()
	for _, r := range reqs {
		f.mu.Lock()
		ambiguous := r.ambiguous()
		f.mu.Unlock()
		if ambiguous {
			f.finish(r, nil, wrapUnknown(ErrClosed))
		} else {
			f.finish(r, nil, ErrClosed)
		}
	}
}

// finish ends r once: replies or err go to its callers.
func (f *forwarder) finish(r *fwdReq, replies []fsm.Reply, err error) {
	f.mu.Lock()
	if r.done {
		f.mu.Unlock()
		return
	}
	r.done = true
	for i, x := range f.reqs {
		if x == r {
			f.reqs = append(f.reqs[:i], f.reqs[i+1:]...)
			break
		}
	}
	if err == nil {
		f.backoff = 0
	}
	if len(f.reqs) == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
	f.count.Add(-1)
	f.mu.Unlock()
	<-f.slots
	if err != nil {
		f.forget(r.seq)
	}
	for i, p := range r.pendings {
		if err != nil {
			p.fail(err)
		} else {
			p.finish(replies[i], nil)
		}
	}
	r.cmds = nil
}

// retryLater abandons r's current attempt (and, as they must stay in
// order, every other attempt on the same connection) and backs off.
// definite says r's attempt was certainly not applied; the others'
// outcome is unknown.
func (f *forwarder) retryLater(r *fwdReq, definite bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.done {
		return
	}
	conn := r.conn
	for _, x := range f.reqs {
		if x == r || (conn != nil && x.conn == conn) {
			if x != r || !definite {
				x.maybeApplied = x.maybeApplied || x.inFlight()
			}
			x.conn, x.direct = nil, false
			x.gen++
		}
	}
	f.backoff = min(max(2*f.backoff, retryBackoffMin), retryBackoffMax)
	f.retryAt = time.Now().Add(f.backoff)
}

// step expires overdue requests and (re)sends the unsent ones to the
// current leader, in order. It returns how long to sleep at most.
func (f *forwarder) step() time.Duration {
	n := f.n
	now := time.Now()
	wait := time.Second
	f.mu.Lock()
	var expired []*fwdReq
	var unknown []bool
	for _, r := range f.reqs {
		limit := r.created.Add(n.cfg.LeaderWait)
		if r.ambiguous() {
			limit = r.created.Add(n.cfg.ForwardTimeout)
		}
		if !now.Before(limit) {
			expired = append(expired, r)
			unknown = append(unknown, r.ambiguous())
		} else {
			wait = min(wait, limit.Sub(now))
		}
	}
	f.mu.Unlock()
	for i, r := range expired {
		if unknown[i] {
			f.finish(r, nil, wrapUnknown(fmt.Errorf("forwarded write not confirmed within %v", n.cfg.ForwardTimeout)))
		} else {
			f.finish(r, nil, errNoLeader(n.cfg.LeaderWait))
		}
	}

	f.mu.Lock()
	if len(f.reqs) == 0 {
		f.mu.Unlock()
		return wait
	}
	if d := f.retryAt.Sub(now); d > 0 {
		f.mu.Unlock()
		return min(wait, d)
	}
	f.mu.Unlock()

	addr, id := n.raft.LeaderWithID()
	switch {
	case id == "":
		return wait // woken by the next leader change
	case string(id) == n.cfg.NodeID:
		if n.raft.State() != raft.Leader {
			return min(wait, retryBackoffMin)
		}
		f.sendDirect()
		return wait
	}
	ctx, cancel := context.WithTimeout(n.ctx, rpcDialTimeout)
	conn, err := n.pool.get(ctx, string(addr))
	cancel()
	if err != nil {
		n.log.Debug("cannot reach the leader to forward writes", "leader", id, "addr", addr, "err", err)
		f.mu.Lock()
		f.backoff = min(max(2*f.backoff, retryBackoffMin), retryBackoffMax)
		f.retryAt = time.Now().Add(f.backoff)
		backoff := f.backoff
		f.mu.Unlock()
		return min(wait, backoff)
	}
	f.sendRemote(conn)
	return wait
}

// toSend marks, in seq order, the requests not yet sent to target and
// returns them with their attempt numbers.
func (f *forwarder) toSend(conn *rpcConn, direct bool) ([]*fwdReq, []uint64, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*fwdReq
	var gens []uint64
	for _, r := range f.reqs {
		if r.conn == conn && r.direct == direct && (conn != nil || direct) {
			continue // already in flight there
		}
		// An attempt abandoned by a leader change may still apply.
		r.maybeApplied = r.maybeApplied || r.inFlight()
		r.conn, r.direct = conn, direct
		r.gen++
		out = append(out, r)
		gens = append(gens, r.gen)
	}
	ack := f.nextSeq + 1
	if len(f.reqs) > 0 {
		ack = f.reqs[0].seq
	}
	return out, gens, ack
}

func (f *forwarder) sendRemote(conn *rpcConn) {
	reqs, gens, ack := f.toSend(conn, false)
	f.mu.Lock()
	op := opProposeResults
	if conn == f.oldPeer {
		op = opPropose
	}
	f.mu.Unlock()
	for i, r := range reqs {
		gen := gens[i]
		wire := r.cmds
		if op == opPropose {
			// A leader of the previous version cannot decode typed kinds.
			wire = legacyForms(wire)
		}
		entry, err := fsm.AppendEntry(nil, &fsm.Entry{Type: fsm.EntryCommands, Commands: wire})
		if err != nil {
			f.finish(r, nil, err) // validated by Propose: a bug
			continue
		}
		body := wbuf(nil).str(f.origin).uvarint(r.seq).uvarint(min(ack, r.seq)).bytes(entry)
		cmds := r.cmds // finish drops r.cmds; an old leader's answer needs them
		if _, err := conn.send(op, body, func(c *rpcCall) { f.answered(r, gen, conn, op, cmds, c) }); err != nil {
			// The connection was already broken: this request and the
			// ones after it were not written.
			f.notSent(reqs[i:], gens[i:])
			f.poke()
			return
		}
	}
}

// notSent undoes toSend for requests that were never written, and backs
// off.
func (f *forwarder) notSent(reqs []*fwdReq, gens []uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range reqs {
		if !r.done && r.gen == gens[i] {
			r.conn, r.direct = nil, false
			r.gen++
		}
	}
	f.backoff = min(max(2*f.backoff, retryBackoffMin), retryBackoffMax)
	f.retryAt = time.Now().Add(f.backoff)
}

// answered handles the leader's response to one attempt: cmds sent as op
// on conn.
func (f *forwarder) answered(r *fwdReq, gen uint64, conn *rpcConn, op byte, cmds []fsm.Command, c *rpcCall) {
	f.mu.Lock()
	current := !r.done && r.gen == gen
	f.mu.Unlock()
	if !current {
		return
	}
	if c.err != nil {
		f.retryLater(r, false)
		f.poke()
		return
	}
	switch c.status {
	case stOK:
		var replies []fsm.Reply
		var err error
		if op == opPropose {
			replies, err = decodeReplies(c.body, cmds)
		} else {
			replies, err = decodeResults(c.body, len(r.pendings))
		}
		if err != nil {
			f.finish(r, nil, wrapUnknown(err))
			return
		}
		f.finish(r, replies, nil)
	case stNotLeader, stClosed:
		f.retryLater(r, true)
		f.poke()
	case stUnknown:
		f.retryLater(r, false)
		f.poke()
	case stError:
		if op == opProposeResults && string(c.body) == unknownOp(op) {
			// A leader of the previous version: nothing was applied;
			// send it the old operation.
			f.mu.Lock()
			f.oldPeer = conn
			f.mu.Unlock()
			f.retryLater(r, true)
			f.poke()
			return
		}
		f.finish(r, nil, statusError(c.status, c.body))
	default:
		f.finish(r, nil, statusError(c.status, c.body))
	}
}

// sendDirect proposes unsent requests straight to raft: this node became
// the leader while they were outstanding. Sequential Apply calls keep
// them in order; new local commands wait behind them (Node.dispatch).
func (f *forwarder) sendDirect() {
	n := f.n
	reqs, gens, ack := f.toSend(nil, true)
	for i, r := range reqs {
		gen := gens[i]
		e := fsm.Entry{Type: fsm.EntryCommands, Now: n.now(), Commands: n.wireForms(r.cmds),
			Requests: []fsm.Request{{Origin: f.origin, Seq: r.seq, Ack: min(ack, r.seq), Count: len(r.cmds)}}}
		data, err := fsm.AppendEntry(nil, &e)
		if err != nil {
			f.finish(r, nil, err)
			continue
		}
		fut := n.raft.Apply(data, 0)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.appliedDirect(r, gen, fut)
		}()
	}
}

func (f *forwarder) appliedDirect(r *fwdReq, gen uint64, fut raft.ApplyFuture) {
	err := fut.Error()
	f.mu.Lock()
	current := !r.done && r.gen == gen
	f.mu.Unlock()
	if !current {
		return
	}
	if err != nil {
		if errors.Is(err, raft.ErrRaftShutdown) {
			f.finish(r, nil, wrapUnknown(ErrClosed))
			return
		}
		// Not appended, or outcome unknown: either way resend; dedupe
		// makes a second copy harmless.
		f.retryLater(r, errors.Is(mapApplyErr(err), ErrNotLeader))
		f.poke()
		return
	}
	res, ok := fut.Response().(*fsm.Result)
	switch {
	case !ok:
		f.finish(r, nil, fmt.Errorf("cluster: unexpected apply response %T", fut.Response()))
	case res.Err != nil:
		f.finish(r, nil, res.Err)
	case len(res.Replies) != len(r.pendings):
		f.finish(r, nil, fmt.Errorf("cluster: %d replies for %d commands", len(res.Replies), len(r.pendings)))
	default:
		f.finish(r, res.Replies, nil)
	}
}

// errNoLeader is the error of an operation that found no leader in time.
// It matches ErrNotLeader too: nothing was appended.
func errNoLeader(waited time.Duration) error {
	return fmt.Errorf("%w (waited %v): %w", ErrNoLeader, waited, ErrNotLeader)
}
