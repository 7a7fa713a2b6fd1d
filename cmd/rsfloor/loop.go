package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/tidwall/redcon"
	"golang.org/x/sys/unix"
)

// eventLoop serves every connection from one goroutine blocked in
// epoll_wait, as Redis's one thread does, instead of a goroutine per
// connection: what the loop modes measure is what that saves when many
// clients write at once. It reads whatever the ready connections sent,
// gathers their commands into one batch, commits the batch (loop: itself;
// loop-handoff and loop-chain: through the writer's goroutines, which wake
// it through an eventfd when the batch is flushed) and writes the replies.
// One batch is in flight at a time; the next gathers while it flushes.
type eventLoop struct {
	s         *server
	epfd, efd int
	lfile     *os.File // the listening socket, a dup of the net.Listener's
	conns     map[int]*lconn
	cur       *lbatch // read since the last batch was handed on
	spare     *lbatch
	inflight  *lbatch // handed to the writer, not answered yet
	dirty     []*lconn
	completed chan *write
	started   atomic.Bool
	stopping  atomic.Bool
	stopped   chan struct{}
}

type lconn struct {
	fd      int
	in, out []byte
	dirty   bool // in the loop's dirty list
	polling bool // registered for EPOLLOUT: out did not fit the socket
	closed  bool
}

// reply kinds of a command in a batch.
const (
	replyID byte = iota // XADD
	replyZero
	replyOK
)

type litem struct {
	c    *lconn
	kind byte
	argv [][]byte // loop-raft: the XADD's arguments
	resp []byte   // loop-raft: its reply
}

type lbatch struct {
	buf   []byte // the XADDs as received
	n     int    // XADDs in buf
	items []litem
}

func newEventLoop(s *server) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(efd)
		return nil, fmt.Errorf("epoll_ctl eventfd: %w", err)
	}
	return &eventLoop{
		s: s, epfd: epfd, efd: efd,
		conns:     make(map[int]*lconn),
		cur:       new(lbatch),
		spare:     new(lbatch),
		completed: make(chan *write, 16),
		stopped:   make(chan struct{}),
	}, nil
}

// wake makes epoll_wait return; any goroutine may call it.
func (l *eventLoop) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(l.efd, one[:])
}

func (s *server) serveLoop(ln net.Listener) error {
	l := s.lp
	defer ln.Close()
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return errors.New("the loop modes need a TCP listener")
	}
	f, err := tl.File()
	if err != nil {
		return fmt.Errorf("listener fd: %w", err)
	}
	l.lfile = f
	lfd := int(f.Fd())
	if err := unix.SetNonblock(lfd, true); err != nil {
		return fmt.Errorf("listener nonblock: %w", err)
	}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, lfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(lfd)}); err != nil {
		return fmt.Errorf("epoll_ctl listener: %w", err)
	}
	l.started.Store(true)
	defer close(l.stopped)
	return l.run(lfd)
}

// stopLoop ends serveLoop and closes every connection.
func (s *server) stopLoop() error {
	l := s.lp
	l.stopping.Store(true)
	l.wake()
	if l.started.Load() {
		<-l.stopped
	}
	return nil
}

// closeLoopFDs closes what the writer's goroutines may still touch (the
// eventfd), once they have stopped.
func (s *server) closeLoopFDs() {
	_ = unix.Close(s.lp.efd)
	_ = unix.Close(s.lp.epfd)
}

func (l *eventLoop) run(lfd int) error {
	events := make([]unix.EpollEvent, 256)
	rbuf := make([]byte, 64<<10)
	argsbuf := make([][]byte, 0, 16)
	defer l.closeAll()
	for {
		if l.stopping.Load() {
			return nil
		}
		n, err := unix.EpollWait(l.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			switch {
			case fd == lfd:
				if err := l.accept(lfd); err != nil {
					return err
				}
			case fd == l.efd:
				l.completions()
			default:
				c := l.conns[fd]
				if c == nil {
					continue
				}
				if ev.Events&unix.EPOLLOUT != 0 {
					l.writeOut(c)
				}
				if ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 && !c.closed {
					argsbuf = l.read(c, rbuf, argsbuf)
				}
			}
		}
		l.submit()
		for _, c := range l.dirty {
			c.dirty = false
			if !c.closed {
				l.writeOut(c)
			}
		}
		l.dirty = l.dirty[:0]
	}
}

func (l *eventLoop) accept(lfd int) error {
	for {
		fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ECONNABORTED) || errors.Is(err, unix.EINTR) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			_ = unix.Close(fd)
			continue
		}
		l.conns[fd] = &lconn{fd: fd}
	}
}

// read takes one read's worth from c (epoll is level-triggered: more comes
// on the next round) and adds its complete commands to the batch.
func (l *eventLoop) read(c *lconn, rbuf []byte, argsbuf [][]byte) [][]byte {
	n, err := unix.Read(c.fd, rbuf)
	if err != nil && (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) {
		return argsbuf
	}
	if n <= 0 {
		l.closeConn(c)
		return argsbuf
	}
	c.in = append(c.in, rbuf[:n]...)
	off := 0
	for off < len(c.in) {
		complete, args, _, left, err := redcon.ReadNextCommand(c.in[off:], argsbuf)
		if err != nil {
			l.closeConn(c)
			return argsbuf
		}
		if !complete {
			break
		}
		argsbuf = args[:0]
		end := len(c.in) - len(left)
		it := litem{c: c, kind: otherReply(args)}
		if isXAdd(args) {
			it.kind = replyID
			l.cur.buf = append(l.cur.buf, c.in[off:end]...)
			l.cur.n++
			if l.s.mode == loopRaft {
				it.argv = make([][]byte, len(args))
				for i, a := range args {
					it.argv[i] = append([]byte(nil), a...)
				}
			}
		}
		l.cur.items = append(l.cur.items, it)
		off = end
	}
	c.in = append(c.in[:0], c.in[off:]...)
	return argsbuf
}

// submit hands the gathered batch on if none is in flight (the loop mode
// commits it here and now).
func (l *eventLoop) submit() {
	if l.inflight != nil || len(l.cur.items) == 0 {
		return
	}
	b := l.cur
	l.cur, l.spare = l.spare, nil
	if l.s.mode == loop {
		seq, err := l.s.log.append(b.buf, b.n)
		l.answer(b, seq, err)
		return
	}
	l.inflight = b
	if l.s.mode == loopRaft {
		l.proposeBatch(b)
		return
	}
	l.s.input() <- &write{data: b.buf, n: b.n, reply: l.completed, wake: l.wake}
}

// completions answers the batch the writer's goroutines flushed.
func (l *eventLoop) completions() {
	var v [8]byte
	_, _ = unix.Read(l.efd, v[:])
	for {
		select {
		case w := <-l.completed:
			b := l.inflight
			l.inflight = nil
			l.answer(b, w.seq, w.err)
		default:
			return
		}
	}
}

// answer queues each command's reply on its connection; seq is the number
// of the batch's last XADD.
func (l *eventLoop) answer(b *lbatch, seq uint64, err error) {
	next := seq - uint64(b.n) + 1
	for _, it := range b.items {
		c := it.c
		if c.closed {
			if it.kind == replyID {
				next++
			}
			continue
		}
		switch {
		case it.resp != nil:
			c.out = append(c.out, it.resp...)
		case it.kind == replyID && err != nil:
			c.out = append(c.out, "-ERR "+err.Error()+"\r\n"...)
		case it.kind == replyID:
			id := strconv.AppendUint([]byte("1-"), next, 10)
			next++
			c.out = append(c.out, '$')
			c.out = strconv.AppendInt(c.out, int64(len(id)), 10)
			c.out = append(c.out, "\r\n"...)
			c.out = append(c.out, id...)
			c.out = append(c.out, "\r\n"...)
		case it.kind == replyZero:
			c.out = append(c.out, ":0\r\n"...)
		default:
			c.out = append(c.out, "+OK\r\n"...)
		}
		if !c.dirty {
			c.dirty = true
			l.dirty = append(l.dirty, c)
		}
	}
	clear(b.items)
	b.buf, b.n, b.items = b.buf[:0], 0, b.items[:0]
	l.spare = b
}

// writeOut writes what c.out holds; what the socket does not take waits
// for EPOLLOUT.
func (l *eventLoop) writeOut(c *lconn) {
	for len(c.out) > 0 {
		n, err := unix.Write(c.fd, c.out)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EAGAIN) {
				break
			}
			l.closeConn(c)
			return
		}
		c.out = append(c.out[:0], c.out[n:]...)
	}
	want := len(c.out) > 0
	if want != c.polling {
		events := uint32(unix.EPOLLIN)
		if want {
			events |= unix.EPOLLOUT
		}
		_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: events, Fd: int32(c.fd)})
		c.polling = want
	}
}

func (l *eventLoop) closeConn(c *lconn) {
	if c.closed {
		return
	}
	c.closed = true
	delete(l.conns, c.fd)
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	_ = unix.Close(c.fd)
}

func (l *eventLoop) closeAll() {
	for _, c := range l.conns {
		l.closeConn(c)
	}
	if l.lfile != nil {
		_ = l.lfile.Close()
	}
}
