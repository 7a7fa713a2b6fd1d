package faults

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/raftstream/raftstream/e2e/internal/rsbin"
	"github.com/raftstream/raftstream/internal/testports"
)

// binPath is set once by TestMain (rsbin.Build: $RAFTSTREAM_E2E_BIN, or a
// build, with -race if $RAFTSTREAM_E2E_RACE=1) and only read after.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "raftstream-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults: temp dir:", err)
		os.Exit(2)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if binPath, err = rsbin.Build(dir); err != nil {
			fmt.Fprintf(os.Stderr, "faults: building raftstream: %v\n", err)
			return 2
		}
		return m.Run()
	}()
	os.Exit(code)
}

// fastRaft are Raft timings that make failovers take well under a second on
// loopback and snapshots frequent enough to be exercised by faults.
var fastRaft = []string{
	"--raft-heartbeat-timeout", "300ms",
	"--raft-election-timeout", "300ms",
	"--raft-leader-lease-timeout", "150ms",
	"--leader-wait", "3s",
	"--snapshot-threshold", "512",
	"--snapshot-interval", "500ms",
	"--trailing-logs", "128",
}

// node is one raftstream process that can be killed, paused and restarted
// on the same data dir and ports.
type node struct {
	id, dir, logDir string
	addr, raftAddr  string

	mu          sync.Mutex
	peers, join string // exactly one is set
	clockOffset time.Duration
	dialVia     string // --dial-via: this node's links through the network's proxies
	cmd         *exec.Cmd
	done        chan struct{}
	paused      bool
	starts      int
}

// cluster is the set of nodes of one test run.
type cluster struct {
	t     *testing.T
	nw    *network // the founding nodes' links, if started behind proxies
	mu    sync.Mutex
	nodes []*node
}

func hostPort(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }

// startCluster starts n founding voters n1..nN and waits for a leader.
// With proxied, every node dials its peers through a network of
// fault-injecting proxies (seeded with seed).
func startCluster(t *testing.T, n int, proxied bool, seed uint64) *cluster {
	t.Helper()
	var ids []string
	for i := 0; i < n; i++ {
		ids = append(ids, fmt.Sprintf("n%d", i+1))
	}
	c := &cluster{t: t}
	if proxied {
		// Before testports.Free: the proxies' listeners must not take a port
		// reserved (and released again) for a node.
		c.nw = newNetwork(t, ids, seed)
	}
	ports, err := testports.Free(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	var peers []string
	for i := 0; i < n; i++ {
		peers = append(peers, fmt.Sprintf("n%d=%s", i+1, hostPort(ports[n+i])))
	}
	for i := 0; i < n; i++ {
		nd := c.newNode(ids[i], hostPort(ports[i]), hostPort(ports[n+i]))
		nd.peers = strings.Join(peers, ",")
		c.nodes = append(c.nodes, nd)
	}
	if c.nw != nil {
		c.nw.attach(c.nodes)
	}
	for _, nd := range c.nodes {
		if err := nd.start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, nd := range c.nodes {
		if err := nd.waitPing(time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.waitLeader(time.Minute); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cluster) newNode(id, addr, raftAddr string) *node {
	base := c.t.TempDir()
	nd := &node{id: id, dir: filepath.Join(base, "data"), logDir: filepath.Join(base, "logs"), addr: addr, raftAddr: raftAddr}
	_ = os.MkdirAll(nd.dir, 0o755)
	_ = os.MkdirAll(nd.logDir, 0o755)
	c.t.Cleanup(func() {
		nd.cont()
		nd.kill()
		if c.t.Failed() {
			c.t.Logf("---- %s log tail ----\n%s", id, nd.logTail(8<<10))
		}
	})
	return nd
}

// addJoiner starts a fresh node that joins through seeds with --join.
func (c *cluster) addJoiner(id string) (*node, error) {
	ports, err := testports.Free(2)
	if err != nil {
		return nil, err
	}
	nd := c.newNode(id, hostPort(ports[0]), hostPort(ports[1]))
	var seeds []string
	for _, o := range c.members() {
		seeds = append(seeds, o.raftAddr)
	}
	nd.join = strings.Join(seeds, ",")
	if err := nd.start(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.nodes = append(c.nodes, nd)
	c.mu.Unlock()
	return nd, nd.waitPing(time.Minute)
}

// dropNode forgets nd (after RAFT REMOVE) and kills it.
func (c *cluster) dropNode(nd *node) {
	c.mu.Lock()
	for i, o := range c.nodes {
		if o == nd {
			c.nodes = append(c.nodes[:i:i], c.nodes[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
	nd.kill()
}

func (c *cluster) members() []*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*node(nil), c.nodes...)
}

func (c *cluster) addrs() []string {
	var out []string
	for _, n := range c.members() {
		out = append(out, n.addr)
	}
	return out
}

func (nd *node) start() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil {
		return fmt.Errorf("%s already running", nd.id)
	}
	nd.starts++
	args := []string{"--node-id", nd.id, "--data-dir", nd.dir, "--listen", nd.addr, "--raft-listen", nd.raftAddr}
	if nd.join != "" {
		args = append(args, "--join", nd.join)
	} else {
		args = append(args, "--peers", nd.peers)
	}
	if nd.clockOffset != 0 {
		args = append(args, "--clock-offset", nd.clockOffset.String())
	}
	if nd.dialVia != "" {
		args = append(args, "--dial-via", nd.dialVia)
	}
	args = append(args, fastRaft...)
	f, err := os.Create(filepath.Join(nd.logDir, fmt.Sprintf("%s-%d.log", nd.id, nd.starts)))
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	fmt.Fprintf(f, "### %s %s\n", binPath, strings.Join(args, " "))
	cmd := exec.Command(binPath, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", nd.id, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	nd.cmd, nd.done, nd.paused = cmd, done, false
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (nd *node) kill() {
	nd.mu.Lock()
	cmd, done := nd.cmd, nd.done
	nd.cmd, nd.paused = nil, false
	nd.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

func (nd *node) signal(sig syscall.Signal, paused bool) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil && nd.paused != paused {
		_ = nd.cmd.Process.Signal(sig)
		nd.paused = paused
	}
}

func (nd *node) stop() { nd.signal(syscall.SIGSTOP, true) }
func (nd *node) cont() { nd.signal(syscall.SIGCONT, false) }

func (nd *node) isPaused() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.paused
}

func (nd *node) running() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return false
	}
	select {
	case <-nd.done:
		return false
	default:
		return true
	}
}

// crashed reports a process that exited without kill being called.
func (nd *node) crashed() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return false
	}
	select {
	case <-nd.done:
		return true
	default:
		return false
	}
}

func (nd *node) waitPing(d time.Duration) error {
	return waitUntil(d, nd.id+" to answer PING", func() bool {
		v, err := oneShot(nd.addr, "PING")
		return err == nil && v == "PONG"
	})
}

func (nd *node) logTail(max int) string {
	files, _ := filepath.Glob(filepath.Join(nd.logDir, "*.log"))
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if len(data) > max {
			data = data[len(data)-max:]
		}
		fmt.Fprintf(&b, "== %s ==\n%s\n", filepath.Base(f), data)
	}
	return b.String()
}

// oneShot runs one command on a fresh connection.
func oneShot(addr string, args ...string) (any, error) {
	c, err := dial(addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.do(10*time.Second, args...)
}

// waitUntil polls cond every 20ms until it holds or d passes.
func waitUntil(d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", d, what)
		}
		<-tick.C
	}
	return nil
}

func raftInfo(addr string) map[string]string {
	v, err := oneShot(addr, "INFO", "raft")
	s, _ := v.(string)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok {
			out[k] = val
		}
	}
	return out
}

// waitLeader waits until exactly one running member says it leads and
// serves a linearizable read.
func (c *cluster) waitLeader(d time.Duration) (*node, error) {
	var leader *node
	err := waitUntil(d, "a single leader", func() bool {
		leader = nil
		for _, nd := range c.members() {
			// A paused node would hold INFO for the full client timeout.
			if !nd.running() || nd.isPaused() {
				continue
			}
			if raftInfo(nd.addr)["raft_state"] == "leader" {
				if leader != nil {
					return false
				}
				leader = nd
			}
		}
		if leader == nil {
			return false
		}
		_, err := oneShot(leader.addr, "XLEN", "__faults_probe__")
		return err == nil
	})
	return leader, err
}

// maxTerm is the highest Raft term a member reports (0 if none answers).
func (c *cluster) maxTerm() uint64 {
	var top uint64
	for _, nd := range c.members() {
		if !nd.running() || nd.isPaused() {
			continue
		}
		if t, err := strconv.ParseUint(raftInfo(nd.addr)["raft_term"], 10, 64); err == nil && t > top {
			top = t
		}
	}
	return top
}

// digests returns every member's DEBUG DIGEST.
func (c *cluster) digests() []string {
	var out []string
	for _, nd := range c.members() {
		v, err := oneShot(nd.addr, "DEBUG", "DIGEST")
		s, _ := v.(string)
		if err != nil {
			s = "error: " + err.Error()
		}
		out = append(out, nd.id+"="+s)
	}
	return out
}

// sameXInfo checks, once the digests agree, that every member answers
// XINFO STREAM key FULL and XINFO GROUPS key identically for each key: what
// an operator compares. Each node serves them from its own state (after a
// read index), and every field in them is replicated (delivery, seen and
// active times are the leader's stamps), so any difference is a bug.
func (c *cluster) sameXInfo(keys []string) error {
	for _, k := range keys {
		for _, cmd := range [][]string{{"XINFO", "STREAM", k, "FULL"}, {"XINFO", "GROUPS", k}} {
			var first string
			var firstNode string
			for _, nd := range c.members() {
				v, err := oneShot(nd.addr, cmd...)
				got := fmt.Sprintf("%v", v)
				if err != nil {
					got = "error: " + err.Error()
				}
				if firstNode == "" {
					first, firstNode = got, nd.id
					continue
				}
				if got != first {
					return fmt.Errorf("%s differs: %s has %.300s, %s has %.300s", strings.Join(cmd, " "), firstNode, first, nd.id, got)
				}
			}
		}
	}
	return nil
}

// waitConverged waits until every member reports the same DEBUG DIGEST.
func (c *cluster) waitConverged(d time.Duration) ([]string, error) {
	var last []string
	err := waitUntil(d, "all nodes to report the same DEBUG DIGEST", func() bool {
		last = c.digests()
		for _, s := range last {
			_, v, _ := strings.Cut(s, "=")
			_, first, _ := strings.Cut(last[0], "=")
			if v != first || strings.HasPrefix(v, "error") {
				return false
			}
		}
		return true
	})
	if err != nil {
		return last, errors.Join(err, fmt.Errorf("last digests: %v", last))
	}
	return last, nil
}
