package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// Membership. Raft's configuration says who votes; the replicated member
// metadata (fsm EntryMember) adds each member's client address, so any
// node can tell clients where the leader is. Changes are made by the
// leader; on any other node the calls below are forwarded to it over the
// cluster RPC, so RAFT ADD/REMOVE/TRANSFER work wherever they are sent.
//
// New members join as non-voters: a member that votes before it has the
// log would let a quorum form without the committed entries. The leader's
// promote loop asks each non-voter how far it has applied and makes it a
// voter once it is within PromoteLag entries of the commit index.

// metaRefresh is how often a node re-checks that the replicated metadata
// has its current addresses.
const metaRefresh = 2 * time.Second

// ErrNoSuchMember is returned for an ID that is not in the configuration.
var ErrNoSuchMember = errors.New("cluster: no such member")

// membership is the leader's view of its followers and this node's
// replicated metadata.
type membership struct {
	// progress is the leader's view of each follower (followerLoop).
	progressMu sync.Mutex
	progress   map[string]progress
	// clientAddr is the advertised client address (SetClientAddr);
	// metaPoke wakes metaLoop when it changes.
	clientAddr atomic.Pointer[string]
	metaPoke   chan struct{}
}

// Member is one server of the cluster configuration, for RAFT NODES.
type Member struct {
	ID         string
	RaftAddr   string
	ClientAddr string // from the replicated metadata; "" if not known
	Suffrage   string // "voter" or "nonvoter"
	// State is "leader" for the leader and "follower" for the others, as
	// far as this node knows; this node's own entry has its exact Raft
	// state ("candidate", "shutdown", ...).
	State string
	Self  bool
	// On the leader, for the other members: the index the member had
	// applied when it last answered the leader's status poll, and when
	// that was (zero if it has not answered since this node became the
	// leader). Zero on other nodes.
	Applied     uint64
	LastContact time.Time
	// FirstPoll is when this leader first polled the member, answered or
	// not (zero on other nodes): with LastContact zero, how long the
	// member has not answered since this node became the leader.
	FirstPoll time.Time
}

// NodeInfo identifies a node joining a cluster.
type NodeInfo struct {
	ID         string
	RaftAddr   string
	ClientAddr string
	// Incarnation is random per data dir (Node.Incarnation). It lets the
	// leader tell a retried join (same incarnation: nothing to do) from a
	// node that lost its data and comes back under its old ID (a new
	// incarnation: its old entry is removed, it rejoins as a non-voter).
	// Optional: "" never replaces an entry with the same ID and address.
	Incarnation string
}

func (n *Node) configuration() (raft.Configuration, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Configuration{}, err
	}
	return f.Configuration(), nil
}

func suffrageName(s raft.ServerSuffrage) string {
	switch s {
	case raft.Voter:
		return "voter"
	case raft.Nonvoter:
		return "nonvoter"
	}
	return strings.ToLower(s.String())
}

// Members lists the latest (possibly not yet committed) configuration with
// each member's client address.
func (n *Node) Members() ([]Member, error) {
	conf, err := n.configuration()
	if err != nil {
		return nil, fmt.Errorf("read raft configuration: %w", err)
	}
	_, leader := n.raft.LeaderWithID()
	out := make([]Member, 0, len(conf.Servers))
	for _, s := range conf.Servers {
		m := Member{ID: string(s.ID), RaftAddr: string(s.Address), Suffrage: suffrageName(s.Suffrage), State: "follower"}
		if meta, ok := n.fsm.Member(m.ID); ok {
			m.ClientAddr = meta.ClientAddr
		}
		if s.ID == leader {
			m.State = "leader"
		}
		if m.ID == n.cfg.NodeID {
			m.Self = true
			m.State = strings.ToLower(n.raft.State().String())
		} else {
			p := n.progressOf(m.ID)
			m.Applied, m.LastContact, m.FirstPoll = p.applied, p.at, p.polled
		}
		out = append(out, m)
	}
	return out, nil
}

// AddMember adds a node as a non-voter (promoted once caught up) and
// records its metadata. If m.ID is already a member at m.RaftAddr and
// was recorded with the same incarnation (or none), it is the same node
// asking again: nothing changes but the metadata. A join that takes a
// live member's ID or Raft address, or whose Raft port fails the
// cluster-secret handshake, is refused with ErrJoinRefused (see
// checkJoiner). Otherwise the old entry for m.ID (or another ID at
// m.RaftAddr) is removed first: it is a previous incarnation whose log is
// gone, and it must not vote until it has caught up again.
func (n *Node) AddMember(ctx context.Context, m NodeInfo) error {
	if m.ID == "" || m.RaftAddr == "" {
		return errors.New("cluster: member ID and Raft address are required")
	}
	return n.admin(ctx, opAddMember, m)
}

// RemoveMember removes a node from the configuration and forgets its
// metadata. Removing the leader makes it step down after the change.
func (n *Node) RemoveMember(ctx context.Context, id string) error {
	return n.admin(ctx, opRemoveMember, NodeInfo{ID: id})
}

// TransferLeadership asks the leader to hand leadership to id, or to the
// most up-to-date voter if id is "". It returns once raft has completed
// or abandoned the transfer.
func (n *Node) TransferLeadership(ctx context.Context, id string) error {
	return n.admin(ctx, opTransfer, NodeInfo{ID: id})
}

// HandOff, on the leader of a cluster with another voter, hands
// leadership to the most up-to-date voter and returns its ID once it
// leads, so that a node about to stop costs the cluster no election
// timeout. Anywhere else it does nothing and returns "".
func (n *Node) HandOff(ctx context.Context) (string, error) {
	if n.raft.State() != raft.Leader {
		return "", nil
	}
	conf, err := n.configuration()
	if err != nil {
		return "", err
	}
	if !slices.ContainsFunc(conf.Servers, func(s raft.Server) bool {
		return s.Suffrage == raft.Voter && string(s.ID) != n.cfg.NodeID
	}) {
		return "", nil
	}
	if err := n.transferLeader(ctx, ""); err != nil {
		return "", err
	}
	// The transfer completes when the target has won its election; wait
	// for its first contact to learn who it is.
	for {
		changed := n.leaderChanged()
		if _, id := n.raft.LeaderWithID(); id != "" && string(id) != n.cfg.NodeID {
			return string(id), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("leadership moved, new leader not known yet: %w", ctx.Err())
		}
	}
}

// admin runs a membership operation on the leader: here, or forwarded.
func (n *Node) admin(ctx context.Context, op byte, info NodeInfo) error {
	deadline := time.Now().Add(n.cfg.LeaderWait)
	body := encodeNodeInfo(op, info)
	for {
		changed := n.leaderChanged()
		var err error
		if n.raft.State() == raft.Leader {
			err = n.adminLocal(ctx, op, info)
		} else {
			err = n.adminRemote(ctx, op, body)
		}
		if err == nil || !errors.Is(err, ErrNotLeader) || errors.Is(err, ErrNoLeader) {
			return err
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w: %w", errNoLeader(n.cfg.LeaderWait), err)
		}
		if !n.retryWait(ctx, changed, retryBackoffMax) {
			if n.ctx.Err() != nil {
				return ErrClosed
			}
			return ctx.Err()
		}
	}
}

func (n *Node) adminRemote(ctx context.Context, op byte, body []byte) error {
	id, addr, err := n.awaitLeader(ctx)
	if err != nil {
		return err
	}
	if id == n.cfg.NodeID {
		return fmt.Errorf("%w: leadership in transition", ErrNotLeader)
	}
	status, resp, err := n.pool.call(ctx, addr, op, body)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if n.ctx.Err() != nil {
			return ErrClosed
		}
		return fmt.Errorf("%w: %s: %w", ErrNotLeader, id, err)
	}
	return statusError(status, resp)
}

// adminLocal runs a membership operation on this node, which must lead.
func (n *Node) adminLocal(ctx context.Context, op byte, info NodeInfo) error {
	if n.raft.State() != raft.Leader {
		return fmt.Errorf("%w: %w", ErrNotLeader, raft.ErrNotLeader)
	}
	switch op {
	case opAddMember:
		return n.addMemberLeader(ctx, info)
	case opRemoveMember:
		return n.removeMemberLeader(ctx, info.ID)
	case opTransfer:
		return n.transferLeader(ctx, info.ID)
	case opSetMeta:
		conf, err := n.configuration()
		if err != nil {
			return err
		}
		if _, ok := findServer(conf, info.ID); !ok {
			return fmt.Errorf("%w: %q", ErrNoSuchMember, info.ID)
		}
		return n.setMeta(ctx, fsm.MemberChange{Op: fsm.MemberSet, Meta: fsm.NodeMeta(info)})
	}
	return fmt.Errorf("cluster: unknown admin operation %d", op)
}

// encodeNodeInfo is the request body of an admin operation.
func encodeNodeInfo(op byte, info NodeInfo) []byte {
	b := wbuf(nil).str(info.ID)
	if op == opAddMember || op == opSetMeta {
		b = b.str(info.RaftAddr).str(info.ClientAddr).str(info.Incarnation)
	}
	return b
}

func decodeNodeInfo(op byte, body []byte) (NodeInfo, error) {
	r := rbuf{b: body}
	info := NodeInfo{ID: r.str()}
	if op == opAddMember || op == opSetMeta {
		info.RaftAddr, info.ClientAddr, info.Incarnation = r.str(), r.str(), r.str()
	}
	return info, r.end()
}

func findServer(conf raft.Configuration, id string) (raft.Server, bool) {
	for _, s := range conf.Servers {
		if string(s.ID) == id {
			return s, true
		}
	}
	return raft.Server{}, false
}

func (n *Node) addMemberLeader(ctx context.Context, info NodeInfo) error {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return err
	}
	conf, index := cf.Configuration(), cf.Index()
	if err := n.checkJoiner(ctx, conf, info); err != nil {
		n.log.Warn("refused a join", "id", info.ID, "raft_addr", info.RaftAddr, "err", err)
		return err
	}
	for _, s := range conf.Servers {
		sameID, sameAddr := string(s.ID) == info.ID, string(s.Address) == info.RaftAddr
		if !sameID && !sameAddr {
			continue
		}
		if sameID && sameAddr {
			old, known := n.fsm.Member(info.ID)
			if !known || old.Incarnation == "" || info.Incarnation == "" || old.Incarnation == info.Incarnation {
				// The same node asking again (or a founding member not
				// caught up yet): keep it as it is.
				return n.setMeta(ctx, fsm.MemberChange{Op: fsm.MemberSet, Meta: fsm.NodeMeta(info)})
			}
		}
		if string(s.ID) == n.cfg.NodeID {
			return fmt.Errorf("cluster: %q at %s is the leader itself; cannot replace it", s.ID, s.Address)
		}
		n.log.Info("replacing a previous incarnation of a joining member", "id", s.ID, "addr", s.Address, "new_id", info.ID, "new_addr", info.RaftAddr)
		f := n.raft.RemoveServer(s.ID, index, 0)
		if err := waitFuture(ctx, f); err != nil {
			return mapConfigErr(fmt.Sprintf("remove old member %s", s.ID), err)
		}
		index = f.Index()
	}
	f := n.raft.AddNonvoter(raft.ServerID(info.ID), raft.ServerAddress(info.RaftAddr), index, 0)
	if err := waitFuture(ctx, f); err != nil {
		return mapConfigErr("add member "+info.ID, err)
	}
	n.log.Info("added member as non-voter", "id", info.ID, "raft_addr", info.RaftAddr, "client_addr", info.ClientAddr)
	return n.setMeta(ctx, fsm.MemberChange{Op: fsm.MemberSet, Meta: fsm.NodeMeta(info)})
}

func (n *Node) removeMemberLeader(ctx context.Context, id string) error {
	conf, err := n.configuration()
	if err != nil {
		return err
	}
	s, ok := findServer(conf, id)
	meta, known := n.fsm.Member(id)
	if !ok {
		if known {
			// Gone from raft already; forget its metadata too.
			return n.setMeta(ctx, fsm.MemberChange{Op: fsm.MemberRemove, Meta: fsm.NodeMeta{ID: id}})
		}
		return fmt.Errorf("%w: %q", ErrNoSuchMember, id)
	}
	// Metadata first: once the leader removes itself it can no longer
	// propose anything.
	if err := n.setMeta(ctx, fsm.MemberChange{Op: fsm.MemberRemove, Meta: fsm.NodeMeta{ID: id}}); err != nil {
		return err
	}
	if err := waitFuture(ctx, n.raft.RemoveServer(raft.ServerID(id), 0, 0)); err != nil {
		return mapConfigErr("remove member "+id, err)
	}
	n.log.Info("removed member", "id", id)
	n.spawn(func() { n.tellRemoved(string(s.Address), id, meta.Incarnation) })
	return nil
}

func (n *Node) transferLeader(ctx context.Context, id string) error {
	var f raft.Future
	switch id {
	case "":
		f = n.raft.LeadershipTransfer()
	case n.cfg.NodeID:
		return nil // already the leader
	default:
		conf, err := n.configuration()
		if err != nil {
			return err
		}
		s, ok := findServer(conf, id)
		if !ok {
			return fmt.Errorf("%w: %q", ErrNoSuchMember, id)
		}
		if s.Suffrage != raft.Voter {
			return fmt.Errorf("cluster: %q is not a voter and cannot lead", id)
		}
		f = n.raft.LeadershipTransferToServer(s.ID, s.Address)
	}
	if err := waitFuture(ctx, f); err != nil {
		return mapConfigErr("transfer leadership", err)
	}
	return nil
}

// mapConfigErr classifies a failed configuration change: refused by a
// non-leader means "retry at the leader"; anything else is reported.
func mapConfigErr(what string, err error) error {
	if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) || errors.Is(err, raft.ErrLeadershipTransferInProgress) {
		return fmt.Errorf("%w: %s: %w", ErrNotLeader, what, err)
	}
	if errors.Is(err, raft.ErrRaftShutdown) {
		return ErrClosed
	}
	return fmt.Errorf("cluster: %s: %w", what, err)
}

// setMeta proposes a member metadata change and waits for it.
func (n *Node) setMeta(ctx context.Context, m fsm.MemberChange) error {
	_, err := n.controlEntry(ctx, &ctrlReq{typ: fsm.EntryMember, member: &m})
	return err
}

// peerStatus is what this node tells peers about itself.
func (n *Node) peerStatus() peerStatus {
	st := n.Status()
	return peerStatus{
		ID: st.NodeID, RaftAddr: st.RaftAddr, ClientAddr: st.ClientAddr, State: st.State,
		LeaderID: st.LeaderID, HasConfig: st.Members > 0, Term: st.Term,
		AppliedIndex: st.AppliedIndex, CommitIndex: st.CommitIndex, LastLogIndex: st.LastLogIndex,
	}
}

// progress is what the leader last heard from a follower's status poll.
type progress struct {
	applied uint64
	at      time.Time
	// polled is when this leader first polled the member, answered or
	// not, so a member that never answers can be told from one not yet
	// asked.
	polled time.Time
}

// progressOf is the leader's record of member id.
func (m *membership) progressOf(id string) progress {
	m.progressMu.Lock()
	defer m.progressMu.Unlock()
	return m.progress[id]
}

// forgetProgress drops every record: this node is not the leader.
func (m *membership) forgetProgress() {
	m.progressMu.Lock()
	clear(m.progress)
	m.progressMu.Unlock()
}

// polling notes that member id is being polled, the first time only, and
// returns its record.
func (m *membership) polling(id string) progress {
	m.progressMu.Lock()
	defer m.progressMu.Unlock()
	p := m.progress[id]
	if p.polled.IsZero() {
		p.polled = time.Now()
		m.progress[id] = p
	}
	return p
}

// answered records member id's applied index from a poll answered now.
func (m *membership) answered(id string, applied uint64, polled time.Time) {
	m.progressMu.Lock()
	m.progress[id] = progress{applied: applied, at: time.Now(), polled: polled}
	m.progressMu.Unlock()
}

// followerLoop, on the leader, polls every other member's status each
// PromoteInterval: it records how far each has applied (INFO replication
// reports it as the replica offset, the poll time as its lag, like a
// Redis replica's once-a-second REPLCONF ACK) and makes caught-up
// non-voters voters.
func (n *Node) followerLoop() {
	t := time.NewTicker(n.cfg.PromoteInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-n.ctx.Done():
			return
		}
		if n.raft.State() != raft.Leader {
			n.forgetProgress()
			continue
		}
		cf := n.raft.GetConfiguration()
		if cf.Error() != nil {
			continue
		}
		var wg sync.WaitGroup
		for _, s := range cf.Configuration().Servers {
			if string(s.ID) == n.cfg.NodeID {
				continue
			}
			wg.Add(1)
			if !n.spawn(func() {
				defer wg.Done()
				if err := n.pollFollower(s, cf.Index()); err != nil {
					n.log.Debug("follower status poll failed", "id", s.ID, "err", err)
				}
			}) {
				wg.Done()
			}
		}
		wg.Wait()
	}
}

// pollFollower asks member s for its status, records its progress and,
// if it is a caught-up non-voter, promotes it.
func (n *Node) pollFollower(s raft.Server, confIndex uint64) error {
	p := n.polling(string(s.ID))
	ctx, cancel := context.WithTimeout(n.ctx, max(n.cfg.PromoteInterval, time.Second))
	defer cancel()
	st, err := n.askStatus(ctx, string(s.Address))
	if err != nil {
		return err
	}
	if st.ID != string(s.ID) {
		return fmt.Errorf("%s answered at the address of %s", st.ID, s.ID)
	}
	n.answered(st.ID, st.AppliedIndex, p.polled)
	if s.Suffrage != raft.Nonvoter {
		return nil
	}
	commit := n.raft.CommitIndex()
	// It has seen its own addition (so it is not empty) and is close to
	// the commit index.
	if st.AppliedIndex < confIndex || st.AppliedIndex+n.cfg.PromoteLag < commit {
		return nil
	}
	if err := waitFuture(ctx, n.raft.AddVoter(s.ID, s.Address, confIndex, 0)); err != nil {
		return mapConfigErr("promote "+string(s.ID), err)
	}
	n.log.Info("promoted caught-up member to voter", "id", s.ID, "applied_index", st.AppliedIndex, "commit_index", commit)
	return nil
}

// metaLoop keeps this node's entry in the replicated metadata current
// (its client address may change across restarts).
func (n *Node) metaLoop() {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		changed := n.leaderChanged()
		select {
		case <-t.C:
		case <-changed:
		case <-n.metaPoke:
		case <-n.ctx.Done():
			return
		}
		want := fsm.NodeMeta(n.Info())
		if cur, ok := n.fsm.Member(n.cfg.NodeID); !ok || cur != want {
			if _, id := n.raft.LeaderWithID(); id != "" && n.Status().Suffrage != "" {
				ctx, cancel := context.WithTimeout(n.ctx, n.cfg.LeaderWait)
				if err := n.admin(ctx, opSetMeta, NodeInfo(want)); err != nil && n.ctx.Err() == nil {
					n.log.Debug("cannot record this node's addresses yet", "err", err)
				}
				cancel()
			}
		}
		t.Reset(metaRefresh)
	}
}
