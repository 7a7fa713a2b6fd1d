package server

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/raftstream/raftstream/engine"
)

// aclStep is one command of an ACL script: who sends it and, where
// raftstream deliberately answers otherwise than redis-server 7.0.15,
// what it answers (Redis 7.2+'s NOPERM texts, ...). "closed" expects the
// connection to be closed instead of a reply, "any" takes any reply.
type aclStep struct {
	conn string // "admin", "user" or "resp3"
	args []string
	want string // "" = the reference server's reply
}

// TestACLMatchesRedis runs ACL commands against raftstream and a real
// redis-server and compares the replies byte for byte.
func TestACLMatchesRedis(t *testing.T) {
	sock := startRedisSocket(t)
	s := startServer(t, Config{}, startNode(t))
	refConns := map[string]*rawConn{"admin": dialUnix(t, sock), "user": dialUnix(t, sock), "resp3": dialUnix(t, sock)}
	gotConns := map[string]*rawConn{"admin": dialRaw(t, s), "user": dialRaw(t, s), "resp3": dialRaw(t, s)}
	h := engine.HashPassword("pw")
	perm := func(user, cmd string) string {
		return "-NOPERM User " + user + " has no permissions to run the '" + cmd + "' command\r\n"
	}
	const noKey = "-NOPERM No permissions to access a key\r\n"
	bulk := func(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
	script := []aclStep{
		{"admin", []string{"ACL", "SETUSER", "u", "on", ">pw", "~orders:*", "%R~ro:*", "-@all", "+xadd"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "+xlen", "+xreadgroup", "+xgroup|create", "+acl|whoami", "+xread"}, ""},
		{"admin", []string{"ACL", "SETUSER", "simple", "on", "nopass", "allkeys", "+@all", "-flushall"}, ""},
		{"admin", []string{"ACL", "GETUSER", "simple"}, ""},
		{"admin", []string{"ACL", "SETUSER", "fresh"}, ""},
		{"admin", []string{"ACL", "GETUSER", "fresh"}, ""},
		{"admin", []string{"ACL", "SETUSER", "q", "ON", "NOPASS", "+XADD", "~Key*", "%R~Ro", "&Ch", "ResetPass", ">x", ">y", "<x"}, ""},
		{"admin", []string{"ACL", "GETUSER", "q"}, ""},
		{"admin", []string{"ACL", "SETUSER", "q", "reset", "allcommands", "allkeys", "allchannels"}, ""},
		{"admin", []string{"ACL", "GETUSER", "q"}, ""},
		{"admin", []string{"ACL", "DELUSER", "q"}, ""},
		{"admin", []string{"ACL", "GETUSER", "default"}, ""},
		{"admin", []string{"ACL", "GETUSER", "nosuch"}, ""},
		{"resp3", []string{"HELLO", "3"}, "any"},
		{"resp3", []string{"ACL", "GETUSER", "simple"}, ""},
		{"resp3", []string{"ACL", "GETUSER", "default"}, ""},
		{"resp3", []string{"ACL", "GETUSER", "nosuch"}, ""},
		{"resp3", []string{"ACL", "CAT"}, ""},
		{"admin", []string{"ACL", "USERS"}, ""},
		{"admin", []string{"ACL", "WHOAMI"}, ""},
		{"admin", []string{"COMMAND", "INFO", "acl|setuser", "acl|deluser", "acl|getuser", "acl|list", "acl|users",
			"acl|whoami", "acl|cat", "acl|log", "acl|genpass", "acl|dryrun", "acl|load", "acl|save", "acl|help"}, ""},
		// SETUSER errors.
		{"admin", []string{"ACL", "SETUSER", "u", "foo"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "+nosuch"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "+@nosuch"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "+config|nosuch"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "+config|get|x"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "-select|0"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "#abc"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "<nopw"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "!" + strings.Repeat("a", 64)}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "%X~a"}, ""},
		{"admin", []string{"ACL", "SETUSER", "simple", "~a"}, ""},
		{"admin", []string{"ACL", "SETUSER", "a b"}, ""},
		{"admin", []string{"ACL", "SETUSER"}, ""},
		{"admin", []string{"ACL", "DELUSER", "default"}, ""},
		{"admin", []string{"ACL", "NOSUCH"}, ""},
		{"admin", []string{"ACL", "CAT"}, ""},
		{"admin", []string{"ACL", "CAT", "nosuch"}, ""},
		{"admin", []string{"ACL", "GENPASS", "0"}, ""},
		{"admin", []string{"ACL", "GENPASS", "x"}, ""},
		{"admin", []string{"ACL", "GENPASS", "1", "2"}, ""},
		{"admin", []string{"ACL", "CAT", "all"}, ""},
		{"admin", []string{"ACL", "cat", "a", "b"}, ""},
		{"admin", []string{"ACL", "LOG", "-1"}, ""},
		{"admin", []string{"ACL", "LOG", "1", "2"}, ""},
		{"admin", []string{"ACL", "LOG", "x"}, ""},
		{"admin", []string{"ACL", "DRYRUN", "default", "config"}, ""},
		{"admin", []string{"ACL", "DRYRUN", "default", "config", "nosuch"}, ""},
		{"admin", []string{"ACL", "DRYRUN", "default", "xadd"}, ""},
		{"admin", []string{"ACL", "DRYRUN", "default", "ping"}, ""},
		{"admin", []string{"ACL", "GETUSER"}, ""},
		{"admin", []string{"ACL", "WHOAMI", "x"}, ""},
		{"admin", []string{"ACL", "USERS", "x"}, ""},
		{"admin", []string{"ACL", "LOAD"}, ""},
		{"admin", []string{"ACL", "SAVE"}, ""},
		{"admin", []string{"ACL", "HELP"}, ""},
		{"admin", []string{"ACL", "DRYRUN", "nosuch", "ping"}, ""},
		{"admin", []string{"ACL", "DRYRUN", "u", "nosuchcmd"}, ""},
		{"admin", []string{"ACL", "DRYRUN", "u", "xadd", "orders:1", "*", "a", "b"}, ""},
		{"admin", []string{"ACL", "DRYRUN", "u", "xadd", "other", "*", "a", "b"},
			bulk("User u has no permissions to access the 'other' key")},
		{"admin", []string{"ACL", "DRYRUN", "u", "flushall"},
			bulk("User u has no permissions to run the 'flushall' command")},
		// Authentication.
		{"user", []string{"AUTH", "pw"}, ""},
		{"user", []string{"AUTH", "u", "bad"}, ""},
		{"user", []string{"AUTH", "nosuch", "pw"}, ""},
		{"user", []string{"AUTH", "fresh", ""}, ""}, // off
		{"user", []string{"HELLO", "3", "AUTH", "u", "bad"}, ""},
		{"user", []string{"HELLO", "2", "AUTH", "nosuch", "pw"}, ""},
		{"user", []string{"AUTH", "u", "pw"}, ""},
		{"user", []string{"ACL", "WHOAMI"}, ""},
		// Commands and keys.
		{"user", []string{"XADD", "orders:1", "1-1", "a", "b"}, ""},
		{"user", []string{"XADD", "other", "1-1", "a", "b"}, noKey},
		{"user", []string{"XADD", "ro:1", "1-1", "a", "b"}, noKey},
		{"user", []string{"XLEN", "ro:1"}, ""},
		{"user", []string{"XLEN", "other"}, noKey},
		{"user", []string{"XREAD", "STREAMS", "orders:1", "0"}, ""},
		{"user", []string{"XREAD", "STREAMS", "orders:1", "other", "0", "0"}, noKey},
		{"user", []string{"XGROUP", "CREATE", "orders:1", "g", "0"}, ""},
		{"user", []string{"XGROUP", "DESTROY", "orders:1", "g"}, perm("u", "xgroup|destroy")},
		{"user", []string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "orders:1", ">"}, ""},
		{"user", []string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "ro:1", ">"}, ""}, // RO access: %R~ is enough
		{"user", []string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "other", ">"}, noKey},
		{"user", []string{"FLUSHALL"}, perm("u", "flushall")},
		{"user", []string{"CONFIG", "GET", "maxclients"}, perm("u", "config|get")},
		{"user", []string{"XRANGE", "orders:1", "-", "+"}, perm("u", "xrange")},
		{"user", []string{"PING"}, perm("u", "ping")},
		// A denied command inside MULTI aborts the transaction.
		{"admin", []string{"ACL", "SETUSER", "u", "+multi", "+exec"}, ""},
		{"user", []string{"MULTI"}, ""},
		{"user", []string{"XADD", "orders:1", "2-1", "a", "b"}, ""},
		{"user", []string{"XDEL", "orders:1", "1-1"}, perm("u", "xdel")},
		{"user", []string{"EXEC"}, ""},
		// Rules changed between queuing and EXEC: the command no longer
		// allowed is not run and answers NOPERM inside EXEC's reply.
		{"user", []string{"MULTI"}, ""},
		{"user", []string{"XADD", "orders:1", "3-1", "a", "b"}, ""},
		{"user", []string{"XLEN", "orders:1"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "-xadd"}, ""},
		{"user", []string{"EXEC"}, "*2\r\n-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. " +
			"This command is no longer allowed for the following reason: User u has no permissions to run the 'xadd' command\r\n:1\r\n"},
		{"admin", []string{"ACL", "SETUSER", "u", "+xadd"}, ""},
		// Rules change the permissions of connected clients at once.
		{"admin", []string{"ACL", "SETUSER", "u", "+xrange"}, ""},
		{"user", []string{"XRANGE", "orders:1", "-", "+"}, ""},
		// A disabled user's connections keep working (Redis 7 semantics);
		// new authentications fail.
		{"admin", []string{"ACL", "SETUSER", "u", "off"}, ""},
		{"user", []string{"XLEN", "orders:1"}, ""},
		{"admin", []string{"AUTH", "u", "pw"}, ""},
		{"admin", []string{"ACL", "SETUSER", "u", "on", "<pw", "#" + h}, ""},
		{"admin", []string{"ACL", "DELUSER", "nosuch", "u", "fresh"}, ""},
		// The clients of a deleted user are disconnected.
		{"user", []string{"PING"}, "closed"},
		{"admin", []string{"ACL", "USERS"}, ""},
	}
	for _, st := range script {
		if st.want == "closed" {
			// Redis closed it at once, without waiting for a command;
			// so must we.
			refConns[st.conn].expectClosed()
			gotConns[st.conn].expectClosed()
			continue
		}
		ref := refConns[st.conn].do(st.args...)
		got := gotConns[st.conn].do(st.args...)
		if st.want == "any" {
			continue
		}
		want := ref
		if st.want != "" {
			want = st.want
		}
		if got != want {
			t.Errorf("%s %q:\n got %q\nwant %q (redis: %q)", st.conn, st.args, got, want, ref)
		}
	}
}

// TestACLCategoriesMatchRedis checks that every command both servers
// know is in the same ACL categories.
func TestACLCategoriesMatchRedis(t *testing.T) {
	ref := startRedisServer(t)
	s := startServer(t, Config{}, startNode(t))
	got := dialRaw(t, s)
	ours := map[string]bool{}
	s.table().all(func(c *command) { ours[c.Name()] = true })
	parse := func(frame string) []string {
		var out []string
		for _, l := range strings.Split(frame, "\r\n") {
			if l != "" && l[0] != '*' && l[0] != '$' {
				out = append(out, l)
			}
		}
		return out
	}
	// Commands Redis knows, from its category lists.
	theirs := map[string]map[string]bool{}
	known := map[string]bool{}
	for _, cat := range aclCategoryNames {
		theirs[cat] = map[string]bool{}
		for _, n := range parse(ref.do("ACL", "CAT", cat)) {
			theirs[cat][n] = true
			known[n] = true
		}
	}
	checked := 0
	for _, cat := range aclCategoryNames {
		mine := map[string]bool{}
		for _, n := range parse(got.do("ACL", "CAT", cat)) {
			mine[n] = true
		}
		for n := range ours {
			if !known[n] || n == "wait" {
				continue // raftstream's own, newer than Redis 7.0, or (WAIT) with Redis 8's categories
			}
			checked++
			if mine[n] != theirs[cat][n] {
				t.Errorf("%s in @%s: raftstream %v, redis %v", n, cat, mine[n], theirs[cat][n])
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d command/category pairs compared", checked)
	}
	// raftstream's own admin commands are @admin and @dangerous.
	for _, n := range []string{"raft|add", "raft|remove", "raft|transfer", "raft|snapshot", "raft|backup", "debug"} {
		c := s.table().get(n)
		if c == nil || !hasFlag(c.Info().ACL, "@admin") || !hasFlag(c.Info().ACL, "@dangerous") {
			t.Errorf("%s: categories %v", n, c.Info().ACL)
		}
	}
}

// TestACLRequirePass: requirepass is the default user's password, and
// CONFIG SET requirepass changes the replicated default user.
func TestACLRequirePass(t *testing.T) {
	s := startServer(t, Config{RequirePass: "old"}, startNode(t))
	c := dialRaw(t, s)
	c.expect("-NOAUTH Authentication required.\r\n", "PING")
	c.expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "x")
	c.expect("+OK\r\n", "AUTH", "default", "old")
	if r := c.do("ACL", "LIST"); !strings.Contains(r, "user default on #"+engine.HashPassword("old")+" ~* &* +@all") {
		t.Fatalf("ACL LIST %q", r)
	}
	// Changing the default user's commands keeps its password.
	c.expect("+OK\r\n", "ACL", "SETUSER", "default", "-flushall")
	if r := c.do("ACL", "LIST"); !strings.Contains(r, "user default on #"+engine.HashPassword("old")+" ~* &* +@all -flushall") {
		t.Fatalf("ACL LIST %q", r)
	}
	c.expect("+OK\r\n", "CONFIG", "SET", "requirepass", "new")
	c.expect("*2\r\n$11\r\nrequirepass\r\n$3\r\nnew\r\n", "CONFIG", "GET", "requirepass")
	if r := c.do("ACL", "LIST"); !strings.Contains(r, "user default on #"+engine.HashPassword("new")+" ~* &* +@all -flushall") {
		t.Fatalf("ACL LIST %q", r)
	}
	d := dialRaw(t, s)
	d.expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "old")
	d.expect("+OK\r\n", "AUTH", "new")
	d.expect("-NOPERM User default has no permissions to run the 'flushall' command\r\n", "FLUSHALL")
	c.expect("+OK\r\n", "CONFIG", "SET", "requirepass", "")
	e := dialRaw(t, s)
	e.expect("+PONG\r\n", "PING")
	e.expect("-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n", "AUTH", "x")
	// No plain-text password in the replicated state.
	s.be.Read(func(st *engine.State) {
		for _, u := range st.ACL().Users() {
			if strings.Contains(u.Describe(), "new") || strings.Contains(u.Describe(), "old") {
				t.Errorf("plain text password in %q", u.Describe())
			}
		}
	})
}

// TestACLGoRedis authenticates go-redis as an ACL user (RESP2 and 3,
// which uses HELLO 3 AUTH) and checks denials.
func TestACLGoRedis(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	ctx := context.Background()
	admin := newGoRedis(t, s, &redis.Options{})
	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@stream", "+@connection").Err(); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []int{2, 3} {
		c := newGoRedis(t, s, &redis.Options{Protocol: proto, Username: "app", Password: "apppw"})
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "app:s", Values: []string{"a", "b"}}).Err(); err != nil {
			t.Fatalf("RESP%d XADD: %v", proto, err)
		}
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "other", Values: []string{"a", "b"}}).Err(); err == nil || err.Error() != "NOPERM No permissions to access a key" {
			t.Fatalf("RESP%d XADD other: %v", proto, err)
		}
		if err := c.FlushAll(ctx).Err(); err == nil || err.Error() != "NOPERM User app has no permissions to run the 'flushall' command" {
			t.Fatalf("RESP%d FLUSHALL: %v", proto, err)
		}
		who, err := c.Do(ctx, "ACL", "WHOAMI").Text()
		if err == nil || who != "" {
			// acl|whoami is @slow only, not @connection
			t.Fatalf("RESP%d ACL WHOAMI: %q %v", proto, who, err)
		}
		bad := newGoRedis(t, s, &redis.Options{Protocol: proto, Username: "app", Password: "no"})
		if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Fatalf("RESP%d wrong password: %v", proto, err)
		}
	}
	// ACL LOG saw the denials.
	entries, err := admin.Do(ctx, "ACL", "LOG").Slice()
	if err != nil || len(entries) < 3 {
		t.Fatalf("ACL LOG: %v %v", entries, err)
	}
	reasons := []string{}
	for _, e := range entries {
		m := map[string]any{}
		switch v := e.(type) {
		case []any:
			for i := 0; i+1 < len(v); i += 2 {
				m[v[i].(string)] = v[i+1]
			}
		case map[any]any:
			for k, x := range v {
				m[k.(string)] = x
			}
		}
		reasons = append(reasons, m["reason"].(string)+":"+m["object"].(string)+":"+m["username"].(string))
		if n, _ := m["count"].(int64); n < 1 {
			t.Errorf("entry count %v", m["count"])
		}
	}
	for _, want := range []string{"auth:AUTH:app", "command:flushall:app", "key:other:app"} {
		if !slices.Contains(reasons, want) {
			t.Errorf("ACL LOG lacks %s: %v", want, reasons)
		}
	}
	info, err := admin.Info(ctx, "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "acl_access_denied_auth:") || strings.Contains(info, "acl_access_denied_auth:0\r\n") {
		t.Errorf("INFO stats: no auth denials counted")
	}
	for _, f := range []string{"acl_access_denied_cmd:4", "acl_access_denied_key:2", "acl_access_denied_channel:0"} {
		if !strings.Contains(info, f+"\r\n") {
			t.Errorf("INFO stats lacks %s", f)
		}
	}
	if err := admin.Do(ctx, "ACL", "LOG", "RESET").Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := admin.Do(ctx, "ACL", "LOG").Slice(); len(n) != 0 {
		t.Fatalf("after RESET: %v", n)
	}
}

// TestACLHTTPAuth checks the console's check: credentials and the
// commands the console needs.
func TestACLHTTPAuth(t *testing.T) {
	s := startServer(t, Config{RequirePass: "pw"}, startNode(t))
	c := dialRaw(t, s)
	c.expect("+OK\r\n", "AUTH", "pw")
	c.expect("+OK\r\n", "ACL", "SETUSER", "viewer", "on", ">v", "+xinfo", "+info", "%R~*")
	c.expect("+OK\r\n", "ACL", "SETUSER", "narrow", "on", ">n", "+xinfo", "+info", "~app:*")
	c.expect("+OK\r\n", "ACL", "SETUSER", "writer", "on", ">w", "+xadd", "allkeys")
	need := [][]string{{"XINFO", "STREAM"}, {"INFO"}}
	for _, tc := range []struct {
		user, pass string
		want       int
	}{
		{"", "pw", 0}, {"default", "pw", 0}, {"viewer", "v", 0}, {"someone", "pw", 0},
		{"writer", "w", 403}, {"narrow", "n", 403}, {"viewer", "x", 401}, {"nosuch", "v", 401}, {"", "", 401},
	} {
		if got := s.HTTPAuth(tc.user, tc.pass, true, need...); got != tc.want {
			t.Errorf("%s/%s: %d, want %d", tc.user, tc.pass, got, tc.want)
		}
	}
	if got := s.HTTPAuth("narrow", "n", false, need...); got != 0 {
		t.Errorf("narrow without the all-keys requirement: %d", got)
	}
	if !s.HTTPAuthRequired() {
		t.Fatal("auth not required with a password")
	}
}

// TestACLProtectedMode: protected mode looks at the default user only,
// as Redis does: other users with passwords do not lift it; a password on
// the default user (set through the ACL) does.
func TestACLProtectedMode(t *testing.T) {
	ext := externalIP(t)
	s := startServer(t, Config{Addr: "0.0.0.0:0"}, startNode(t))
	local := dialVia(t, s, "127.0.0.1")
	local.expect("+OK\r\n", "ACL", "SETUSER", "app", "on", ">pw", "allkeys", "+@all")
	if got := dialVia(t, s, ext).do("AUTH", "app", "pw"); got != protectedModeDenied {
		t.Fatalf("with a nopass default user: %q", got)
	}
	local.expect("+OK\r\n", "ACL", "SETUSER", "default", "off")
	if got := dialVia(t, s, ext).do("PING"); got != protectedModeDenied {
		t.Fatalf("with a disabled nopass default user: %q", got)
	}
	local.expect("+OK\r\n", "ACL", "SETUSER", "default", "on", "resetpass", ">pw2")
	c := dialVia(t, s, ext)
	c.expect("-NOAUTH Authentication required.\r\n", "PING")
	c.expect("+OK\r\n", "AUTH", "app", "pw")
	c.expect("+PONG\r\n", "PING")
}

// TestACLSetUserRedactedInSlowlog: SLOWLOG never shows a SETUSER's rules
// (passwords), as in Redis.
func TestACLSetUserRedactedInSlowlog(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	c.expect("+OK\r\n", "CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.expect("+OK\r\n", "ACL", "SETUSER", "u", "on", ">supersecret")
	r := c.do("SLOWLOG", "GET", "2")
	if strings.Contains(r, "supersecret") || strings.Contains(r, engine.HashPassword("supersecret")) || !strings.Contains(r, "(redacted)") {
		t.Fatalf("SLOWLOG GET: %q", r)
	}
}

// TestACLDeadLetterKey: RS.SETDLQ's dead-letter stream is checked against
// the key patterns too, so a user cannot route entries into a stream it
// may not write.
func TestACLDeadLetterKey(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	c.expect("+OK\r\n", "ACL", "SETUSER", "app", "on", "nopass", "~app:*", "+@all")
	c.expect("+OK\r\n", "XGROUP", "CREATE", "app:jobs", "g", "$", "MKSTREAM")
	u := dialRaw(t, s)
	u.expect("+OK\r\n", "AUTH", "app", "x")
	u.expect("-NOPERM No permissions to access a key\r\n", "RS.SETDLQ", "app:jobs", "g", "MAXDELIVERIES", "3", "DEADLETTER", "other")
	u.expect("+OK\r\n", "RS.SETDLQ", "app:jobs", "g", "MAXDELIVERIES", "3", "DEADLETTER", "app:dead")
	c.expect("*2\r\n$8\r\napp:jobs\r\n$8\r\napp:dead\r\n", "COMMAND", "GETKEYS", "RS.SETDLQ", "app:jobs", "g", "MAXDELIVERIES", "3", "DEADLETTER", "app:dead")
}
