package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/tidwall/redcon"
)

// The raft modes commit each XADD through a single raftstream node
// (cluster.Node: its proposer, raft's leader loop and flush, the state
// machine, the completer), without raftstream's server: raft serves each
// connection on its goroutine (redcon), as raftstream's server does, and
// loop-raft serves them all from the epoll loop. The pair tells what an
// event-loop front end would change on raftstream's own commit path.

// openNode starts a one-voter node on dir and waits until it serves.
func openNode(dir string) (*cluster.Node, error) {
	node, err := cluster.Open(cluster.Config{
		NodeID:   "rsfloor",
		DataDir:  dir,
		RaftAddr: "127.0.0.1:0",
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, fmt.Errorf("open node: %w", err)
	}
	// The first read barrier returns once the node leads and has applied
	// its term's first entry: it is ready for writes.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := node.ReadBarrier(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("node not ready: %w", err), node.Close())
	}
	return node, nil
}

func (s *server) handleRaft(conn redcon.Conn, cmd redcon.Command) {
	if !isXAdd(cmd.Args) {
		s.handleOther(conn, cmd.Args)
		return
	}
	// redcon gives each request its own buffer, so argv needs no copy.
	reply, err := s.node.Propose(cluster.Command{Argv: cmd.Args, Proto: 2}).Wait(context.Background())
	if err != nil {
		conn.WriteError("ERR " + err.Error())
		return
	}
	conn.WriteRaw(reply.RESP)
}

// proposeBatch proposes the batch's XADDs and waits for their replies on a
// goroutine of its own, which then wakes the loop (loop-raft).
func (l *eventLoop) proposeBatch(b *lbatch) {
	pending := make([]*cluster.Pending, len(b.items))
	for i, it := range b.items {
		if it.kind == replyID {
			pending[i] = l.s.node.Propose(cluster.Command{Argv: it.argv, Proto: 2})
		}
	}
	l.s.start(func() {
		for i, p := range pending {
			if p == nil {
				continue
			}
			reply, err := p.Wait(context.Background())
			if err != nil {
				b.items[i].resp = []byte("-ERR " + err.Error() + "\r\n")
				continue
			}
			b.items[i].resp = reply.RESP
		}
		l.completed <- &write{}
		l.wake()
	})
}
