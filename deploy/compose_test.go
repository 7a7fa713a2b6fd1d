package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// composeCluster is the docker-compose.yml cluster under test.
type composeCluster struct {
	*project
	services []string          // node1..node3
	ports    map[string]string // service -> published client port
}

const (
	// upTimeout bounds a node's way from start to healthy.
	upTimeout = 90 * time.Second
	// settleTimeout bounds catching up and elections.
	settleTimeout = 60 * time.Second
)

// TestComposeCluster brings up deploy/compose/docker-compose.yml and puts
// it through what a deployment must survive: writes and consumer groups
// through leader and followers, a node cut off from the network, the
// leader killed, a rolling restart under load, and scaling out and in.
func TestComposeCluster(t *testing.T) {
	requireDocker(t)
	image := testImage(t)
	start := time.Now()
	ports := freePorts(t, 4)
	p := newProject(t, "compose/docker-compose.yml", map[string]string{
		"RAFTSTREAM_IMAGE":          image,
		"RAFTSTREAM_BIND":           "127.0.0.1",
		"RAFTSTREAM_ADVERTISE_HOST": "127.0.0.1",
		"RAFTSTREAM_PORT1":          ports[0],
		"RAFTSTREAM_PORT2":          ports[1],
		"RAFTSTREAM_PORT3":          ports[2],
		"RAFTSTREAM_PORT4":          ports[3],
		"RAFTSTREAM_REQUIREPASS":    "",
		"RAFTSTREAM_CLUSTER_SECRET": "compose-test-secret",
		"RAFTSTREAM_LOG_LEVEL":      "info",
	}, "scale")
	c := &composeCluster{project: p, services: []string{"node1", "node2", "node3"},
		ports: map[string]string{"node1": ports[0], "node2": ports[1], "node3": ports[2], "node4": ports[3]}}
	p.mustCompose("up", "-d")
	c.waitReady(t, c.services...)
	t.Logf("cluster up and healthy in %v", time.Since(start).Round(100*time.Millisecond))

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"LeaderAndFollowers", c.testLeaderAndFollowers},
		{"Partition", c.testPartition},
		{"KillLeader", c.testKillLeader},
		{"RollingRestart", c.testRollingRestart},
		{"ScaleOutAndIn", c.testScaleOutAndIn},
	}
	for _, s := range steps {
		stepStart := time.Now()
		if !t.Run(s.name, s.fn) {
			return // later steps assume a healthy cluster
		}
		t.Logf("%s took %v", s.name, time.Since(stepStart).Round(100*time.Millisecond))
	}
}

// nodeState is one node's view from INFO raft.
func (c *composeCluster) nodeState(service string) (map[string]string, error) {
	return info(c.ports[service], "raft")
}

// waitReady waits until every service's container is healthy by its own
// health check and reports a known leader, voter membership and an
// applied log, and all of them agree on the leader.
func (c *composeCluster) waitReady(t *testing.T, services ...string) string {
	t.Helper()
	var leader string
	waitFor(t, upTimeout, fmt.Sprintf("%v healthy with one leader", services), func() (bool, string) {
		leaders := map[string]bool{}
		var seen []string
		ok := true
		for _, s := range services {
			h := c.health(s)
			st, err := c.nodeState(s)
			if err != nil {
				seen = append(seen, fmt.Sprintf("%s: health %s, %v", s, h, err))
				ok = false
				continue
			}
			seen = append(seen, fmt.Sprintf("%s: health %s, %s, leader %q, %s", s, h, st["raft_state"], st["raft_leader_id"], st["raft_suffrage"]))
			if h != "healthy" || st["raft_leader_id"] == "" || st["raft_suffrage"] != "voter" {
				ok = false
			}
			leaders[st["raft_leader_id"]] = true
		}
		if len(leaders) != 1 {
			ok = false
		}
		for l := range leaders {
			leader = l
		}
		return ok, strings.Join(seen, "; ")
	})
	return leader
}

// leader is the current leader's service name, waiting for one that the
// given services agree on.
func (c *composeCluster) leader(t *testing.T, services ...string) string {
	t.Helper()
	var leader string
	waitFor(t, settleTimeout, "an agreed leader", func() (bool, string) {
		seen := map[string]string{}
		for _, s := range services {
			st, err := c.nodeState(s)
			if err != nil {
				seen[s] = err.Error()
				continue
			}
			seen[s] = st["raft_leader_id"]
		}
		leader = seen[services[0]]
		for _, s := range services {
			if seen[s] != leader || !slices.Contains(services, leader) {
				return false, fmt.Sprint(seen)
			}
		}
		return true, ""
	})
	return leader
}

func (c *composeCluster) followers(leader string) []string {
	var out []string
	for _, s := range c.services {
		if s != leader {
			out = append(out, s)
		}
	}
	return out
}

// waitIdentical waits until every service's local state is the same:
// equal DEBUG DIGEST and equal XRANGE, XLEN and XINFO STREAM of keys.
func (c *composeCluster) waitIdentical(t *testing.T, services []string, keys ...string) {
	t.Helper()
	waitFor(t, settleTimeout, fmt.Sprintf("identical state on %v", services), func() (bool, string) {
		var first []string
		for _, s := range services {
			var got []string
			for _, cmd := range stateCommands(keys) {
				out, err := cli(c.ports[s], cmd...)
				if err != nil {
					return false, err.Error()
				}
				got = append(got, out)
			}
			if first == nil {
				first = got
			} else if !slices.Equal(first, got) {
				return false, fmt.Sprintf("%s differs from %s", s, services[0])
			}
		}
		return true, ""
	})
}

// stateCommands are the reads whose replies must match across replicas.
func stateCommands(keys []string) [][]string {
	cmds := [][]string{{"DEBUG", "DIGEST"}, {"DBSIZE"}}
	for _, k := range keys {
		cmds = append(cmds, []string{"XLEN", k}, []string{"XRANGE", k, "-", "+"}, []string{"XINFO", "STREAM", k})
	}
	return cmds
}

// checkAcked fails t unless every acknowledged ID is in key on service.
func (c *composeCluster) checkAcked(t *testing.T, service, key string, acked []string) {
	t.Helper()
	have := entryIDs(t, c.ports[service], key)
	var lost []string
	for _, id := range acked {
		if !have[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		sort.Strings(lost)
		t.Fatalf("%s lost %d of %d acknowledged entries of %s: %v", service, len(lost), len(acked), key, lost)
	}
}

func (c *composeCluster) testLeaderAndFollowers(t *testing.T) {
	leader := c.leader(t, c.services...)
	fs := c.followers(leader)
	// Followers name the leader's published host port.
	for _, f := range fs {
		st, err := info(c.ports[f], "replication")
		if err != nil {
			t.Fatal(err)
		}
		if st["role"] != "slave" || st["master_port"] != c.ports[leader] {
			t.Errorf("%s INFO replication: role %q master_port %q, want slave of port %s", f, st["role"], st["master_port"], c.ports[leader])
		}
	}
	if st, _ := info(c.ports[leader], "replication"); st["role"] != "master" {
		t.Errorf("%s (leader) role %q", leader, st["role"])
	}

	id1 := mustCLI(t, c.ports[leader], "XADD", "orders", "*", "item", "a")
	id2 := mustCLI(t, c.ports[fs[0]], "XADD", "orders", "*", "item", "b")
	if !isID(id1) || !isID(id2) {
		t.Fatalf("XADD replies %q, %q", id1, id2)
	}
	// A read on the other follower sees both writes (linearizable reads).
	if got := mustCLI(t, c.ports[fs[1]], "XLEN", "orders"); got != "2" {
		t.Fatalf("XLEN on %s = %q, want 2", fs[1], got)
	}
	if got := mustCLI(t, c.ports[fs[1]], "XGROUP", "CREATE", "orders", "workers", "0"); got != "OK" {
		t.Fatalf("XGROUP CREATE = %q", got)
	}
	read := mustCLI(t, c.ports[fs[0]], "XREADGROUP", "GROUP", "workers", "w1", "COUNT", "10", "STREAMS", "orders", ">")
	if !strings.Contains(read, id1) || !strings.Contains(read, id2) {
		t.Fatalf("XREADGROUP delivered %q, want %s and %s", read, id1, id2)
	}
	if got := mustCLI(t, c.ports[leader], "XACK", "orders", "workers", id1, id2); got != "2" {
		t.Fatalf("XACK = %q, want 2", got)
	}
	if got := strings.SplitN(mustCLI(t, c.ports[fs[1]], "XPENDING", "orders", "workers"), "\n", 2)[0]; got != "0" {
		t.Fatalf("XPENDING count after XACK = %q, want 0", got)
	}
	c.waitIdentical(t, c.services, "orders")
}

func (c *composeCluster) testPartition(t *testing.T) {
	leader := c.leader(t, c.services...)
	victim := c.followers(leader)[0]
	ctr := c.container(victim)
	if out, err := run(composeTimeout, nil, "docker", "network", "disconnect", c.network(), ctr); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	connected := false
	reconnect := func() {
		if connected {
			return
		}
		// The service name must come back as an alias: it is the node's
		// Raft address in the configuration.
		if out, err := run(composeTimeout, nil, "docker", "network", "connect", "--alias", victim, c.network(), ctr); err != nil {
			t.Errorf("reconnect %s: %v: %s", victim, err, out)
		}
		connected = true
	}
	defer reconnect()
	t.Logf("disconnected %s; leader %s", victim, leader)

	// The majority goes on taking writes and group changes.
	rest := c.followers(victim)
	var acked []string
	for i := 0; i < 60; i++ {
		acked = append(acked, mustCLI(t, c.ports[rest[i%2]], "XADD", "part", "*", "i", fmt.Sprint(i)))
	}
	mustCLI(t, c.ports[rest[0]], "XGROUP", "CREATE", "part", "g", "0")
	mustCLI(t, c.ports[rest[1]], "XREADGROUP", "GROUP", "g", "c", "COUNT", "7", "STREAMS", "part", ">")
	mustCLI(t, c.ports[rest[0]], "XTRIM", "part", "MAXLEN", "50")

	reconnect()
	c.waitReady(t, c.services...)
	c.waitIdentical(t, c.services, "orders", "part")
	c.checkAcked(t, victim, "part", acked[10:])
	if got := mustCLI(t, c.ports[victim], "XLEN", "part"); got != "50" {
		t.Fatalf("XLEN part on %s = %q, want 50", victim, got)
	}
}

func (c *composeCluster) testKillLeader(t *testing.T) {
	old := c.leader(t, c.services...)
	w := startWriter("failover", c.ports["node1"], c.ports["node2"], c.ports["node3"])
	waitFor(t, settleTimeout, "writes before the kill", func() (bool, string) {
		n := w.ackedSoFar()
		return n >= 30, fmt.Sprint(n, " acked")
	})
	// SIGKILL: no graceful step-down, no drain.
	c.mustCompose("kill", "-s", "SIGKILL", old)
	killedAt := w.ackedSoFar()
	survivors := c.followers(old)
	leader := c.leader(t, survivors...)
	if leader == old {
		t.Fatalf("leader still %s after it was killed", old)
	}
	waitFor(t, settleTimeout, "writes after the failover", func() (bool, string) {
		n := w.ackedSoFar()
		return n >= killedAt+30, fmt.Sprint(n-killedAt, " acked since the kill")
	})
	acked, failed, errs := w.halt()
	t.Logf("leader %s killed, %s took over; %d writes acknowledged, %d failed %v", old, leader, len(acked), failed, errs)
	for _, s := range survivors {
		c.checkAcked(t, s, "failover", acked)
	}

	c.mustCompose("start", old)
	c.waitReady(t, c.services...)
	c.checkAcked(t, old, "failover", acked)
	c.waitIdentical(t, c.services, "orders", "part", "failover")
}

func (c *composeCluster) testRollingRestart(t *testing.T) {
	w := startWriter("rolling", c.ports["node1"], c.ports["node2"], c.ports["node3"])
	defer func() {
		if w != nil {
			w.halt()
		}
	}()
	for _, s := range c.services {
		before := w.ackedSoFar()
		if c.leader(t, c.services...) == s {
			// What the Kubernetes preStop hook does: hand leadership away
			// before the leader stops.
			out, err := run(composeTimeout, nil, "docker", "exec", c.container(s), "/raftstream", "transfer-leadership")
			if err != nil || !strings.Contains(out, "leadership transferred") {
				t.Fatalf("transfer-leadership in %s: %q %v", s, out, err)
			}
			if now := c.leader(t, c.services...); now == s {
				t.Fatalf("%s still leads after transfer-leadership: %s", s, out)
			}
			t.Logf("%s: %s", s, out)
		}
		c.mustCompose("restart", "-t", "30", s)
		c.waitReady(t, c.services...)
		// Progress through the restart: the writer is not stuck.
		waitFor(t, settleTimeout, "writes after restarting "+s, func() (bool, string) {
			n := w.ackedSoFar()
			return n >= before+10, fmt.Sprint(n-before, " acked")
		})
	}
	acked, failed, errs := w.halt()
	w = nil
	t.Logf("rolling restart: %d writes acknowledged, %d failed %v", len(acked), failed, errs)
	c.waitIdentical(t, c.services, "orders", "part", "failover", "rolling")
	for _, s := range c.services {
		c.checkAcked(t, s, "rolling", acked)
	}
}

func (c *composeCluster) testScaleOutAndIn(t *testing.T) {
	c.mustCompose("--profile", "scale", "up", "-d", "node4")
	all := append(slices.Clone(c.services), "node4")
	c.waitReady(t, all...)
	waitFor(t, settleTimeout, "4 members", func() (bool, string) {
		st, err := c.nodeState("node1")
		if err != nil {
			return false, err.Error()
		}
		return st["raft_members"] == "4", "members " + st["raft_members"]
	})
	c.waitIdentical(t, all, "orders", "part", "failover", "rolling")

	// Scale in: remove it from the configuration, then stop it.
	if got := mustCLI(t, c.ports["node1"], "RAFT", "REMOVE", "node4"); got != "OK" {
		t.Fatalf("RAFT REMOVE node4 = %q", got)
	}
	waitFor(t, settleTimeout, "3 members again", func() (bool, string) {
		for _, s := range c.services {
			st, err := c.nodeState(s)
			if err != nil || st["raft_members"] != "3" {
				return false, fmt.Sprint(s, " ", st["raft_members"], err)
			}
		}
		return true, ""
	})
	c.mustCompose("--profile", "scale", "rm", "-s", "-f", "node4")
	c.leader(t, c.services...)
	mustCLI(t, c.ports["node2"], "XADD", "orders", "*", "item", "after-scale-in")
}
