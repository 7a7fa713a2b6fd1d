package server

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
)

// infoSection is one INFO section: its name (as INFO takes it) and title.
type infoSection struct {
	name, title string
	write       func(s *Server, b *infoBuilder, st *engineInfo)
}

// engineInfo is what the sections read from the state machine.
type engineInfo struct {
	info engine.Info
}

// infoSections returns the sections in the order INFO prints them.
func infoSections() []infoSection {
	return []infoSection{
		{"server", "Server", (*Server).infoServer},
		{"clients", "Clients", (*Server).infoClients},
		{"memory", "Memory", (*Server).infoMemory},
		{"persistence", "Persistence", (*Server).infoPersistence},
		{"stats", "Stats", (*Server).infoStats},
		{"replication", "Replication", (*Server).infoReplication},
		{"commandstats", "Commandstats", (*Server).infoCommandstats},
		{"errorstats", "Errorstats", (*Server).infoErrorstats},
		{"cluster", "Cluster", (*Server).infoCluster},
		{"keyspace", "Keyspace", (*Server).infoKeyspace},
		{"streams", "Streams", (*Server).infoStreams},
		{"raft", "Raft", (*Server).infoRaft},
	}
}

// infoDefault are the sections of a bare INFO (and of "default"); "all"
// and "everything" add commandstats, as in Redis.
var infoDefault = setOf("server", "clients", "memory", "persistence", "stats", "replication",
	"errorstats", "cluster", "keyspace", "streams", "raft")

type infoBuilder struct{ strings.Builder }

func (b *infoBuilder) kv(k string, v any) {
	b.WriteString(k)
	b.WriteByte(':')
	fmt.Fprint(b, v)
	b.WriteString("\r\n")
}

func cmdInfo(x *call) {
	want := make(map[string]bool)
	if len(x.argv) == 1 {
		for k := range infoDefault {
			want[k] = true
		}
	}
	for _, a := range x.argv[1:] {
		switch sec := strings.ToLower(string(a)); sec {
		case "default":
			for k := range infoDefault {
				want[k] = true
			}
		case "all", "everything":
			for _, s := range infoSections() {
				want[s.name] = true
			}
		default:
			want[sec] = true
		}
	}
	var ei *engineInfo
	if want["memory"] || want["keyspace"] || want["streams"] {
		ei = &engineInfo{}
		x.s.be.Read(func(st *engine.State) { ei.info = st.Info() })
	}
	var b infoBuilder
	for _, sec := range infoSections() {
		if !want[sec.name] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + sec.title + "\r\n")
		sec.write(x.s, &b, ei)
	}
	x.w.WriteVerbatim(b.String())
}

func (s *Server) infoServer(b *infoBuilder, _ *engineInfo) {
	now := time.Now()
	uptime := int64(now.Sub(s.started) / time.Second)
	port := 0
	if a, ok := s.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	exe, _ := os.Executable()
	b.kv("redis_version", s.cfg.RedisVersion)
	b.kv("raftstream_version", s.cfg.Version)
	b.kv("redis_git_sha1", "00000000")
	b.kv("redis_git_dirty", 0)
	b.kv("redis_mode", "standalone")
	b.kv("os", runtime.GOOS+" "+runtime.GOARCH)
	b.kv("arch_bits", strconv.Itoa(32<<(^uint(0)>>63)))
	b.kv("go_version", runtime.Version())
	b.kv("process_id", os.Getpid())
	b.kv("run_id", s.runID)
	b.kv("tcp_port", port)
	b.kv("server_time_usec", now.UnixMicro())
	b.kv("uptime_in_seconds", uptime)
	b.kv("uptime_in_days", uptime/86400)
	b.kv("executable", exe)
	b.kv("config_file", s.cfg.ConfigFile)
}

func (s *Server) infoClients(b *infoBuilder, _ *engineInfo) {
	b.kv("connected_clients", s.clients.count())
	b.kv("cluster_connections", 0)
	b.kv("maxclients", s.maxClients.Load())
	b.kv("client_recent_max_input_buffer", 0)
	b.kv("client_recent_max_output_buffer", s.maxOmem())
	b.kv("blocked_clients", s.waiters.blockedClients())
	b.kv("tracking_clients", 0)
	b.kv("pubsub_clients", 0)
	b.kv("watching_clients", 0)
	b.kv("clients_in_timeout_table", 0)
	b.kv("total_watched_keys", 0)
	b.kv("total_blocking_keys", s.waiters.blocked())
}

// humanBytes formats n like Redis's bytesToHuman.
func humanBytes(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", d/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", d/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", d/(1<<30))
	default:
		return fmt.Sprintf("%.2fT", d/(1<<40))
	}
}

func (s *Server) infoMemory(b *infoBuilder, ei *engineInfo) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used := int64(ms.HeapAlloc)
	b.kv("used_memory", used)
	b.kv("used_memory_human", humanBytes(used))
	b.kv("used_memory_rss", int64(ms.Sys))
	b.kv("used_memory_rss_human", humanBytes(int64(ms.Sys)))
	if ei != nil {
		b.kv("used_memory_dataset", ei.info.Bytes)
		b.kv("stream_entries", ei.info.Entries)
	}
	b.kv("mem_clients_normal", s.clientMem.Load())
	b.kv("maxmemory", 0)
	b.kv("maxmemory_human", "0B")
	b.kv("maxmemory_policy", "noeviction")
	b.kv("mem_allocator", "go")
}

func (s *Server) infoPersistence(b *infoBuilder, _ *engineInfo) {
	st := s.be.Status()
	loading, flag := s.loading(), 0
	if loading {
		flag = 1
	}
	b.kv("loading", flag)
	b.kv("async_loading", 0)
	b.kv("rdb_changes_since_last_save", st.ChangesSinceSnapshot)
	b.kv("rdb_bgsave_in_progress", 0)
	b.kv("rdb_last_save_time", s.started.Unix())
	b.kv("rdb_last_bgsave_status", "ok")
	// Every write is in the Raft log before it is acknowledged: the
	// equivalent of an always-fsynced AOF.
	b.kv("aof_enabled", 1)
	b.kv("aof_rewrite_in_progress", 0)
	b.kv("aof_rewrite_scheduled", 0)
	b.kv("aof_last_write_status", "ok")
	if loading {
		s.infoLoading(b)
	}
	b.kv("raft_last_snapshot_index", st.LastSnapshotIndex)
}

func (s *Server) infoStats(b *infoBuilder, _ *engineInfo) {
	ops, inK, outK := s.stats.inst.rates()
	b.kv("total_connections_received", s.stats.connections.Load())
	b.kv("total_commands_processed", s.stats.commands.Load())
	b.kv("instantaneous_ops_per_sec", int64(ops+0.5))
	b.kv("total_net_input_bytes", s.stats.netIn.Load())
	b.kv("total_net_output_bytes", s.stats.netOut.Load())
	b.kv("instantaneous_input_kbps", fmt.Sprintf("%.2f", inK))
	b.kv("instantaneous_output_kbps", fmt.Sprintf("%.2f", outK))
	b.kv("rejected_connections", s.stats.rejected.Load())
	b.kv("expired_keys", 0)
	b.kv("evicted_keys", 0)
	b.kv("evicted_clients", s.stats.evictedClients.Load())
	b.kv("keyspace_hits", 0)
	b.kv("keyspace_misses", 0)
	b.kv("pubsub_channels", 0)
	b.kv("pubsub_patterns", 0)
	b.kv("total_error_replies", s.stats.errorReplies.Load())
	b.kv("unexpected_error_replies", 0)
	b.kv("client_query_buffer_limit_disconnections", s.stats.queryLimitDrops.Load())
	b.kv("client_output_buffer_limit_disconnections", s.stats.outputLimitDrops.Load())
	// raftstream's own: automatic idempotency (RS.IDEMPOTENT).
	b.kv("auto_idempotent_xadds", s.stats.autoIdemXAdds.Load())
	b.kv("auto_idempotent_unnamed_xadds", s.stats.autoIdemUnnamed.Load())
	// raftstream's own: blocked XREADGROUPs served in their XADD's entry.
	b.kv("blocked_xreadgroup_rides", s.stats.rides.Load())
	// Redis 7.2+'s ACL counters.
	b.kv("acl_access_denied_auth", s.stats.aclDeniedAuth.Load())
	b.kv("acl_access_denied_cmd", s.stats.aclDeniedCmd.Load())
	b.kv("acl_access_denied_key", s.stats.aclDeniedKey.Load())
	b.kv("acl_access_denied_channel", 0)
}

// replicaGone is how long a follower may leave the leader's status polls
// unanswered before INFO replication and ROLE stop listing it.
const replicaGone = 10 * time.Second

// replication is the Raft roles seen as Redis replication, for INFO
// replication and ROLE: the leader is the master, the members answering
// its status polls are its replicas, with their applied index as offset.
type replication struct {
	st       cluster.Status
	master   bool
	replicas []cluster.Member // on the master: answered a poll within replicaGone
	now      time.Time
	// On a replica: the leader's client address; "" and "0" while unknown.
	masterHost, masterPort string
}

func (s *Server) replication() replication {
	r := replication{st: s.be.Status(), now: time.Now()}
	if r.st.State == "leader" {
		r.master = true
		if a, ok := s.be.(adminBackend); ok {
			members, _ := a.Members()
			for _, m := range members {
				if !m.Self && !m.LastContact.IsZero() && r.now.Sub(m.LastContact) < replicaGone {
					r.replicas = append(r.replicas, m)
				}
			}
		}
		return r
	}
	var err error
	r.masterHost, r.masterPort, err = net.SplitHostPort(r.st.LeaderClientAddr)
	if err != nil {
		r.masterHost, r.masterPort = "", "0"
	}
	return r
}

// linked says whether a replica knows where its master is: a leader and
// the address clients reach it on. Until both are known, ROLE's state is
// "connect" and INFO's master_link_status "down", as for a Redis replica
// that has not reached its master yet.
func (r replication) linked() bool { return r.st.LeaderID != "" && r.masterHost != "" }

// hostPort splits a member's client address for a replica listing.
func hostPort(m cluster.Member) (host, port string) {
	host, port, err := net.SplitHostPort(m.ClientAddr)
	if err != nil {
		return m.ClientAddr, "0"
	}
	return host, port
}

// infoReplication writes Redis's replication section from the Raft roles,
// so tools that read role/master_host/slaveN keep working: a replica's
// offset is its applied index and its lag the seconds since it last
// answered the leader, as a Redis replica's once-a-second ACK gives them
// (docs/operations.md).
func (s *Server) infoReplication(b *infoBuilder, _ *engineInfo) {
	r := s.replication()
	st := r.st
	if r.master {
		b.kv("role", "master")
		b.kv("connected_slaves", len(r.replicas))
		for i, m := range r.replicas {
			host, port := hostPort(m)
			fmt.Fprintf(b, "slave%d:ip=%s,port=%s,state=online,offset=%d,lag=%d\r\n", i, host, port, m.Applied, int64(r.now.Sub(m.LastContact)/time.Second))
		}
	} else {
		b.kv("role", "slave")
		b.kv("master_host", r.masterHost)
		b.kv("master_port", r.masterPort)
		link := "up"
		if !r.linked() {
			link = "down"
		}
		b.kv("master_link_status", link)
		b.kv("master_sync_in_progress", 0)
		b.kv("slave_read_repl_offset", st.CommitIndex)
		b.kv("slave_repl_offset", st.AppliedIndex)
		b.kv("slave_priority", 100)
		b.kv("slave_read_only", 1)
		b.kv("replica_announced", 1)
		b.kv("connected_slaves", 0)
	}
	b.kv("master_failover_state", "no-failover")
	b.kv("master_replid", s.runID)
	b.kv("master_replid2", "0000000000000000000000000000000000000000")
	b.kv("master_repl_offset", st.AppliedIndex)
	b.kv("second_repl_offset", -1)
	b.kv("repl_backlog_active", 0)
	b.kv("repl_backlog_size", 0)
	b.kv("repl_backlog_first_byte_offset", 0)
	b.kv("repl_backlog_histlen", 0)
	b.kv("raft_state", st.State)
	b.kv("raft_leader_id", st.LeaderID)
	b.kv("raft_leader_addr", st.LeaderAddr)
}

func (s *Server) infoCommandstats(b *infoBuilder, _ *engineInfo) {
	for _, c := range s.CommandStats() {
		per := 0.0
		if c.Calls > 0 {
			per = float64(c.Usec) / float64(c.Calls)
		}
		fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
			c.Name, c.Calls, c.Usec, per, c.Rejected, c.Failed)
	}
}

func (s *Server) infoErrorstats(b *infoBuilder, _ *engineInfo) {
	codes, counts := s.ErrorStats()
	for i, c := range codes {
		fmt.Fprintf(b, "errorstat_%s:count=%d\r\n", c, counts[i])
	}
}

// infoCluster reports cluster mode on: every node answers the Redis
// Cluster discovery commands (cmd_cluster.go), and clients such as
// redis-py's RedisCluster check this field before using them.
func (s *Server) infoCluster(b *infoBuilder, _ *engineInfo) { b.kv("cluster_enabled", 1) }

func (s *Server) infoKeyspace(b *infoBuilder, ei *engineInfo) {
	for db := 0; db < engine.NumDBs; db++ {
		if ei.info.Keys[db] == 0 {
			continue
		}
		fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=0,subexpiry=0\r\n", db, ei.info.Keys[db], ei.info.Expires[db])
	}
}

// infoStreams is raftstream's own section (Redis has none): totals over
// every stream of every database, from the same O(keys + groups) pass as
// INFO keyspace, counting as it does keys expired but not yet deleted.
func (s *Server) infoStreams(b *infoBuilder, ei *engineInfo) {
	var keys int64
	for _, n := range ei.info.Keys {
		keys += n
	}
	t := ei.info.Streams
	b.kv("streams", keys)
	b.kv("stream_entries", ei.info.Entries)
	b.kv("stream_groups", t.Groups)
	b.kv("stream_consumers", t.Consumers)
	b.kv("stream_pending", t.Pending)
	b.kv("stream_max_lag", t.MaxLag)
	b.kv("stream_groups_lag_unknown", t.LagUnknown)
	b.kv("stream_dead_lettered", t.DeadLettered)
}

func (s *Server) infoRaft(b *infoBuilder, _ *engineInfo) {
	st := s.be.Status()
	b.kv("raft_node_id", st.NodeID)
	b.kv("raft_addr", st.RaftAddr)
	b.kv("raft_client_addr", st.ClientAddr)
	b.kv("raft_state", st.State)
	b.kv("raft_term", st.Term)
	b.kv("raft_leader_id", st.LeaderID)
	b.kv("raft_leader_addr", st.LeaderAddr)
	b.kv("raft_leader_client_addr", st.LeaderClientAddr)
	b.kv("raft_suffrage", st.Suffrage)
	b.kv("raft_members", st.Members)
	b.kv("raft_commit_index", st.CommitIndex)
	b.kv("raft_applied_index", st.AppliedIndex)
	b.kv("raft_last_log_index", st.LastLogIndex)
	b.kv("raft_last_snapshot_index", st.LastSnapshotIndex)
	b.kv("raft_last_snapshot_term", st.LastSnapshotTerm)
}

// cmdRole is ROLE, from the same view as INFO replication: on the leader
// ["master", applied index, [[ip, port, offset], ...]], on the others
// ["slave", leader ip, leader port, "connected" (or "connect" while the
// leader or its client address is unknown), applied index].
func cmdRole(x *call) {
	r := x.s.replication()
	if r.master {
		x.w.WriteArray(3)
		x.w.WriteBulkString("master")
		x.w.WriteInt(int64(r.st.AppliedIndex))
		x.w.WriteArray(len(r.replicas))
		for _, m := range r.replicas {
			host, port := hostPort(m)
			x.w.WriteArray(3)
			x.w.WriteBulkString(host)
			x.w.WriteBulkString(port)
			x.w.WriteBulkString(strconv.FormatUint(m.Applied, 10))
		}
		return
	}
	state := "connected"
	if !r.linked() {
		state = "connect"
	}
	port, _ := strconv.ParseInt(r.masterPort, 10, 64)
	x.w.WriteArray(5)
	x.w.WriteBulkString("slave")
	x.w.WriteBulkString(r.masterHost)
	x.w.WriteInt(port)
	x.w.WriteBulkString(state)
	x.w.WriteInt(int64(r.st.AppliedIndex))
}
