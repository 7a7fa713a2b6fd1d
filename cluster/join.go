package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Joining a cluster (Config.Join). A fresh node asks a seed, a member's
// Raft address, to add it, over the cluster RPC: it dials the seed's
// Raft port with the cluster-secret handshake (auth.go; TLS too with
// PeerTLS) and sends opAddMember with its NodeInfo, the request DNS
// discovery sends once it has found a member (discover.go; both go
// through requestAdd). The seed runs it as Node.AddMember, which a
// follower forwards to the leader (admin), so any member will do. The
// leader vets the joiner (safety.go) and adds it as a non-voter; it
// receives the log (or a snapshot) and is promoted once caught up.
//
// Why the Raft port: the cluster secret, not a client password,
// authenticates nodes to each other, and the node already speaks the
// cluster RPC to its peers; the client port needs a user allowed RAFT
// ADD and a second protocol. The cost is that operators name seeds by
// Raft address (what --peers and RAFT NODES already use).
//
// Compatibility: a seed given as a member's client (RESP) address, as
// deployments made before this change do, still works through the
// deprecated RESP path (join_resp.go): the Raft-port handshake fails on
// it, a RESP PING on the same address gets a RESP answer, and from then
// on that seed is asked with RAFT ADD (AUTH --join-password first), with
// one warning in the log.
//
// Seeds are tried in turn, round after round with backoff, until one
// accepts or the leader refuses (ErrJoinRefused: retrying cannot help).
// A seed whose Raft port fails the handshake's authentication, and that
// is not a RESP server, refuses too: this node's --cluster-secret (or
// peer TLS certificate) is not the cluster's.

const (
	joinDialTimeout  = 2 * time.Second
	joinReplyTimeout = 30 * time.Second
	joinBackoffMin   = 100 * time.Millisecond
	joinBackoffMax   = 2 * time.Second
	joinLogEvery     = 30 * time.Second
)

// requestAdd asks the node at Raft address addr, over the cluster RPC,
// to add info to its cluster (forwarded to the leader if it is not).
// A transport failure is returned as is; an answer as statusError makes
// it, wrapped in *addAnswerError so callers can tell the two apart.
func (n *Node) requestAdd(ctx context.Context, addr string, info NodeInfo) error {
	status, resp, err := n.pool.call(ctx, addr, opAddMember, encodeNodeInfo(opAddMember, info))
	if err != nil {
		return err
	}
	if err := statusError(status, resp); err != nil {
		return &addAnswerError{err}
	}
	return nil
}

// addAnswerError is the seed's own answer refusing or failing an add.
type addAnswerError struct{ err error }

func (e *addAnswerError) Error() string { return e.err.Error() }
func (e *addAnswerError) Unwrap() error { return e.err }

// joiner is one node's join through its seeds (Config.Join).
type joiner struct {
	n *Node
	// viaRESP holds the seeds found to be client (RESP) addresses: they
	// are asked over the deprecated RESP path.
	viaRESP map[string]bool
}

// join asks the seeds (tried in turn, round after round) to add this
// node, until one accepts or ctx ends, or the join is refused
// (ErrJoinRefused).
func (j *joiner) join(ctx context.Context, seeds []string) error {
	if len(seeds) == 0 {
		return errors.New("cluster: no seed to join")
	}
	backoff := joinBackoffMin
	var errs []error
	for {
		errs = errs[:0]
		self := j.n.Info()
		for _, seed := range seeds {
			err := j.joinOnce(ctx, seed, self)
			if err == nil {
				return nil
			}
			if errors.Is(err, ErrJoinRefused) {
				return err // already says which seed
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

// joinOnce asks one seed: over the cluster RPC, or over RESP if the seed
// is known to be (or turns out to be) a client address.
func (j *joiner) joinOnce(ctx context.Context, seed string, self NodeInfo) error {
	if j.viaRESP[seed] {
		return joinRESP(ctx, seed, self, j.n.cfg.JoinPassword)
	}
	rctx, cancel := context.WithTimeout(ctx, joinReplyTimeout)
	err := j.n.requestAdd(rctx, seed, self)
	cancel()
	var answer *addAnswerError
	if err == nil || errors.As(err, &answer) || !connected(err) || ctx.Err() != nil {
		return err
	}
	// The TCP connection was made but the Raft-port handshake failed: a
	// client address, or a peer with another cluster secret.
	if isRESP(ctx, seed) {
		j.n.log.Warn("deprecated: --join seed is a client (RESP) address; joining through it with RAFT ADD. Give seeds as Raft addresses (--raft-advertise of a member), which authenticate with --cluster-secret", "seed", seed)
		j.viaRESP[seed] = true
		return joinRESP(ctx, seed, self, j.n.cfg.JoinPassword)
	}
	if errors.Is(err, errAuth) {
		return fmt.Errorf("seed %s: %w", seed, refuseJoin("its Raft port did not accept this node's --cluster-secret (or --tls-cluster certificate), which differs from the cluster's: %v", err))
	}
	return err
}

// connected tells whether a failed cluster RPC got as far as a TCP
// connection (so the failure was in the handshake or later): a dial
// error is a *net.OpError with Op "dial", returned unwrapped.
func connected(err error) bool {
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial") && !errors.Is(err, ErrClosed)
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
	j := &joiner{n: n, viaRESP: map[string]bool{}}
	for {
		// Rounds of joinLogEvery, so a failing join shows in the log.
		ctx, cancel := context.WithTimeout(n.ctx, joinLogEvery)
		err := j.join(ctx, n.cfg.Join)
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
