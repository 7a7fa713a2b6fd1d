package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// Safe membership. A join may not take over a live member's ID or Raft
// address, a joiner the leader cannot authenticate is not added, and a
// node that is no longer in the configuration stops (Failed) instead of
// lingering as a member that cannot serve anything.

var (
	// ErrJoinRefused: the leader will not add the joining node; retrying
	// will not help until the operator changes its configuration.
	ErrJoinRefused = errors.New("join refused")
	// ErrRemoved: this node was a member of its cluster and no longer is.
	ErrRemoved = errors.New("this node was removed from the cluster")
)

const (
	// liveProbeTimeout bounds the leader's status request to a member a
	// joiner conflicts with, and to the joiner itself.
	liveProbeTimeout = time.Second
	// removedNoticeAttempts is how many times the leader tries to tell a
	// member it removed (tellRemoved).
	removedNoticeAttempts = 4
	// memberCheck is how often a node looks for itself in the latest
	// configuration.
	memberCheck = 200 * time.Millisecond
)

// removedKey is set in the stable store when the leader said this data
// dir's node was removed (opRemoved): a node removed before it received
// the entry that removes it still knows at its next start.
var removedKey = []byte("raftstream/removed")

// tellRemoved, on the leader, tells a member it has just removed, best
// effort: replication to it stopped with the change, so it may never see
// the entry that removes it, and a node removed right after joining may
// not have recorded its membership yet. A member that does not answer
// (busy, or down) is asked again a few times, so a slow moment does not
// leave it serving as if it were still in the cluster.
func (n *Node) tellRemoved(addr, id, incarnation string) {
	if addr == "" || incarnation == "" {
		return
	}
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(n.ctx, liveProbeTimeout)
		status, body, err := n.pool.call(ctx, addr, opRemoved, wbuf(nil).str(id).str(incarnation))
		cancel()
		if err == nil {
			err = statusError(status, body)
		}
		if err == nil {
			return
		}
		if attempt == removedNoticeAttempts {
			n.log.Debug("could not tell a removed member", "id", id, "err", err)
			return
		}
		select {
		case <-time.After(wait):
			wait *= 2
		case <-n.ctx.Done():
			return
		}
	}
}

// removedNotice handles opRemoved: the notice is for this data dir's
// node if ID and incarnation match (a node wiped and started again under
// the same ID has another incarnation).
func (n *Node) removedNotice(body []byte) {
	r := rbuf{b: body}
	id, inc := r.str(), r.str()
	if r.end() != nil || id != n.cfg.NodeID || inc != n.incarnation {
		return
	}
	if err := n.store.stable.Set(removedKey, []byte{1}); err != nil {
		n.log.Warn("cannot record the removal", "err", err)
	}
	n.fail(fmt.Errorf("%w; %s", ErrRemoved, removedHint))
}

// memberKey is set in the stable store once this data dir has seen
// itself in the configuration with its own metadata applied: from then
// on, missing from the configuration means removed.
var memberKey = []byte("raftstream/member")

// removedHint tells the operator how to bring a removed node back.
const removedHint = "to add it again, start it on an empty data dir with --join"

// refuseJoin wraps ErrJoinRefused with the reason.
func refuseJoin(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrJoinRefused, fmt.Sprintf(format, a...))
}

// isJoinRefusal tells whether a seed's error reply refused the join for
// good. The refusal crosses the forward RPC and RESP as text.
func isJoinRefusal(err error) bool {
	return err != nil && strings.Contains(err.Error(), ErrJoinRefused.Error()+":")
}

// checkJoiner, on the leader, vets a joining node against the current
// configuration before anything changes: it refuses an ID or Raft address
// held by a member that still answers as itself, and a joiner whose Raft
// port does not prove the cluster secret. A member that does not answer
// is taken for a previous incarnation whose data is gone (a node
// restarted on an empty disk), which the join replaces.
func (n *Node) checkJoiner(ctx context.Context, conf raft.Configuration, info NodeInfo) error {
	pctx, cancel := context.WithTimeout(ctx, liveProbeTimeout)
	defer cancel()
	st, err := n.askStatus(pctx, info.RaftAddr)
	switch {
	case errors.Is(err, errAuth):
		return refuseJoin("the leader cannot authenticate %q at %s: its --cluster-secret differs from the cluster's", info.ID, info.RaftAddr)
	case err == nil && st.ID != info.ID && st.HasConfig:
		return refuseJoin("raft address %s belongs to live member %q; give this node its own --raft-advertise address", info.RaftAddr, st.ID)
	}
	for _, s := range conf.Servers {
		sameID, sameAddr := string(s.ID) == info.ID, string(s.Address) == info.RaftAddr
		if !sameID && !sameAddr {
			continue
		}
		if sameID && sameAddr {
			if old, known := n.fsm.Member(info.ID); !known || old.Incarnation == "" || info.Incarnation == "" || old.Incarnation == info.Incarnation {
				continue // the same node asking again
			}
		}
		if string(s.ID) == n.cfg.NodeID {
			return refuseJoin("node id %q at %s is the leader itself; give the joining node its own --node-id and --raft-advertise", s.ID, s.Address)
		}
		if n.memberAnswers(ctx, s) {
			if sameID {
				return refuseJoin("node id %q belongs to live member at %s; give this node its own --node-id (or RAFT REMOVE %s first)", s.ID, s.Address, s.ID)
			}
			return refuseJoin("raft address %s belongs to live member %q; give this node its own --raft-advertise address", s.Address, s.ID)
		}
	}
	return nil
}

// memberAnswers tells whether member s answers at its address as itself,
// a member of a cluster. A fresh joiner that took over the address of a
// dead member answers under its own ID, or without a configuration.
func (n *Node) memberAnswers(ctx context.Context, s raft.Server) bool {
	ctx, cancel := context.WithTimeout(ctx, liveProbeTimeout)
	defer cancel()
	st, err := n.askStatus(ctx, string(s.Address))
	return err == nil && st.ID == string(s.ID) && st.HasConfig
}

// Failed is closed once this node can no longer be a member of its
// cluster: it was removed, or its join was refused. Err says why; the
// process should stop (the binary exits with the reason).
func (n *Node) Failed() <-chan struct{} { return n.failed }

// Err is why Failed was closed, or nil while it is not.
func (n *Node) Err() error {
	select {
	case <-n.failed:
		return n.failErr
	default:
		return nil
	}
}

// fail records the first fatal error and closes Failed.
func (n *Node) fail(err error) {
	n.failOnce.Do(func() {
		n.failErr = err
		n.log.Error("node cannot continue as a cluster member", "err", err)
		close(n.failed)
	})
}

// checkResumable runs when a data dir with Raft state opens: a node
// removed from its cluster must not come back as if nothing happened, and
// a join request (which needs an empty data dir) is not dropped silently.
func checkResumable(cfg Config, r *raft.Raft, self raft.ServerAddress, store raft.StableStore, log interface{ Warn(string, ...any) }) error {
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("read raft configuration: %w", err)
	}
	conf := f.Configuration()
	if err := checkRestored(cfg, conf, self, store); err != nil {
		return err
	}
	_, member := findServer(conf, cfg.NodeID)
	was, err := wasMember(store)
	if err != nil {
		return err
	}
	told, err := store.Get(removedKey)
	if err != nil && !errors.Is(err, raftboltdb.ErrKeyNotFound) {
		return fmt.Errorf("read removal flag: %w", err)
	}
	switch {
	case len(told) > 0 || !member && was && len(conf.Servers) > 0:
		return fmt.Errorf("%w (data dir %s); %s", ErrRemoved, cfg.DataDir, removedHint)
	case len(cfg.Join) > 0:
		log.Warn("the data dir already belongs to a cluster: resuming it, --join is not used (it only applies to an empty data dir)", "data_dir", cfg.DataDir)
	}
	return nil
}

func wasMember(store raft.StableStore) (bool, error) {
	v, err := store.Get(memberKey)
	if err != nil && !errors.Is(err, raftboltdb.ErrKeyNotFound) {
		return false, fmt.Errorf("read membership flag: %w", err)
	}
	return len(v) > 0, nil
}

// memberWatch notices this node's removal from the configuration. Until
// the node has seen itself in the configuration with its own metadata
// (so a joiner replaying an old incarnation's entries under the same ID
// is not fooled), absence means "not added yet".
func (n *Node) memberWatch() {
	member, err := wasMember(n.store.stable)
	if err != nil {
		n.log.Warn("cannot read the membership flag", "err", err)
	}
	t := time.NewTicker(memberCheck)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-n.ctx.Done():
			return
		}
		conf, err := n.configuration()
		if err != nil {
			continue
		}
		_, in := findServer(conf, n.cfg.NodeID)
		switch {
		case in && !member:
			if meta, ok := n.fsm.Member(n.cfg.NodeID); !ok || meta.Incarnation != n.incarnation {
				continue
			}
			if err := n.store.stable.Set(memberKey, []byte{1}); err != nil {
				n.log.Warn("cannot record the membership flag", "err", err)
				continue
			}
			member = true
		case !in && member && len(conf.Servers) > 0:
			n.fail(fmt.Errorf("%w; %s", ErrRemoved, removedHint))
			return
		}
	}
}
