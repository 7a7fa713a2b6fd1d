package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// groupState loads a stream with entries and a consumer group whose
// consumers hold delivered, acknowledged and claimed entries.
func groupState(t *testing.T, c *redis.Client, key string, entries int) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	pipe := c.Pipeline()
	for i := range entries {
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{"f1", i, "f2", "v" + strconv.Itoa(i), "f3", "x"}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("load %s: %v", key, err)
	}
	must(t, c.XGroupCreate(ctx, key, "g", "0").Err())
	must(t, c.XGroupCreate(ctx, key, "g2", "$").Err())
	alice, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{key, ">"}, Count: 30}).Result()
	must(t, err)
	must(t, c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "bob", Streams: []string{key, ">"}, Count: 10}).Err())
	ids := alice[0].Messages
	must(t, c.XAck(ctx, key, "g", ids[0].ID, ids[1].ID, ids[2].ID).Err())
	must(t, c.XClaim(ctx, &redis.XClaimArgs{Stream: key, Group: "g", Consumer: "bob", Messages: []string{ids[5].ID}}).Err())
}

// streamView is what a client sees of key, in a form two nodes can be
// compared by: the entries, the stream and group info, and the pending
// entries without their idle times (which follow each node's clock).
func streamView(t *testing.T, c *redis.Client, key string) string {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	var b strings.Builder
	for _, cmd := range [][]any{{"XRANGE", key, "-", "+"}, {"XINFO", "STREAM", key, "FULL"}, {"XINFO", "GROUPS", key}, {"XPENDING", key, "g"}} {
		v, err := c.Do(ctx, cmd...).Result()
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		fmt.Fprintln(&b, v)
	}
	pending, err := c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: "g", Start: "-", End: "+", Count: 1000}).Result()
	must(t, err)
	for _, p := range pending {
		fmt.Fprintln(&b, p.ID, p.Consumer, p.RetryCount)
	}
	return b.String()
}

// TestBackupRestore backs a live three-node cluster up through a
// follower with `raftstream backup` while a client keeps writing,
// restores the file with `raftstream restore`, starts a node on it and
// compares what go-redis and redis-cli read on both: identical streams,
// groups, consumers and pending entries, and every write acknowledged
// before the backup. A damaged copy of the file is refused.
func TestBackupRestore(t *testing.T) {
	nodes := StartCluster(t, 3)
	leader := waitLeader(t, nodes)
	var follower *Proc
	for _, p := range nodes {
		if p != leader {
			follower = p
			break
		}
	}
	c := newClient(t, follower.Addr, 3, 0)
	groupState(t, c, "orders", 2000)
	// ACL users are replicated state: the backup carries them.
	must(t, c.Do(testCtx(t, time.Minute), "ACL", "SETUSER", "reader", "on", ">r3ad", "~orders", "+@read").Err())

	// A writer that goes on during the backup.
	ctx, stop := context.WithCancel(context.Background())
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		wc := newClient(t, leader.Addr, 2, 0)
		for i := 0; ctx.Err() == nil; i++ {
			id, err := wc.XAdd(ctx, &redis.XAddArgs{Stream: "live", Values: []any{"i", i}}).Result()
			if err == nil {
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}
	}()
	waitFor(t, 30*time.Second, "live writes", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 50 })
	mu.Lock()
	before := slices.Clone(acked)
	mu.Unlock()

	file := filepath.Join(t.TempDir(), "cluster.rsb")
	code, out := runBinary(t, 2*time.Minute, "backup", "--from", follower.Addr, "--out", file)
	if code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("raftstream backup: exit %d\n%s", code, out)
	}
	t.Logf("raftstream backup: %s", strings.TrimSpace(out))
	waitFor(t, 30*time.Second, "writes after the backup", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= len(before)+20 })
	stop()
	wg.Wait()

	ports, err := freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	raftAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	r := newProc(t, "raftstream", raftstreamBinary(t), func(p *Proc) []string {
		return []string{"--node-id", "r1", "--data-dir", p.Dir, "--listen", p.Addr, "--raft-listen", p.RaftAddr}
	})
	r.Name = "raftstream-restored"
	r.Addr, r.RaftAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), raftAddr

	// A damaged copy is refused and leaves the data dir empty.
	bad := filepath.Join(t.TempDir(), "bad.rsb")
	damage(t, file, bad)
	if code, out := runBinary(t, time.Minute, "restore", "--in", bad, "--data-dir", r.Dir, "--node-id", "r1", "--raft-advertise", raftAddr); code == 0 || !strings.Contains(out, "damaged") {
		t.Fatalf("restore of a damaged backup: exit %d\n%s", code, out)
	}
	code, out = runBinary(t, 2*time.Minute, "restore", "--in", file, "--data-dir", r.Dir, "--node-id", "r1", "--raft-advertise", raftAddr)
	if code != 0 {
		t.Fatalf("raftstream restore: exit %d\n%s", code, out)
	}
	t.Logf("raftstream restore: %s", strings.TrimSpace(out))
	r.Start()
	rc := newClient(t, r.Addr, 3, 0)

	if want, got := streamView(t, c, "orders"), streamView(t, rc, "orders"); want != got {
		t.Errorf("orders differs after restore:\nsource:\n%s\nrestored:\n%s", want, got)
	}
	for _, args := range [][]string{{"XRANGE", "orders", "-", "+", "COUNT", "50"}, {"XINFO", "STREAM", "orders", "FULL"}, {"XPENDING", "orders", "g"}} {
		if want, got := redisCLI(t, follower.Addr, "", args...), redisCLI(t, r.Addr, "", args...); want != got {
			t.Errorf("redis-cli %v:\nsource:\n%s\nrestored:\n%s", args, want, got)
		}
	}
	live, err := rc.XRange(testCtx(t, time.Minute), "live", "-", "+").Result()
	must(t, err)
	var got []string
	for _, m := range live {
		got = append(got, m.ID)
	}
	if len(got) < len(before) || !slices.Equal(got[:len(before)], before) {
		t.Fatalf("restored live stream holds %d entries; the %d acknowledged before the backup are not its prefix", len(got), len(before))
	}
	// The user came back with its password and rules.
	uc := redis.NewClient(&redis.Options{Addr: r.Addr, Username: "reader", Password: "r3ad", Protocol: 3})
	defer uc.Close()
	must(t, uc.XLen(testCtx(t, time.Minute), "orders").Err())
	if err := uc.XLen(testCtx(t, time.Minute), "live").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("restored user read a key outside its pattern: %v", err)
	}
	// The restored node is a cluster of its own, and takes writes.
	must(t, rc.XAdd(testCtx(t, time.Minute), &redis.XAddArgs{Stream: "orders", Values: []any{"after", "restore"}}).Err())
	if m := members(t, r.Addr); len(m) != 1 {
		t.Fatalf("restored node's members: %v", m)
	}
}

// damage copies src to dst with one byte of the body flipped.
func damage(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestForceNewCluster: a three-node cluster loses two nodes for good; the
// survivor is stopped, `raftstream recover --force-new-cluster` makes it a
// cluster of its own, it serves everything it had, and a new node joins.
func TestForceNewCluster(t *testing.T) {
	nodes := StartCluster(t, 3)
	leader := waitLeader(t, nodes)
	c := newClient(t, leader.Addr, 2, 0)
	groupState(t, c, "orders", 500)
	var survivor *Proc
	for _, p := range nodes {
		if p != leader {
			survivor = p
		}
	}
	waitCaughtUp(t, survivor, leader)
	want := streamView(t, c, "orders")
	for _, p := range nodes {
		if p != survivor {
			p.Kill()
		}
	}
	if err := survivor.Stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stop the survivor: %v", err)
	}
	id := strings.TrimPrefix(survivor.Name, "raftstream-")
	if code, out := runBinary(t, time.Minute, "recover", "--data-dir", survivor.Dir, "--node-id", id); code != 2 {
		t.Fatalf("recover without --force-new-cluster: exit %d\n%s", code, out)
	}
	code, out := runBinary(t, 2*time.Minute, "recover", "--force-new-cluster", "--data-dir", survivor.Dir, "--node-id", id)
	if code != 0 {
		t.Fatalf("raftstream recover: exit %d\n%s", code, out)
	}
	t.Logf("raftstream recover: %s", strings.TrimSpace(out))
	survivor.Start()
	sc := newClient(t, survivor.Addr, 2, 0)
	if got := streamView(t, sc, "orders"); got != want {
		t.Fatalf("after recovery:\n%s\nbefore:\n%s", got, want)
	}
	must(t, sc.XAdd(testCtx(t, time.Minute), &redis.XAddArgs{Stream: "orders", Values: []any{"after", "recovery"}}).Err())

	j := newProc(t, "raftstream", raftstreamBinary(t), func(p *Proc) []string {
		return []string{"--node-id", "n9", "--data-dir", p.Dir, "--listen", p.Addr, "--raft-listen", p.RaftAddr, "--join", survivor.RaftAddr}
	})
	j.Name = "raftstream-n9"
	j.startFresh(2)
	waitFor(t, time.Minute, "n9 to be a voter", func() bool {
		m := members(t, survivor.Addr)
		return len(m) == 2 && m["n9"] == "voter"
	})
	waitCaughtUp(t, j, survivor)
	jc := newClient(t, j.Addr, 2, 0)
	if got, exp := streamView(t, jc, "orders"), streamView(t, sc, "orders"); got != exp {
		t.Fatalf("the joiner differs from the recovered node:\n%s\n%s", got, exp)
	}
}
