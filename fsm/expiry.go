package fsm

import "time"

// ExpiryDue reports whether an expiry entry (EntryExpire) would delete
// something now: a key past its deadline, or stream entries past their
// age retention (XCFGSET MAXAGE). If not, next is how long until the
// earliest of either (0 if none). now is the leader's clock in Unix
// milliseconds.
//
// It lives here, not in the cluster package that runs the expiry loop,
// so that the replication layer asks the state machine a question
// instead of reading engine state itself.
func (f *FSM) ExpiryDue(now int64) (due bool, next time.Duration) {
	f.mu.RLock()
	at, ok := f.st.NextExpiry()
	clock := f.st.Clock()
	// The state clock can be ahead of the leader's after a failover to a
	// node with a slower clock; Apply trims at max(entry clock, state
	// clock).
	now = max(now, clock)
	retainDue, retainWait := f.st.RetentionDue(now)
	f.mu.RUnlock()
	if retainDue {
		return true, 0
	}
	wait := time.Duration(retainWait) * time.Millisecond
	if !ok {
		return false, wait
	}
	// A key lives through its deadline millisecond (Redis: now > when).
	if at < now {
		return true, 0
	}
	if keyWait := time.Duration(at-now+1) * time.Millisecond; wait == 0 || keyWait < wait {
		wait = keyWait
	}
	return false, wait
}
