package cluster

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"

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
			if due, next := n.fsm.ExpiryDue(n.now()); due {
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
