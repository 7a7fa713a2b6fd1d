package deploy

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestK8sSimFormsOneCluster starts compose/k8s-sim.yml (the StatefulSet's
// pods, all at once, discovering each other by DNS) and checks that
// exactly one cluster forms: every node names the same leader and the
// same three members, by pod name and DNS name. Then it reschedules one
// pod onto an empty volume, as Kubernetes does when a PVC is lost, and
// checks that it joins the existing cluster instead of forming another.
// Last, it scales to four pods and back to three the way docs/deploy.md
// says: the new pod joins and becomes a voter; RAFT REMOVE, then the pod
// and its volume go.
func TestK8sSimFormsOneCluster(t *testing.T) {
	requireDocker(t)
	image := testImage(t)
	start := time.Now()
	p := newProject(t, "compose/k8s-sim.yml", map[string]string{"RAFTSTREAM_IMAGE": image}, "scale")
	p.mustCompose("up", "-d")
	pods := []string{"raftstream-0", "raftstream-1", "raftstream-2"}
	ports := map[string]string{}
	for _, pod := range pods {
		ports[pod] = p.hostPort(pod)
	}
	leader := waitOneCluster(t, p, pods, ports)
	t.Logf("one cluster led by %s in %v", leader, time.Since(start).Round(100*time.Millisecond))

	var acked []string
	for i := 0; i < 20; i++ {
		acked = append(acked, mustCLI(t, ports[pods[i%3]], "XADD", "events", "*", "i", fmt.Sprint(i)))
	}

	// Reschedule a follower with an empty volume: same name, new data dir.
	var victim string
	for _, pod := range pods {
		if pod != leader {
			victim = pod
			break
		}
	}
	p.mustCompose("rm", "-s", "-f", victim)
	if out, err := run(composeTimeout, nil, "docker", "volume", "rm", p.name+"_data-"+victim); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	p.mustCompose("up", "-d", victim)
	ports[victim] = p.hostPort(victim) // a new container gets a new host port
	waitOneCluster(t, p, pods, ports)
	have := entryIDs(t, ports[victim], "events")
	for _, id := range acked {
		if !have[id] {
			t.Fatalf("%s rejoined without entry %s", victim, id)
		}
	}
	t.Logf("%s rejoined from an empty volume; total %v", victim, time.Since(start).Round(100*time.Millisecond))

	// kubectl scale --replicas=4: the new pod discovers four addresses,
	// finds a cluster behind them and joins it.
	const added = "raftstream-3"
	p.mustCompose("--profile", "scale", "up", "-d", added)
	ports[added] = p.hostPort(added)
	four := append(slices.Clone(pods), added)
	waitOneCluster(t, p, four, ports)
	acked = append(acked, mustCLI(t, ports[added], "XADD", "events", "*", "i", "on-the-new-pod"))
	have = entryIDs(t, ports[added], "events")
	for _, id := range acked {
		if !have[id] {
			t.Fatalf("%s joined without entry %s", added, id)
		}
	}
	t.Logf("scaled up: %s joined as a voter; total %v", added, time.Since(start).Round(100*time.Millisecond))

	// Scale back down: remove the member, then the pod and its volume.
	if got := mustCLI(t, ports[pods[0]], "RAFT", "REMOVE", added); got != "OK" {
		t.Fatalf("RAFT REMOVE %s = %q", added, got)
	}
	waitFor(t, settleTimeout, "3 members after RAFT REMOVE", func() (bool, string) {
		for _, pod := range pods {
			st, err := info(ports[pod], "raft")
			if err != nil || st["raft_members"] != "3" {
				return false, fmt.Sprint(pod, " members ", st["raft_members"], " ", err)
			}
		}
		return true, ""
	})
	p.mustCompose("--profile", "scale", "rm", "-s", "-f", added)
	if out, err := run(composeTimeout, nil, "docker", "volume", "rm", p.name+"_data-"+added); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	delete(ports, added)
	waitOneCluster(t, p, pods, ports)
	have = entryIDs(t, ports[pods[1]], "events")
	for _, id := range acked {
		if !have[id] {
			t.Fatalf("after scaling down, %s lacks entry %s", pods[1], id)
		}
	}
	t.Logf("scaled down to 3; total %v", time.Since(start).Round(100*time.Millisecond))
}

// waitOneCluster waits until every pod is healthy by its health check,
// names the same leader, and lists the same members: the pods, by name,
// at their DNS names. It returns the leader.
func waitOneCluster(t *testing.T, p *project, pods []string, ports map[string]string) string {
	t.Helper()
	var leader string
	waitFor(t, upTimeout, "one cluster of "+fmt.Sprint(pods), func() (bool, string) {
		var views []string
		leaders := map[string]bool{}
		for _, pod := range pods {
			if h := p.health(pod); h != "healthy" {
				return false, pod + " health " + h
			}
			st, err := info(ports[pod], "raft")
			if err != nil {
				return false, err.Error()
			}
			leaders[st["raft_leader_id"]] = true
			leader = st["raft_leader_id"]
			if st["raft_members"] != fmt.Sprint(len(pods)) || st["raft_suffrage"] != "voter" {
				return false, fmt.Sprintf("%s: members %s, suffrage %s", pod, st["raft_members"], st["raft_suffrage"])
			}
			members, err := raftMembers(ports[pod])
			if err != nil {
				return false, err.Error()
			}
			views = append(views, strings.Join(members, ","))
		}
		if len(leaders) != 1 || !slices.Contains(pods, leader) {
			return false, fmt.Sprint("leaders ", leaders)
		}
		for _, v := range views {
			if v != views[0] {
				return false, fmt.Sprint("member lists differ: ", views)
			}
		}
		var want []string
		for _, pod := range pods {
			want = append(want, pod+"@"+pod+".raftstream-headless.default.svc.cluster.local:7379")
		}
		if views[0] != strings.Join(want, ",") {
			return false, "members " + views[0]
		}
		return true, ""
	})
	return leader
}

// raftMembers lists "id@raft-addr" of each member, sorted, from RAFT
// NODES. Its RESP2 reply is one field/value array per member; redis-cli
// prints the elements one per line, so fields are read by name.
func raftMembers(port string) ([]string, error) {
	out, err := cli(port, "RAFT", "NODES")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(out, "\n")
	var members []string
	id := ""
	for i := 0; i+1 < len(lines); i++ {
		switch lines[i] {
		case "id":
			id = lines[i+1]
			i++
		case "raft-addr":
			addr := lines[i+1]
			if host, _, err := net.SplitHostPort(addr); err != nil || net.ParseIP(host) != nil {
				return nil, fmt.Errorf("member %s has Raft address %q: want a DNS name", id, addr)
			}
			members = append(members, id+"@"+addr)
			i++
		}
	}
	sort.Strings(members)
	return members, nil
}
