package server

import (
	"net"
	"slices"
	"strconv"
	"strings"
)

// sentinelCommand is the SENTINEL container, the discovery half of Redis
// Sentinel served by every node: it names the Raft leader as the master
// of one monitored service (Config.SentinelMasterName), the other members
// as its replicas and as the other sentinels. Failover-aware clients
// (go-redis NewFailoverClient, redis-py Sentinel) given any nodes as their
// sentinels find the leader this way. Raft elects the leader, so the
// subcommands that configure monitoring or start a failover are refused.
func sentinelCommand() *cmdDef {
	sub := func(name string, arity int, summary string, run func(*call)) *cmdDef {
		return &cmdDef{name: "sentinel|" + name, arity: arity, flags: []string{"loading", "stale"},
			acl: []string{"@slow"}, group: "sentinel", since: "2.8.4", summary: summary,
			complexity: "O(N) where N is the number of cluster members", run: run}
	}
	subs := []*cmdDef{
		sub("get-master-addr-by-name", 3, "Returns the port and address of a master instance.", cmdSentinelGetMasterAddr),
		sub("help", 2, "Returns helpful text about the different subcommands.", cmdSentinelHelp),
		sub("master", 3, "Returns the state of a master instance.", cmdSentinelMaster),
		sub("masters", 2, "Returns a list of monitored masters.", cmdSentinelMasters),
		sub("myid", 2, "Returns the Sentinel instance ID.", cmdSentinelMyID),
		sub("replicas", 3, "Returns a list of the monitored replicas.", cmdSentinelReplicas),
		sub("sentinels", 3, "Returns a list of Sentinel instances.", cmdSentinelSentinels),
		sub("slaves", 3, "Returns a list of the monitored replicas.", cmdSentinelReplicas),
	}
	for _, name := range []string{"failover", "monitor", "remove", "reset", "set", "flushconfig", "config"} {
		c := sub(name, -2, "Not supported by raftstream: Raft elects the master.", cmdSentinelAdmin)
		c.flags, c.acl = []string{"admin", "noscript", "loading", "stale"}, aclAdmin
		subs = append(subs, c)
	}
	slices.SortFunc(subs, func(a, b *cmdDef) int { return strings.Compare(a.name, b.name) })
	return &cmdDef{name: "sentinel", arity: -2, acl: []string{"@slow"}, group: "sentinel", since: "2.8.4",
		summary: "A container for Redis Sentinel commands.", complexity: "Depends on subcommand.", subs: subs}
}

var sentinelHelp = []string{
	"GET-MASTER-ADDR-BY-NAME <master-name>",
	"    Return the ip and port number of the master with that name.",
	"MASTER <master-name>",
	"    Show the state and info of the specified master.",
	"MASTERS",
	"    Show a list of monitored masters and their state.",
	"MYID",
	"    Return the ID of the Sentinel instance.",
	"REPLICAS <master-name>",
	"    Show a list of replicas for this master and their state.",
	"SENTINELS <master-name>",
	"    Show a list of Sentinel instances for this master and their state.",
}

func cmdSentinelHelp(x *call) { writeHelp(x.w, x.argv[0], sentinelHelp) }

func cmdSentinelAdmin(x *call) {
	x.w.WriteError("ERR SENTINEL " + upper(x.argv[1]) + " is not supported by raftstream: Raft elects the master; use RAFT TRANSFER to move it")
}

func cmdSentinelMyID(x *call) { x.w.WriteBulkString(nodeRedisID(x.s.be.Status().NodeID)) }

// sentinelMaster resolves the master name argument, or writes Redis's
// error and reports false.
func (x *call) sentinelMaster() bool {
	if string(x.argv[2]) != x.s.cfg.SentinelMasterName {
		x.w.WriteError("ERR No such master with that name")
		return false
	}
	return true
}

// cmdSentinelGetMasterAddr replies [host, port] of the leader, or a null
// array while no leader is known (Redis answers null for an unknown name;
// a client then asks the next sentinel).
func cmdSentinelGetMasterAddr(x *call) {
	if string(x.argv[2]) != x.s.cfg.SentinelMasterName {
		x.w.WriteNullArray()
		return
	}
	v := x.s.clusterView()
	if !v.leaderKnown {
		x.w.WriteNullArray()
		return
	}
	x.w.WriteArray(2)
	x.w.WriteBulkString(v.nodes[0].host)
	x.w.WriteBulkString(strconv.Itoa(v.nodes[0].port))
}

func cmdSentinelMasters(x *call) {
	x.w.WriteArray(1)
	x.s.writeSentinelMaster(x)
}

func cmdSentinelMaster(x *call) {
	if x.sentinelMaster() {
		x.s.writeSentinelMaster(x)
	}
}

// writeSentinelMaster writes the master's state in the field order of
// Redis Sentinel's reply. While no leader is known the master is reported
// down (s_down,o_down), which failover clients skip.
func (s *Server) writeSentinelMaster(x *call) {
	v := s.clusterView()
	m := v.nodes[0]
	flags := "master"
	if !v.leaderKnown {
		flags = "master,s_down,o_down"
	}
	var others int
	for _, n := range v.nodes {
		if !n.self {
			others++
		}
	}
	writeFields(x, append(instanceFields(s.cfg.SentinelMasterName, m, flags),
		[][2]string{
			{"info-refresh", "0"},
			{"role-reported", "master"},
			{"role-reported-time", "0"},
			{"config-epoch", strconv.FormatUint(v.term, 10)},
			{"num-slaves", strconv.Itoa(len(v.replicas()))},
			{"num-other-sentinels", strconv.Itoa(others)},
			{"quorum", strconv.Itoa(len(v.nodes)/2 + 1)},
			{"failover-timeout", "180000"},
			{"parallel-syncs", "1"},
		}...))
}

func cmdSentinelReplicas(x *call) {
	if !x.sentinelMaster() {
		return
	}
	v := x.s.clusterView()
	m := v.nodes[0]
	reps := v.replicas()
	x.w.WriteArray(len(reps))
	for _, n := range reps {
		link := "ok"
		if !v.leaderKnown {
			link = "err"
		}
		writeFields(x, append(instanceFields(net.JoinHostPort(n.host, strconv.Itoa(n.port)), n, "slave"), [][2]string{
			{"info-refresh", "0"},
			{"role-reported", "slave"},
			{"role-reported-time", "0"},
			{"master-link-down-time", "0"},
			{"master-link-status", link},
			{"master-host", m.host},
			{"master-port", strconv.Itoa(m.port)},
			{"slave-priority", "100"},
			{"slave-repl-offset", strconv.FormatUint(n.offset, 10)},
			{"replica-announced", "1"},
		}...))
	}
}

// cmdSentinelSentinels lists the other members: every node answers
// SENTINEL, so each is a sentinel of the service.
func cmdSentinelSentinels(x *call) {
	if !x.sentinelMaster() {
		return
	}
	v := x.s.clusterView()
	var others []clusterNode
	for _, n := range v.nodes {
		if !n.self {
			others = append(others, n)
		}
	}
	x.w.WriteArray(len(others))
	for _, n := range others {
		writeFields(x, append(instanceFields(n.id, n, "sentinel"), [][2]string{
			{"last-hello-message", "0"},
			{"voted-leader", "?"},
			{"voted-leader-epoch", "0"},
		}...))
	}
}

// instanceFields are the fields Sentinel reports first for every kind of
// instance. The link and ping fields describe Sentinel's own monitoring
// connections, which raftstream does not have: they are constant.
func instanceFields(name string, n clusterNode, flags string) [][2]string {
	return [][2]string{
		{"name", name},
		{"ip", n.host},
		{"port", strconv.Itoa(n.port)},
		{"runid", n.id},
		{"flags", flags},
		{"link-pending-commands", "0"},
		{"link-refcount", "1"},
		{"last-ping-sent", "0"},
		{"last-ok-ping-reply", "0"},
		{"last-ping-reply", "0"},
		{"down-after-milliseconds", "30000"},
	}
}

// writeFields writes field/value pairs as Sentinel does: a map in RESP3,
// a flat array in RESP2, every value a bulk string.
func writeFields(x *call, kv [][2]string) {
	x.w.WriteMap(len(kv))
	for _, f := range kv {
		x.w.WriteBulkString(f[0])
		x.w.WriteBulkString(f[1])
	}
}
