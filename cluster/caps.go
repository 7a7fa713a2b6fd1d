package cluster

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// Typed command kinds (fsm's KindTxn, KindConfigSet) are written to the
// log only once every member can decode them: a node of the previous
// version skips an entry it cannot decode and its state diverges. So the
// leader asks each member of its configuration for its capabilities
// (opCaps) and, until all have confirmed, writes the forms that version
// wrote (fsm.LegacyForm), which run with the same replies. A member that
// does not answer, or answers as an old node does (unknownOp), counts as
// old.

// capTypedKinds: the member decodes typed command kinds (fsm flagKinds).
const capTypedKinds uint64 = 1 << 0

// ourCaps is what this build answers to opCaps.
const ourCaps = capTypedKinds

const (
	// capsRetryMin and capsRetryMax bound the backoff between probes of
	// members that have not confirmed: an old member is upgraded by
	// restarting it, which the leader learns of only by asking again.
	capsRetryMin = 100 * time.Millisecond
	capsRetryMax = 5 * time.Second
	capsTimeout  = 2 * time.Second
)

// typedGate decides whether the leader may write typed command kinds.
type typedGate struct {
	// typed is set while this node leads and every member of its latest
	// configuration confirmed capTypedKinds; the proposer reads it for
	// every entry.
	typed atomic.Bool
	// capsPoke wakes capsLoop when the configuration changes.
	capsPoke chan struct{}
}

// wireForms returns cmds as the log may hold them now: unchanged while
// typed kinds are allowed, else legacyForms(cmds).
func (n *Node) wireForms(cmds []fsm.Command) []fsm.Command {
	if n.typed.Load() {
		return cmds
	}
	return legacyForms(cmds)
}

// legacyForms returns cmds with typed commands in their legacy form: a
// copy if any is typed (cmds is not modified), else cmds.
func legacyForms(cmds []fsm.Command) []fsm.Command {
	var out []fsm.Command
	for i, c := range cmds {
		if c.Kind == fsm.KindArgv {
			continue
		}
		if out == nil {
			out = append([]fsm.Command(nil), cmds...)
		}
		out[i] = fsm.LegacyForm(c)
	}
	if out == nil {
		return cmds
	}
	return out
}

// startCapsWatch runs capsLoop and makes configuration changes reach it.
// raft reports a member added to the leader's configuration (a
// PeerObservation) from inside the leader loop, before it replicates to
// the member; the filter drops the gate right there, so that entries
// proposed from then on use legacy forms until the new member confirms.
func (n *Node) startCapsWatch() {
	n.capsPoke = make(chan struct{}, 1)
	obs := raft.NewObserver(nil, false, func(o *raft.Observation) bool {
		if po, ok := o.Data.(raft.PeerObservation); ok {
			if !po.Removed {
				n.typed.Store(false)
			}
			select {
			case n.capsPoke <- struct{}{}:
			default:
			}
		}
		return false
	})
	n.raft.RegisterObserver(obs)
	n.spawn(func() {
		defer n.raft.DeregisterObserver(obs)
		n.capsLoop()
	})
}

// capsLoop, on the leader, probes the members of the configuration that
// have not confirmed capTypedKinds in this term, and opens the gate once
// all have. Unconfirmed members are asked again with a backoff.
// Confirmations are forgotten when leadership ends: a member may be
// restarted with another build while another node leads.
func (n *Node) capsLoop() {
	confirmed := map[raft.ServerID]raft.ServerAddress{}
	var term uint64
	backoff := capsRetryMin
	retry := time.NewTimer(0)
	retry.Stop()
	defer retry.Stop()
	for {
		changed := n.leaderChanged()
		if n.raft.State() != raft.Leader {
			n.typed.Store(false)
			clear(confirmed)
			retry.Stop()
		} else {
			if t := n.raft.CurrentTerm(); t != term {
				clear(confirmed)
				term, backoff = t, capsRetryMin
			}
			if n.probeMembers(confirmed) {
				// Still leading in the term the confirmations are for;
				// a later change is seen through changed.
				n.typed.Store(n.raft.State() == raft.Leader && n.raft.CurrentTerm() == term)
				retry.Stop()
				backoff = capsRetryMin
			} else {
				n.typed.Store(false)
				retry.Reset(backoff)
				backoff = min(2*backoff, capsRetryMax)
			}
		}
		select {
		case <-changed:
		case <-n.capsPoke:
		case <-retry.C:
		case <-n.ctx.Done():
			return
		}
	}
}

// probeMembers asks every member of the latest configuration not in
// confirmed (by ID and address) for its capabilities, records those that
// confirm, and reports whether all members have.
func (n *Node) probeMembers(confirmed map[raft.ServerID]raft.ServerAddress) bool {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return false
	}
	all := true
	for _, s := range cf.Configuration().Servers {
		if string(s.ID) == n.cfg.NodeID {
			continue
		}
		if a, ok := confirmed[s.ID]; ok && a == s.Address {
			continue
		}
		if n.askCaps(string(s.Address))&capTypedKinds != 0 {
			confirmed[s.ID] = s.Address
		} else {
			all = false
		}
	}
	return all
}

// askCaps returns the capabilities the node at addr reports; none if it
// cannot be reached or is of the previous version.
func (n *Node) askCaps(addr string) uint64 {
	ctx, cancel := context.WithTimeout(n.ctx, capsTimeout)
	defer cancel()
	status, body, err := n.pool.call(ctx, addr, opCaps, nil)
	if err != nil || status != stOK {
		n.log.Debug("member did not confirm typed log entries", "addr", addr, "err", err, "status", status, "body", string(body))
		return 0
	}
	// Later builds may append fields; only the first is read.
	r := rbuf{b: body}
	return r.uvarint()
}
