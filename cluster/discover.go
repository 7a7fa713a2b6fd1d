package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Forming a cluster from discovery (--bootstrap-expect N with
// --discover-dns, for Kubernetes StatefulSets behind a headless Service).
// A fresh node repeatedly:
//
//  1. resolves the candidate peers' Raft addresses (Config.Discover);
//  2. asks each for its status over the cluster RPC (ID, advertised Raft
//     address, whether it already belongs to a cluster);
//  3. if any peer belongs to a cluster, asks it to add this node (it
//     forwards to its leader) and is done: the cluster exists already,
//     e.g. this pod was rescheduled with an empty volume;
//  4. otherwise, once at least N fresh nodes answer, the N with the
//     lowest IDs are the founding voters. If this node is one of them it
//     bootstraps with exactly that configuration; if not, it goes on
//     waiting and joins at step 3 once the cluster exists.
//
// Every founder computes the same configuration from the same answers,
// and hashicorp/raft accepts BootstrapCluster on every voter of an
// identical configuration (Consul's bootstrap_expect does the same): the
// first log entry is the same on all of them, so exactly one cluster
// forms. A node that has already received a configuration (from a
// founder's leader) stops. Discovery answers that differ between nodes
// (DNS still propagating) can only delay, not split: a node bootstraps
// only when it sees N fresh nodes, and the lowest N IDs of a larger
// fresh set are the same for everyone who sees that set.

const (
	discoverInterval = 500 * time.Millisecond
	discoverTimeout  = 2 * time.Second
)

func (n *Node) discoverLoop() {
	t := time.NewTimer(0)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-t.C:
		case <-n.ctx.Done():
			return
		}
		done, err := n.discoverOnce()
		if done {
			return
		}
		// Log each new reason once, not every round.
		if err != nil && err.Error() != last {
			last = err.Error()
			n.log.Info("waiting to form or join a cluster", "expect", n.cfg.BootstrapExpect, "reason", err)
		}
		t.Reset(discoverInterval)
	}
}

// discoverOnce runs one round; done means this node bootstrapped, joined
// or was added.
func (n *Node) discoverOnce() (bool, error) {
	if conf, err := n.configuration(); err == nil && len(conf.Servers) > 0 {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(n.ctx, discoverTimeout)
	addrs, err := n.cfg.Discover(ctx)
	cancel()
	if err != nil {
		return false, fmt.Errorf("discover peers: %w", err)
	}
	peers := map[string]peerStatus{n.cfg.NodeID: n.peerStatus()}
	var member *peerStatus
	for _, addr := range addrs {
		if addr == n.addr {
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, discoverTimeout)
		st, err := n.askStatus(ctx, addr)
		cancel()
		if err != nil {
			continue // not up yet
		}
		peers[st.ID] = st
		if st.HasConfig && member == nil {
			member = &st
		}
	}
	if member != nil {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.LeaderWait+discoverTimeout)
		defer cancel()
		if err := n.requestAdd(ctx, member.RaftAddr, n.Info()); err != nil {
			return false, fmt.Errorf("join through %s: %w", member.ID, err)
		}
		n.log.Info("joined existing cluster", "through", member.ID)
		return true, nil
	}
	var fresh []peerStatus
	for _, p := range peers {
		if !p.HasConfig {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) < n.cfg.BootstrapExpect {
		return false, fmt.Errorf("%d of %d expected nodes found", len(fresh), n.cfg.BootstrapExpect)
	}
	slices.SortFunc(fresh, func(a, b peerStatus) int { return cmp.Compare(a.ID, b.ID) })
	founders := fresh[:n.cfg.BootstrapExpect]
	if !slices.ContainsFunc(founders, func(p peerStatus) bool { return p.ID == n.cfg.NodeID }) {
		return false, errors.New("not among the founding IDs; waiting for the cluster to form")
	}
	var conf raft.Configuration
	for _, p := range founders {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
	}
	if err := n.raft.BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	n.log.Info("bootstrapped cluster from discovery", "voters", len(conf.Servers))
	return true, nil
}

// Resolver is the part of *net.Resolver that DNSDiscovery uses.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// DNSDiscovery returns a Config.Discover that resolves name: its SRV
// records (target:port) if it has any, else its A/AAAA records with
// defaultPort (normally this node's Raft port, the same on every pod of a
// StatefulSet). r nil means net.DefaultResolver.
func DNSDiscovery(name, defaultPort string, r Resolver) func(ctx context.Context) ([]string, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	return func(ctx context.Context) ([]string, error) {
		if _, srvs, err := r.LookupSRV(ctx, "", "", name); err == nil && len(srvs) > 0 {
			out := make([]string, 0, len(srvs))
			for _, s := range srvs {
				host := s.Target
				if len(host) > 0 && host[len(host)-1] == '.' {
					host = host[:len(host)-1]
				}
				out = append(out, net.JoinHostPort(host, strconv.Itoa(int(s.Port))))
			}
			return out, nil
		}
		hosts, err := r.LookupHost(ctx, name)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(hosts))
		for _, h := range hosts {
			out = append(out, net.JoinHostPort(h, defaultPort))
		}
		return out, nil
	}
}
