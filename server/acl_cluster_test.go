package server

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
)

// startACLCluster opens a three-node cluster in process with a server on
// each node and returns the servers and nodes.
func startACLCluster(t *testing.T) ([]*Server, []*cluster.Node) {
	t.Helper()
	var lns []net.Listener
	var peers []cluster.Peer
	for i := 0; i < 3; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		peers = append(peers, cluster.Peer{ID: "n" + strconv.Itoa(i+1), Addr: ln.Addr().String()})
	}
	var nodes []*cluster.Node
	var servers []*Server
	for i := range lns {
		n, err := cluster.Open(cluster.Config{
			NodeID:             peers[i].ID,
			DataDir:            t.TempDir(),
			Listener:           lns[i],
			Peers:              peers,
			Logger:             testLogger(),
			HeartbeatTimeout:   500 * time.Millisecond,
			ElectionTimeout:    500 * time.Millisecond,
			LeaderLeaseTimeout: 500 * time.Millisecond,
			CommitTimeout:      5 * time.Millisecond,
			DrainTimeout:       5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		servers = append(servers, startServer(t, Config{}, n))
	}
	waitFor(t, 20*time.Second, "a leader", func() bool {
		for _, n := range nodes {
			if n.Status().State == "leader" {
				return true
			}
		}
		return false
	})
	return servers, nodes
}

// TestACLEnforcedOnFollower: a user created on the leader is enforced by
// a follower, including on writes the follower would forward, and
// deleting it (through a follower) disconnects its clients everywhere.
func TestACLEnforcedOnFollower(t *testing.T) {
	servers, nodes := startACLCluster(t)
	var leader, follower *Server
	for i, n := range nodes {
		if n.Status().State == "leader" {
			leader = servers[i]
		} else if follower == nil {
			follower = servers[i]
		}
	}
	admin := dialRaw(t, leader)
	admin.expect("+OK\r\n", "ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "-@all", "+@stream", "+ping")
	// The follower applies the entry shortly after the leader answers.
	waitFor(t, 10*time.Second, "the user on the follower", func() bool { return follower.aclUser("app") != nil })

	u := dialRaw(t, follower)
	u.expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "app", "wrong")
	u.expect("+OK\r\n", "AUTH", "app", "apppw")
	if r := u.do("XADD", "app:1", "*", "f", "v"); !strings.HasPrefix(r, "$") {
		t.Fatalf("forwarded XADD: %q", r)
	}
	u.expect("-NOPERM No permissions to access a key\r\n", "XADD", "other", "*", "f", "v")
	u.expect("-NOPERM User app has no permissions to run the 'flushall' command\r\n", "FLUSHALL")
	u.expect("-NOPERM User app has no permissions to run the 'raft|remove' command\r\n", "RAFT", "REMOVE", "n1")
	// Nothing denied reached the log: no key "other" anywhere.
	admin.expect(":0\r\n", "EXISTS", "other")
	admin.expect(":1\r\n", "XLEN", "app:1")

	// A connection as the user on the leader too; DELUSER sent through a
	// follower closes both.
	v := dialRaw(t, leader)
	v.expect("+OK\r\n", "AUTH", "app", "apppw")
	fadmin := dialRaw(t, follower)
	fadmin.expect(":1\r\n", "ACL", "DELUSER", "app")
	u.expectClosed()
	v.expectClosed()
	for _, s := range servers {
		waitFor(t, 10*time.Second, "the user gone everywhere", func() bool { return s.aclUser("app") == nil })
		dialRaw(t, s).expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "app", "apppw")
	}
}
