package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/cluster"
)

// adminGrace is added to the command timeout for membership calls: the
// node waits up to its leader wait for a leader and then forwards the
// change, so the server must wait longer than that or it would report a
// timeout for a change that is still going through.
const adminGrace = 10 * time.Second

// raftCommands returns the RAFT container and the per-connection
// READONLY/READWRITE switches.
func raftCommands() []*cmdDef {
	flagsRaftAdmin := []string{"admin", "noscript", "loading", "stale"}
	flagsRaftInfo := []string{"loading", "stale"}
	sub := func(name string, arity int, flags []string, summary string, run func(*call)) *cmdDef {
		acl := aclAdmin
		if !hasFlag(flags, "admin") {
			acl = []string{"@slow"}
		}
		return &cmdDef{name: "raft|" + name, arity: arity, flags: flags, acl: acl, group: "server", since: "8.0.0",
			summary: summary, complexity: "O(N) where N is the number of cluster members", run: run, readsState: true}
	}
	return []*cmdDef{
		{name: "raft", arity: -2, acl: []string{"@slow"}, group: "server", since: "8.0.0",
			summary: "A container for Raft cluster commands", complexity: "Depends on subcommand.",
			subs: []*cmdDef{
				sub("add", -4, flagsRaftAdmin, "Add a node to the Raft cluster as a non-voter", cmdRaftAdd),
				withComplexity(sub("backup", 2, []string{"admin", "noscript"}, "Stream a consistent backup of the replicated state", cmdRaftBackup),
					"O(N) where N is the size of the replicated state"),
				sub("help", 2, flagsHelp, "Show helpful text about the different subcommands", cmdRaftHelp),
				sub("info", 2, flagsRaftInfo, "Get the Raft state of this node", cmdRaftInfo),
				sub("leader", 2, flagsRaftInfo, "Get the Raft leader's node ID and client address", cmdRaftLeader),
				sub("nodes", 2, flagsRaftInfo, "List the members of the Raft cluster", cmdRaftNodes),
				sub("remove", 3, flagsRaftAdmin, "Remove a node from the Raft cluster", cmdRaftRemove),
				sub("snapshot", 2, flagsRaftAdmin, "Take a Raft snapshot on this node now", cmdRaftSnapshot),
				sub("transfer", -2, flagsRaftAdmin, "Hand Raft leadership to another voter", cmdRaftTransfer),
			}},
		// Metadata as Redis 7 reports it (COMMAND INFO / DOCS).
		{name: "readonly", arity: 1, flags: flagsConnFast, acl: aclFastConn, group: "cluster", since: "3.0.0",
			summary: "Enables read queries for a connection to a cluster replica node", complexity: "O(1)", run: cmdReadonly},
		{name: "readwrite", arity: 1, flags: flagsConnFast, acl: aclFastConn, group: "cluster", since: "3.0.0",
			summary: "Disables read queries for a connection to a cluster replica node", complexity: "O(1)", run: cmdReadwrite},
	}
}

func withComplexity(c *cmdDef, complexity string) *cmdDef {
	c.complexity = complexity
	return c
}

var raftHelp = []string{
	"ADD <id> <raft-addr> [<client-addr> [<incarnation>]]",
	"    Add a node as a non-voter; it becomes a voter once caught up. Works on any member.",
	"BACKUP",
	"    Reply a consistent backup of the replicated state as one bulk string (the file `raftstream backup` writes).",
	"INFO",
	"    Show this node's Raft state (the INFO raft section).",
	"LEADER",
	"    Return the leader's node ID and client address, or null if no leader is known.",
	"NODES",
	"    List the members: id, raft-addr, client-addr, suffrage, state, self.",
	"REMOVE <id>",
	"    Remove a member from the cluster.",
	"SNAPSHOT",
	"    Take a Raft snapshot on this node now (and truncate its log).",
	"TRANSFER [<id>]",
	"    Hand leadership to <id>, or to the most up-to-date voter.",
}

func cmdRaftHelp(x *call) { writeHelp(x.w, x.argv[0], raftHelp) }

// admin returns the backend's membership interface, or writes an error.
func (x *call) admin() (adminBackend, bool) {
	a, ok := x.s.be.(adminBackend)
	if !ok {
		x.w.WriteError("ERR this server has no Raft node to administer")
	}
	return a, ok
}

// adminCtx bounds a membership call (see adminGrace).
func (x *call) adminCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), x.s.cfg.CommandTimeout+adminGrace)
}

func cmdRaftInfo(x *call) {
	var b infoBuilder
	b.WriteString("# Raft\r\n")
	x.s.infoRaft(&b, nil)
	x.w.WriteVerbatim(b.String())
}

// cmdRaftLeader replies [id, client-addr] (client-addr null if the leader
// has not published it yet), or a null array when no leader is known.
func cmdRaftLeader(x *call) {
	st := x.s.be.Status()
	if st.LeaderID == "" {
		x.w.WriteNullArray()
		return
	}
	x.w.WriteArray(2)
	x.w.WriteBulkString(st.LeaderID)
	if st.LeaderClientAddr == "" {
		x.w.WriteNull()
	} else {
		x.w.WriteBulkString(st.LeaderClientAddr)
	}
}

// cmdRaftNodes replies one entry per member, in configuration order: a
// map in RESP3, a flat field/value array in RESP2 (like XINFO).
func cmdRaftNodes(x *call) {
	a, ok := x.admin()
	if !ok {
		return
	}
	ms, err := a.Members()
	if err != nil {
		x.w.WriteError("ERR " + sanitizeLine(err.Error()))
		return
	}
	x.w.WriteArray(len(ms))
	for _, m := range ms {
		x.w.WriteMap(6)
		x.w.WriteBulkString("id")
		x.w.WriteBulkString(m.ID)
		x.w.WriteBulkString("raft-addr")
		x.w.WriteBulkString(m.RaftAddr)
		x.w.WriteBulkString("client-addr")
		x.w.WriteBulkString(m.ClientAddr)
		x.w.WriteBulkString("suffrage")
		x.w.WriteBulkString(m.Suffrage)
		x.w.WriteBulkString("state")
		x.w.WriteBulkString(m.State)
		x.w.WriteBulkString("self")
		if m.Self {
			x.w.WriteInt(1)
		} else {
			x.w.WriteInt(0)
		}
	}
}

// cmdRaftAdd is RAFT ADD id raft-addr [client-addr [incarnation]], for
// operators, and the request a joining node sends to a seed given by
// client address (the deprecated RESP join path, cluster/join_resp.go).
func cmdRaftAdd(x *call) {
	if len(x.argv) > 6 {
		x.w.WriteError("ERR wrong number of arguments for 'raft|add' command")
		return
	}
	info := cluster.NodeInfo{ID: string(x.argv[2]), RaftAddr: string(x.argv[3])}
	if len(x.argv) > 4 {
		info.ClientAddr = string(x.argv[4])
	}
	if len(x.argv) > 5 {
		info.Incarnation = string(x.argv[5])
	}
	if info.ID == "" {
		x.w.WriteError("ERR the node ID must not be empty")
		return
	}
	if _, _, err := net.SplitHostPort(info.RaftAddr); err != nil {
		x.w.WriteError("ERR invalid Raft address '" + truncate(x.argv[3], 128) + "': want host:port")
		return
	}
	if info.ClientAddr != "" {
		if _, _, err := net.SplitHostPort(info.ClientAddr); err != nil {
			x.w.WriteError("ERR invalid client address '" + truncate(x.argv[4], 128) + "': want host:port")
			return
		}
	}
	a, ok := x.admin()
	if !ok {
		return
	}
	ctx, cancel := x.adminCtx()
	defer cancel()
	x.adminReply(a.AddMember(ctx, info), info.ID)
}

func cmdRaftRemove(x *call) {
	a, ok := x.admin()
	if !ok {
		return
	}
	ctx, cancel := x.adminCtx()
	defer cancel()
	id := string(x.argv[2])
	x.adminReply(a.RemoveMember(ctx, id), id)
}

func cmdRaftTransfer(x *call) {
	if len(x.argv) > 3 {
		x.w.WriteError("ERR wrong number of arguments for 'raft|transfer' command")
		return
	}
	var id string
	if len(x.argv) == 3 {
		id = string(x.argv[2])
	}
	a, ok := x.admin()
	if !ok {
		return
	}
	ctx, cancel := x.adminCtx()
	defer cancel()
	x.adminReply(a.TransferLeadership(ctx, id), id)
}

func cmdRaftSnapshot(x *call) {
	a, ok := x.admin()
	if !ok {
		return
	}
	ctx, cancel := x.adminCtx()
	defer cancel()
	err := a.Snapshot(ctx)
	if err != nil && strings.Contains(err.Error(), "nothing new to snapshot") {
		// raft refuses a snapshot when nothing was applied since the last
		// one: the state is already saved, which is what was asked.
		err = nil
	}
	x.adminReply(err, "")
}

// adminReply writes +OK or the error of a membership call.
func (x *call) adminReply(err error, id string) {
	if err == nil {
		x.w.WriteStatus("OK")
		return
	}
	x.w.WriteError(adminError(err, id, x.s.be.Status()))
}

// adminError maps a membership call's error to a Redis-style reply.
// Refusals that certainly changed nothing are TRYAGAIN, like writes.
func adminError(err error, id string, st cluster.Status) string {
	switch {
	case errors.Is(err, cluster.ErrNoLeader):
		return errNoLeader
	case errors.Is(err, cluster.ErrNotLeader):
		return "TRYAGAIN " + leaderHint(st) + "; the command was not applied"
	case errors.Is(err, cluster.ErrNoSuchMember):
		return "ERR no such Raft member '" + truncate([]byte(id), 128) + "'"
	case errors.Is(err, cluster.ErrClosed) && !errors.Is(err, cluster.ErrUnknownOutcome):
		return "ERR the Raft node is shutting down; the command was not applied"
	case errors.Is(err, cluster.ErrUnknownOutcome),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "ERR the membership change's outcome is unknown (" + sanitizeLine(err.Error()) + "); check RAFT NODES"
	default:
		return "ERR " + sanitizeLine(strings.TrimPrefix(err.Error(), "cluster: "))
	}
}

// cmdReadonly makes this connection's reads skip the read barrier: they
// see this node's state as applied so far, which on a follower may lag
// the leader (as reads from a Redis Cluster replica do). Unlike Redis
// outside cluster mode, it is accepted: every raftstream node is a
// replica that can serve stale reads.
func cmdReadonly(x *call) {
	x.cl.readOnly.Store(true)
	x.w.WriteStatus("OK")
}

// cmdReadwrite restores linearizable reads on this connection.
func cmdReadwrite(x *call) {
	x.cl.readOnly.Store(false)
	x.w.WriteStatus("OK")
}

// readBarrier is the barrier before a read on cl: none with READONLY
// (only a closed node fails), otherwise the linearizable ReadBarrier.
func (s *Server) readBarrier(ctx context.Context, cl *client) error {
	if cl.readOnly.Load() {
		if a, ok := s.be.(adminBackend); ok {
			return a.ReadBarrierStale()
		}
		return nil
	}
	return s.be.ReadBarrier(ctx)
}

// clusterCommands are the commands this file and cmd_debug.go add to the
// server's own: RAFT, READONLY, READWRITE, DEBUG, and the discovery
// commands CLUSTER and SENTINEL.
func clusterCommands() []*cmdDef {
	return append(raftCommands(), debugCommand(), clusterCommand(), sentinelCommand())
}

// cmdRaftBackup replies a backup of the replicated state (cluster.Backup:
// a checksummed file holding the state as of a read barrier) as one bulk
// string. The reply is streamed onto the socket as it is encoded, not
// built in memory: the node would otherwise hold the whole state a second
// time per backup. So it bypasses the reply buffer, after writing the
// replies queued before it.
func cmdRaftBackup(x *call) {
	bb, ok := x.s.be.(backupBackend)
	if !ok {
		x.w.WriteError("ERR this server has no Raft node to back up")
		return
	}
	if x.inTxn {
		x.w.WriteError("ERR RAFT BACKUP is not allowed in transactions")
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), x.s.cfg.CommandTimeout)
	bs, err := bb.Backup(ctx)
	cancel()
	if err != nil {
		x.w.WriteError(backupError(err, x.s.be.Status()))
		return
	}
	defer bs.Release()
	h := bs.Header()
	s, cl := x.s, x.cl
	s.flush(cl)
	s.show(cl, h.Index)
	bw := bufio.NewWriterSize(streamOut{s: s, cl: cl}, outPiece)
	_, err = bw.WriteString("$" + strconv.FormatInt(h.Size(), 10) + "\r\n")
	if err == nil {
		_, err = bs.WriteTo(bw)
	}
	if err == nil {
		_, err = bw.WriteString("\r\n")
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// The bulk string is cut short: the client cannot mistake it for
		// a backup, and the connection cannot carry on in step.
		s.logger.Warn("backup not completed", "client", cl.id, "addr", cl.addr, "err", err)
		if cl.outErr == nil {
			s.dropClient(cl, fmt.Errorf("streaming a backup: %w", err))
		}
		return
	}
	s.logger.Info("backup served", "client", cl.id, "addr", cl.addr, "applied_index", h.Index, "bytes", h.Size(), "duration", time.Since(start).Round(time.Millisecond))
}

// backupError maps a failed backup to its reply: a read barrier that
// failed is TRYAGAIN like any read; anything else is ERR.
func backupError(err error, st cluster.Status) string {
	switch {
	case errors.Is(err, errLoading), errors.Is(err, cluster.ErrNotLeader), errors.Is(err, cluster.ErrClosed),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return readError(err, st)
	default:
		return "ERR backup failed: " + sanitizeLine(err.Error())
	}
}

// streamOut writes straight to a client's socket, through the same
// output accounting (omem, client-output-buffer-limit) as replies.
type streamOut struct {
	s  *Server
	cl *client
}

func (o streamOut) Write(p []byte) (int, error) {
	if o.cl.outErr != nil {
		return 0, o.cl.outErr
	}
	if !o.s.writeOut(o.cl, p, 0) {
		return 0, o.cl.outErr
	}
	return len(p), nil
}
