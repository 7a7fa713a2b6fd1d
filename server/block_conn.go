package server

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// errQueryBufferWhileBlocked ends a blocked client that keeps sending
// more than the query buffer limit: Redis closes such clients too.
var errQueryBufferWhileBlocked = errors.New("closing blocked client that reached max query buffer length")

// connWatch reads a blocked client's socket on its behalf. redcon reads
// only between batches, on the goroutine that is now blocked in the
// handler, so without this a client that disconnects while blocked would
// go unnoticed until its timeout (forever for BLOCK 0). The watcher reads
// into the protoConn's raw input buffer exactly as Read would, so bytes
// the client pipelines while blocked are kept and executed afterwards, in
// order; a read error (EOF, reset, CLIENT KILL, server shutdown) closes
// gone. The cost is one parked goroutine per blocked client, no CPU.
type connWatch struct {
	pc       *protoConn
	gone     chan struct{}
	done     chan struct{}
	stopping atomic.Bool
}

// watch starts watching; stop must be called before redcon may use the
// connection again.
func (pc *protoConn) watch() *connWatch {
	cw := &connWatch{pc: pc, gone: make(chan struct{}), done: make(chan struct{})}
	go cw.run()
	return cw
}

func (cw *connWatch) run() {
	defer close(cw.done)
	pc := cw.pc
	for {
		if pc.readErr != nil || pc.fatal != nil {
			close(cw.gone)
			return
		}
		if limit := pc.srv.queryLimit.Load(); limit > 0 && int64(len(pc.ib)-pc.ipos) >= limit {
			pc.readErr = errQueryBufferWhileBlocked
			pc.srv.stats.queryLimitDrops.Add(1)
			close(cw.gone)
			return
		}
		buf := pc.readBuffer()
		if !pc.setWaiting(true) {
			pc.readErr = errClosing
			close(cw.gone)
			return
		}
		m, err := pc.sock.Read(buf)
		pc.setWaiting(false)
		if m > 0 {
			pc.netIn.Add(int64(m))
			pc.srv.stats.netIn.Add(int64(m))
			pc.ib = pc.ib[:len(pc.ib)+m]
		}
		if err == nil {
			continue
		}
		switch {
		case pc.isClosing():
			pc.readErr = errClosing
		case cw.stopping.Load() && isTimeout(err):
			return // stop's deadline: the client is still there
		default:
			pc.readErr = err
		}
		close(cw.gone)
		return
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// stop interrupts the pending socket read and waits for the watcher to
// end, handing the connection back to redcon.
func (cw *connWatch) stop() {
	cw.stopping.Store(true)
	_ = cw.pc.Conn.SetReadDeadline(time.Unix(1, 0))
	<-cw.done
	if !cw.pc.isClosing() {
		_ = cw.pc.Conn.SetReadDeadline(time.Time{})
	}
}
