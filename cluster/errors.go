package cluster

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// Errors returned by Wait and ReadBarrier. Test them with errors.Is: they
// are wrapped with the underlying cause.
var (
	// ErrNotLeader: this node is not the leader, so the command was not
	// appended to the log. Safe to retry against the leader (-TRYAGAIN).
	ErrNotLeader = errors.New("cluster: not the leader")
	// ErrUnknownOutcome: the command was handed to Raft but leadership was
	// lost, the node shut down or the caller stopped waiting before it
	// applied. It may or may not have been committed; do not blindly retry.
	ErrUnknownOutcome = errors.New("cluster: command outcome unknown")
	// ErrClosed: the node is shut down. Proposals made after Close were not
	// appended; for earlier ones it comes wrapped in ErrUnknownOutcome.
	ErrClosed = errors.New("cluster: node closed")
	// ErrNoLeader: no leader could be reached within Config.LeaderWait
	// (an election is running, or this node is cut off from the
	// majority). Nothing was appended: safe to retry (-TRYAGAIN).
	ErrNoLeader = errors.New("cluster: no Raft leader available")
	// ErrTooLarge: the command alone is larger than a log entry may be
	// (MaxCommandBytes). It was not appended.
	ErrTooLarge = errors.New("cluster: command too large for the Raft log")

	// ErrLeadershipTransfer: a leadership transfer was running, so the
	// command was not appended (it also matches ErrNotLeader). It is
	// raft's own value, re-exported so that callers can tell this case
	// apart without importing raft.
	ErrLeadershipTransfer = raft.ErrLeadershipTransferInProgress
	// ErrLeadershipLost: leadership was lost after the command was
	// appended, before it committed (it also matches ErrUnknownOutcome).
	// raft's own value, re-exported for the same reason.
	ErrLeadershipLost = raft.ErrLeadershipLost
)

// MaxCommandBytes is the largest encoded command a log entry can carry.
// raft-wal refuses records over 64 MiB (segment.MaxEntrySize), and a
// leader whose log write fails steps down, so a larger command must be
// refused before it reaches Raft. The cap holds for every node whatever its
// log store: a cluster may mix stores while it is migrated node by node,
// and an entry one member cannot store would stall that member for good.
const MaxCommandBytes = 63 << 20

// neverLogged maps the error of an entry raft refused before writing it.
func neverLogged(err error) error {
	if errors.Is(err, raft.ErrRaftShutdown) {
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrNotLeader, err)
}

// mapApplyErr turns a raft future error into one of ours, deciding from
// raft's documented semantics whether the entry may have been appended.
func mapApplyErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader),
		errors.Is(err, raft.ErrLeadershipTransferInProgress),
		errors.Is(err, raft.ErrEnqueueTimeout),
		errors.Is(err, raft.ErrAbortedByRestore):
		// Rejected before it entered the log.
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, ErrClosed)
	default:
		// ErrLeadershipLost and anything unexpected: it may have committed.
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
}
