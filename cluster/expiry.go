package cluster

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/fsm"
)

// minExpiryGap separates consecutive expiry cycles, so a key that stays due
// after a cycle (whatever the reason) cannot turn the loop into a busy
// stream of log entries.
const minExpiryGap = 10 * time.Millisecond

// expiryLoop is active expiry: keys are deleted by a replicated entry that
// carries the leader's clock, never by a replica's own timer, so every
// replica deletes the same keys at the same point of the log.
func (n *Node) expiryLoop() {
	timer := time.NewTimer(n.cfg.ExpiryInterval)
	defer timer.Stop()
	for {
		wait := n.cfg.ExpiryInterval
		if n.raft.State() == raft.Leader {
			if due, next := n.expiryDue(); due {
				if _, err := n.control(n.ctx, fsm.EntryExpire); err != nil && !errors.Is(err, ErrClosed) {
					n.log.Debug("expiry cycle failed", "err", err)
				}
				wait = minExpiryGap
			} else if next > 0 && next < wait {
				wait = next
			}
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-n.ctx.Done():
			return
		}
	}
}

// expiryDue reports whether some key is due now, or some stream has
// entries past its age retention (XCFGSET MAXAGE), or else how long until
// the earliest of either is (0 if none).
func (n *Node) expiryDue() (due bool, next time.Duration) {
	var at, clock, retainWait int64
	var ok, retainDue bool
	n.fsm.Read(func(st *engine.State) {
		at, ok = st.NextExpiry()
		clock = st.Clock()
		// The state clock can be ahead of ours after a failover to a node
		// with a slower clock; the FSM trims at max(entry clock, state
		// clock).
		retainDue, retainWait = st.RetentionDue(max(n.now(), clock))
	})
	if retainDue {
		return true, 0
	}
	wait := time.Duration(retainWait) * time.Millisecond
	if !ok {
		return false, wait
	}
	now := max(n.now(), clock)
	// A key lives through its deadline millisecond (Redis: now > when).
	if at < now {
		return true, 0
	}
	if keyWait := time.Duration(at-now+1) * time.Millisecond; wait == 0 || keyWait < wait {
		wait = keyWait
	}
	return false, wait
}
