package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestDurabilityKillBoltDB runs the kill -9 durability test on a data dir
// with the raft-boltdb log, which data dirs made before raft-wal keep.
func TestDurabilityKillBoltDB(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream log stores only")
	}
	testDurability(t, syscall.SIGKILL, 1, false, "--log-store", "boltdb")
}

// TestMigrateLog runs the binary's offline tools as an operator would: a
// node on a raft-boltdb data dir is stopped, `raftstream migrate-log`
// moves its log to raft-wal, `raftstream check` verifies it, and the node
// starts again without the flag and serves everything it had.
func TestMigrateLog(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream log stores only")
	}
	p := StartNode(t, "--log-store", "boltdb", "--snapshot-threshold", "64", "--trailing-logs", "16", "--snapshot-interval", "50ms")
	c := newClient(t, p.Addr, 3, 0)
	ctx := testCtx(t, 60*time.Second)
	for i := range 300 {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []any{"n", i}}).Err(); err != nil {
			t.Fatalf("XADD %d: %v", i, err)
		}
	}
	if err := c.XGroupCreate(ctx, "events", "g", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "25", "STREAMS", "events", ">").Err(); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		var b strings.Builder
		for _, cmd := range [][]any{{"XRANGE", "events", "-", "+"}, {"XINFO", "GROUPS", "events"}, {"XPENDING", "events", "g"}} {
			v, err := c.Do(ctx, cmd...).Result()
			if err != nil {
				t.Fatalf("%v: %v", cmd, err)
			}
			fmt.Fprintln(&b, v)
		}
		return b.String()
	}
	want := state()
	if err := p.Stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stop: %v", err)
	}

	bin := raftstreamBinary(t)
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("migrate-log", "--data-dir", p.Dir); err != nil {
		t.Fatalf("migrate-log: %v\n%s", err, out)
	}
	for _, f := range []string{"wal", "stable.db", "raft.db.migrated"} {
		if _, err := os.Stat(filepath.Join(p.Dir, f)); err != nil {
			t.Errorf("after migrate-log: %v", err)
		}
	}
	out, err := run("check", "--data-dir", p.Dir)
	if err != nil || !strings.HasPrefix(out, "ok: wal log") {
		t.Fatalf("check after migration: %v\n%s", err, out)
	}
	t.Logf("raftstream check: %s", strings.TrimSpace(out))

	// The old flag now contradicts the data dir: the node refuses to start.
	if err := p.tryStart(); err == nil || !strings.Contains(p.logTail(4096), "cannot go back") {
		t.Fatalf("start with --log-store boltdb on a wal data dir: %v\n%s", err, p.logTail(4096))
	}
	withoutFlag := p.args
	p.args = func(p *Proc) []string {
		a := withoutFlag(p)
		i := slices.Index(a, "--log-store")
		return slices.Delete(a, i, i+2)
	}
	p.Start()
	c = newClient(t, p.Addr, 3, 0)
	if got := state(); got != want {
		t.Fatalf("after migration:\n%s\nbefore:\n%s", got, want)
	}
	if !strings.Contains(p.logTail(1<<20), `kind=wal`) {
		t.Errorf("startup log does not name the wal store:\n%s", p.logTail(4096))
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []any{"n", 300}}).Err(); err != nil {
		t.Fatalf("XADD after migration: %v", err)
	}
}
