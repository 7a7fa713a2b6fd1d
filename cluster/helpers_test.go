package cluster

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
	"github.com/raftstream/raftstream/fsm"
)

// testLogger is silent unless RAFTSTREAM_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("RAFTSTREAM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is a node with fast Raft timing on a loopback port.
func testConfig(t testing.TB, id, dir string) Config {
	t.Helper()
	return Config{
		NodeID:             id,
		DataDir:            dir,
		RaftAddr:           "127.0.0.1:0",
		Logger:             testLogger(),
		HeartbeatTimeout:   100 * time.Millisecond,
		ElectionTimeout:    100 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		DrainTimeout:       5 * time.Second,
	}
}

func openNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", cfg.NodeID, err)
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

func waitLeader(t testing.TB, nodes ...*Node) *Node {
	t.Helper()
	var leader *Node
	waitFor(t, 10*time.Second, "a leader", func() bool {
		for _, n := range nodes {
			if n.IsLeader() {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}

// others returns the nodes other than n.
func others(nodes []*Node, n *Node) []*Node {
	var out []*Node
	for _, m := range nodes {
		if m != n {
			out = append(out, m)
		}
	}
	return out
}

func args(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

func xadd(key string, i int) fsm.Command {
	return fsm.Command{Proto: 2, Argv: args("XADD", key, "*", "n", strconv.Itoa(i))}
}

// write proposes cmd and waits for its reply.
func write(t testing.TB, n *Node, cmd fsm.Command) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := n.Propose(cmd).Wait(ctx)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Argv[0], err)
	}
	return reply.RESP
}

// read runs a read command against n's local state (no barrier).
func read(n *Node, db int, argv ...string) string {
	var out []byte
	n.FSM().Read(func(st *engine.State) {
		w := resp.NewWriter(2)
		st.Exec(&engine.Ctx{DB: db, Now: st.Clock(), W: w}, args(argv...))
		out = w.Buf
	})
	return string(out)
}

// linearRead runs a read after a ReadBarrier.
func linearRead(t testing.TB, n *Node, argv ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.ReadBarrier(ctx); err != nil {
		t.Fatalf("ReadBarrier: %v", err)
	}
	return read(n, 0, argv...)
}

func digest(t testing.TB, n *Node) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := n.FSM().WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// loopbackListeners reserves n loopback ports up front, so a cluster's
// founding configuration can name every address before any node starts.
func loopbackListeners(t testing.TB, n int) []net.Listener {
	t.Helper()
	out := make([]net.Listener, n)
	for i := range out {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		out[i] = ln
	}
	return out
}

// checkNoGoroutineLeak waits for the goroutine count to return to base.
func checkNoGoroutineLeak(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, %d before the test:\n%s", runtime.NumGoroutine(), base, buf)
		}
		<-tick.C
	}
}

// bulkID parses a RESP bulk-string stream ID reply.
func bulkID(reply []byte) (engine.ID, bool) {
	i := bytes.Index(reply, []byte("\r\n"))
	if len(reply) < 2 || reply[0] != '$' || i < 0 || !bytes.HasSuffix(reply, []byte("\r\n")) {
		return engine.ID{}, false
	}
	return engine.ParseID(reply[i+2 : len(reply)-2])
}

// commandEntries decodes the command entries in n's log.
func commandEntries(t *testing.T, n *Node) []fsm.Entry {
	t.Helper()
	first, err := n.store.log.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	last, err := n.store.log.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	var out []fsm.Entry
	for i := max(first, 1); i <= last; i++ {
		var l raft.Log
		if err := n.store.log.GetLog(i, &l); err != nil {
			t.Fatal(err)
		}
		if l.Type != raft.LogCommand {
			continue
		}
		e, err := fsm.DecodeEntry(l.Data)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if e.Type == fsm.EntryCommands {
			out = append(out, e)
		}
	}
	return out
}
