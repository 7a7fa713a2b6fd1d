package server

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
)

// TestWaitMatchesRedis compares WAIT's replies and errors with a
// reference redis-server without replicas: a single node has no other
// member to count, as that server has no replica.
func TestWaitMatchesRedis(t *testing.T) {
	ref := startRedisServer(t)
	got := dialRaw(t, startServer(t, Config{}, startNode(t)))
	for _, cmd := range [][]string{
		{"WAIT", "0", "0"},
		{"XADD", "s", "1-1", "f", "v"},
		{"WAIT", "0", "0"},
		{"WAIT", "-5", "0"},
		{"WAIT", "1", "30"}, // times out with 0
		{"WAIT", "x", "0"},
		{"WAIT", "1", "x"},
		{"WAIT", "1", "-1"},
		{"WAIT", "1", "1.5"},
		{"WAIT", "99999999999999999999", "0"},
		{"WAIT", "1"},
		{"WAIT", "1", "2", "3"},
		{"wait", "0", "0"},
		// Inside MULTI it never blocks.
		{"MULTI"},
		{"XADD", "s", "2-1", "f", "v"},
		{"WAIT", "1", "0"},
		{"EXEC"},
	} {
		want := ref.do(cmd...)
		if g := got.do(cmd...); g != want {
			t.Errorf("%s:\n got %q\nwant %q", strings.Join(cmd, " "), g, want)
		}
	}
}

// TestWaitUnblockMatchesRedis blocks WAIT forever (timeout 0, no replica
// will come) and ends it with CLIENT UNBLOCK, both ways, on raftstream
// and on redis-server; then a client that disconnects while blocked
// leaves no blocked client behind.
func TestWaitUnblockMatchesRedis(t *testing.T) {
	sock := startRedisSocket(t)
	s := startServer(t, Config{}, startNode(t))
	type pair struct{ waiter, admin *rawConn }
	servers := map[string]pair{
		"redis":      {dialUnix(t, sock), dialUnix(t, sock)},
		"raftstream": {dialRaw(t, s), dialRaw(t, s)},
	}
	replies := map[string][]string{}
	for _, name := range []string{"redis", "raftstream"} {
		p := servers[name]
		id := strings.TrimSuffix(strings.TrimPrefix(p.waiter.do("CLIENT", "ID"), ":"), "\r\n")
		for _, how := range [][]string{{"CLIENT", "UNBLOCK", id}, {"CLIENT", "UNBLOCK", id, "ERROR"}} {
			p.waiter.send(encode("WAIT", "1", "0"))
			waitFor(t, 10*time.Second, name+": WAIT blocked", func() bool {
				return strings.Contains(p.admin.do("INFO", "clients"), "blocked_clients:1\r\n")
			})
			replies[name] = append(replies[name], p.admin.do(how...), p.waiter.read())
		}
	}
	if g, w := strings.Join(replies["raftstream"], " "), strings.Join(replies["redis"], " "); g != w {
		t.Errorf("CLIENT UNBLOCK of WAIT:\n got %q\nwant %q", g, w)
	}

	gone := dialRaw(t, s)
	admin := servers["raftstream"].admin
	gone.send(encode("WAIT", "1", "0"))
	waitFor(t, 10*time.Second, "WAIT blocked", func() bool {
		return strings.Contains(admin.do("INFO", "clients"), "blocked_clients:1\r\n")
	})
	_ = gone.c.Close()
	waitFor(t, 10*time.Second, "the disconnected client unblocked", func() bool {
		return strings.Contains(admin.do("INFO", "clients"), "blocked_clients:0\r\n")
	})
}

// TestRoleMatchesRedis compares ROLE with a reference redis-server that
// has no replica: a single node is a master without replicas. Offsets
// count different things (bytes there, log entries here), so only their
// form is compared.
func TestRoleMatchesRedis(t *testing.T) {
	ref := startRedisServer(t)
	s := startServer(t, Config{}, startNode(t))
	got := dialRaw(t, s)
	offset := regexp.MustCompile(`(?m)^:\d+\r$`)
	for _, proto := range []string{"2", "3"} {
		for _, cmd := range [][]string{{"HELLO", proto}, {"XADD", "s", "*", "f", "v"}, {"ROLE"}, {"ROLE", "x"}, {"role"}} {
			want, g := ref.do(cmd...), got.do(cmd...)
			if cmd[0] == "HELLO" || cmd[0] == "XADD" {
				continue
			}
			want, g = offset.ReplaceAllString(want, ":N\r"), offset.ReplaceAllString(g, ":N\r")
			if g != want {
				t.Errorf("RESP%s %s:\n got %q\nwant %q", proto, strings.Join(cmd, " "), g, want)
			}
		}
	}
}

// TestWaitAOF checks WAITAOF on a single node against Redis's
// documented replies and its waitaofCommand's error texts (the reference
// redis-server here, 7.0, predates WAITAOF): the node's own log holds
// every acknowledged write, there is no other member, and the argument
// checks run in Redis's order.
func TestWaitAOF(t *testing.T) {
	c := dialRaw(t, startServer(t, Config{}, startNode(t)))
	c.expect("$3\r\n1-1\r\n", "XADD", "s", "1-1", "f", "v")
	c.expect("*2\r\n:1\r\n:0\r\n", "WAITAOF", "1", "0", "0")
	c.expect("*2\r\n:1\r\n:0\r\n", "WAITAOF", "0", "0", "0")
	c.expect("*2\r\n:1\r\n:0\r\n", "WAITAOF", "1", "1", "30") // no member to count: the timeout ends it
	for _, tc := range []struct{ args, want string }{
		{"WAITAOF 2 0 0", "-ERR value is out of range, value must between 0 and 1\r\n"},
		{"WAITAOF -1 0 0", "-ERR value is out of range, value must between 0 and 1\r\n"},
		{"WAITAOF x 0 0", "-ERR value is not an integer or out of range\r\n"},
		{"WAITAOF 1 -1 0", "-ERR value is out of range, must be positive\r\n"},
		{"WAITAOF 1 abc 100", "-ERR value is out of range, must be positive\r\n"},
		{"WAITAOF 1 0 -5", "-ERR timeout is negative\r\n"},
		{"WAITAOF 1 0 x", "-ERR timeout is not an integer or out of range\r\n"},
		{"WAITAOF x -1 -1", "-ERR value is not an integer or out of range\r\n"},
		{"WAITAOF 1 0", "-ERR wrong number of arguments for 'waitaof' command\r\n"},
	} {
		c.expect(tc.want, strings.Fields(tc.args)...)
	}
	// Inside MULTI it answers without blocking.
	c.expect("+OK\r\n", "MULTI")
	c.expect("+QUEUED\r\n", "WAITAOF", "1", "5", "0")
	c.expect("*1\r\n*2\r\n:1\r\n:0\r\n", "EXEC")
}

// statusBackend is a directBackend that reports st as its Raft status.
type statusBackend struct {
	*directBackend
	st cluster.Status
}

func (b statusBackend) Status() cluster.Status { return b.st }

// TestFollowerLinkState checks ROLE's replica state and INFO's
// master_link_status: up only once the follower knows both the leader
// and the address its clients reach it on.
func TestFollowerLinkState(t *testing.T) {
	for _, tc := range []struct {
		name       string
		st         cluster.Status
		role, link string
	}{
		{"leader and its address known",
			cluster.Status{State: "follower", LeaderID: "n1", LeaderAddr: "10.0.0.1:7000", LeaderClientAddr: "10.0.0.1:6379"},
			"*5\r\n$5\r\nslave\r\n$8\r\n10.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:0\r\n", "up"},
		{"leader known, its client address not yet",
			cluster.Status{State: "follower", LeaderID: "n1", LeaderAddr: "10.0.0.1:7000"},
			"*5\r\n$5\r\nslave\r\n$0\r\n\r\n:0\r\n$7\r\nconnect\r\n:0\r\n", "down"},
		{"no leader",
			cluster.Status{State: "candidate"},
			"*5\r\n$5\r\nslave\r\n$0\r\n\r\n:0\r\n$7\r\nconnect\r\n:0\r\n", "down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newServer(Config{Addr: "127.0.0.1:0"}, statusBackend{newDirectBackend(), tc.st}, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			serve(t, s)
			c := dialRaw(t, s)
			c.expect(tc.role, "ROLE")
			info := c.do("INFO", "replication")
			if want := "master_link_status:" + tc.link + "\r\n"; !strings.Contains(info, want) {
				t.Errorf("INFO replication lacks %q:\n%s", want, info)
			}
		})
	}
}
