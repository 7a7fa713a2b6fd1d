package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

const (
	rpcDialTimeout  = 2 * time.Second
	rpcWriteTimeout = 10 * time.Second
	rpcBufSize      = 64 << 10
)

// errConnLost: the connection broke before the response came; the
// request may or may not have been executed.
var errConnLost = errors.New("cluster rpc: connection lost")

// rpcPool keeps one multiplexed connection per peer address. Requests are
// pipelined on it (ids match responses), so one connection carries every
// caller's traffic to that peer, in the order written: forwarded writes
// rely on that order. A broken connection is replaced on the next call.
type rpcPool struct {
	dialer peerDialer
	log    interface {
		Debug(msg string, args ...any)
	}

	mu     sync.Mutex
	conns  map[string]*rpcConn
	dials  map[string]*dialWait
	closed bool
	wg     sync.WaitGroup
}

// dialWait lets concurrent callers share one dial to an address.
type dialWait struct {
	done chan struct{}
	c    *rpcConn
	err  error
}

func newRPCPool(dialer peerDialer, log interface{ Debug(string, ...any) }) *rpcPool {
	return &rpcPool{dialer: dialer, log: log, conns: map[string]*rpcConn{}, dials: map[string]*dialWait{}}
}

// get returns a live connection to addr, dialing if needed.
func (p *rpcPool) get(ctx context.Context, addr string) (*rpcConn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if c := p.conns[addr]; c != nil && !c.broken() {
		p.mu.Unlock()
		return c, nil
	}
	d := p.dials[addr]
	if d == nil {
		d = &dialWait{done: make(chan struct{})}
		p.dials[addr] = d
		p.wg.Add(1)
		go p.dial(addr, d)
	}
	p.mu.Unlock()
	select {
	case <-d.done:
		return d.c, d.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *rpcPool) dial(addr string, d *dialWait) {
	defer p.wg.Done()
	conn, err := p.dialer.dial(addr, MuxForward, rpcDialTimeout)
	p.mu.Lock()
	delete(p.dials, addr)
	if err == nil && p.closed {
		_ = conn.Close()
		err = ErrClosed
	}
	if err == nil {
		d.c = newRPCConn(conn, addr)
		p.conns[addr] = d.c
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			d.c.readLoop()
		}()
	}
	d.err = err
	p.mu.Unlock()
	close(d.done)
	if err != nil {
		p.log.Debug("cluster rpc dial failed", "addr", addr, "err", err)
	}
}

// close closes every connection and waits for their goroutines.
func (p *rpcPool) close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = map[string]*rpcConn{}
	p.mu.Unlock()
	for _, c := range conns {
		c.fail(ErrClosed)
	}
	p.wg.Wait()
}

// call sends a request to addr and waits for the response: the status
// code and body, or errConnLost / ctx's error / a dial error.
func (p *rpcPool) call(ctx context.Context, addr string, op byte, body []byte) (byte, []byte, error) {
	c, err := p.get(ctx, addr)
	if err != nil {
		return 0, nil, err
	}
	call, err := c.send(op, body, nil)
	if err != nil {
		return 0, nil, err
	}
	select {
	case <-call.done:
		return call.status, call.body, call.err
	case <-ctx.Done():
		c.forget(call)
		return 0, nil, ctx.Err()
	}
}

// rpcConn is one multiplexed client connection.
type rpcConn struct {
	addr string
	conn net.Conn

	wmu sync.Mutex // serialises frame writes
	bw  *bufio.Writer

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*rpcCall
	err     error // set once broken
}

// rpcCall is one request in flight. If cb is set it runs (on the reader
// goroutine, or the one that broke the connection) when the call ends;
// it must not block.
type rpcCall struct {
	id     uint64
	done   chan struct{}
	cb     func(*rpcCall)
	status byte
	body   []byte
	err    error
}

func newRPCConn(conn net.Conn, addr string) *rpcConn {
	return &rpcConn{addr: addr, conn: conn, bw: bufio.NewWriterSize(conn, rpcBufSize), pending: map[uint64]*rpcCall{}}
}

func (c *rpcConn) broken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil
}

// send writes a request. Requests sent by one goroutine, or ordered by
// the caller, reach the peer in that order.
func (c *rpcConn) send(op byte, body []byte, cb func(*rpcCall)) (*rpcCall, error) {
	call := &rpcCall{done: make(chan struct{}), cb: cb}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	call.id = c.nextID
	c.pending[call.id] = call
	c.mu.Unlock()

	c.wmu.Lock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(rpcWriteTimeout))
	_, err := c.bw.Write(appendFrame(make([]byte, 0, frameHeaderLen+len(body)), op, call.id, body))
	if err == nil {
		err = c.bw.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		// Part of the frame may be out: every call on the connection is
		// in doubt, this one included.
		c.fail(fmt.Errorf("%w: %w", errConnLost, err))
	}
	return call, nil
}

// forget drops interest in a call (its caller gave up).
func (c *rpcConn) forget(call *rpcCall) {
	c.mu.Lock()
	delete(c.pending, call.id)
	c.mu.Unlock()
}

func (c *rpcConn) readLoop() {
	br := bufio.NewReaderSize(c.conn, rpcBufSize)
	for {
		status, id, body, err := readFrame(br)
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", errConnLost, err))
			return
		}
		c.mu.Lock()
		call := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if call != nil {
			call.status, call.body = status, body
			call.finish()
		}
	}
}

// fail breaks the connection and ends every pending call with err.
func (c *rpcConn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	calls := c.pending
	c.pending = map[uint64]*rpcCall{}
	c.mu.Unlock()
	_ = c.conn.Close()
	for _, call := range calls {
		call.err = err
		call.finish()
	}
}

func (call *rpcCall) finish() {
	close(call.done)
	if call.cb != nil {
		call.cb(call)
	}
}
