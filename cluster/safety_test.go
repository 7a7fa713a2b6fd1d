package cluster

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// membersSnapshot is "id@addr suffrage" of every member, sorted.
func membersSnapshot(t *testing.T, n *Node) []string {
	t.Helper()
	ms, err := n.Members()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.ID+"@"+m.RaftAddr+" "+m.Suffrage)
	}
	slices.Sort(out)
	return out
}

// waitFailed waits for n to report a fatal error and returns it.
func waitFailed(t *testing.T, n *Node, timeout time.Duration) error {
	t.Helper()
	select {
	case <-n.Failed():
		return n.Err()
	case <-time.After(timeout):
		t.Fatalf("%s did not fail within %v", n.cfg.NodeID, timeout)
		return nil
	}
}

// A join that takes a live member's ID or Raft address, or a joiner with
// another cluster secret, is refused at once: the joiner fails with the
// reason and the configuration does not change. The seed is a follower's
// Raft address (the leader's refusal comes back through it), or, for the
// deprecated path, its client address: then the joiner with another
// secret reaches the leader, which refuses it because it cannot
// authenticate the joiner's Raft port.
func TestJoinRefused(t *testing.T) {
	const secret = "s3cret"
	nodes, cfgs := clusterWithClients(t, 3, func(c *Config) { c.ClusterSecret = secret })
	leader := waitLeader(t, nodes...)
	follower := followersOf(leader, nodes)[0]
	var followerCfg Config
	for _, c := range cfgs {
		if c.NodeID == follower.cfg.NodeID {
			followerCfg = c
		}
	}
	seed := followersOf(leader, nodes)[1].RaftAddr()
	clientSeed := respSeed(t, followersOf(leader, nodes)[1], "")
	before := membersSnapshot(t, leader)

	cases := []struct {
		name   string
		tune   func(*Config)
		reason string
	}{
		{"live member's id", func(c *Config) { c.NodeID = followerCfg.NodeID }, "node id \"" + followerCfg.NodeID + "\" belongs to live member"},
		{"live member's raft address", func(c *Config) { c.RaftAdvertise = followerCfg.RaftAddr }, "raft address " + followerCfg.RaftAddr + " belongs to live member"},
		{"leader's id", func(c *Config) { c.NodeID = leader.cfg.NodeID }, "is the leader itself"},
		{"wrong cluster secret", func(c *Config) { c.ClusterSecret = "other" }, "seed " + seed + ": join refused: its Raft port did not accept this node's --cluster-secret"},
		{"no cluster secret", func(c *Config) { c.ClusterSecret = "" }, "differs from the cluster's"},
		{"wrong cluster secret, client-address seed", func(c *Config) { c.ClusterSecret = "other"; c.Join = []string{clientSeed} }, "--cluster-secret differs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "joiner", t.TempDir())
			cfg.ClusterSecret = secret
			cfg.Join = []string{seed}
			tc.tune(&cfg)
			start := time.Now()
			j := openNode(t, cfg)
			defer j.Close()
			err := waitFailed(t, j, 10*time.Second)
			if !errors.Is(err, ErrJoinRefused) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("joiner failed with %v; want ErrJoinRefused saying %q", err, tc.reason)
			}
			t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
			if got := membersSnapshot(t, leader); !slices.Equal(got, before) {
				t.Fatalf("members changed: %v, were %v", got, before)
			}
		})
	}
	// The cluster is unharmed.
	write(t, follower, xadd("after", 1))
}

// A node removed from the cluster fails with ErrRemoved, and its data dir
// cannot be reopened as if it were still a member: also when it is
// removed right after joining, before it has recorded its membership (the
// leader's notice tells it).
func TestRemovedNodeFails(t *testing.T) {
	for _, settled := range []bool{true, false} {
		t.Run("membership recorded="+strconv.FormatBool(settled), func(t *testing.T) {
			leader, j, cfg := joinedVoter(t)
			defer j.Close()
			if settled {
				waitFor(t, 10*time.Second, "j's membership flag", func() bool {
					ok, err := wasMember(j.store.stable)
					return err == nil && ok
				})
			}
			if err := j.Err(); err != nil {
				t.Fatalf("j failed while a member: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := leader.RemoveMember(ctx, "j"); err != nil {
				t.Fatal(err)
			}
			if err := waitFailed(t, j, 10*time.Second); !errors.Is(err, ErrRemoved) {
				t.Fatalf("removed node failed with %v, want ErrRemoved", err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			// Restarting it, with or without --join, is refused with the reason.
			for _, join := range [][]string{nil, {"127.0.0.1:1"}} {
				cfg.Join = join
				n, err := Open(cfg)
				if err == nil {
					n.Close()
					t.Fatalf("reopening a removed node's data dir (join %v) succeeded", join)
				}
				if !errors.Is(err, ErrRemoved) || !strings.Contains(err.Error(), "empty data dir") {
					t.Fatalf("reopening a removed node's data dir (join %v): %v", join, err)
				}
			}
			// The leader is unharmed.
			if err := leader.Err(); err != nil {
				t.Fatal(err)
			}
			write(t, leader, xadd("after", 1))
		})
	}
}

// A leader's HandOff moves leadership to another voter and names it; on
// a follower it does nothing.
func TestHandOff(t *testing.T) {
	nodes, _ := clusterWithClients(t, 3, func(*Config) {})
	leader := waitLeader(t, nodes...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if to, err := followersOf(leader, nodes)[0].HandOff(ctx); err != nil || to != "" {
		t.Fatalf("HandOff on a follower = %q, %v", to, err)
	}
	w := startWriters(nodes, 2)
	w.waitAcked(t, 40)
	to, err := leader.HandOff(ctx)
	if err != nil || to == "" || to == leader.cfg.NodeID {
		t.Fatalf("HandOff = %q, %v", to, err)
	}
	if leader.IsLeader() {
		t.Fatal("still the leader after HandOff")
	}
	w.waitAcked(t, w.ackedCount()+40)
	w.stop()
	newLeader := waitLeader(t, nodes...)
	waitConverged(t, newLeader, nodes)
	w.check(t, newLeader)
}
