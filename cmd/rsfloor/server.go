package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/raftstream/raftstream/cluster"
	"github.com/tidwall/redcon"
	"golang.org/x/sys/unix"
)

// mode is the path of a write (the package doc).
type mode int

const (
	inline mode = iota
	handoff
	chain
	direct
	directChain
	loop
	loopHandoff
	loopChain
	connRaft
	loopRaft
	chainBehind
)

var modeNames = map[string]mode{
	"inline": inline, "handoff": handoff, "chain": chain,
	"direct": direct, "direct-chain": directChain,
	"loop": loop, "loop-handoff": loopHandoff, "loop-chain": loopChain,
	"raft": connRaft, "loop-raft": loopRaft, "chain-behind": chainBehind,
}

func parseMode(s string) (mode, error) {
	if m, ok := modeNames[s]; ok {
		return m, nil
	}
	return 0, fmt.Errorf("unknown -mode %q (inline, handoff, chain, chain-behind, direct, direct-chain, loop, loop-handoff, loop-chain, raft or loop-raft)", s)
}

// eventLoop says whether m serves every connection from one epoll loop
// (loop.go) rather than a goroutine per connection (redcon).
func (m mode) eventLoop() bool {
	switch m {
	case loop, loopHandoff, loopChain, loopRaft:
		return true
	}
	return false
}

// raft says whether m commits through a raftstream node (raft.go)
// instead of the file.
func (m mode) raft() bool { return m == connRaft || m == loopRaft }

// writerStage says whether m flushes on the writer goroutine.
func (m mode) writerStage() bool { return m != inline && m != loop && !m.raft() }

// chained says whether m passes a write through a proposer and an
// applier goroutine around the writer.
func (m mode) chained() bool {
	return m == chain || m == directChain || m == loopChain || m == chainBehind
}

// directReplies says whether the goroutine that answers a write also
// writes its reply to the socket, so the connection's goroutine need not
// wait for it (direct.go).
func (m mode) directReplies() bool { return m == direct || m == directChain }

// flog is the log: a file zero-filled once, so that a write changes only
// data blocks and fdatasync has no metadata to flush (as raftstream's
// raft-wal segments, cluster/walfs.go). Writes go at off and wrap around.
type flog struct {
	f    *os.File
	size int64

	mu  sync.Mutex // the inline mode's connections write at once
	off int64
	seq uint64

	// behind: append writes without flushing, and the connection's
	// goroutine flushes before it answers (syncThrough).
	behind  bool
	smu     sync.Mutex
	synced  *sync.Cond
	written uint64 // last sequence number written
	durable uint64 // last sequence number flushed
	syncing bool
}

func openLog(path string, size int64) (*flog, error) {
	if size <= 0 {
		return nil, errors.New("-size must be > 0")
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	zero := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zero)) {
		if _, err := f.WriteAt(zero[:min(int64(len(zero)), size-off)], off); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("zero-fill log: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sync log: %w", err)
	}
	l := &flog{f: f, size: size}
	l.synced = sync.NewCond(&l.smu)
	return l, nil
}

// append writes b, the bytes of n writes, and flushes it, and returns the
// last write's sequence number. Callers serialise it (mu, or the one
// writer goroutine).
func (l *flog) append(b []byte, n int) (uint64, error) {
	if int64(len(b)) > l.size {
		return 0, errors.New("write larger than the log")
	}
	if l.off+int64(len(b)) > l.size {
		l.off = 0
	}
	if _, err := l.f.WriteAt(b, l.off); err != nil {
		return 0, fmt.Errorf("write log: %w", err)
	}
	l.off += int64(len(b))
	l.seq += uint64(n)
	if l.behind {
		l.smu.Lock()
		l.written = l.seq
		l.smu.Unlock()
		return l.seq, nil
	}
	if err := unix.Fdatasync(int(l.f.Fd())); err != nil {
		return 0, fmt.Errorf("flush log: %w", err)
	}
	return l.seq, nil
}

// syncThrough returns once the writes up to seq are flushed, flushing
// them itself unless another caller's flush is under way (group commit
// among the callers).
func (l *flog) syncThrough(seq uint64) error {
	l.smu.Lock()
	defer l.smu.Unlock()
	for l.durable < seq {
		if l.syncing {
			l.synced.Wait()
			continue
		}
		l.syncing = true
		target := l.written
		l.smu.Unlock()
		err := unix.Fdatasync(int(l.f.Fd()))
		l.smu.Lock()
		l.syncing = false
		l.synced.Broadcast()
		if err != nil {
			return fmt.Errorf("flush log: %w", err)
		}
		l.durable = target
	}
	return nil
}

func (l *flog) close() error { return l.f.Close() }

// write is one XADD on its way through the handoff and chain modes, or
// an event loop's batch of n XADDs in the loop-handoff and loop-chain
// modes. Once answered, seq is the number of its last XADD.
type write struct {
	data  []byte
	n     int
	seq   uint64
	err   error
	reply chan *write
	wake  func() // after the reply is sent: the event loop's eventfd
	dc    *directConn
}

// server serves RESP; in the handoff and chain modes it runs the
// goroutines a write passes through until close.
type server struct {
	log  *flog
	mode mode
	rs   *redcon.Server
	lp   *eventLoop    // the loop modes
	node *cluster.Node // the raft modes

	proposed chan *write   // chain: connection -> proposer
	queued   chan *write   // writer's queue
	written  chan []*write // chain: writer -> applier
	done     chan struct{}
	wg       sync.WaitGroup
}

// newServer serves the mode m; the raft modes run a node with its data in
// raftDir.
func newServer(l *flog, m mode, raftDir string) (*server, error) {
	if l != nil {
		l.behind = m == chainBehind
	}
	s := &server{
		log: l, mode: m,
		proposed: make(chan *write, 1024),
		queued:   make(chan *write, 1024),
		written:  make(chan []*write, 1024),
		done:     make(chan struct{}),
	}
	if m.raft() {
		node, err := openNode(raftDir)
		if err != nil {
			return nil, err
		}
		s.node = node
	}
	if m.eventLoop() {
		lp, err := newEventLoop(s)
		if err != nil {
			if s.node != nil {
				err = errors.Join(err, s.node.Close())
			}
			return nil, err
		}
		s.lp = lp
	} else {
		s.rs = redcon.NewServer("", s.handle, nil, nil)
	}
	if m.writerStage() {
		s.start(s.writer)
	}
	if m.chained() {
		s.start(s.proposer)
		s.start(s.applier)
	}
	return s, nil
}

func (s *server) start(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

func (s *server) serve(ln net.Listener) error {
	if s.mode.eventLoop() {
		return s.serveLoop(ln)
	}
	return s.rs.Serve(ln)
}

// close stops serving and waits for the write path's goroutines.
func (s *server) close() error {
	var err error
	if s.mode.eventLoop() {
		err = s.stopLoop()
	} else {
		err = s.rs.Close()
	}
	close(s.done)
	s.wg.Wait() // with loop-raft's waiters, which use the eventfd
	if s.mode.eventLoop() {
		s.closeLoopFDs()
	}
	if s.node != nil {
		err = errors.Join(err, s.node.Close())
	}
	return err
}

func (s *server) handle(conn redcon.Conn, cmd redcon.Command) {
	if s.mode == connRaft {
		s.handleRaft(conn, cmd)
		return
	}
	if s.mode.directReplies() {
		s.handleDirect(conn, cmd)
		return
	}
	if !isXAdd(cmd.Args) {
		s.handleOther(conn, cmd.Args)
		return
	}
	seq, err := s.xadd(cmd.Raw)
	if err != nil {
		conn.WriteError("ERR " + err.Error())
		return
	}
	conn.WriteBulkString("1-" + strconv.FormatUint(seq, 10))
}

func isXAdd(args [][]byte) bool { return len(args) > 0 && strings.EqualFold(string(args[0]), "xadd") }

// otherReply is the reply kind of a command other than XADD.
func otherReply(args [][]byte) byte {
	if len(args) > 0 {
		switch strings.ToLower(string(args[0])) {
		case "xlen", "del", "unlink":
			return replyZero
		}
	}
	return replyOK
}

// handleOther answers a command other than XADD.
func (s *server) handleOther(conn redcon.Conn, args [][]byte) {
	if otherReply(args) == replyZero {
		conn.WriteInt(0)
		return
	}
	conn.WriteString("OK")
}

// xadd logs raw (the command as received) by the server's mode.
func (s *server) xadd(raw []byte) (uint64, error) {
	if s.mode == inline {
		s.log.mu.Lock()
		defer s.log.mu.Unlock()
		return s.log.append(raw, 1)
	}
	w := &write{data: raw, n: 1, reply: make(chan *write, 1)}
	select {
	case s.input() <- w:
	case <-s.done:
		return 0, net.ErrClosed
	}
	select {
	case <-w.reply:
		if w.err == nil && s.log.behind {
			w.err = s.log.syncThrough(w.seq)
		}
		return w.seq, w.err
	case <-s.done:
		return 0, net.ErrClosed
	}
}

// input is where a write enters the path: the proposer's queue in the
// chained modes, else the writer's.
func (s *server) input() chan *write {
	if s.mode.chained() {
		return s.proposed
	}
	return s.queued
}

// proposer passes writes on to the writer (chain mode: one more hand-off).
func (s *server) proposer() {
	for {
		select {
		case w := <-s.proposed:
			select {
			case s.queued <- w:
			case <-s.done:
				return
			}
		case <-s.done:
			return
		}
	}
}

// writer writes and flushes everything queued as one write (group
// commit), then answers (handoff) or passes the batch on (chain).
func (s *server) writer() {
	var buf []byte
	for {
		var batch []*write
		select {
		case w := <-s.queued:
			batch = append(batch, w)
		case <-s.done:
			return
		}
	drain:
		for {
			select {
			case w := <-s.queued:
				batch = append(batch, w)
			default:
				break drain
			}
		}
		buf = buf[:0]
		n := 0
		for _, w := range batch {
			buf = append(buf, w.data...)
			n += w.n
		}
		seq, err := s.log.append(buf, n)
		last := seq - uint64(n)
		for _, w := range batch {
			last += uint64(w.n)
			w.seq, w.err = last, err
		}
		if !s.mode.chained() {
			answer(batch)
			continue
		}
		select {
		case s.written <- batch:
		case <-s.done:
			return
		}
	}
}

// applier answers written batches (chain mode: the state machine's place).
func (s *server) applier() {
	for {
		select {
		case batch := <-s.written:
			answer(batch)
		case <-s.done:
			return
		}
	}
}

func answer(batch []*write) {
	for _, w := range batch {
		if w.dc != nil {
			w.dc.answer(w)
			continue
		}
		w.reply <- w
		if w.wake != nil {
			w.wake()
		}
	}
}
