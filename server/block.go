package server

import (
	"bytes"
	"context"
	"time"

	"github.com/tidwall/redcon"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

const errUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

// blockSpec is a blocking read parsed once: every attempt (the first, and
// each wake-up's WouldServe, ClaimDeadline and XRead) uses these values
// rather than parsing argv again. An XREADGROUP that can be served is
// proposed with its parsed value, which this node's apply runs; other
// replicas parse the logged argv.
type blockSpec struct {
	group   bool // XREADGROUP
	timeout int64
	keys    []string
	grpName string
	xread   engine.XReadArgs
	xrg     *engine.XReadGroupArgs // shared with parsed: read only
	parsed  *engine.Parsed
}

// blockingForm parses argv as XREAD or XREADGROUP with BLOCK. ok is false
// (and b nil, so that other commands allocate nothing here) for any other
// command, a read without BLOCK, or a malformed one: those run the
// ordinary way, which also produces the errors. parsed is what it
// parsed argv into, for the ordinary way to run (nil: it parsed nothing);
// an XREAD is parsed into rd, the connection's own value for reads.
func blockingForm(cmd *command, argv [][]byte, rd *engine.Parsed) (b *blockSpec, ok bool, parsed *engine.Parsed) {
	if (cmd.Name() != "xread" && cmd.Name() != "xreadgroup") || !mayBlock(argv) {
		return nil, false, nil // parsed once, by the ordinary path
	}
	switch cmd.Name() {
	case "xread":
		cmd.ParseInto(rd, argv)
		a, ok := rd.XRead()
		if !ok || !a.Block {
			return nil, false, rd
		}
		// A copy: XRead resolves "$" in it, and the value is reset for
		// the connection's next read.
		b = &blockSpec{xread: *a, timeout: a.Timeout, keys: keyStrings(a.Keys)}
		rd.Reset()
	case "xreadgroup":
		// The value travels with the proposal when the read is served.
		p := new(engine.Parsed)
		cmd.ParseInto(p, argv)
		a, ok := p.XReadGroup()
		if !ok || !a.Block {
			return nil, false, p
		}
		b = &blockSpec{group: true, timeout: a.Timeout, grpName: string(a.Group), xrg: a, parsed: p, keys: keyStrings(a.Keys)}
	default:
		return nil, false, nil
	}
	return b, true, nil
}

// mayBlock reports whether an argument could be the BLOCK option: one
// starting with "block" in any case, which every form the parser accepts
// does (it compares up to a NUL, as Redis does). It spares a read without
// BLOCK a parse here before the one that runs it.
func mayBlock(argv [][]byte) bool {
	for _, arg := range argv[1:] {
		if len(arg) >= 5 && bytes.EqualFold(arg[:5], []byte("block")) {
			return true
		}
	}
	return false
}

func keyStrings(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

// runBlocking executes XREAD/XREADGROUP with BLOCK. handled is false
// when argv is not a well-formed blocking read, and parsed is then what
// argv was parsed into, if anything, for the ordinary path; closeConn
// reports that the client went away (or was killed) while blocked.
//
// The client registers on its keys before its first look at the state, so
// a signal between the look and the wait is never lost. XREAD re-reads
// the local state on each wake-up, with "$" resolved once at the start.
// XREADGROUP first asks the local state whether a proposal would serve
// anything (XReadGroupWouldServe) and only then proposes the
// non-blocking command through the log (forwarded to the leader on a
// follower); a null answer means another consumer was faster, and the
// client waits again. On the leader, an XREADGROUP may instead ride in
// the entry of the XADD that serves it (waiters.go, Ride): its reply
// then arrives on the waiter's rode channel.
func (s *Server) runBlocking(conn redcon.Conn, cl *client, cmd *command, argv [][]byte, start time.Time) (handled, closeConn bool, parsed *engine.Parsed) {
	b, ok, parsed := blockingForm(cmd, argv, &cl.parsed)
	if !ok {
		return false, false, parsed
	}
	s.drain(conn, cl)
	if !cl.barrierDone {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
		err := s.readBarrier(ctx, cl)
		cancel()
		if err != nil {
			s.emit(conn, cl, cmd, argv, start, errorBytes(readError(err, s.be.Status())))
			return true, false, nil
		}
		cl.barrierDone = true
	}
	cl.mu.Lock()
	db, proto := cl.db, cl.proto
	cl.mu.Unlock()

	var ride *cluster.Command
	var count int64
	if b.group && !b.xrg.Claim {
		ride = &cluster.Command{DB: uint8(db), Proto: uint8(proto), Argv: argv, Parsed: b.parsed}
		count = b.xrg.Count
	}
	w := s.waiters.register(cl.id, db, b.keys, b.grpName, b.group, ride, count)
	defer func() {
		// Served or not (timeout, unblock, disconnect), the next client of
		// the group re-checks: a wake-up this one consumed may be unused.
		s.waiters.unregister(w)
		s.waiters.passTurn(w)
	}()
	bl := &blocked{s: s, cl: cl, b: b, argv: argv, db: db, proto: proto}

	// The first attempt runs the command as given: errors (including the
	// clock-dependent BLOCK range check) are the command's own.
	reply, claimAt := bl.attempt(true)
	if reply != nil {
		s.emit(conn, cl, cmd, argv, start, reply)
		return true, false, nil
	}
	w.park()

	// Blocking: what the pipeline answered so far must reach the client.
	s.flush(cl)
	watch := cl.pc.watch()
	defer watch.stop()

	var timeout <-chan time.Time
	if b.timeout > 0 {
		t := time.NewTimer(time.Duration(b.timeout) * time.Millisecond)
		defer t.Stop()
		timeout = t.C
	}
	claim := time.NewTimer(time.Hour)
	claim.Stop()
	defer claim.Stop()
	armClaim := func(at int64) {
		claim.Stop()
		if at > 0 {
			claim.Reset(time.Duration(max(at-s.readNow(), 0)) * time.Millisecond)
		}
	}
	armClaim(claimAt)
	// finish ends the wait with reply unless the waiter rides in an entry
	// already: then that read's answer, if it found anything, goes first.
	finish := func(reply []byte) (bool, bool, *engine.Parsed) {
		if !w.state.CompareAndSwap(waiterWaiting, waiterDone) {
			if r := bl.rideReply(<-w.rode); r != nil {
				reply = r
				s.stats.rides.Add(1)
			}
		}
		s.emit(conn, cl, cmd, nil, start, reply)
		return true, false, nil
	}
	for {
		var rode pendingWrite
		select {
		case <-w.wake:
		case <-claim.C:
		case rode = <-w.rode:
		case <-timeout:
			return finish(nullReply(proto))
		case r := <-w.unblock:
			if r == unblockError {
				return finish(errorBytes(errUnblocked))
			}
			return finish(nullReply(proto))
		case <-watch.gone:
			if !w.state.CompareAndSwap(waiterWaiting, waiterDone) {
				// Its read is in the log: wait for it to be applied, so
				// that the ride never outlives the connection's buffers.
				bl.rideReply(<-w.rode)
			}
			return true, true, nil
		}
		if rode == nil && !w.state.CompareAndSwap(waiterWaiting, waiterBusy) {
			rode = <-w.rode // taken since the wake-up
		}
		if rode != nil {
			reply, claimAt = bl.rideReply(rode), 0
			if reply != nil {
				s.stats.rides.Add(1)
			}
		} else {
			reply, claimAt = bl.attempt(false)
		}
		if reply != nil {
			w.state.Store(waiterDone)
			s.emit(conn, cl, cmd, nil, start, reply)
			// Written now, not after the deferred stop of the watcher:
			// that waits for its goroutine to run, a hand-off on the
			// wake-up's path. A socket takes a write while another
			// goroutine reads it.
			s.flush(cl)
			return true, false, nil
		}
		w.state.Store(waiterWaiting)
		armClaim(claimAt)
	}
}

func nullReply(proto int) []byte {
	if proto == 3 {
		return []byte("_\r\n")
	}
	return []byte("*-1\r\n")
}

// readNow is the time reads run at: the local clock, but never behind the
// state machine's.
func (s *Server) readNow() int64 {
	now := time.Now().UnixMilli()
	s.be.Read(func(st *engine.State) {
		if c := st.Clock(); c > now {
			now = c
		}
	})
	return now
}

// blocked is one blocked read in progress.
type blocked struct {
	s         *Server
	cl        *client
	b         *blockSpec
	argv      [][]byte
	db, proto int
}

// attempt tries to serve the read. It returns the reply to send, or nil to
// keep waiting, with the time (state ms, 0 for none) at which an
// XREADGROUP CLAIM could next claim something.
func (bl *blocked) attempt(first bool) (reply []byte, claimAt int64) {
	if !bl.b.group {
		return bl.attemptXRead(first), 0
	}
	var serve bool
	bl.s.be.Read(func(st *engine.State) {
		now := time.Now().UnixMilli()
		if c := st.Clock(); c > now {
			now = c
		}
		ctx := &engine.Ctx{DB: bl.db, Now: now, W: resp.NewWriter(bl.proto)}
		serve = st.XReadGroupWouldServe(ctx, bl.b.xrg)
		if at, ok := st.XReadGroupClaimDeadline(ctx, bl.b.xrg); ok {
			claimAt = at
		}
	})
	if !serve {
		return nil, claimAt
	}
	ctx, cancel := context.WithTimeout(context.Background(), bl.s.cfg.CommandTimeout)
	defer cancel()
	p := bl.s.be.Propose(cluster.Command{DB: uint8(bl.db), Proto: uint8(bl.proto), Argv: bl.argv, Parsed: bl.b.parsed})
	res, err := p.Wait(ctx)
	if err != nil {
		return errorBytes(writeError(err, bl.s.be.Status())), 0
	}
	if res.Outcome == cluster.OutcomeNull {
		return nil, claimAt // another consumer was faster
	}
	return res.RESP, 0
}

// rideReply waits for the read that rode in an entry and returns its
// reply, or nil if it found nothing or could not ride (p nil): keep
// waiting.
func (bl *blocked) rideReply(p pendingWrite) []byte {
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), bl.s.cfg.CommandTimeout)
	defer cancel()
	res, err := p.Wait(ctx)
	if err != nil {
		return errorBytes(writeError(err, bl.s.be.Status()))
	}
	if res.Outcome == cluster.OutcomeNull {
		return nil
	}
	return res.RESP
}

// attemptXRead runs the XREAD against the local state. The first attempt
// runs it as Exec would (so errors are the command's) and then pins "$"
// to the streams' last IDs, under the same read lock.
func (bl *blocked) attemptXRead(first bool) []byte {
	scratch := bl.cl.writer()
	w := &cluster.ReplyWriter{Writer: resp.Writer{Version: bl.proto, Buf: scratch.Buf}}
	w.Begin()
	defer func() { scratch.Buf = w.Buf[:0] }() // keep the grown buffer
	bl.s.be.Read(func(st *engine.State) {
		now := time.Now().UnixMilli()
		if c := st.Clock(); c > now {
			now = c
		}
		ctx := &engine.Ctx{DB: bl.db, Now: now, W: w}
		if first {
			st.ExecXRead(ctx, &bl.b.xread)
			if w.Outcome() == cluster.OutcomeNull {
				st.ResolveXRead(ctx, &bl.b.xread)
			}
			return
		}
		st.XRead(ctx, &bl.b.xread)
	})
	if w.Outcome() == cluster.OutcomeNull {
		return nil
	}
	return bytes.Clone(w.Buf)
}
