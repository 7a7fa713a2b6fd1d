package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/tidwall/redcon"
	"golang.org/x/sys/unix"
)

// mode is the path of a write (the package doc).
type mode int

const (
	inline mode = iota
	handoff
	chain
)

func parseMode(s string) (mode, error) {
	switch s {
	case "inline":
		return inline, nil
	case "handoff":
		return handoff, nil
	case "chain":
		return chain, nil
	}
	return 0, fmt.Errorf("unknown -mode %q (inline, handoff or chain)", s)
}

// flog is the log: a file zero-filled once, so that a write changes only
// data blocks and fdatasync has no metadata to flush (as raftstream's
// raft-wal segments, cluster/walfs.go). Writes go at off and wrap around.
type flog struct {
	f    *os.File
	size int64

	mu  sync.Mutex // the inline mode's connections write at once
	off int64
	seq uint64
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
	return &flog{f: f, size: size}, nil
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
	if err := unix.Fdatasync(int(l.f.Fd())); err != nil {
		return 0, fmt.Errorf("flush log: %w", err)
	}
	l.seq += uint64(n)
	return l.seq, nil
}

func (l *flog) close() error { return l.f.Close() }

// write is one XADD on its way through the handoff and chain modes.
type write struct {
	data  []byte
	seq   uint64
	err   error
	reply chan *write
}

// server serves RESP; in the handoff and chain modes it runs the
// goroutines a write passes through until close.
type server struct {
	log  *flog
	mode mode
	rs   *redcon.Server

	proposed chan *write   // chain: connection -> proposer
	queued   chan *write   // writer's queue
	written  chan []*write // chain: writer -> applier
	done     chan struct{}
	wg       sync.WaitGroup
}

func newServer(l *flog, m mode) *server {
	s := &server{
		log: l, mode: m,
		proposed: make(chan *write, 1024),
		queued:   make(chan *write, 1024),
		written:  make(chan []*write, 1024),
		done:     make(chan struct{}),
	}
	s.rs = redcon.NewServer("", s.handle, nil, nil)
	if m != inline {
		s.start(s.writer)
	}
	if m == chain {
		s.start(s.proposer)
		s.start(s.applier)
	}
	return s
}

func (s *server) start(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

func (s *server) serve(ln net.Listener) error { return s.rs.Serve(ln) }

// close stops serving and waits for the write path's goroutines.
func (s *server) close() error {
	err := s.rs.Close()
	close(s.done)
	s.wg.Wait()
	return err
}

func (s *server) handle(conn redcon.Conn, cmd redcon.Command) {
	switch strings.ToLower(string(cmd.Args[0])) {
	case "xadd":
		seq, err := s.xadd(cmd.Raw)
		if err != nil {
			conn.WriteError("ERR " + err.Error())
			return
		}
		conn.WriteBulkString("1-" + strconv.FormatUint(seq, 10))
	case "xlen", "del", "unlink":
		conn.WriteInt(0)
	default:
		conn.WriteString("OK")
	}
}

// xadd logs raw (the command as received) by the server's mode.
func (s *server) xadd(raw []byte) (uint64, error) {
	if s.mode == inline {
		s.log.mu.Lock()
		defer s.log.mu.Unlock()
		return s.log.append(raw, 1)
	}
	w := &write{data: raw, reply: make(chan *write, 1)}
	in := s.queued
	if s.mode == chain {
		in = s.proposed
	}
	select {
	case in <- w:
	case <-s.done:
		return 0, net.ErrClosed
	}
	select {
	case <-w.reply:
		return w.seq, w.err
	case <-s.done:
		return 0, net.ErrClosed
	}
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
		for _, w := range batch {
			buf = append(buf, w.data...)
		}
		seq, err := s.log.append(buf, len(batch))
		first := seq - uint64(len(batch)) + 1
		for i, w := range batch {
			w.seq, w.err = first+uint64(i), err
		}
		if s.mode == handoff {
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
		w.reply <- w
	}
}
