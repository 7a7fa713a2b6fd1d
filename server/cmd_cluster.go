package server

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/internal/redisutil"
)

// clusterSlots is the number of Redis Cluster hash slots. The Raft group
// serves all of them: raftstream is a one-shard Redis Cluster whose master
// is the Raft leader and whose replicas are the other members.
const clusterSlots = 16384

// clusterNode is one member as the CLUSTER and SENTINEL commands show it.
type clusterNode struct {
	id     string // Redis-style node ID: 40 hex digits (nodeRedisID)
	host   string // client host clients should dial; "" when unknown (as Redis)
	port   int
	cport  int // the Raft port, which plays the cluster bus's part
	master bool
	self   bool
	// failed: the leader has not heard from this member for replicaGone.
	failed bool
	offset uint64
	// lastContact is when the leader last heard from the member (zero
	// if unknown, e.g. on a follower).
	lastContact time.Time
}

// clusterView is the one-shard topology every node derives from the Raft
// configuration and the replicated member metadata (the client addresses
// that metaLoop publishes, the same ones INFO replication and ROLE show).
type clusterView struct {
	nodes []clusterNode // the master first, then the replicas in configuration order
	// leaderKnown is false while no leader with a known client address
	// exists; this node then stands in as the master, because any node
	// forwards the writes it gets once a leader is elected.
	leaderKnown bool
	term        uint64
}

// nodeRedisID maps a Raft node ID to a Redis node ID (40 hex digits), the
// same on every node, since cluster clients and tools expect that shape.
func nodeRedisID(raftID string) string {
	sum := sha1.Sum([]byte("raftstream-node:" + raftID))
	return hex.EncodeToString(sum[:])
}

// splitAddr splits host:port leniently: a bad or empty address gives ""
// and 0.
func splitAddr(addr string) (string, int) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", 0
	}
	return host, p
}

// clusterView builds the topology as this node sees it. Members whose
// client address is not known yet are left out (clients could not reach
// them), except this node, which reports its listener's port and an empty
// host, as a Redis node that does not know its own IP does.
func (s *Server) clusterView() clusterView {
	st := s.be.Status()
	now := time.Now()
	v := clusterView{term: st.Term}
	self := clusterNode{id: nodeRedisID(st.NodeID), self: true, offset: st.AppliedIndex, master: st.State == "leader"}
	self.host, self.port = splitAddr(st.ClientAddr)
	if self.port == 0 {
		if a, ok := s.Addr().(*net.TCPAddr); ok {
			self.port = a.Port
		}
	}
	_, self.cport = splitAddr(st.RaftAddr)

	// All members in configuration order, this node included.
	var members []cluster.Member
	if a, ok := s.be.(adminBackend); ok {
		members, _ = a.Members()
	}
	selfListed := false
	for _, m := range members {
		if m.Self {
			v.nodes = append(v.nodes, self)
			selfListed = true
			continue
		}
		n := clusterNode{id: nodeRedisID(m.ID), offset: m.Applied, lastContact: m.LastContact}
		if n.host, n.port = splitAddr(m.ClientAddr); n.port == 0 {
			continue
		}
		_, n.cport = splitAddr(m.RaftAddr)
		n.master = m.State == "leader" && !self.master
		n.failed = self.master && memberGone(m, now)
		v.nodes = append(v.nodes, n)
	}
	if !selfListed { // not (yet) in the configuration, or no membership to ask
		v.nodes = append(v.nodes, self)
	}
	master := slices.IndexFunc(v.nodes, func(n clusterNode) bool { return n.master })
	v.leaderKnown = master >= 0
	if master < 0 {
		master = slices.IndexFunc(v.nodes, func(n clusterNode) bool { return n.self })
		v.nodes[master].master = true
	}
	m := v.nodes[master]
	v.nodes = append([]clusterNode{m}, slices.Delete(v.nodes, master, master+1)...)
	return v
}

// memberGone reports, on the leader, whether member m has left the
// status polls unanswered for replicaGone: since its last answer, or since
// the first poll of this leader if it never answered one.
func memberGone(m cluster.Member, now time.Time) bool {
	since := m.LastContact
	if since.IsZero() {
		since = m.FirstPoll
	}
	return !since.IsZero() && now.Sub(since) >= replicaGone
}

// replicas are the nodes after the master that are not known to have
// failed: what CLUSTER SLOTS and SHARDS list, as Redis leaves failed
// replicas out of CLUSTER SLOTS.
func (v clusterView) replicas() []clusterNode {
	var out []clusterNode
	for _, n := range v.nodes[1:] {
		if !n.failed {
			out = append(out, n)
		}
	}
	return out
}

// keyHashSlot is Redis Cluster's key slot: CRC16 (XMODEM) of the key, or
// of its hash tag (the part between the first '{' and the next '}', if
// not empty), modulo 16384.
func keyHashSlot(key []byte) int {
	if i := strings.IndexByte(string(key), '{'); i >= 0 {
		if j := strings.IndexByte(string(key[i+1:]), '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) & (clusterSlots - 1))
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the
// checksum Redis Cluster hashes keys with.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// clusterCommand is the CLUSTER container: the discovery subcommands
// Redis Cluster clients use, answered from the Raft group's membership.
// Subcommands that manage slots or nodes are refused with a pointer to
// the RAFT commands that do that job here.
func clusterCommand() *cmdDef {
	flagsInfo := []string{"stale"}
	sub := func(name string, arity int, summary, complexity string, run func(*call)) *cmdDef {
		return &cmdDef{name: "cluster|" + name, arity: arity, flags: flagsInfo, acl: []string{"@slow"},
			tips: []string{"nondeterministic_output"}, group: "cluster", since: "3.0.0",
			summary: summary, complexity: complexity, run: run}
	}
	keyslot := sub("keyslot", 3, "Returns the hash slot for a key.", "O(N) where N is the number of bytes in the key", cmdClusterKeyslot)
	keyslot.tips = nil
	help := sub("help", 2, "Returns helpful text about the different subcommands.", "O(1)", cmdClusterHelp)
	help.tips, help.since, help.flags = nil, "5.0.0", []string{"loading", "stale"}
	shards := sub("shards", 2, "Returns the mapping of cluster slots to shards.", "O(N) where N is the total number of cluster nodes", cmdClusterShards)
	shards.since = "7.0.0"
	replicas := func(name string) *cmdDef {
		c := sub(name, 3, "Lists the replica nodes of a master node.", "O(N) where N is the number of replicas.", cmdClusterReplicas)
		c.flags, c.acl = []string{"admin", "stale"}, aclAdmin
		return c
	}
	myid := sub("myid", 2, "Returns the ID of a node.", "O(1)", cmdClusterMyID)
	myid.tips = nil
	subs := []*cmdDef{
		sub("countkeysinslot", 3, "Returns the number of keys in a hash slot.", "O(1)", cmdClusterCountKeysInSlot),
		sub("getkeysinslot", 4, "Returns the key names in a hash slot.", "O(N) where N is the number of requested keys", cmdClusterGetKeysInSlot),
		help,
		sub("info", 2, "Returns information about the state of a node.", "O(1)", cmdClusterInfo),
		keyslot,
		myid,
		sub("nodes", 2, "Returns the cluster configuration for a node.", "O(N) where N is the total number of Cluster nodes", cmdClusterNodes),
		replicas("replicas"),
		replicas("slaves"),
		shards,
		sub("slots", 2, "Returns the mapping of cluster slots to nodes.", "O(N) where N is the total number of Cluster nodes", cmdClusterSlots),
	}
	for _, c := range subs[:2] { // COUNTKEYSINSLOT, GETKEYSINSLOT read keys: they see the pipeline's writes
		c.readsState = true
	}
	subs[0].tips = nil
	for name, arity := range clusterAdminSubs {
		c := sub(name, arity, "Not supported by raftstream: membership is managed with the RAFT commands.", "O(1)", cmdClusterAdmin)
		c.flags, c.acl, c.tips = []string{"admin", "no_async_loading", "stale"}, aclAdmin, nil
		switch name {
		case "reset": // Redis refuses it in scripts but runs it while loading
			c.flags = []string{"admin", "noscript", "stale"}
		case "bumpepoch":
			c.tips = []string{"nondeterministic_output"}
		}
		subs = append(subs, c)
	}
	slices.SortFunc(subs, func(a, b *cmdDef) int { return strings.Compare(a.name, b.name) })
	return &cmdDef{name: "cluster", arity: -2, acl: []string{"@slow"}, group: "cluster", since: "3.0.0",
		summary: "A container for Redis Cluster commands.", complexity: "Depends on subcommand.", subs: subs}
}

// clusterAdminSubs are the Redis Cluster subcommands that manage slots,
// nodes and failover, with their Redis arities. A Raft group has one
// shard and elects its own leader, so they have no meaning here; they get
// an error that says what to use instead.
var clusterAdminSubs = map[string]int{
	"addslots": -3, "addslotsrange": -4, "bumpepoch": 2, "delslots": -3, "delslotsrange": -4,
	"failover": -2, "flushslots": 2, "forget": 3, "meet": -4, "replicate": 3, "reset": -2,
	"saveconfig": 2, "set-config-epoch": 3, "setslot": -4,
}

var clusterHelp = []string{
	"COUNTKEYSINSLOT <slot>",
	"    Return the number of keys in <slot>.",
	"GETKEYSINSLOT <slot> <count>",
	"    Return key names stored by current node in a slot.",
	"INFO",
	"    Return information about the cluster.",
	"KEYSLOT <key>",
	"    Return the hash slot for <key>.",
	"MYID",
	"    Return the node id.",
	"NODES",
	"    Return cluster configuration seen by node. Output format:",
	"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
	"REPLICAS <node-id>",
	"    Return <node-id> replicas.",
	"SHARDS",
	"    Return information about slot range mappings and the nodes associated with them.",
	"SLOTS",
	"    Return information about slots range mappings. Each range is made of:",
	"    start, end, master and replicas IP addresses, ports and ids",
}

func cmdClusterHelp(x *call) { writeHelp(x.w, x.argv[0], clusterHelp) }

func cmdClusterAdmin(x *call) {
	x.w.WriteError("ERR CLUSTER " + upper(x.argv[1]) + " is not supported by raftstream: one Raft group serves all 16384 slots; manage members with RAFT ADD/REMOVE/TRANSFER")
}

func cmdClusterMyID(x *call) { x.w.WriteBulkString(nodeRedisID(x.s.be.Status().NodeID)) }

func cmdClusterKeyslot(x *call) { x.w.WriteInt(int64(keyHashSlot(x.argv[2]))) }

// parseSlot reads a slot argument, or writes Redis's error and reports
// false.
func (x *call) parseSlot(arg []byte) (int, bool) {
	slot, ok := redisutil.ParseLL(arg)
	if !ok {
		x.w.WriteError("ERR value is not an integer or out of range")
		return 0, false
	}
	if slot < 0 || slot >= clusterSlots {
		x.w.WriteError("ERR Invalid slot")
		return 0, false
	}
	return int(slot), true
}

// cmdClusterCountKeysInSlot counts the keys of the connection's database
// in a slot. Redis keeps a per-slot index and answers in O(1); here it is a
// walk over the keyspace.
func cmdClusterCountKeysInSlot(x *call) {
	slot, ok := x.parseSlot(x.argv[2])
	if !ok {
		return
	}
	var n int64
	db := x.cl.getDB()
	x.s.be.Read(func(st *engine.State) {
		st.VisitKeys(db, func(key string) bool {
			if keyHashSlot([]byte(key)) == slot {
				n++
			}
			return true
		})
	})
	x.w.WriteInt(n)
}

// cmdClusterGetKeysInSlot lists up to count keys of the connection's
// database in a slot, in keyspace order (a walk, as for COUNTKEYSINSLOT).
func cmdClusterGetKeysInSlot(x *call) {
	slot, okSlot := redisutil.ParseLL(x.argv[2])
	count, okCount := redisutil.ParseLL(x.argv[3])
	switch {
	case !okSlot || !okCount:
		x.w.WriteError("ERR value is not an integer or out of range")
		return
	case slot < 0 || slot >= clusterSlots || count < 0:
		x.w.WriteError("ERR Invalid slot or number of keys")
		return
	}
	var keys []string
	db := x.cl.getDB()
	x.s.be.Read(func(st *engine.State) {
		st.VisitKeys(db, func(key string) bool {
			if int64(len(keys)) >= count {
				return false
			}
			if keyHashSlot([]byte(key)) == int(slot) {
				keys = append(keys, key)
			}
			return true
		})
	})
	x.w.WriteArray(len(keys))
	for _, k := range keys {
		x.w.WriteBulkString(k)
	}
}

func cmdClusterInfo(x *call) {
	v := x.s.clusterView()
	state, ok, fail := "ok", clusterSlots, 0
	if !v.leaderKnown {
		state, ok, fail = "fail", 0, clusterSlots
	}
	var b infoBuilder
	b.kv("cluster_state", state)
	b.kv("cluster_slots_assigned", clusterSlots)
	b.kv("cluster_slots_ok", ok)
	b.kv("cluster_slots_pfail", 0)
	b.kv("cluster_slots_fail", fail)
	b.kv("cluster_known_nodes", len(v.nodes))
	b.kv("cluster_size", 1)
	b.kv("cluster_current_epoch", v.term)
	b.kv("cluster_my_epoch", v.term)
	b.kv("cluster_stats_messages_sent", 0)
	b.kv("cluster_stats_messages_received", 0)
	b.kv("total_cluster_links_buffer_limit_exceeded", 0)
	x.w.WriteVerbatim(b.String())
}

// cmdClusterSlots answers one range, 0-16383, whose master is the leader
// and whose replicas are the other members, each as [host, port, id,
// {networking metadata}] (Redis 7's shape; the metadata is empty since no
// hostname is announced).
func cmdClusterSlots(x *call) {
	v := x.s.clusterView()
	nodes := append([]clusterNode{v.nodes[0]}, v.replicas()...)
	x.w.WriteArray(1)
	x.w.WriteArray(2 + len(nodes))
	x.w.WriteInt(0)
	x.w.WriteInt(clusterSlots - 1)
	for _, n := range nodes {
		x.w.WriteArray(4)
		x.w.WriteBulkString(n.host)
		x.w.WriteInt(int64(n.port))
		x.w.WriteBulkString(n.id)
		x.w.WriteMap(0)
	}
}

// cmdClusterShards answers one shard holding every slot, in Redis 7's
// shape.
func cmdClusterShards(x *call) {
	v := x.s.clusterView()
	nodes := append([]clusterNode{v.nodes[0]}, v.replicas()...)
	x.w.WriteArray(1)
	x.w.WriteMap(2)
	x.w.WriteBulkString("slots")
	x.w.WriteArray(2)
	x.w.WriteInt(0)
	x.w.WriteInt(clusterSlots - 1)
	x.w.WriteBulkString("nodes")
	x.w.WriteArray(len(nodes))
	for _, n := range nodes {
		role, health := "replica", "online"
		if n.master {
			role = "master"
			if !v.leaderKnown {
				health = "failed"
			}
		}
		x.w.WriteMap(7)
		x.w.WriteBulkString("id")
		x.w.WriteBulkString(n.id)
		x.w.WriteBulkString("port")
		x.w.WriteInt(int64(n.port))
		x.w.WriteBulkString("ip")
		x.w.WriteBulkString(n.host)
		x.w.WriteBulkString("endpoint")
		x.w.WriteBulkString(n.host)
		x.w.WriteBulkString("role")
		x.w.WriteBulkString(role)
		x.w.WriteBulkString("replication-offset")
		x.w.WriteInt(int64(n.offset))
		x.w.WriteBulkString("health")
		x.w.WriteBulkString(health)
	}
}

// cmdClusterNodes writes Redis's CLUSTER NODES text: one line per member,
// the master holding slots 0-16383, config epochs as the Raft term.
func cmdClusterNodes(x *call) {
	v := x.s.clusterView()
	var b strings.Builder
	for _, n := range v.nodes {
		b.WriteString(v.nodeLine(n))
		b.WriteByte('\n')
	}
	x.w.WriteVerbatim(b.String())
}

// cmdClusterReplicas lists the replicas of a master as CLUSTER NODES
// lines, one bulk string each.
func cmdClusterReplicas(x *call) {
	v := x.s.clusterView()
	id := string(x.argv[2])
	switch {
	case id == v.nodes[0].id:
	case slices.ContainsFunc(v.nodes, func(n clusterNode) bool { return n.id == id }):
		x.w.WriteError("ERR The specified node is not a master")
		return
	default:
		x.w.WriteError("ERR Unknown node " + truncate(x.argv[2], 128))
		return
	}
	x.w.WriteArray(len(v.nodes) - 1)
	for _, n := range v.nodes[1:] {
		x.w.WriteBulkString(v.nodeLine(n))
	}
}

// nodeLine is n's CLUSTER NODES line, without the newline.
func (v clusterView) nodeLine(n clusterNode) string {
	var flags []string
	if n.self {
		flags = append(flags, "myself")
	}
	master, slots := v.nodes[0].id, ""
	if n.master {
		flags = append(flags, "master")
		master, slots = "-", " 0-16383"
	} else {
		flags = append(flags, "slave")
	}
	link := "connected"
	if n.failed {
		flags = append(flags, "fail")
		link = "disconnected"
	}
	var pong int64
	if !n.lastContact.IsZero() {
		pong = n.lastContact.UnixMilli()
	}
	return fmt.Sprintf("%s %s:%d@%d %s %s 0 %d %d %s%s",
		n.id, n.host, n.port, n.cport, strings.Join(flags, ","), master, pong, v.term, link, slots)
}
