package cluster

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/fsm"
)

// writeBackup takes a backup on n and writes it to a file.
func writeBackup(t *testing.T, n *Node) (string, BackupHeader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bs, err := n.Backup(ctx)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	defer bs.Release()
	path := filepath.Join(t.TempDir(), "backup.rsb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	written, err := bs.WriteTo(f)
	if err != nil {
		t.Fatalf("write backup: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if written != bs.Header().Size() {
		t.Fatalf("wrote %d bytes, header says %d", written, bs.Header().Size())
	}
	return path, bs.Header()
}

// groupFixture gives key a consumer group with two consumers, pending
// entries (some acknowledged, one claimed) and stream configuration.
func groupFixture(t *testing.T, n *Node, key string) {
	t.Helper()
	cmds := [][]string{
		{"XGROUP", "CREATE", key, "grp", "$", "MKSTREAM"},
		{"XADD", key, "1-1", "a", "1"}, {"XADD", key, "1-2", "b", "2"}, {"XADD", key, "1-3", "c", "3"}, {"XADD", key, "1-4", "d", "4"},
		{"XREADGROUP", "GROUP", "grp", "alice", "COUNT", "3", "STREAMS", key, ">"},
		{"XREADGROUP", "GROUP", "grp", "bob", "COUNT", "1", "STREAMS", key, ">"},
		{"XACK", key, "grp", "1-2"},
		{"XCLAIM", key, "grp", "bob", "0", "1-3"},
		{"XGROUP", "CREATE", key, "other", "0"},
		{"XCFGSET", key, "IDMP-DURATION", "100", "IDMP-MAXSIZE", "50"},
	}
	for _, c := range cmds {
		if reply := write(t, n, fsm.Command{Proto: 2, Argv: args(c...)}); len(reply) > 0 && reply[0] == '-' {
			t.Fatalf("%v: %s", c, reply)
		}
	}
}

// Back up a follower of a live three-node cluster under concurrent
// writes, restore the file into a new data dir and start it: every write
// acknowledged before the backup began is there, the streams are a prefix
// of the source's, the consumer group state is identical, the new node
// leads a cluster of its own and another node joins it.
func TestBackupRestoreUnderWrites(t *testing.T) {
	nodes, _ := clusterWithClients(t, 3, func(c *Config) {})
	leader := waitLeader(t, nodes...)
	groupFixture(t, leader, "orders")
	w := startWriters(nodes, 2)
	w.waitAcked(t, 200)

	w.mu.Lock()
	ackedBefore := map[string][]string{}
	for k, v := range w.acked {
		ackedBefore[k] = slices.Clone(v)
	}
	w.mu.Unlock()
	src := followersOf(leader, nodes)[0]
	path, h := writeBackup(t, src)
	w.waitAcked(t, w.ackedCount()+100) // writes go on after the backup
	w.stop()
	waitConverged(t, leader, nodes)

	if vh, err := VerifyBackupFile(path); err != nil || vh != h {
		t.Fatalf("VerifyBackupFile = %+v, %v; want %+v", vh, err, h)
	}
	lns := loopbackListeners(t, 1)
	addr := lns[0].Addr().String()
	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := RestoreBackup(path, dir, "r1", addr, testLogger()); err != nil {
		t.Fatalf("RestoreBackup: %v", err)
	}
	cfg := testConfig(t, "r1", dir)
	cfg.RaftAddr, cfg.Listener = "", lns[0]
	cfg.ClientAddr = "client-r1:6379"
	r1 := openNode(t, cfg)
	defer r1.Close()
	waitLeader(t, r1)

	// Every acknowledged write from before the backup, in order; nothing
	// that the source does not hold at the same ID.
	for key, acked := range ackedBefore {
		var got []string
		restored := linearRead(t, r1, "XRANGE", key, "-", "+")
		for _, m := range valueRE.FindAllStringSubmatch(restored, -1) {
			got = append(got, m[1])
		}
		if len(got) < len(acked) || !slices.Equal(got[:len(acked)], acked) {
			t.Errorf("%s: restored %d values, want the %d acknowledged before the backup first", key, len(got), len(acked))
		}
		if source := read(leader, 0, "XRANGE", key, "-", "+"); !strings.HasPrefix(source[strings.Index(source, "\r\n"):], restored[strings.Index(restored, "\r\n"):]) &&
			len(got) > 0 {
			t.Errorf("%s: restored entries are not a prefix of the source's", key)
		}
	}
	// Groups, consumers, PELs and stream configuration are equal.
	for _, q := range [][]string{
		{"XINFO", "STREAM", "orders", "FULL"},
		{"XPENDING", "orders", "grp"}, // the extended form's idle times follow each node's clock
		{"XINFO", "GROUPS", "orders"},
	} {
		if want, got := read(leader, 0, q...), linearRead(t, r1, q...); want != got {
			t.Errorf("%v:\nsource   %q\nrestored %q", q, want, got)
		}
	}
	if want, got := digestValue(leader, "orders"), digestValue(r1, "orders"); want != got {
		t.Errorf("DIGEST-VALUE orders: source %v, restored %v", want, got)
	}

	// The membership is the new node's alone, and the old members' client
	// addresses did not come along.
	ms, err := r1.Members()
	if err != nil || len(ms) != 1 || ms[0].ID != "r1" || ms[0].RaftAddr != addr {
		t.Fatalf("restored members = %+v, %v", ms, err)
	}
	waitFor(t, 10*time.Second, "r1's own metadata", func() bool {
		meta := r1.FSM().Members()
		return len(meta) == 1 && meta[0].ID == "r1"
	})

	// It takes writes and another node joins it normally.
	write(t, r1, xadd("after-restore", 1))
	joinVoter(t, r1, "after-restore", func(c *Config) { c.PromoteInterval = 50 * time.Millisecond })
}

// A damaged, truncated or foreign backup is refused with a message that
// says so, and the data dir is left as it was; so is a non-empty data dir.
func TestRestoreRefusesDamagedBackup(t *testing.T) {
	nodes := startCluster(t, 1)
	n := waitLeader(t, nodes...)
	groupFixture(t, n, "orders")
	path, h := writeBackup(t, n)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(name string, b []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(off int) []byte {
		b := slices.Clone(good)
		b[off] ^= 0x40
		return b
	}
	cases := []struct {
		name, path, want string
	}{
		{"body", variant("body", flip(len(good)-3)), "the body is damaged"},
		{"header", variant("header", flip(12)), "the header is damaged"},
		{"truncated", variant("truncated", good[:len(good)-100]), "truncated"},
		{"longer", variant("longer", append(slices.Clone(good), 'x')), "longer than its header says"},
		{"short", variant("short", good[:20]), "shorter than a backup header"},
		{"foreign", variant("foreign", []byte(strings.Repeat("REDIS0011", 10))), "does not start with"},
	}
	for _, c := range cases {
		dir := filepath.Join(t.TempDir(), "d")
		_, err := RestoreBackup(c.path, dir, "r1", "127.0.0.1:7379", testLogger())
		if !errors.Is(err, ErrBadBackup) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: RestoreBackup error %v, want ErrBadBackup saying %q", c.name, err, c.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: data dir created (%v)", c.name, err)
		}
	}

	busy := t.TempDir()
	if err := os.WriteFile(filepath.Join(busy, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RestoreBackup(path, busy, "r1", "127.0.0.1:7379", testLogger()); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("restore into a non-empty dir: %v", err)
	}
	if _, err := RestoreBackup(path, filepath.Join(t.TempDir(), "d"), "r1", "0.0.0.0:7379", testLogger()); err == nil {
		t.Error("restore with a wildcard Raft address succeeded")
	}

	// The good file restores; started under another ID or address, the
	// data dir says which it was made for.
	lns := loopbackListeners(t, 1)
	dir := filepath.Join(t.TempDir(), "ok")
	got, err := RestoreBackup(path, dir, "r1", lns[0].Addr().String(), testLogger())
	if err != nil || got != h {
		t.Fatalf("RestoreBackup = %+v, %v", got, err)
	}
	cfg := testConfig(t, "r2", dir)
	cfg.RaftAddr, cfg.Listener = "", lns[0]
	if n, err := Open(cfg); err == nil || !strings.Contains(err.Error(), `restored for node ID "r1"`) {
		if n != nil {
			n.Close()
		}
		t.Fatalf("Open under another node ID: %v", err)
	}
}

// Snapshots copied into a fresh data dir would bring back the old
// cluster's membership: the node refuses to start, pointing to restore,
// and creates nothing (a second start refuses too).
func TestCopiedSnapshotsRefused(t *testing.T) {
	nodes := startCluster(t, 1)
	n := waitLeader(t, nodes...)
	write(t, n, xadd("s", 1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	src := n.cfg.DataDir
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "snapshots"), os.DirFS(filepath.Join(src, "snapshots"))); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		m, err := Open(testConfig(t, "fresh", dir))
		if err == nil {
			m.Close()
			t.Fatal("a data dir of copied snapshots started")
		}
		if !strings.Contains(err.Error(), "raftstream restore") || !strings.Contains(err.Error(), "copied") {
			t.Fatalf("Open: %v", err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if names := slices.Collect(maps.Keys(dirNames(entries))); len(names) != 1 {
		t.Fatalf("data dir holds %v after the refusal", names)
	}
}

func dirNames(es []os.DirEntry) map[string]bool {
	out := map[string]bool{}
	for _, e := range es {
		out[e.Name()] = true
	}
	return out
}

// A three-node cluster loses two nodes for good. The survivor's data dir
// is forced into a cluster of its own: it elects itself, serves every
// committed entry (groups included), forgets the lost members, and a new
// node joins it.
func TestForceNewCluster(t *testing.T) {
	nodes, cfgs := clusterWithClients(t, 3, func(c *Config) {})
	leader := waitLeader(t, nodes...)
	groupFixture(t, leader, "orders")
	w := startWriters(nodes, 2)
	w.waitAcked(t, 200)
	w.stop()
	waitConverged(t, leader, nodes)
	wantOrders := digestValue(leader, "orders")
	wantInfo := read(leader, 0, "XINFO", "STREAM", "orders", "FULL")

	// Keep a follower: the leader and the other follower are lost.
	survivor := followersOf(leader, nodes)[0]
	var scfg Config
	for i, n := range nodes {
		if n == survivor {
			scfg = cfgs[i]
			continue
		}
		kill(t, n)
	}
	if err := survivor.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := ForceNewCluster(scfg.DataDir, "nobody", "", testLogger()); err == nil || !strings.Contains(err.Error(), "not in the data dir's Raft configuration") {
		t.Fatalf("ForceNewCluster with a foreign ID: %v", err)
	}
	summary, err := ForceNewCluster(scfg.DataDir, scfg.NodeID, "", testLogger())
	if err != nil {
		t.Fatalf("ForceNewCluster: %v", err)
	}
	t.Log(summary)
	if _, err := CheckDataDir(scfg.DataDir, testLogger()); err != nil {
		t.Fatalf("check after recovery: %v", err)
	}

	s := openNode(t, scfg)
	defer s.Close()
	waitLeader(t, s)
	w.check(t, s)
	if got := digestValue(s, "orders"); got != wantOrders {
		t.Errorf("orders digest %v, want %v", got, wantOrders)
	}
	if got := linearRead(t, s, "XINFO", "STREAM", "orders", "FULL"); got != wantInfo {
		t.Errorf("XINFO STREAM orders FULL after recovery:\n%q\nwant\n%q", got, wantInfo)
	}
	ms, err := s.Members()
	if err != nil || len(ms) != 1 || ms[0].ID != scfg.NodeID {
		t.Fatalf("members after recovery: %+v, %v", ms, err)
	}
	if meta := s.FSM().Members(); len(meta) != 1 || meta[0].ID != scfg.NodeID {
		t.Errorf("member metadata after recovery: %+v", meta)
	}

	write(t, s, xadd("after-recovery", 1))
	joinVoter(t, s, "after-recovery", func(*Config) {})
}

// digestValue is DEBUG DIGEST-VALUE of key in database 0 on n.
func digestValue(n *Node, key string) (d string) {
	n.FSM().Read(func(st *engine.State) { d = st.DigestValue(0, key) })
	return d
}

// joinVoter joins a fresh node "j" to n's cluster through n's Raft
// address, waits until it votes, writes key on n and waits until both
// hold the same state.
func joinVoter(t *testing.T, n *Node, key string, tune func(*Config)) {
	t.Helper()
	jcfg := testConfig(t, "j", t.TempDir())
	jcfg.Join = []string{n.RaftAddr()}
	jcfg.ClientAddr = "client-j:6379"
	tune(&jcfg)
	j := openNode(t, jcfg)
	defer j.Close()
	waitFor(t, 15*time.Second, "j to be a voter", func() bool {
		m, ok := memberByID(t, n, "j")
		return ok && m.Suffrage == "voter"
	})
	write(t, n, xadd(key, 2))
	waitConverged(t, n, []*Node{n, j})
}
