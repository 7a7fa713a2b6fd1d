package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/cluster"
)

func TestRaftCommandsSingleNode(t *testing.T) {
	n := startNode(t)
	s := startServer(t, Config{}, n)
	c := dialRaw(t, s)
	n.SetClientAddr(s.Addr().String()) // as the binary does once it listens
	waitFor(t, 10*time.Second, "client address in the member metadata", func() bool {
		return n.Status().LeaderClientAddr != ""
	})
	st := n.Status()

	c.expect(fmt.Sprintf("*2\r\n$2\r\nn1\r\n$%d\r\n%s\r\n", len(st.LeaderClientAddr), st.LeaderClientAddr), "RAFT", "LEADER")
	raddr, caddr := n.RaftAddr(), n.ClientAddr()
	nodes2 := fmt.Sprintf("*1\r\n*12\r\n$2\r\nid\r\n$2\r\nn1\r\n$9\r\nraft-addr\r\n$%d\r\n%s\r\n$11\r\nclient-addr\r\n$%d\r\n%s\r\n"+
		"$8\r\nsuffrage\r\n$5\r\nvoter\r\n$5\r\nstate\r\n$6\r\nleader\r\n$4\r\nself\r\n:1\r\n", len(raddr), raddr, len(caddr), caddr)
	c.expect(nodes2, "RAFT", "NODES")
	c.do("HELLO", "3")
	c.expect(strings.Replace(nodes2, "*12", "%6", 1), "raft", "nodes")
	c.do("HELLO", "2")

	info := bulkBody(c.do("RAFT", "INFO"))
	for _, want := range []string{"# Raft\r\n", "raft_node_id:n1\r\n", "raft_state:leader\r\n", "raft_suffrage:voter\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("RAFT INFO lacks %q:\n%s", want, info)
		}
	}
	repl := bulkBody(c.do("INFO", "replication"))
	for _, want := range []string{"role:master\r\n", "connected_slaves:0\r\n"} {
		if !strings.Contains(repl, want) {
			t.Errorf("INFO replication lacks %q:\n%s", want, repl)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"RAFT"}, "-ERR wrong number of arguments for 'raft' command\r\n"},
		{[]string{"RAFT", "BOGUS"}, "-ERR unknown subcommand 'BOGUS'. Try RAFT HELP.\r\n"},
		{[]string{"RAFT", "ADD", "n2"}, "-ERR wrong number of arguments for 'raft|add' command\r\n"},
		{[]string{"RAFT", "ADD", "n2", "a:1", "b:2", "inc", "extra"}, "-ERR wrong number of arguments for 'raft|add' command\r\n"},
		{[]string{"RAFT", "ADD", "n2", "noport"}, "-ERR invalid Raft address 'noport': want host:port\r\n"},
		{[]string{"RAFT", "ADD", "n2", "127.0.0.1:1", "bad"}, "-ERR invalid client address 'bad': want host:port\r\n"},
		{[]string{"RAFT", "ADD", "", "127.0.0.1:1"}, "-ERR the node ID must not be empty\r\n"},
		{[]string{"RAFT", "REMOVE", "nope"}, "-ERR no such Raft member 'nope'\r\n"},
		{[]string{"RAFT", "TRANSFER", "nope"}, "-ERR no such Raft member 'nope'\r\n"},
		{[]string{"RAFT", "TRANSFER", "n1"}, "+OK\r\n"},
		{[]string{"RAFT", "TRANSFER", "a", "b"}, "-ERR wrong number of arguments for 'raft|transfer' command\r\n"},
		{[]string{"RAFT", "SNAPSHOT"}, "+OK\r\n"},
		{[]string{"DEBUG", "DIGEST"}, "+0000000000000000000000000000000000000000\r\n"},
		{[]string{"DEBUG", "DIGEST-VALUE"}, "*0\r\n"},
		{[]string{"DEBUG", "DIGEST", "x"}, "-ERR unknown subcommand or wrong number of arguments for 'DIGEST'. Try DEBUG HELP.\r\n"},
		{[]string{"DEBUG", "SLEEP", "0"}, "-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.\r\n"},
		{[]string{"DEBUG"}, "-ERR wrong number of arguments for 'debug' command\r\n"},
	} {
		c.expect(tc.want, tc.args...)
	}
	if h := c.do("RAFT", "HELP"); !strings.HasPrefix(h, "*19\r\n+RAFT <subcommand>") {
		t.Errorf("RAFT HELP: %q", h)
	}

	// Digests: the whole state and per key, as the cluster computes them.
	c.expect("$3\r\n1-1\r\n", "XADD", "s", "1-1", "f", "v")
	c.expect("$3\r\n1-1\r\n", "XADD", "t", "1-1", "g", "w")
	d, err := n.Digest()
	if err != nil {
		t.Fatal(err)
	}
	c.expect("+"+d+"\r\n", "DEBUG", "DIGEST")
	// (fsm's tests hold DIGEST-VALUE against a walk of the whole state.)
	dv := c.do("DEBUG", "DIGEST-VALUE", "s", "nokey", "t")
	parts := strings.Split(dv, "\r\n")
	if len(parts) != 5 || parts[0] != "*3" || parts[2] != "+"+strings.Repeat("0", 40) || parts[1] == parts[3] || len(parts[1]) != 41 || parts[1] == parts[2] {
		t.Fatalf("DEBUG DIGEST-VALUE s nokey t = %q", dv)
	}
	c.expect("+OK\r\n", "SELECT", "1")
	c.expect("*1\r\n+0000000000000000000000000000000000000000\r\n", "DEBUG", "DIGEST-VALUE", "s")

	// The join request as the deprecated RESP join path sends it; the node is unreachable,
	// so it stays a non-voter: then removed again.
	c.expect("+OK\r\n", "RAFT", "ADD", "n2", "127.0.0.1:1", "127.0.0.1:2", "inc-1")
	nodes := c.do("RAFT", "NODES")
	if !strings.Contains(nodes, "$2\r\nn2\r\n") || !strings.Contains(nodes, "$8\r\nnonvoter\r\n") || !strings.Contains(nodes, "127.0.0.1:2") {
		t.Errorf("RAFT NODES after ADD: %q", nodes)
	}
	repl = bulkBody(c.do("INFO", "replication"))
	// n2 never answers the leader's status poll: not a connected replica.
	if !strings.Contains(repl, "connected_slaves:0\r\n") || strings.Contains(repl, "slave0:") {
		t.Errorf("INFO replication with an unreachable member: %s", repl)
	}
	c.expect("+OK\r\n", "RAFT", "REMOVE", "n2")
	if nodes := c.do("RAFT", "NODES"); strings.Contains(nodes, "n2") {
		t.Errorf("RAFT NODES after REMOVE: %q", nodes)
	}
}

func TestReadonlySkipsBarrier(t *testing.T) {
	s, be := startDirect(t, Config{})
	c := dialRaw(t, s)
	barrier := fmt.Errorf("%w: test", cluster.ErrNoLeader)
	be.barrierErr.Store(&barrier)
	const refused = "-TRYAGAIN no Raft leader was elected within the leader wait; the read was not served\r\n"
	c.expect(refused, "XLEN", "k")
	c.expect("+OK\r\n", "READONLY")
	c.expect(":0\r\n", "XLEN", "k")
	c.expect("+OK\r\n", "READWRITE")
	c.expect(refused, "XLEN", "k")
	c.expect("+OK\r\n", "READONLY")
	c.expect("+RESET\r\n", "RESET")
	c.expect(refused, "XLEN", "k")
	// The direct backend has no Raft node to administer.
	c.expect("-ERR this server has no Raft node to administer\r\n", "RAFT", "NODES")
	c.expect("*1\r\n+0000000000000000000000000000000000000000\r\n", "DEBUG", "DIGEST-VALUE", "k")
}

func TestAdminAndWriteErrors(t *testing.T) {
	st := cluster.Status{State: "follower", LeaderID: "n2", LeaderClientAddr: "127.0.0.1:7000"}
	noLeader := fmt.Errorf("%w: %w", cluster.ErrNoLeader, cluster.ErrNotLeader)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{noLeader, "TRYAGAIN no Raft leader was elected within the leader wait; the command was not applied"},
		{fmt.Errorf("%w: x", cluster.ErrNotLeader), "TRYAGAIN this node is not the Raft leader (the leader is n2, serving clients at 127.0.0.1:7000); the command was not applied"},
		{fmt.Errorf("%w: \"n9\"", cluster.ErrNoSuchMember), "ERR no such Raft member 'n9'"},
		{cluster.ErrClosed, "ERR the Raft node is shutting down; the command was not applied"},
		{errors.New("cluster: \"n1\" is not a voter and cannot lead"), "ERR \"n1\" is not a voter and cannot lead"},
	} {
		if got := adminError(tc.err, "n9", st); got != tc.want {
			t.Errorf("adminError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := writeError(noLeader, st); got != errNoLeader {
		t.Errorf("writeError(ErrNoLeader) = %q", got)
	}
	transfer := fmt.Errorf("%w: %w", cluster.ErrNotLeader, raft.ErrLeadershipTransferInProgress)
	if got := writeError(transfer, st); got != "TRYAGAIN Raft leadership is being transferred; the command was not applied" {
		t.Errorf("writeError(transfer in progress) = %q", got)
	}
	full := fmt.Errorf("%w (on the leader): under 1 bytes free", cluster.ErrDiskFull)
	if got := writeError(full, st); !strings.HasPrefix(got, "MISCONF Errors writing to the Raft log: No space left on device") {
		t.Errorf("writeError(disk full) = %q", got)
	}
}

// RAFT BACKUP streams the backup file as one bulk string, in order with
// the replies around it in a pipeline, larger than the output pieces; the
// bytes verify as a backup at the applied index. Not inside MULTI.
func TestRaftBackup(t *testing.T) {
	n := startNode(t)
	s := startServer(t, Config{}, n)
	c := dialRaw(t, s)
	big := strings.Repeat("x", 4096)
	for i := range 200 {
		c.do("XADD", "s", "*", "i", fmt.Sprint(i), "v", big)
	}
	c.send(append(append(encode("PING"), encode("RAFT", "BACKUP")...), encode("PING")...))
	if got := c.read(); got != "+PONG\r\n" {
		t.Fatalf("before the backup: %q", got)
	}
	frame := c.read()
	if got := c.read(); got != "+PONG\r\n" {
		t.Fatalf("after the backup: %q", got)
	}
	body := bulkBody(frame)
	if len(body) < 200*4096 {
		t.Fatalf("RAFT BACKUP reply of %d bytes: %.80q", len(body), frame)
	}
	h, err := cluster.ParseBackupHeader([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if h.Size() != int64(len(body)) || h.Index > n.FSM().AppliedIndex() || h.Index == 0 {
		t.Fatalf("header %+v for a %d-byte reply, applied index %d", h, len(body), n.FSM().AppliedIndex())
	}
	path := filepath.Join(t.TempDir(), "b.rsb")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.VerifyBackupFile(path); err != nil {
		t.Fatalf("the reply does not verify: %v", err)
	}

	c.expect("+OK\r\n", "MULTI")
	c.expect("+QUEUED\r\n", "RAFT", "BACKUP")
	c.expect("*1\r\n-ERR RAFT BACKUP is not allowed in transactions\r\n", "EXEC")
}

// A client that hangs up in the middle of a backup costs the server
// nothing lasting: the next backup and other clients are served.
func TestRaftBackupClientGone(t *testing.T) {
	n := startNode(t)
	s := startServer(t, Config{}, n)
	c := dialRaw(t, s)
	big := strings.Repeat("y", 64<<10)
	for i := range 200 { // about 13 MB: far more than the socket buffers
		c.do("XADD", "s", "*", "v", big, "i", fmt.Sprint(i))
	}
	gone := dialRaw(t, s)
	gone.send(encode("RAFT", "BACKUP"))
	if line, err := gone.br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "$") {
		t.Fatalf("RAFT BACKUP: %q, %v", line, err)
	}
	_ = gone.c.Close()

	frame := c.do("RAFT", "BACKUP")
	if _, err := cluster.ParseBackupHeader([]byte(bulkBody(frame))); err != nil {
		t.Fatalf("the next backup: %v", err)
	}
	c.expect("+PONG\r\n", "PING")
}
