package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// These tests run against a real single-node Raft cluster.

func newGoRedis(t *testing.T, s *Server, opt *redis.Options) *redis.Client {
	t.Helper()
	opt.Addr = s.Addr().String()
	// Let failures surface instead of being retried away.
	opt.MaxRetries = -1
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestGoRedis(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := context.Background()
			key := fmt.Sprintf("stream-%d", proto)
			c := newGoRedis(t, s, &redis.Options{Protocol: proto, ClientName: "tester"})
			if err := c.Ping(ctx).Err(); err != nil {
				t.Fatalf("PING: %v", err)
			}
			if n, err := c.ClientGetName(ctx).Result(); err != nil || n != "tester" {
				t.Errorf("CLIENT GETNAME = %q, %v", n, err)
			}
			info, err := c.ClientInfo(ctx).Result()
			if err != nil {
				t.Fatalf("CLIENT INFO: %v", err)
			}
			if info.Resp != proto || info.LibName == "" {
				t.Errorf("CLIENT INFO: resp=%d lib-name=%q", info.Resp, info.LibName)
			}
			id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"f", "v"}}).Result()
			if err != nil || !strings.Contains(id, "-") {
				t.Fatalf("XADD = %q, %v", id, err)
			}
			pipe := c.Pipeline()
			for i := 0; i < 20; i++ {
				pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: map[string]any{"i": i}})
			}
			xlen := pipe.XLen(ctx, key)
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatalf("pipeline: %v", err)
			}
			if xlen.Val() != 21 {
				t.Errorf("XLEN after the pipeline = %d, want 21", xlen.Val())
			}
			msgs, err := c.XRange(ctx, key, "-", "+").Result()
			if err != nil || len(msgs) != 21 || msgs[0].ID != id || msgs[0].Values["f"] != "v" {
				t.Fatalf("XRANGE = %v, %v", msgs, err)
			}
			streams, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{key, "0"}, Count: 2}).Result()
			if err != nil || len(streams) != 1 || len(streams[0].Messages) != 2 {
				t.Fatalf("XREAD = %v, %v", streams, err)
			}
			if err := c.Get(ctx, "x").Err(); err == nil || !strings.Contains(err.Error(), "hold only streams") {
				t.Errorf("GET: %v", err)
			}
			cfg, err := c.ConfigGet(ctx, "stream-node-*").Result()
			if err != nil || len(cfg) != 2 || cfg["stream-node-max-entries"] == "" {
				t.Errorf("CONFIG GET = %v, %v", cfg, err)
			}
			infoText, err := c.Info(ctx, "keyspace", "raft").Result()
			if err != nil || !strings.Contains(infoText, "db0:keys=") || !strings.Contains(infoText, "raft_state:leader") {
				t.Errorf("INFO = %q, %v", infoText, err)
			}
			cmds, err := c.Command(ctx).Result()
			if err != nil {
				t.Fatalf("COMMAND: %v", err)
			}
			if x := cmds["xadd"]; x == nil || x.Arity != -5 || x.FirstKeyPos != 1 || x.ReadOnly {
				t.Errorf("COMMAND xadd = %+v", x)
			}
			if x := cmds["xrange"]; x == nil || !x.ReadOnly {
				t.Errorf("COMMAND xrange = %+v", x)
			}
			n, err := c.CommandList(ctx, &redis.FilterBy{Pattern: "x*range"}).Result()
			if err != nil || strings.Join(n, ",") != "xrange,xrevrange" {
				t.Errorf("COMMAND LIST = %v, %v", n, err)
			}
			db1 := newGoRedis(t, s, &redis.Options{Protocol: proto, DB: 1})
			if n, err := db1.XLen(ctx, key).Result(); err != nil || n != 0 {
				t.Errorf("XLEN in db 1 = %d, %v", n, err)
			}
			if n, err := db1.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Errorf("DBSIZE in db 1 = %d, %v", n, err)
			}
		})
	}
}

func TestGoRedisPassword(t *testing.T) {
	s := startServer(t, Config{RequirePass: "s3cret"}, startNode(t))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		ok := newGoRedis(t, s, &redis.Options{Protocol: proto, Password: "s3cret"})
		if err := ok.Ping(ctx).Err(); err != nil {
			t.Errorf("RESP%d with the password: %v", proto, err)
		}
		bad := newGoRedis(t, s, &redis.Options{Protocol: proto, Password: "wrong"})
		if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("RESP%d with a wrong password: %v", proto, err)
		}
		none := newGoRedis(t, s, &redis.Options{Protocol: proto})
		if err := none.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("RESP%d without a password: %v", proto, err)
		}
	}
}

func TestPipelineOverRaft(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	var req []byte
	for i := 0; i < 30; i++ {
		req = append(req, encode("XADD", "p", "*", "i", fmt.Sprint(i))...)
	}
	req = append(req, encode("XLEN", "p")...)
	req = append(req, encode("PING")...)
	req = append(req, encode("XADD", "p", "*", "i", "last")...)
	req = append(req, encode("XLEN", "p")...)
	c.send(req)
	for i := 0; i < 30; i++ {
		if r := c.read(); !strings.HasPrefix(r, "$") {
			t.Fatalf("XADD %d: %q", i, r)
		}
	}
	for _, want := range []string{":30\r\n", "+PONG\r\n"} {
		if got := c.read(); got != want {
			t.Fatalf("got %q want %q", got, want)
		}
	}
	if r := c.read(); !strings.HasPrefix(r, "$") {
		t.Fatalf("XADD: %q", r)
	}
	if got := c.read(); got != ":31\r\n" {
		t.Fatalf("XLEN after the last XADD: %q", got)
	}
}

func TestSelectIsolation(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	if r := c.do("XADD", "k", "1-1", "f", "v"); r != "$3\r\n1-1\r\n" {
		t.Fatalf("XADD: %q", r)
	}
	c.expect("+OK\r\n", "SELECT", "1")
	c.expect(":0\r\n", "XLEN", "k")
	c.expect(":0\r\n", "DBSIZE")
	c.expect("$3\r\n5-1\r\n", "XADD", "k", "5-1", "f", "v")
	c.expect("$3\r\n6-1\r\n", "XADD", "k2", "6-1", "f", "v")
	c.expect(":2\r\n", "DBSIZE")
	// Another connection starts in database 0.
	d := dialRaw(t, s)
	d.expect(":1\r\n", "DBSIZE")
	d.expect("*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "XRANGE", "k", "-", "+")
	c.expect("+RESET\r\n", "RESET")
	c.expect(":1\r\n", "DBSIZE")
	if r := c.do("INFO", "keyspace"); r != "$100\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0,subexpiry=0\r\ndb1:keys=2,expires=0,avg_ttl=0,subexpiry=0\r\n\r\n" {
		t.Errorf("INFO keyspace: %q", r)
	}
}

func TestInfo(t *testing.T) {
	s := startServer(t, Config{Version: "1.2.3"}, startNode(t))
	c := dialRaw(t, s)
	c.expect("$3\r\n7-1\r\n", "XADD", "s", "7-1", "f", "v")
	c.do("FOO")
	c.do("SELECT", "x")
	def := bulkBody(c.do("INFO"))
	for _, sec := range []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "Errorstats", "Cluster", "Keyspace", "Streams", "Raft"} {
		if !strings.Contains(def, "# "+sec+"\r\n") {
			t.Errorf("INFO lacks section %s", sec)
		}
	}
	if strings.Contains(def, "# Commandstats") {
		t.Error("bare INFO includes commandstats")
	}
	for _, want := range []string{
		"redis_version:8.0.0\r\n", "raftstream_version:1.2.3\r\n", "connected_clients:1\r\n",
		"maxclients:10000\r\n", "aof_enabled:1\r\n", "role:master\r\n", "raft_state:leader\r\n",
		"db0:keys=1,expires=0,avg_ttl=0,subexpiry=0\r\n", "errorstat_ERR:count=2\r\n", "total_error_replies:2\r\n",
		"cluster_enabled:1\r\n", "raft_node_id:n1\r\n",
	} {
		if !strings.Contains(def, want) {
			t.Errorf("INFO lacks %q", want)
		}
	}
	if !strings.HasSuffix(def, "\r\n") || strings.HasSuffix(def, "\r\n\r\n") {
		t.Errorf("INFO does not end like Redis's: %q", def[len(def)-20:])
	}
	all := bulkBody(c.do("INFO", "all"))
	for _, want := range []string{
		"# Commandstats\r\n",
		"cmdstat_xadd:calls=1,usec=",
		"cmdstat_select:calls=1,usec=",
		",rejected_calls=0,failed_calls=1\r\n",
		"cmdstat_info:calls=1,",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("INFO all lacks %q:\n%s", want, all)
		}
	}
	c.expect("$0\r\n\r\n", "INFO", "nosuch")
	two := bulkBody(c.do("INFO", "CLUSTER", "raft"))
	if !strings.HasPrefix(two, "# Cluster\r\ncluster_enabled:1\r\n\r\n# Raft\r\n") {
		t.Errorf("INFO cluster raft: %q", two)
	}
	c.expect("+OK\r\n", "CONFIG", "RESETSTAT")
	// As in Redis, the reset itself is counted once it has run.
	if r := bulkBody(c.do("INFO", "commandstats", "errorstats")); !strings.HasPrefix(r, "# Commandstats\r\ncmdstat_config|resetstat:calls=1,") ||
		!strings.HasSuffix(r, "failed_calls=0\r\n\r\n# Errorstats\r\n") || strings.Count(r, "cmdstat_") != 1 {
		t.Errorf("after CONFIG RESETSTAT: %q", r)
	}
}

func TestCommandIntrospection(t *testing.T) {
	s, _ := startDirect(t, Config{})
	c := dialRaw(t, s)
	count := len(s.table().sorted())
	c.expect(fmt.Sprintf(":%d\r\n", count), "COMMAND", "COUNT")
	if r := c.do("COMMAND"); !strings.HasPrefix(r, fmt.Sprintf("*%d\r\n*10\r\n", count)) {
		t.Errorf("COMMAND: %.60q", r)
	}
	// Server commands carry Redis 7's metadata.
	c.expect("*1\r\n*10\r\n$4\r\necho\r\n:2\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n",
		"COMMAND", "INFO", "echo")
	c.expect("*1\r\n$-1\r\n", "COMMAND", "INFO", "nosuch")
	// The engine's commands: XLEN's key spec as redis-server 7.0.15 reports
	// it (flags RO only).
	c.expect("*1\r\n*10\r\n$4\r\nxlen\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@stream\r\n+@fast\r\n*0\r\n"+
		"*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n"+
		"$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
		"COMMAND", "INFO", "XLEN")
	if r := c.do("COMMAND", "INFO", "xread"); !strings.Contains(r, "$7\r\nkeyword\r\n$7\r\nSTREAMS\r\n$9\r\nstartfrom\r\n:1\r\n") {
		t.Errorf("COMMAND INFO xread key spec: %q", r)
	}
	if r := c.do("COMMAND", "INFO", "client|setname"); !strings.HasPrefix(r, "*1\r\n*10\r\n$14\r\nclient|setname\r\n:3\r\n") {
		t.Errorf("COMMAND INFO client|setname: %q", r)
	}
	c.expect("*2\r\n$4\r\nping\r\n*8\r\n$7\r\nsummary\r\n$15\r\nPing the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n",
		"COMMAND", "DOCS", "ping")
	c.expect("*0\r\n", "COMMAND", "DOCS", "nosuch")
	if r := c.do("COMMAND", "DOCS", "config"); !strings.Contains(r, "$11\r\nsubcommands\r\n*10\r\n$10\r\nconfig|get\r\n") {
		t.Errorf("COMMAND DOCS config: %q", r)
	}
	c.expect("*2\r\n$6\r\nxrange\r\n$9\r\nxrevrange\r\n", "COMMAND", "LIST", "FILTERBY", "PATTERN", "x*range")
	c.expect("*0\r\n", "COMMAND", "LIST", "FILTERBY", "MODULE", "x")
	if r := c.do("COMMAND", "LIST", "FILTERBY", "ACLCAT", "stream"); !strings.Contains(r, "$4\r\nxadd\r\n") || strings.Contains(r, "$3\r\ndel\r\n") {
		t.Errorf("COMMAND LIST FILTERBY ACLCAT stream: %q", r)
	}
	if r := c.do("COMMAND", "LIST"); !strings.Contains(r, "$11\r\nclient|list\r\n") {
		t.Errorf("COMMAND LIST lacks subcommands: %.80q", r)
	}
	c.expect("-ERR syntax error\r\n", "COMMAND", "LIST", "FILTERBY", "FOO", "x")
	c.expect("-ERR syntax error\r\n", "COMMAND", "LIST", "FOO")
	c.expect("-ERR wrong number of arguments for 'command|count' command\r\n", "COMMAND", "COUNT", "x")
	if r := c.do("COMMAND", "HELP"); !strings.HasPrefix(r, "*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+(no subcommand)\r\n") {
		t.Errorf("COMMAND HELP: %q", r)
	}
	c.do("HELLO", "3")
	c.expect("*1\r\n_\r\n", "COMMAND", "INFO", "nosuch")
	c.expect("*1\r\n*10\r\n$4\r\necho\r\n:2\r\n~3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@fast\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n",
		"COMMAND", "INFO", "echo")
	if r := c.do("COMMAND", "DOCS", "ping"); !strings.HasPrefix(r, "%1\r\n$4\r\nping\r\n%4\r\n") {
		t.Errorf("COMMAND DOCS in RESP3: %q", r)
	}
}

func TestConfig(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	c.expect("*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n", "CONFIG", "GET", "maxclients")
	c.expect("*2\r\n$10\r\nMAXCLIENTS\r\n$5\r\n10000\r\n", "CONFIG", "GET", "MAXCLIENTS")
	c.expect("*4\r\n$21\r\nstream-node-max-bytes\r\n$4\r\n4096\r\n$23\r\nstream-node-max-entries\r\n$3\r\n100\r\n", "CONFIG", "GET", "stream-node*")
	c.expect("*4\r\n$9\r\ndatabases\r\n$2\r\n16\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n", "CONFIG", "GET", "databases", "appendonly", "databases")
	c.expect("*2\r\n$4\r\nsave\r\n$0\r\n\r\n", "CONFIG", "GET", "sav?")
	c.expect("*0\r\n", "CONFIG", "GET", "nosuch")
	c.expect("+OK\r\n", "CONFIG", "SET", "stream-node-max-entries", "50", "maxclients", "500")
	c.expect("*4\r\n$23\r\nstream-node-max-entries\r\n$2\r\n50\r\n$10\r\nmaxclients\r\n$3\r\n500\r\n", "CONFIG", "GET", "stream-node-max-entries", "maxclients")
	// Errors, in Redis 7's words.
	c.expect("-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n", "CONFIG", "SET", "nosuch", "1")
	c.expect("-ERR syntax error\r\n", "CONFIG", "SET", "maxclients", "1", "stream-node-max-entries")
	c.expect("-ERR wrong number of arguments for 'config|set' command\r\n", "CONFIG", "SET", "maxclients")
	c.expect("-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n", "CONFIG", "SET", "maxclients", "x")
	c.expect("-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n", "CONFIG", "SET", "maxclients", "0")
	c.expect("-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value\r\n", "CONFIG", "SET", "proto-max-bulk-len", "xyz")
	c.expect("-ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - argument must be between 1048576 and 9223372036854775807 inclusive\r\n", "CONFIG", "SET", "client-query-buffer-limit", "1")
	c.expect("-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n", "CONFIG", "SET", "databases", "20")
	c.expect("-ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter\r\n", "CONFIG", "SET", "maxclients", "1", "MAXCLIENTS", "2")
	// All or nothing: a bad replicated value leaves the local one alone.
	if r := c.do("CONFIG", "SET", "maxclients", "7", "stream-node-max-entries", "-5"); !strings.HasPrefix(r, "-ERR CONFIG SET failed (possibly related to argument 'stream-node-max-entries')") {
		t.Errorf("bad replicated value: %q", r)
	}
	c.expect("*2\r\n$10\r\nmaxclients\r\n$3\r\n500\r\n", "CONFIG", "GET", "maxclients")
	c.expect("+OK\r\n", "CONFIG", "SET", "requirepass", "pw")
	// Existing connections stay authenticated; new ones must log in.
	c.expect("+PONG\r\n", "PING")
	d := dialRaw(t, s)
	d.expect("-NOAUTH Authentication required.\r\n", "PING")
	d.expect("+OK\r\n", "AUTH", "pw")
	if r := c.do("CONFIG", "HELP"); !strings.HasPrefix(r, "*11\r\n+CONFIG <subcommand>") {
		t.Errorf("CONFIG HELP: %q", r)
	}
	// The replicated setting went through the log: it survives in the
	// state, where the engine reads it.
	waitFor(t, 5*time.Second, "the setting in the state", func() bool {
		return strings.Contains(c.do("CONFIG", "GET", "stream-node-max-entries"), "$2\r\n50\r\n")
	})
}

// TestInfoStreams: raftstream's own INFO section sums every stream of
// every database: entries, groups, consumers, PEL entries, the largest
// known lag (a group whose lag Redis reports as null is counted apart)
// and the entries dead-lettered. It comes after Keyspace in INFO, INFO
// all and INFO everything, and alone with INFO streams.
func TestInfoStreams(t *testing.T) {
	s, _ := startDirect(t, Config{})
	c := dialRaw(t, s)
	empty := "# Streams\r\nstreams:0\r\nstream_entries:0\r\nstream_groups:0\r\nstream_consumers:0\r\nstream_pending:0\r\n" +
		"stream_max_lag:0\r\nstream_groups_lag_unknown:0\r\nstream_dead_lettered:0\r\n"
	if got := bulkBody(c.do("INFO", "streams")); got != empty {
		t.Errorf("INFO streams of an empty keyspace: %q", got)
	}
	for _, cmd := range [][]string{
		{"XADD", "s", "1-1", "f", "v"}, {"XADD", "s", "2-1", "f", "v"}, {"XADD", "s", "3-1", "f", "v"},
		{"XGROUP", "CREATE", "s", "g1", "0"},
		{"XREADGROUP", "GROUP", "g1", "c1", "COUNT", "2", "STREAMS", "s", ">"},
		{"XGROUP", "CREATE", "s", "g2", "1-1"},
		{"XDEL", "s", "2-1"},
		{"SELECT", "1"},
		{"XADD", "t", "1-1", "f", "v"},
		{"XGROUP", "CREATE", "t", "g3", "0"},
		{"RS.SETDLQ", "t", "g3", "MAXDELIVERIES", "1", "DEADLETTER", "t:dead"},
		{"XREADGROUP", "GROUP", "g3", "c1", "STREAMS", "t", ">"},
		{"XCLAIM", "t", "g3", "c2", "0", "1-1"},
		{"XADD", "t", "2-1", "f", "v"},
	} {
		if r := c.do(cmd...); strings.HasPrefix(r, "-") {
			t.Fatalf("%q: %q", cmd, r)
		}
	}
	// Streams s, t and t:dead; entries 2 + 2 + 1 (the dead-lettered
	// entry is copied and acknowledged, not deleted); consumers g1/c1,
	// g3/c1 and g3/c2 (XCLAIM made it); g1's two deliveries pending. XINFO
	// GROUPS reports g1's and g2's lag as null (2-1 was deleted after
	// their position) and g3's as 1.
	want := "# Streams\r\nstreams:3\r\nstream_entries:5\r\nstream_groups:3\r\nstream_consumers:3\r\nstream_pending:2\r\n" +
		"stream_max_lag:1\r\nstream_groups_lag_unknown:2\r\nstream_dead_lettered:1\r\n"
	if got := bulkBody(c.do("INFO", "streams")); got != want {
		t.Errorf("INFO streams:\n got %q\nwant %q", got, want)
	}
	for _, args := range [][]string{{"INFO"}, {"INFO", "default"}, {"INFO", "all"}, {"INFO", "everything"}, {"INFO", "keyspace", "raft", "STREAMS"}} {
		body := bulkBody(c.do(args...))
		ks, st, rf := strings.Index(body, "# Keyspace\r\n"), strings.Index(body, "\r\n"+want), strings.Index(body, "# Raft\r\n")
		if ks < 0 || st < ks || rf < st {
			t.Errorf("%q: Keyspace at %d, Streams at %d, Raft at %d", args, ks, st, rf)
		}
	}
}
