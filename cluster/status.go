package cluster

import (
	"strconv"
	"strings"
)

// Status is a point-in-time view of the node for INFO and RAFT commands.
type Status struct {
	NodeID     string
	ClientAddr string // this node's advertised client address
	RaftAddr   string // this node's advertised Raft address
	State      string // "leader", "follower", "candidate", "shutdown"
	// Suffrage is this node's vote in the latest configuration: "voter",
	// "nonvoter", or "" when it is not (yet) a member.
	Suffrage   string
	Term       uint64
	LeaderID   string
	LeaderAddr string // the leader's Raft address
	// LeaderClientAddr is the leader's client address from the replicated
	// member metadata; "" if unknown.
	LeaderClientAddr  string
	CommitIndex       uint64
	AppliedIndex      uint64
	LastLogIndex      uint64
	LastSnapshotIndex uint64
	LastSnapshotTerm  uint64
	// Members is the number of servers in the latest configuration.
	Members int
	// LeaderChanges counts the times this node saw a leader elected since
	// it started (raft's leader observations naming a leader; a lost
	// leader is not counted).
	LeaderChanges uint64
	// ChangesSinceSnapshot counts the commands this node applied without
	// an error since its last snapshot (fsm.FSM.ChangesSinceSnapshot).
	ChangesSinceSnapshot uint64
}

// Status reports the node's Raft state.
func (n *Node) Status() Status {
	addr, id := n.raft.LeaderWithID()
	st := Status{
		NodeID:       n.cfg.NodeID,
		ClientAddr:   n.ClientAddr(),
		RaftAddr:     n.addr,
		State:        strings.ToLower(n.raft.State().String()),
		Term:         n.raft.CurrentTerm(),
		LeaderID:     string(id),
		LeaderAddr:   string(addr),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.fsm.AppliedIndex(),
		LastLogIndex: n.raft.LastIndex(),

		LeaderChanges:        n.leaderChanges.Load(),
		ChangesSinceSnapshot: n.fsm.ChangesSinceSnapshot(),
	}
	if id != "" {
		if m, ok := n.fsm.Member(string(id)); ok {
			st.LeaderClientAddr = m.ClientAddr
		}
	}
	if conf, err := n.configuration(); err == nil {
		st.Members = len(conf.Servers)
		for _, s := range conf.Servers {
			if string(s.ID) == n.cfg.NodeID {
				st.Suffrage = suffrageName(s.Suffrage)
			}
		}
	}
	stats := n.raft.Stats()
	st.LastSnapshotIndex, _ = strconv.ParseUint(stats["last_snapshot_index"], 10, 64)
	st.LastSnapshotTerm, _ = strconv.ParseUint(stats["last_snapshot_term"], 10, 64)
	return st
}
