package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

// Joining through a client address. Users know a member's client
// (RESP) address, so a new node joins by sending that member
//
//	RAFT ADD <id> <raft-addr> <client-addr> <incarnation>
//
// (after AUTH if a password is set). The server implements RAFT ADD with
// Node.AddMember, which any member can take: a follower forwards it to
// the leader. The new node then receives the log (or a snapshot) as a
// non-voter and is promoted once caught up. The exchange uses the small
// client in internal/respclient.

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
	// One deadline for the whole exchange, set above: timeout 0.
	c := respclient.New(conn, 0, 0)
	if password != "" {
		if err := expectOK(c, "AUTH", password); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := expectOK(c, "RAFT", "ADD", self.ID, self.RaftAddr, self.ClientAddr, self.Incarnation); err != nil {
		return fmt.Errorf("RAFT ADD: %w", err)
	}
	return nil
}

// expectOK sends a command and accepts only a simple-string OK; an error
// reply is a remoteError (the seed's own words, which isJoinRefusal reads).
func expectOK(c *respclient.Conn, args ...string) error {
	c.AppendStrings(args...)
	if err := c.Flush(); err != nil {
		return err
	}
	v, err := c.Read()
	switch {
	case err != nil:
		return err
	case v.IsError():
		return &remoteError{msg: v.Str}
	case v.Kind == '+' && v.Str == "OK":
		return nil
	}
	return fmt.Errorf("unexpected reply %c%q", v.Kind, v.Str)
}

// refusedError is a seed's refusal of the join: ErrJoinRefused with the
// seed's reason.
type refusedError struct{ err error }

func (e refusedError) Error() string   { return e.err.Error() }
func (e refusedError) Unwrap() []error { return []error{ErrJoinRefused, e.err} }

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
