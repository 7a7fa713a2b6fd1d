package server

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawSock reads and writes a plain TCP or Unix socket with raw system
// calls, through the socket's RawConn: the netpoller still parks the
// goroutine when the socket is not ready, and deadlines and Close work as
// on the net.Conn.
//
// Why: Go's ordinary read and write tell the scheduler that the thread
// enters the kernel. When every P was idle (a client between requests),
// that wakes the scheduler's monitor thread (sysmon) out of its deep
// sleep, which then polls every 20 µs until the process idles again: on
// this two-CPU machine, about two context switches and 20 µs of CPU per
// lone request (docs/benchmarks.md, "Fourteenth session"). A socket read
// or write never blocks (the socket is non-blocking), so the thread has
// nothing to hand over while it is in the kernel.
type rawSock struct {
	rc   syscall.RawConn
	conn net.Conn

	// Each direction's state lives here so that its callback is made
	// once and does not allocate per call; RawConn serialises the reads
	// and the writes among themselves.
	rbuf   []byte
	rn     int
	rerr   syscall.Errno
	readFn func(uintptr) bool

	wbuf    []byte
	wn      int
	werr    syscall.Errno
	writeFn func(uintptr) bool
}

// newRawSock returns nil for a connection without a RawConn (TLS).
func newRawSock(c net.Conn) *rawSock {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &rawSock{rc: rc, conn: c}
	s.readFn = s.read
	s.writeFn = s.write
	return s
}

// Read is net.Conn's Read: io.EOF at the end of the stream.
func (s *rawSock) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rbuf, s.rn, s.rerr = p, 0, 0
	err := s.rc.Read(s.readFn)
	s.rbuf = nil
	n, err := s.outcome("read", s.rn, err, s.rerr)
	if err == nil && n == 0 {
		return 0, io.EOF
	}
	return n, err
}

func (s *rawSock) read(fd uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.rbuf[0])), uintptr(len(s.rbuf)))
		switch e {
		case 0:
			s.rn = int(r)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			s.rerr = e
			return true
		}
	}
}

// Write is net.Conn's Write: it returns once all of p is written or an
// error (a deadline among them) stops it.
func (s *rawSock) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.wbuf, s.wn, s.werr = p, 0, 0
	err := s.rc.Write(s.writeFn)
	s.wbuf = nil
	return s.outcome("write", s.wn, err, s.werr)
}

func (s *rawSock) write(fd uintptr) bool {
	for s.wn < len(s.wbuf) {
		rest := s.wbuf[s.wn:]
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch e {
		case 0:
			s.wn += int(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			s.werr = e
			return true
		}
	}
	return true
}

// outcome returns a RawConn call's result as net.Conn's methods do: n,
// and the RawConn's error (a deadline, a closed socket) or the system
// call's, wrapped in a net.OpError so that errors.Is finds
// net.ErrClosed and os.ErrDeadlineExceeded through it.
func (s *rawSock) outcome(op string, n int, err error, errno syscall.Errno) (int, error) {
	if err == nil && errno != 0 {
		err = os.NewSyscallError(op, errno)
	}
	if err != nil {
		return n, &net.OpError{Op: op, Net: s.conn.LocalAddr().Network(), Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(), Err: err}
	}
	return n, nil
}
