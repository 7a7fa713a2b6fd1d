package main

import (
	"net"
	"strconv"
	"sync"
	"syscall"

	"github.com/tidwall/redcon"
	"golang.org/x/sys/unix"
)

// directConn is a connection of the direct modes: a goroutine per
// connection reads and proposes, but does not wait for its XADD's reply;
// the goroutine that answers the write (the writer, or the applier in
// direct-chain) writes the reply to the socket itself. That saves the
// wake-up of the connection's goroutine for each write, which is what
// the direct modes measure.
type directConn struct {
	nc      net.Conn
	raw     syscall.RawConn
	mu      sync.Mutex // one writer of the socket at a time
	pending sync.WaitGroup
	buf     []byte
}

func (s *server) handleDirect(conn redcon.Conn, cmd redcon.Command) {
	d, _ := conn.Context().(*directConn)
	if d == nil {
		d = &directConn{nc: conn.NetConn()}
		if sc, ok := d.nc.(syscall.Conn); ok {
			d.raw, _ = sc.SyscallConn()
		}
		conn.SetContext(d)
	}
	if isXAdd(cmd.Args) {
		d.pending.Add(1)
		w := &write{data: append([]byte(nil), cmd.Raw...), n: 1, dc: d}
		select {
		case s.input() <- w:
		case <-s.done:
			d.pending.Done()
			conn.WriteError("ERR closed")
		}
		return
	}
	// Anything else is answered by redcon's writer, after the replies
	// still owed.
	d.pending.Wait()
	s.handleOther(conn, cmd.Args)
}

// answer writes w's reply: first one non-blocking write, and only if the
// socket does not take it all, a blocking one.
func (d *directConn) answer(w *write) {
	defer d.pending.Done()
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.buf[:0]
	if w.err != nil {
		b = append(b, "-ERR "+w.err.Error()+"\r\n"...)
	} else {
		id := strconv.AppendUint([]byte("1-"), w.seq, 10)
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(id)), 10)
		b = append(b, "\r\n"...)
		b = append(b, id...)
		b = append(b, "\r\n"...)
	}
	d.buf = b
	n := 0
	if d.raw != nil {
		_ = d.raw.Write(func(fd uintptr) bool {
			if m, err := unix.Write(int(fd), b); err == nil {
				n = m
			}
			return true
		})
	}
	if n < len(b) {
		_, _ = d.nc.Write(b[n:])
	}
}
