package cluster

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

// rpcServer answers the cluster RPC on MuxForward connections. Each
// connection has a reader goroutine, which handles cheap requests inline
// and queues forwarded writes in arrival order (so a follower's batches
// enter the leader's log in the order it sent them), and a writer
// goroutine draining an outbox, so a reply never blocks the code that
// produced it (the leader's completer in particular).
type rpcServer struct {
	n  *Node
	ln net.Listener

	mu     sync.Mutex
	conns  map[*serverConn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newRPCServer(n *Node, ln net.Listener) *rpcServer {
	s := &rpcServer{n: n, ln: ln, conns: map[*serverConn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

func (s *rpcServer) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return // only when the listener closed
		}
		sc := &serverConn{s: s, conn: conn, wake: make(chan struct{}, 1), done: make(chan struct{})}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[sc] = struct{}{}
		s.wg.Add(2)
		s.mu.Unlock()
		go sc.readLoop()
		go sc.writeLoop()
	}
}

// close stops accepting, cuts every connection and waits for the
// connection goroutines and running handlers.
func (s *rpcServer) close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	for _, c := range conns {
		c.shutdown()
	}
	s.wg.Wait()
}

// goHandle runs a slow handler off the reader goroutine.
func (s *rpcServer) goHandle(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

type serverConn struct {
	s    *rpcServer
	conn net.Conn

	mu     sync.Mutex
	outbox [][]byte
	wake   chan struct{}
	once   sync.Once
	done   chan struct{}
}

func (c *serverConn) shutdown() {
	c.once.Do(func() {
		close(c.done)
		_ = c.conn.Close()
	})
}

// reply queues a response frame; it never blocks.
func (c *serverConn) reply(id uint64, status byte, body []byte) {
	c.mu.Lock()
	c.outbox = append(c.outbox, appendFrame(make([]byte, 0, frameHeaderLen+len(body)), status, id, body))
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *serverConn) writeLoop() {
	defer c.s.wg.Done()
	bw := bufio.NewWriterSize(c.conn, rpcBufSize)
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		c.mu.Lock()
		frames := c.outbox
		c.outbox = nil
		c.mu.Unlock()
		_ = c.conn.SetWriteDeadline(time.Now().Add(rpcWriteTimeout))
		for _, f := range frames {
			if _, err := bw.Write(f); err != nil {
				c.shutdown()
				return
			}
		}
		if err := bw.Flush(); err != nil {
			c.shutdown()
			return
		}
	}
}

func (c *serverConn) readLoop() {
	defer c.s.wg.Done()
	defer func() {
		c.shutdown()
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	}()
	n := c.s.n
	br := bufio.NewReaderSize(c.conn, rpcBufSize)
	for {
		op, id, body, err := readFrame(br)
		if err != nil {
			return
		}
		switch op {
		case opPropose:
			c.handlePropose(id, body, false)
		case opProposeResults:
			if n.cfg.oldForwardRPC {
				c.reply(id, stError, []byte(unknownOp(op)))
				continue
			}
			c.handlePropose(id, body, true)
		case opCaps:
			if h := n.cfg.oldCaps; h != nil && h.Load() {
				c.reply(id, stError, []byte(unknownOp(op)))
				continue
			}
			c.reply(id, stOK, wbuf(nil).uvarint(ourCaps))
		case opStatus:
			st := n.peerStatus()
			c.reply(id, stOK, st.encode())
		case opNudge:
			n.nudgeCommit()
			c.reply(id, stOK, nil)
		case opRemoved:
			c.reply(id, stOK, nil)
			n.removedNotice(body)
		case opTerm:
			c.reply(id, stOK, wbuf(nil).str(n.cfg.NodeID).uvarint(n.raft.CurrentTerm()))
		case opReadIndex:
			c.async(id, func(ctx context.Context) (byte, []byte) {
				idx, err := n.leaderReadIndex(ctx)
				if err != nil {
					return errorStatus(err)
				}
				return stOK, wbuf(nil).uvarint(idx)
			})
		case opAddMember, opSetMeta, opRemoveMember, opTransfer:
			info, err := decodeNodeInfo(op, body)
			if err != nil {
				c.reply(id, stError, []byte(err.Error()))
				continue
			}
			c.async(id, func(ctx context.Context) (byte, []byte) {
				return errorStatus(n.admin(ctx, op, info))
			})
		default:
			c.reply(id, stError, []byte(unknownOp(op)))
		}
	}
}

// async runs a handler that may wait (leadership checks, configuration
// changes) without holding up the connection.
func (c *serverConn) async(id uint64, fn func(ctx context.Context) (byte, []byte)) {
	n := c.s.n
	ok := c.s.goHandle(func() {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.ForwardTimeout)
		defer cancel()
		status, body := fn(ctx)
		c.reply(id, status, body)
	})
	if !ok {
		c.reply(id, stClosed, nil)
	}
}

// handlePropose queues a forwarded batch for the leader's proposer. It
// runs on the reader goroutine so that batches from one connection enter
// the queue, and so the log, in the order they were sent. results says
// the sender wants outcomes with the replies (opProposeResults).
func (c *serverConn) handlePropose(id uint64, body []byte, results bool) {
	n := c.s.n
	r := rbuf{b: body}
	req := fsm.Request{Origin: r.str(), Seq: r.uvarint(), Ack: r.uvarint()}
	entryBytes := r.bytes()
	if err := r.end(); err != nil {
		c.reply(id, stError, []byte(err.Error()))
		return
	}
	e, err := fsm.DecodeEntry(entryBytes)
	if err == nil && (e.Type != fsm.EntryCommands || len(e.Requests) > 0) {
		err = errors.New("cluster rpc: forwarded entry is not a plain command batch")
	}
	if err == nil {
		req.Count = len(e.Commands)
		err = (&fsm.Entry{Type: fsm.EntryCommands, Commands: e.Commands, Requests: []fsm.Request{req}}).Validate()
	}
	if err != nil {
		c.reply(id, stError, []byte(err.Error()))
		return
	}
	if !n.IsLeader() {
		c.reply(id, stNotLeader, nil)
		return
	}
	if err := n.disk.admit(int64(len(entryBytes))); err != nil {
		st, msg := errorStatus(err)
		c.reply(id, st, msg)
		return
	}
	rp := &remoteProp{cmds: e.Commands, req: req, size: len(entryBytes), respond: func(replies []fsm.Reply, err error) {
		if err != nil {
			st, msg := errorStatus(err)
			c.reply(id, st, msg)
			return
		}
		if results {
			c.reply(id, stOK, encodeResults(replies))
		} else {
			c.reply(id, stOK, encodeReplies(replies))
		}
	}}
	if err := n.enqueue(qitem{r: rp}); err != nil {
		st, msg := errorStatus(err)
		c.reply(id, st, msg)
	}
}
