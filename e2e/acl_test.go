package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// aclUserRules is the user every client below authenticates as: streams
// under app:* only, no admin commands.
var aclUserRules = []any{"ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "-@all", "+@stream", "+ping", "+acl|whoami"}

// TestACLClients creates an ACL user through the real binary and checks
// that go-redis, redis-cli (--user/--pass) and redis-py authenticate as it
// and are denied a command and a key, with the same replies as
// redis-server where Redis 7.0 answers alike; then that the user survives
// a snapshot and a restart.
func TestACLClients(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream-only: Redis 7.2+ NOPERM texts, RAFT SNAPSHOT; redis-server runs beside it")
	}
	ctx := testCtx(t, 3*time.Minute)
	prod := StartNode(t)
	procs := []*Proc{prod}
	if _, err := exec.LookPath("redis-server"); err == nil {
		procs = append(procs, StartRedis(t))
	}
	for _, p := range procs {
		must(t, newClient(t, p.Addr, 2, 0).Do(ctx, aclUserRules...).Err())
	}

	// go-redis, RESP2 (AUTH user pass) and RESP3 (HELLO 3 AUTH user pass).
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: prod.Addr, Protocol: proto, Username: "app", Password: "apppw", MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		must(t, c.XAdd(ctx, &redis.XAddArgs{Stream: "app:orders", ID: "*", Values: []string{"item", "book"}}).Err())
		wantErr(t, c.XAdd(ctx, &redis.XAddArgs{Stream: "payments", ID: "*", Values: []string{"a", "1"}}).Err(),
			"NOPERM No permissions to access a key")
		wantErr(t, c.FlushAll(ctx).Err(), "NOPERM User app has no permissions to run the 'flushall' command")
		wantErr(t, c.Do(ctx, "RAFT", "REMOVE", "n1").Err(), "NOPERM User app has no permissions to run the 'raft|remove' command")
		if who, err := c.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || who != "app" {
			t.Fatalf("RESP%d ACL WHOAMI = %q, %v", proto, who, err)
		}
		bad := redis.NewClient(&redis.Options{Addr: prod.Addr, Protocol: proto, Username: "app", Password: "nope", MaxRetries: -1})
		t.Cleanup(func() { bad.Close() })
		wantErr(t, bad.Ping(ctx).Err(), "WRONGPASS invalid username-password pair or user is disabled.")
	}

	// redis-cli --user/--pass: the same output as redis-server where
	// Redis 7.0 has the same texts.
	if _, err := exec.LookPath("redis-cli"); err == nil {
		auth := []string{"--user", "app", "--pass", "apppw", "--no-auth-warning"}
		same := [][]string{
			{"XADD", "app:cli", "1-1", "f", "v"},
			{"XLEN", "app:cli"},
			{"ACL", "WHOAMI"},
		}
		for _, args := range same {
			cli := append(append([]string(nil), auth...), args...)
			got := redisCLI(t, prod.Addr, "", cli...)
			if len(procs) > 1 {
				if want := redisCLI(t, procs[1].Addr, "", cli...); got != want {
					t.Errorf("redis-cli %s\n--- raftstream ---\n%s--- redis ---\n%s", quoteArgs(cli), got, want)
				}
			}
		}
		for args, want := range map[string]string{
			"XADD payments 1-1 f v": "NOPERM No permissions to access a key",
			"FLUSHALL":              "NOPERM User app has no permissions to run the 'flushall' command",
		} {
			cli := append(append([]string(nil), auth...), strings.Fields(args)...)
			if got := strings.TrimSpace(redisCLI(t, prod.Addr, "", cli...)); got != want {
				t.Errorf("redis-cli %s: %q, want %q", args, got, want)
			}
		}
		bad := []string{"--user", "app", "--pass", "wrong", "--no-auth-warning", "PING"}
		got := redisCLI(t, prod.Addr, "", bad...)
		if !strings.Contains(got, "WRONGPASS invalid username-password pair or user is disabled.") {
			t.Errorf("redis-cli with a wrong password: %q", got)
		}
		if len(procs) > 1 {
			if want := redisCLI(t, procs[1].Addr, "", bad...); got != want {
				t.Errorf("redis-cli wrong password\n--- raftstream ---\n%s--- redis ---\n%s", got, want)
			}
		}
	}

	// redis-py (Debian's python3-redis).
	if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err == nil {
		for _, p := range procs {
			got := runPy(t, ctx, aclPyScript, p.Addr)
			want := "xadd ok\nkey denied: No permissions to access a key\n" +
				"command denied: User app has no permissions to run the 'flushall' command\nwhoami app\nauth failed: WRONGPASS invalid username-password pair or user is disabled.\n"
			if p.Kind == "redis" {
				// Redis 7.0's NOPERM texts predate 7.2's.
				want = "xadd ok\nkey denied: this user has no permissions to access one of the keys used as arguments\n" +
					"command denied: this user has no permissions to run the 'flushall' command\nwhoami app\nauth failed: WRONGPASS invalid username-password pair or user is disabled.\n"
			}
			if got != want {
				t.Errorf("redis-py against %s:\n%s", p.Name, got)
			}
		}
	} else if _, serr := os.Stat(systemPython); serr == nil {
		t.Logf("redis-py not importable, skipped: %s", out)
	}

	// The user is in the snapshot and the log: it survives a restart.
	admin := newClient(t, prod.Addr, 2, 0)
	must(t, admin.Do(ctx, "RAFT", "SNAPSHOT").Err())
	must(t, admin.Do(ctx, "ACL", "SETUSER", "late", "on", ">latepw", "+ping").Err())
	must(t, prod.Stop(syscall.SIGTERM))
	prod.Start()
	for user, pass := range map[string]string{"app": "apppw", "late": "latepw"} {
		c := redis.NewClient(&redis.Options{Addr: prod.Addr, Username: user, Password: pass, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("%s after restart: %v", user, err)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: prod.Addr, Username: "app", Password: "apppw", MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	wantErr(t, c.XAdd(ctx, &redis.XAddArgs{Stream: "payments", ID: "*", Values: []string{"a", "1"}}).Err(),
		"NOPERM No permissions to access a key")
	prod.RequireAlive(t)
}

// aclPyScript authenticates redis-py as "app" and reports, one line each,
// what happened; argv[1] is the port.
const aclPyScript = `
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), username="app", password="apppw")
r.xadd("app:py", {"f": "v"})
print("xadd ok")
try:
    r.xadd("payments", {"f": "v"})
    print("key allowed")
except redis.exceptions.NoPermissionError as e:
    print("key denied:", e)
try:
    r.flushall()
    print("command allowed")
except redis.exceptions.NoPermissionError as e:
    print("command denied:", e)
print("whoami", r.execute_command("ACL", "WHOAMI").decode())
try:
    redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), username="app", password="bad").ping()
    print("auth ok")
except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError) as e:
    print("auth failed:", e)
`

// runPy runs a Python script with the system interpreter; the address's
// port is its argument.
func runPy(t *testing.T, ctx context.Context, script, addr string) string {
	t.Helper()
	port := addr[strings.LastIndex(addr, ":")+1:]
	out, err := exec.CommandContext(ctx, systemPython, "-c", script, port).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}
