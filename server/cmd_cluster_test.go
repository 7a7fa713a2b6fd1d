package server

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
)

func TestKeyHashSlot(t *testing.T) {
	// Values from redis-server 7.0.15's CLUSTER KEYSLOT.
	for key, want := range map[string]int{
		"foo": 12182, "{user}a": 5474, "{user}b": 5474, "user": 5474, "123456789": 12739,
		"foo{}{bar}": 8363, "{}x": 10595, "x": 16287, "foo{{bar}}zap": 4015, "foo{bar}{zap}": 5061, "": 0,
	} {
		if got := keyHashSlot([]byte(key)); got != want {
			t.Errorf("keyHashSlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// TestClusterSentinelOneNode checks the CLUSTER and SENTINEL replies of a
// single-node cluster byte for byte, in the shapes redis-server 7.0.15
// gives for a one-master cluster; the node has no advertised client
// address, so its host is empty, as a Redis node's that does not know its
// IP.
func TestClusterSentinelOneNode(t *testing.T) {
	node := startNode(t)
	s := startServer(t, Config{}, node)
	c := dialRaw(t, s)
	_, port, _ := net.SplitHostPort(s.Addr().String())
	id := nodeRedisID("n1")
	_, rport, _ := net.SplitHostPort(node.RaftAddr())
	bulk := func(v string) string { return "$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n" }

	c.expect("*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$0\r\n\r\n:"+port+"\r\n"+bulk(id)+"*0\r\n", "CLUSTER", "SLOTS")
	c.expect(bulk(id), "CLUSTER", "MYID")
	c.expect(":12182\r\n", "CLUSTER", "KEYSLOT", "foo")
	c.expect("-ERR wrong number of arguments for 'cluster|keyslot' command\r\n", "CLUSTER", "KEYSLOT")
	c.expect("-ERR Invalid slot\r\n", "CLUSTER", "COUNTKEYSINSLOT", "16384")
	c.expect("-ERR Invalid slot\r\n", "CLUSTER", "COUNTKEYSINSLOT", "-1")
	c.expect("-ERR value is not an integer or out of range\r\n", "CLUSTER", "COUNTKEYSINSLOT", "abc")
	c.expect("-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n", "CLUSTER", "FOO")
	c.expect("*0\r\n", "CLUSTER", "REPLICAS", id)
	c.expect("*0\r\n", "CLUSTER", "SLAVES", id)
	c.expect("-ERR Unknown node abc\r\n", "CLUSTER", "REPLICAS", "abc")
	c.do("XADD", "foo", "*", "a", "1")
	c.do("XADD", "{foo}2", "*", "a", "1")
	c.do("XADD", "bar", "*", "a", "1")
	c.expect(":2\r\n", "CLUSTER", "COUNTKEYSINSLOT", "12182")
	c.expect(":0\r\n", "CLUSTER", "COUNTKEYSINSLOT", "0")
	if r := c.do("CLUSTER", "GETKEYSINSLOT", "12182", "10"); !strings.HasPrefix(r, "*2\r\n") || !strings.Contains(r, "$3\r\nfoo\r\n") || !strings.Contains(r, "$6\r\n{foo}2\r\n") {
		t.Errorf("CLUSTER GETKEYSINSLOT 12182 10 = %q", r)
	}
	if r := c.do("CLUSTER", "GETKEYSINSLOT", "12182", "1"); !strings.HasPrefix(r, "*1\r\n") {
		t.Errorf("CLUSTER GETKEYSINSLOT 12182 1 = %q", r)
	}
	c.expect("*0\r\n", "CLUSTER", "GETKEYSINSLOT", "12182", "0")
	c.expect("-ERR Invalid slot or number of keys\r\n", "CLUSTER", "GETKEYSINSLOT", "12182", "-1")
	c.expect("-ERR Invalid slot or number of keys\r\n", "CLUSTER", "GETKEYSINSLOT", "16384", "1")
	c.expect("-ERR value is not an integer or out of range\r\n", "CLUSTER", "GETKEYSINSLOT", "-5", "abc")
	nodes := id + " :" + port + "@" + rport + " myself,master - 0 0 "
	if r := c.do("CLUSTER", "NODES"); !strings.Contains(r, nodes) || !strings.HasSuffix(r, " connected 0-16383\n\r\n") {
		t.Errorf("CLUSTER NODES = %q, want a line starting %q", r, nodes)
	}
	if r := c.do("CLUSTER", "INFO"); !strings.Contains(r, "\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n") ||
		!strings.Contains(r, "cluster_known_nodes:1\r\ncluster_size:1\r\n") {
		t.Errorf("CLUSTER INFO = %q", r)
	}
	if r := c.do("CLUSTER", "MEET", "127.0.0.1", "7000"); !strings.Contains(r, "not supported by raftstream") {
		t.Errorf("CLUSTER MEET = %q", r)
	}
	shard := "*1\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n%7\r\n$2\r\nid\r\n" + bulk(id) +
		"$4\r\nport\r\n:" + port + "\r\n$2\r\nip\r\n$0\r\n\r\n$8\r\nendpoint\r\n$0\r\n\r\n$4\r\nrole\r\n$6\r\nmaster\r\n" +
		"$18\r\nreplication-offset\r\n:"
	c.do("HELLO", "3")
	if r := c.do("CLUSTER", "SHARDS"); !strings.HasPrefix(r, shard) || !strings.HasSuffix(r, "\r\n$6\r\nhealth\r\n$6\r\nonline\r\n") {
		t.Errorf("CLUSTER SHARDS = %q, want prefix %q", r, shard)
	}
	c.expect("*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$0\r\n\r\n:"+port+"\r\n"+bulk(id)+"%0\r\n", "CLUSTER", "SLOTS")
	c.do("HELLO", "2")

	c.expect("*2\r\n$0\r\n\r\n"+bulk(port), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "raftstream")
	c.expect("*-1\r\n", "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other")
	c.expect("*0\r\n", "SENTINEL", "REPLICAS", "raftstream")
	c.expect("*0\r\n", "SENTINEL", "SENTINELS", "raftstream")
	c.expect("-ERR No such master with that name\r\n", "SENTINEL", "SLAVES", "other")
	if r := c.do("SENTINEL", "MASTERS"); !strings.HasPrefix(r, "*1\r\n*40\r\n$4\r\nname\r\n$10\r\nraftstream\r\n$2\r\nip\r\n$0\r\n\r\n$4\r\nport\r\n"+bulk(port)) ||
		!strings.Contains(r, "$5\r\nflags\r\n$6\r\nmaster\r\n") || !strings.Contains(r, "$19\r\nnum-other-sentinels\r\n$1\r\n0\r\n") {
		t.Errorf("SENTINEL MASTERS = %q", r)
	}
	c.expect(bulk(id), "SENTINEL", "MYID")
	if r := c.do("SENTINEL", "FAILOVER", "raftstream"); !strings.Contains(r, "not supported by raftstream") {
		t.Errorf("SENTINEL FAILOVER = %q", r)
	}
	c.expect(":1\r\n", "XLEN", "foo") // the connection still works
}

func TestCommandGetKeys(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	// Replies of redis-server 7.0.15 to the same requests.
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"*2\r\n$1\r\na\r\n$1\r\nb\r\n", []string{"xread", "streams", "a", "b", "0", "0"}},
		{"*1\r\n$1\r\na\r\n", []string{"xread", "count", "1", "streams", "a", "0"}},
		{"*1\r\n$1\r\na\r\n", []string{"xread", "streams", "a", "b", "0"}},
		{"*1\r\n$1\r\ns\r\n", []string{"XLEN", "s"}},
		{"*1\r\n$1\r\ns\r\n", []string{"xgroup", "create", "s", "g", "0"}},
		{"*1\r\n$1\r\ns\r\n", []string{"xdel", "s", "1"}},
		{"-ERR Invalid command specified\r\n", []string{"nosuch", "a"}},
		{"-ERR Invalid command specified\r\n", []string{"xgroup", "nosuch"}},
		{"-ERR The command has no key arguments\r\n", []string{"ping", "x"}},
		{"-ERR Invalid number of arguments specified for command\r\n", []string{"xadd", "s"}},
		{"-ERR Invalid number of arguments specified for command\r\n", []string{"xlen", "s", "x"}},
		{"-ERR Invalid number of arguments specified for command\r\n", []string{"xread", "streams"}},
		{"-ERR wrong number of arguments for 'command|getkeys' command\r\n", []string{"xadd"}},
	} {
		c.expect(tc.want, append([]string{"COMMAND", "GETKEYS"}, tc.args...)...)
	}
	c.expect("*1\r\n*2\r\n$1\r\ns\r\n*2\r\n+RW\r\n+update\r\n", "COMMAND", "GETKEYSANDFLAGS", "xadd", "s", "*", "a", "b")
	// Redis 8's commands: the key specs of src/commands/xdelex.json and
	// xackdel.json.
	c.expect("*1\r\n*2\r\n$1\r\ns\r\n*2\r\n+RW\r\n+delete\r\n", "COMMAND", "GETKEYSANDFLAGS", "xdelex", "s", "IDS", "1", "1-1")
	c.expect("*1\r\n*2\r\n$1\r\ns\r\n*3\r\n+RW\r\n+update\r\n+delete\r\n", "COMMAND", "GETKEYSANDFLAGS", "xackdel", "s", "g", "IDS", "1", "1-1")
}

func TestNeverServedCommands(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	c.expect("-ERR unsupported command 'EVAL': not supported by raftstream (no Lua scripting or functions)\r\n", "EVAL", "return 1", "0")
	c.expect("-ERR unsupported command 'subscribe': not supported by raftstream (no Pub/Sub; consume streams with XREAD or XREADGROUP)\r\n", "subscribe", "ch")
	c.expect("-ERR unsupported command 'MONITOR': not supported by raftstream (no MONITOR; use SLOWLOG, INFO commandstats or the log)\r\n", "MONITOR")
	c.expect("-ERR unsupported command 'psync': not supported by raftstream (replication is Raft's; add nodes with RAFT ADD or --join)\r\n", "psync", "?", "-1")
	c.expect("+PONG\r\n", "PING")
}

func TestMemberGone(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		m    cluster.Member
		want bool
	}{
		{"not polled yet", cluster.Member{}, false},
		{"answered recently", cluster.Member{FirstPoll: now.Add(-time.Hour), LastContact: now.Add(-time.Second)}, false},
		{"answered long ago", cluster.Member{FirstPoll: now.Add(-time.Hour), LastContact: now.Add(-replicaGone)}, true},
		{"never answered, polled recently", cluster.Member{FirstPoll: now.Add(-time.Second)}, false},
		{"never answered since the first poll", cluster.Member{FirstPoll: now.Add(-replicaGone)}, true},
	} {
		if got := memberGone(tc.m, now); got != tc.want {
			t.Errorf("%s: memberGone = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRDBChangesSinceLastSave: INFO persistence counts the writes applied
// since the last snapshot (RAFT SNAPSHOT resets it, as SAVE does in Redis).
func TestRDBChangesSinceLastSave(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	changes := func() string {
		for _, l := range strings.Split(c.do("INFO", "persistence"), "\r\n") {
			if v, ok := strings.CutPrefix(l, "rdb_changes_since_last_save:"); ok {
				return v
			}
		}
		return ""
	}
	c.expect("+OK\r\n", "RAFT", "SNAPSHOT")
	before, _ := strconv.Atoi(changes())
	c.do("XADD", "s", "1-1", "f", "v")
	c.do("XADD", "s", "1-1", "f", "v") // an error: not counted
	c.do("XLEN", "s")                  // a read: not counted
	if got := changes(); got != strconv.Itoa(before+1) {
		t.Errorf("rdb_changes_since_last_save = %s after one write, want %d", got, before+1)
	}
	c.expect("+OK\r\n", "RAFT", "SNAPSHOT")
	if got := changes(); got != "0" {
		t.Errorf("rdb_changes_since_last_save = %s after RAFT SNAPSHOT, want 0", got)
	}
}
