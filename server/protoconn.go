package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// readChunk is how much is read from the socket at a time; Redis reads
// 16 KiB (PROTO_IOBUF_LEN), which also bounds how far past a limit a
// request can get before it is refused.
const readChunk = 16 * 1024

// errClosing is returned by Read once the server is shutting down or the
// client was killed; redcon then closes the connection.
var errClosing = errors.New("connection closed by server")

// protoConn wraps an accepted connection. Its Read runs the client's bytes
// through a scanner, so redcon only ever parses well-formed requests and no
// request beyond the limits is ever buffered. It also tracks whether
// redcon is executing commands or waiting for input, which lets Close wait
// for in-flight replies to be written before the socket goes away.
type protoConn struct {
	net.Conn
	srv *Server
	cl  *client
	sc  scanner
	// sock does the socket's reads and writes: a rawSock when the
	// connection has a RawConn, else (TLS) the net.Conn itself.
	sock io.ReadWriter

	ib   []byte // raw bytes read from the socket; ib[ipos:] is not scanned yet
	ipos int
	out  []byte // normalized bytes not yet handed to redcon
	obuf []byte // backing array for out
	// outDone is how many bytes at the start of out end complete requests.
	outDone int
	// readErr is a socket error held back until buffered input is used.
	readErr error
	// fatal is set once the client broke the protocol or a limit; failed
	// once its reply has been sent.
	fatal  error
	failed bool

	mu sync.Mutex
	// waiting is true while Read blocks on the socket, i.e. no command of
	// this connection is being executed.
	waiting bool
	// closing makes the next Read fail so redcon closes the connection
	// after the current batch's replies are flushed.
	closing bool

	netIn, netOut atomic.Int64
	// handOffs counts Reads that returned data (for tests).
	handOffs atomic.Int64
}

func newProtoConn(srv *Server, c net.Conn) *protoConn {
	pc := &protoConn{Conn: c, srv: srv, sock: c}
	if rs := newRawSock(c); rs != nil {
		pc.sock = rs
	}
	pc.sc.limits = srv.scanLimits
	pc.sc.token = srv.bigToken
	pc.sc.authRequired = func() bool { return pc.cl != nil && !pc.cl.authed.Load() }
	return pc
}

// Read hands redcon normalized request bytes. On a protocol error it first
// returns whatever complete requests came before the bad bytes; once those
// have been executed and their replies flushed (redcon calls Read again
// only then), it writes Redis's error reply and fails, and redcon closes
// the connection.
//
// While a request is incomplete Read keeps filling p: redcon re-parses
// its whole buffer after every Read, so handing a request with many
// arguments over in small pieces would cost time quadratic in its size.
// Blocking for the rest is safe then, since redcon has nothing complete to
// execute (it only calls Read when its buffer holds no whole request).
func (pc *protoConn) Read(p []byte) (n int, err error) {
	defer func() {
		// The scanner runs outside redcon's handler; a bug in it must cost
		// this connection, not the process.
		if r := recover(); r != nil {
			pc.srv.logger.Error("panic while reading a request", "client", pc.clientID(), "panic", r)
			n, err = 0, fmt.Errorf("panic while reading a request: %v", r)
		}
	}()
	if pc.cl != nil && pc.cl.outErr != nil {
		return 0, pc.cl.outErr
	}
	for {
		if len(pc.out) > 0 {
			m := copy(p[n:], pc.out)
			pc.out = pc.out[m:]
			n += m
			handedComplete := pc.outDone > 0 && m >= pc.outDone
			pc.outDone = max(0, pc.outDone-m)
			if handedComplete || n == len(p) || !pc.sc.midRequest() {
				pc.handOffs.Add(1)
				return n, nil
			}
		}
		// From here on, n > 0 means part of one request has been handed
		// over: errors wait for the next call.
		if n > 0 && (pc.isClosing() || pc.fatal != nil) {
			pc.handOffs.Add(1)
			return n, nil
		}
		if pc.isClosing() {
			return 0, errClosing
		}
		if pc.fatal != nil {
			return 0, pc.fail()
		}
		if pc.ipos < len(pc.ib) && (pc.scanBuffered() || pc.fatal != nil) {
			continue
		}
		if pc.readErr != nil {
			if n > 0 {
				pc.handOffs.Add(1)
				return n, nil
			}
			return 0, pc.readErr
		}
		buf := pc.readBuffer()
		if !pc.setWaiting(true) {
			continue // closing: handled at the top of the loop
		}
		m, rerr := pc.sock.Read(buf)
		pc.setWaiting(false)
		if m > 0 {
			pc.netIn.Add(int64(m))
			pc.srv.stats.netIn.Add(int64(m))
			pc.ib = pc.ib[:len(pc.ib)+m]
		}
		if rerr != nil {
			if pc.isClosing() {
				rerr = errClosing
			}
			pc.readErr = rerr
		}
	}
}

// readBuffer returns free space at the end of ib for the next socket read,
// first moving unscanned bytes to the front.
func (pc *protoConn) readBuffer() []byte {
	if pc.ipos > 0 {
		n := copy(pc.ib, pc.ib[pc.ipos:])
		pc.ib = pc.ib[:n]
		pc.ipos = 0
	}
	if cap(pc.ib)-len(pc.ib) < readChunk {
		nb := make([]byte, len(pc.ib), len(pc.ib)+readChunk)
		copy(nb, pc.ib)
		pc.ib = nb
	}
	return pc.ib[len(pc.ib) : len(pc.ib)+readChunk]
}

// scanBuffered scans the unscanned input into pc.out, reporting whether
// output was produced.
func (pc *protoConn) scanBuffered() bool {
	// Until the client authenticates, scan one request at a time: the
	// limits for the next request depend on whether this one was AUTH.
	once := pc.sc.authRequired()
	if cap(pc.obuf) > 4*readChunk {
		pc.obuf = nil // don't pin a large buffer after a big request
	}
	out := pc.obuf[:0]
	consumed, completeAt, err := pc.sc.scan(pc.ib[pc.ipos:], &out, once)
	pc.ipos += consumed
	if pc.ipos == len(pc.ib) {
		pc.ipos = 0
		pc.ib = pc.ib[:0]
		if cap(pc.ib) > 4*readChunk {
			pc.ib = nil
		}
	}
	pc.obuf = out
	pc.out = out
	pc.outDone = max(0, completeAt)
	if err != nil {
		pc.fatal = err
	}
	return len(out) > 0
}

// fail writes the reply a protocol error earns and returns the error that
// makes redcon close the connection.
func (pc *protoConn) fail() error {
	if pc.failed {
		return pc.fatal
	}
	pc.failed = true
	var pe *protoError
	if errors.As(pc.fatal, &pe) {
		msg := "-ERR " + sanitizeLine(pe.Error()) + "\r\n"
		pc.srv.stats.recordError("ERR")
		_ = pc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = pc.Write([]byte(msg))
		pc.srv.logger.Debug("closing client after a protocol error", "client", pc.clientID(), "error", pe.Error())
	} else {
		if errors.Is(pc.fatal, errQueryBufferLimit) {
			pc.srv.stats.queryLimitDrops.Add(1)
		}
		pc.srv.logger.Warn("closing client", "client", pc.clientID(), "reason", pc.fatal.Error())
	}
	return pc.fatal
}

// Write counts output bytes for INFO and CLIENT LIST. Replies are written
// by the server itself (output.go); redcon's own writer stays empty, and
// its flush at the end of each batch costs no system call.
func (pc *protoConn) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err := pc.sock.Write(b)
	pc.netOut.Add(int64(n))
	pc.srv.stats.netOut.Add(int64(n))
	return n, err
}

// setWaiting records whether Read is about to block on the socket. It
// refuses (returns false) to start waiting once the connection is closing.
func (pc *protoConn) setWaiting(w bool) bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if w && pc.closing {
		return false
	}
	pc.waiting = w
	return true
}

func (pc *protoConn) isClosing() bool {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.closing
}

// shutdown makes the connection close as soon as it is not executing
// commands: at once if it waits for input, otherwise after the replies of
// the current batch are flushed.
func (pc *protoConn) shutdown() {
	pc.mu.Lock()
	pc.closing = true
	waiting := pc.waiting
	pc.mu.Unlock()
	if waiting {
		// Unblock the pending Read; it reports errClosing.
		_ = pc.Conn.SetReadDeadline(time.Unix(1, 0))
	}
}

func (pc *protoConn) clientID() uint64 {
	if pc.cl == nil {
		return 0
	}
	return pc.cl.id
}

// sanitizeLine replaces CR and LF, which would break a status or error
// line, with spaces, as Redis's addReplyErrorFormat does.
func sanitizeLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

var _ io.Reader = (*protoConn)(nil)
