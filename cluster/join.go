package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Joining through a client address. Users know a member's client
// (RESP) address, so a new node joins by sending that member
//
//	RAFT ADD <id> <raft-addr> <client-addr> <incarnation>
//
// (after AUTH if a password is set). The server implements RAFT ADD with
// Node.AddMember, which any member can take: a follower forwards it to
// the leader. The new node then receives the log (or a snapshot) as a
// non-voter and is promoted once caught up. A tiny RESP client is enough
// for this one exchange, so no client library is linked in.

const (
	joinDialTimeout  = 2 * time.Second
	joinReplyTimeout = 30 * time.Second
	joinBackoffMin   = 100 * time.Millisecond
	joinBackoffMax   = 2 * time.Second
	joinLogEvery     = 30 * time.Second
)

// Join asks the seeds (client addresses, tried in turn, round after round)
// to add self to their cluster, until one accepts or ctx ends, or the
// leader refuses the join (ErrJoinRefused: retrying cannot help). password,
// if not empty, is sent with AUTH first.
func Join(ctx context.Context, seeds []string, self NodeInfo, password string) error {
	if len(seeds) == 0 {
		return errors.New("cluster: no seed to join")
	}
	backoff := joinBackoffMin
	var errs []error
	for {
		errs = errs[:0]
		for _, seed := range seeds {
			err := joinOnce(ctx, seed, self, password)
			if err == nil {
				return nil
			}
			err = fmt.Errorf("seed %s: %w", seed, err)
			if isJoinRefusal(err) {
				// The leader decided; asking another seed reaches the same one.
				return refusedError{err}
			}
			errs = append(errs, err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("join cluster: %w (%w)", ctx.Err(), errors.Join(errs...))
		}
		backoff = min(2*backoff, joinBackoffMax)
	}
}

func joinOnce(ctx context.Context, seed string, self NodeInfo, password string) error {
	d := net.Dialer{Timeout: joinDialTimeout}
	conn, err := d.DialContext(ctx, "tcp", seed)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(joinReplyTimeout))
	br := bufio.NewReader(conn)
	if password != "" {
		if _, err := conn.Write(respCommand("AUTH", password)); err != nil {
			return err
		}
		if err := readOK(br); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if _, err := conn.Write(respCommand("RAFT", "ADD", self.ID, self.RaftAddr, self.ClientAddr, self.Incarnation)); err != nil {
		return err
	}
	if err := readOK(br); err != nil {
		return fmt.Errorf("RAFT ADD: %w", err)
	}
	return nil
}

// refusedError is a seed's refusal of the join: ErrJoinRefused with the
// seed's reason.
type refusedError struct{ err error }

func (e refusedError) Error() string   { return e.err.Error() }
func (e refusedError) Unwrap() []error { return []error{ErrJoinRefused, e.err} }

// respCommand encodes a command as a RESP array of bulk strings.
func respCommand(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// readOK reads one reply and accepts only a simple-string OK.
func readOK(br *bufio.Reader) error {
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case line == "+OK":
		return nil
	case strings.HasPrefix(line, "-"):
		return &remoteError{msg: line[1:]}
	case strings.HasPrefix(line, "$"):
		// A bulk reply is not OK; consume it for a clearer message.
		n, _ := strconv.Atoi(line[1:])
		if n >= 0 && n < 1<<16 {
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(br, buf); err == nil {
				return fmt.Errorf("unexpected reply %q", buf[:n])
			}
		}
	}
	return fmt.Errorf("unexpected reply %q", line)
}

// joinLoop joins the cluster named by Config.Join, once, in the
// background of a fresh node.
func (n *Node) joinLoop() {
	n.log.Info("joining cluster", "seeds", strings.Join(n.cfg.Join, ","))
	for {
		// Rounds of joinLogEvery, so a failing join shows in the log.
		ctx, cancel := context.WithTimeout(n.ctx, joinLogEvery)
		err := Join(ctx, n.cfg.Join, n.Info(), n.cfg.JoinPassword)
		cancel()
		switch {
		case err == nil:
			n.log.Info("joined cluster; catching up as a non-voter")
			return
		case n.ctx.Err() != nil:
			return
		case errors.Is(err, ErrJoinRefused):
			n.fail(err)
			return
		}
		n.log.Warn("still trying to join the cluster", "err", err)
	}
}
