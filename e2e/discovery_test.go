package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterDiscovery checks what every node of a 3-node cluster tells
// cluster-aware and failover-aware clients: CLUSTER SLOTS/SHARDS/NODES
// name the Raft leader as the master of all 16384 slots and the other
// members as its replicas, with their client addresses; SENTINEL names
// the leader as the master and the others as replicas and sentinels.
func TestClusterDiscovery(t *testing.T) {
	nodes := startCluster3(t, 3)
	leader := waitNewLeader(t, nodes)
	ctx := testCtx(t, time.Minute)
	ids := map[string]string{} // client address -> CLUSTER MYID
	for _, n := range nodes {
		c := newClient(t, n.Addr, 2, 0)
		id, err := c.ClusterMyID(ctx).Result()
		must(t, err)
		if len(id) != 40 {
			t.Fatalf("%s: CLUSTER MYID %q is not 40 hex digits", n.id, id)
		}
		ids[n.Addr] = id
		_ = c.Close()
	}
	for _, n := range nodes {
		c := newClient(t, n.Addr, 3, 0)
		waitFor(t, 30*time.Second, n.id+" to list the leader and both replicas in CLUSTER SLOTS", func() bool {
			slots, err := clusterSlots(ctx, c)
			if err != nil || len(slots) != 1 || len(slots[0].Nodes) != 3 {
				return false
			}
			return slots[0].Start == 0 && slots[0].End == 16383 && slots[0].Nodes[0].Addr == leader.Addr &&
				slots[0].Nodes[0].ID == ids[leader.Addr]
		})
		slots, err := clusterSlots(ctx, c)
		must(t, err)
		for _, sn := range slots[0].Nodes {
			if ids[sn.Addr] != sn.ID {
				t.Errorf("%s: CLUSTER SLOTS lists %s with ID %s, its CLUSTER MYID is %s", n.id, sn.Addr, sn.ID, ids[sn.Addr])
			}
		}
		shards, err := c.ClusterShards(ctx).Result()
		must(t, err)
		if len(shards) != 1 || len(shards[0].Nodes) != 3 || shards[0].Nodes[0].Role != "master" || shards[0].Nodes[0].ID != ids[leader.Addr] {
			t.Errorf("%s: CLUSTER SHARDS = %+v", n.id, shards)
		}
		text, err := c.ClusterNodes(ctx).Result()
		must(t, err)
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		masters := 0
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 8 {
				t.Fatalf("%s: CLUSTER NODES line %q", n.id, l)
			}
			if strings.Contains(f[2], "master") {
				masters++
				if f[0] != ids[leader.Addr] || !strings.HasPrefix(f[1], leader.Addr+"@") || f[len(f)-1] != "0-16383" {
					t.Errorf("%s: master line %q, want the leader %s", n.id, l, leader.Addr)
				}
			}
			if strings.Contains(f[2], "myself") != (f[0] == ids[n.Addr]) {
				t.Errorf("%s: line %q: myself flag on the wrong node", n.id, l)
			}
		}
		if len(lines) != 3 || masters != 1 {
			t.Errorf("%s: CLUSTER NODES:\n%s", n.id, text)
		}
		reps, err := c.Do(ctx, "CLUSTER", "REPLICAS", ids[leader.Addr]).StringSlice()
		must(t, err)
		if len(reps) != 2 || !strings.Contains(reps[0], "slave "+ids[leader.Addr]+" ") || !strings.Contains(reps[1], "slave "+ids[leader.Addr]+" ") {
			t.Errorf("%s: CLUSTER REPLICAS %s = %q", n.id, ids[leader.Addr], reps)
		}
		info, err := c.ClusterInfo(ctx).Result()
		must(t, err)
		if !strings.Contains(info, "cluster_state:ok\r\n") || !strings.Contains(info, "cluster_known_nodes:3\r\n") {
			t.Errorf("%s: CLUSTER INFO:\n%s", n.id, info)
		}

		sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr, Protocol: 2})
		addr, err := sc.GetMasterAddrByName(ctx, "raftstream").Result()
		must(t, err)
		if net.JoinHostPort(addr[0], addr[1]) != leader.Addr {
			t.Errorf("%s: SENTINEL get-master-addr-by-name = %v, want %s", n.id, addr, leader.Addr)
		}
		sreps, err := sc.Replicas(ctx, "raftstream").Result()
		must(t, err)
		sents, err := sc.Sentinels(ctx, "raftstream").Result()
		must(t, err)
		if len(sreps) != 2 || len(sents) != 2 {
			t.Errorf("%s: SENTINEL replicas %v, sentinels %v: want 2 of each", n.id, sreps, sents)
		}
		for _, r := range sreps {
			if a := net.JoinHostPort(r["ip"], r["port"]); a == leader.Addr || ids[a] == "" {
				t.Errorf("%s: SENTINEL replicas lists %s", n.id, a)
			}
		}
		_ = sc.Close()
		_ = c.Close()
	}

	// redis-cli's cluster checker sees one master with two replicas that
	// agree on the slot map.
	if _, err := exec.LookPath("redis-cli"); err == nil {
		out, err := exec.CommandContext(ctx, "redis-cli", "--cluster", "check", follower(t, nodes).Addr).CombinedOutput()
		text := string(out)
		if err != nil || !strings.Contains(text, "2 additional replica(s)") ||
			!strings.Contains(text, "[OK] All nodes agree about slots configuration.") || !strings.Contains(text, "[OK] All 16384 slots covered.") {
			t.Errorf("redis-cli --cluster check: %v\n%s", err, text)
		}
	}

	// A member that stops answering the leader is dropped from the
	// leader's CLUSTER SLOTS and flagged fail in CLUSTER NODES, as Redis
	// leaves failed replicas out, so clients stop dialing it.
	gone := follower(t, nodes)
	gone.Kill()
	c := newClient(t, leader.Addr, 2, 0)
	defer c.Close()
	start := time.Now()
	waitFor(t, time.Minute, "the leader to drop the killed "+gone.id+" from CLUSTER SLOTS", func() bool {
		slots, err := clusterSlots(ctx, c)
		return err == nil && len(slots) == 1 && len(slots[0].Nodes) == 2
	})
	t.Logf("killed %s left the leader's CLUSTER SLOTS after %v", gone.id, time.Since(start).Round(100*time.Millisecond))
	text, err := c.ClusterNodes(ctx).Result()
	must(t, err)
	if !strings.Contains(text, ids[gone.Addr]+" "+gone.Addr+"@") || !strings.Contains(text, "slave,fail") {
		t.Errorf("CLUSTER NODES after killing %s:\n%s", gone.id, text)
	}
}

// clusterSlots is CLUSTER SLOTS through go-redis, which marks it
// deprecated in favour of CLUSTER SHARDS; it is what cluster clients
// (go-redis's own ClusterClient included) still ask for.
func clusterSlots(ctx context.Context, c *redis.Client) ([]redis.ClusterSlot, error) {
	//lint:ignore SA1019 CLUSTER SLOTS is the command under test
	return c.ClusterSlots(ctx).Result()
}

// idmpLoad appends to one stream as fast as a client allows, one
// sequence number per entry, each XADD with IDMP <producer> <seq>; a
// failed XADD is retried with the same sequence number until it succeeds,
// so a retry of a write that did commit is answered with the first ID
// instead of adding a second entry.
type idmpLoad struct {
	key, producer string

	mu       sync.Mutex
	acked    map[int]string // seq -> ID as acknowledged
	errs     int
	samples  []string
	maxStall time.Duration
}

// run drives the load through do until ctx is done.
func (l *idmpLoad) run(ctx context.Context, do func(ctx context.Context, args ...any) (string, error)) <-chan struct{} {
	l.acked = map[int]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		lastOK := time.Now()
		for seq := 1; ctx.Err() == nil; {
			id, err := do(ctx, "XADD", l.key, "IDMP", l.producer, strconv.Itoa(seq), "*", "seq", strconv.Itoa(seq))
			now := time.Now()
			l.mu.Lock()
			if err != nil {
				if ctx.Err() == nil {
					l.errs++
					if len(l.samples) < 8 {
						l.samples = append(l.samples, err.Error())
					}
				}
				l.mu.Unlock()
				select { // retry pacing while the cluster elects a leader
				case <-time.After(20 * time.Millisecond):
				case <-ctx.Done():
				}
				continue
			}
			l.maxStall = max(l.maxStall, now.Sub(lastOK))
			lastOK = now
			l.acked[seq] = id
			l.mu.Unlock()
			seq++
		}
	}()
	return done
}

func (l *idmpLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// verifyIDMP checks the stream on addr against the acknowledged writes:
// every acknowledged entry is there under the ID its client got, and no
// sequence number was stored twice.
func verifyIDMP(t *testing.T, addr, key string, acked map[int]string) {
	t.Helper()
	c := newClient(t, addr, 2, 0)
	defer c.Close()
	msgs, err := c.XRange(testCtx(t, time.Minute), key, "-", "+").Result()
	must(t, err)
	stored := map[int]string{}
	for _, m := range msgs {
		seq, _ := strconv.Atoi(fmt.Sprint(m.Values["seq"]))
		if prev, dup := stored[seq]; dup {
			t.Errorf("%s: seq %d stored twice (%s and %s)", key, seq, prev, m.ID)
		}
		stored[seq] = m.ID
	}
	for seq, id := range acked {
		if stored[seq] != id {
			t.Errorf("%s: seq %d acknowledged as %s, stored as %q", key, seq, id, stored[seq])
		}
	}
	t.Logf("%s: %d entries stored, %d acknowledged, no duplicates", key, len(stored), len(acked))
}

// failoverEvents kills the leader with SIGKILL, restarts it once a new
// leader serves writes, then moves leadership with RAFT TRANSFER,
// waiting after each step until progress() has grown, so the client's
// writes go on through every change. It returns the node serving as the
// leader at the end.
func failoverEvents(t *testing.T, nodes []*c3node, progress func() int) *c3node {
	t.Helper()
	grow := func(what string, n int) {
		t.Helper()
		from := progress()
		waitFor(t, time.Minute, fmt.Sprintf("%d more acknowledged writes %s", n, what), func() bool { return progress() >= from+n })
	}
	leader := waitNewLeader(t, nodes)
	grow("before the kill", 50)
	leader.Kill()
	t.Logf("killed leader %s with SIGKILL", leader.id)
	next := waitNewLeader(t, nodes)
	grow("after the kill", 50)
	leader.Start()
	waitCaughtUp(t, leader.Proc, next.Proc)
	grow("after the restart", 20)
	if r := do(next.Addr, "RAFT", "TRANSFER"); r != "+OK\r\n" {
		t.Fatalf("RAFT TRANSFER on %s: %q", next.id, r)
	}
	var last *c3node
	waitFor(t, time.Minute, "leadership to move off "+next.id, func() bool {
		for _, n := range alive(nodes) {
			if n != next && raftInfo(n.Addr)["raft_state"] == "leader" {
				last = n
				return true
			}
		}
		return false
	})
	t.Logf("leadership transferred from %s to %s", next.id, last.id)
	grow("after the transfer", 50)
	return last
}

// follower returns a node that is not the leader.
func follower(t *testing.T, nodes []*c3node) *c3node {
	t.Helper()
	leader := waitNewLeader(t, nodes)
	for _, n := range nodes {
		if n != leader {
			return n
		}
	}
	t.Fatal("no follower")
	return nil
}

// streamID matches an entry ID as redis-cli prints it.
var streamID = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// TestClusterClientsFailover runs a write load through Redis Cluster
// clients (go-redis ClusterClient, redis-py RedisCluster, redis-cli -c)
// and failover clients (go-redis NewFailoverClient, redis-py Sentinel)
// seeded with a follower, across a leader kill -9, its restart and a
// leadership transfer. Every XADD carries IDMP and a failed one is
// retried with the same idempotent ID; the test logs the errors each
// client saw and its longest write stall, and checks that every
// acknowledged write is stored exactly once.
func TestClusterClientsFailover(t *testing.T) {
	goClient := func(t *testing.T, mk func(nodes []*c3node) redis.UniversalClient) {
		nodes := startCluster3(t, 3)
		c := mk(nodes)
		defer c.Close()
		l := &idmpLoad{key: "load", producer: "p1"}
		ctx, cancel := context.WithCancel(context.Background())
		done := l.run(ctx, func(ctx context.Context, args ...any) (string, error) {
			return c.Do(ctx, args...).Text()
		})
		leader := failoverEvents(t, nodes, l.count)
		cancel()
		<-done
		t.Logf("%d writes acknowledged; %d errors seen by the client; longest write stall %v; errors: %q",
			len(l.acked), l.errs, l.maxStall.Round(time.Millisecond), l.samples)
		verifyIDMP(t, leader.Addr, l.key, l.acked)
	}
	t.Run("go-redis-ClusterClient", func(t *testing.T) {
		goClient(t, func(nodes []*c3node) redis.UniversalClient {
			// go-redis reloads the slot map on MOVED or every
			// ClusterStateReloadInterval (default 60s), not when the master
			// stops answering: without a short interval a killed leader
			// stalls writes for up to a minute (docs/operations.md).
			return redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{follower(t, nodes).Addr},
				DialTimeout: time.Second, ReadTimeout: 5 * time.Second, ClusterStateReloadInterval: time.Second})
		})
	})
	t.Run("go-redis-FailoverClient", func(t *testing.T) {
		goClient(t, func(nodes []*c3node) redis.UniversalClient {
			var addrs []string
			for _, n := range nodes {
				addrs = append(addrs, n.Addr)
			}
			return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "raftstream", SentinelAddrs: addrs,
				DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
		})
	})
	for _, mode := range []string{"cluster", "sentinel"} {
		t.Run("redis-py-"+mode, func(t *testing.T) { redisPyLoad(t, mode) })
	}
	t.Run("redis-cli-c", func(t *testing.T) {
		if _, err := exec.LookPath("redis-cli"); err != nil {
			t.Skip("redis-cli not installed")
		}
		nodes := startCluster3(t, 3)
		through := follower(t, nodes)
		host, port, _ := net.SplitHostPort(through.Addr)
		l := &idmpLoad{key: "load", producer: "cli"}
		ctx, cancel := context.WithCancel(context.Background())
		done := l.run(ctx, func(ctx context.Context, args ...any) (string, error) {
			argv := []string{"-c", "-h", host, "-p", port}
			for _, a := range args {
				argv = append(argv, fmt.Sprint(a))
			}
			out, err := exec.CommandContext(ctx, "redis-cli", argv...).CombinedOutput()
			reply := strings.TrimSpace(string(out))
			if err != nil || !streamID.MatchString(reply) { // redis-cli prints error replies too, exit status 0
				return "", fmt.Errorf("redis-cli: %v: %s", err, reply)
			}
			return reply, nil
		})
		leader := failoverEvents(t, nodes, l.count)
		cancel()
		<-done
		t.Logf("through %s: %d writes acknowledged; %d errors; longest write stall %v; errors: %q",
			through.id, len(l.acked), l.errs, l.maxStall.Round(time.Millisecond), l.samples)
		verifyIDMP(t, leader.Addr, l.key, l.acked)
	})
}

// redisPyLoad runs testdata/discovery_load.py (RedisCluster or Sentinel
// seeded with every node) across failoverEvents, watching its progress
// through XLEN, and checks what it reports it got acknowledged.
func redisPyLoad(t *testing.T, mode string) {
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("%s not found", systemPython)
	}
	if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err != nil {
		t.Skipf("redis-py not importable by %s: %v\n%s", systemPython, err, out)
	}
	nodes := startCluster3(t, 3)
	seeds := []string{follower(t, nodes).Addr}
	if mode == "sentinel" {
		seeds = seeds[:0]
		for _, n := range nodes {
			seeds = append(seeds, n.Addr)
		}
	}
	stop := filepath.Join(t.TempDir(), "stop")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, "testdata/discovery_load.py", mode, strings.Join(seeds, ","), "load", "py", stop)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	must(t, cmd.Start())
	waited := false
	t.Cleanup(func() {
		if !waited { // failed before the end: stop the script and show what it saw
			_ = os.WriteFile(stop, nil, 0o600)
			_ = cmd.Wait()
			t.Logf("discovery_load.py output:\n%s\nstderr (tail):\n%s", out.String(), tail(errOut.String(), 3000))
		}
	})
	xlen := func() int {
		for _, n := range alive(nodes) {
			if r := do(n.Addr, "XLEN", "load"); strings.HasPrefix(r, ":") {
				v, _ := strconv.Atoi(strings.TrimSpace(r[1:]))
				return v
			}
		}
		return 0
	}
	leader := failoverEvents(t, nodes, xlen)
	must(t, os.WriteFile(stop, nil, 0o600))
	waited = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("discovery_load.py %s: %v\n%s\n%s", mode, err, out.String(), errOut.String())
	}
	var res struct {
		Acked      map[string]string `json:"acked"`
		Errors     int               `json:"errors"`
		Rebuilt    int               `json:"rebuilt"`
		MaxStallMS float64           `json:"max_stall_ms"`
		Samples    []string          `json:"samples"`
	}
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("discovery_load.py output: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	acked := map[int]string{}
	for k, v := range res.Acked {
		seq, _ := strconv.Atoi(k)
		acked[seq] = v
	}
	t.Logf("redis-py %s: %d writes acknowledged; %d errors seen by the client; client rebuilt %d times; longest write stall %.0fms; errors: %q",
		mode, len(acked), res.Errors, res.Rebuilt, res.MaxStallMS, res.Samples)
	verifyIDMP(t, leader.Addr, "load", acked)
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// TestIdempotentRetryAcrossLeaderKill: an XADD with IDMP whose outcome the
// client cannot know — its reply was lost when the leader was killed —
// is retried through another node with the same producer and idempotent
// IDs until it succeeds, and the stream holds it once. When the first
// attempt's reply did arrive, the retry returns the same ID.
func TestIdempotentRetryAcrossLeaderKill(t *testing.T) {
	nodes := startCluster3(t, 3)
	retry := func(t *testing.T, key, iid string) string {
		t.Helper()
		var last string
		waitFor(t, time.Minute, "the retried XADD "+key+" to succeed", func() bool {
			for _, n := range alive(nodes) {
				last = do(n.Addr, "XADD", key, "IDMP", "producer-1", iid, "*", "f", "v")
				if strings.HasPrefix(last, "$") {
					return true
				}
			}
			return false
		})
		return strings.Split(last, "\r\n")[1]
	}
	xlen := func(key string) string {
		return strings.TrimSpace(do(waitNewLeader(t, nodes).Addr, "XLEN", key))
	}

	// Reply lost: the write is sent to the leader, which is killed at once.
	leader := waitNewLeader(t, nodes)
	conn, err := net.DialTimeout("tcp", leader.Addr, 2*time.Second)
	must(t, err)
	_, err = conn.Write([]byte("*9\r\n$4\r\nXADD\r\n$4\r\nlost\r\n$4\r\nIDMP\r\n$10\r\nproducer-1\r\n$1\r\n1\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n"))
	must(t, err)
	leader.Kill()
	_ = conn.Close()
	id := retry(t, "lost", "1")
	if n := xlen("lost"); n != ":1" {
		t.Errorf("after the retry, XLEN lost = %s, want :1", n)
	}
	t.Logf("write with a lost reply stored once, as %s", id)
	leader.Start()

	// Reply received, then the leader is killed: the retry through
	// another node returns the first ID and stores nothing.
	leader = waitNewLeader(t, nodes)
	first := strings.Split(do(leader.Addr, "XADD", "seen", "IDMP", "producer-1", "7", "*", "f", "v"), "\r\n")
	if len(first) < 2 || !strings.HasPrefix(first[0], "$") {
		t.Fatalf("XADD seen: %q", first)
	}
	leader.Kill()
	if again := retry(t, "seen", "7"); again != first[1] {
		t.Errorf("retry returned %s, the first XADD %s", again, first[1])
	}
	if n := xlen("seen"); n != ":1" {
		t.Errorf("XLEN seen = %s, want :1", n)
	}
}
