package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fault kinds a schedule may draw from.
const (
	killLeader    = "kill-leader"
	killFollower  = "kill-follower"
	pauseLeader   = "pause-leader"
	pauseFollower = "pause-follower"
	clockBack     = "clock-back"
	membership    = "membership"
	// A node is killed while it writes a snapshot, then restarted.
	killSnapLeader   = "kill-snapshot-leader"
	killSnapFollower = "kill-snapshot-follower"
	// Network faults, on the proxies between founding nodes.
	partLeader   = "partition-leader"   // the leader alone against the rest
	partMajority = "partition-majority" // a minority against a majority; the leader on either side
	partBridge   = "partition-bridge"   // two sides that each see only one middle node
	partOneWay   = "partition-oneway"   // one node (the leader, or a follower) hears nobody; its messages still arrive
	netDelay     = "delay"              // latency on every link
	netLoss      = "loss"               // connections stall or are cut at random
	// double overlaps two faults: a network and a process fault, or two
	// process faults on different nodes.
	double = "double"
)

var (
	netFaults  = []string{partLeader, partMajority, partBridge, partOneWay, netDelay, netLoss}
	procFaults = []string{killLeader, killFollower, pauseLeader, pauseFollower, killSnapLeader, killSnapFollower}
	allFaults  = append(append([]string{clockBack, membership, double}, procFaults...), netFaults...)
)

// needsNetwork reports whether kinds can inject a network fault, so the
// cluster must be started behind proxies.
func needsNetwork(kinds []string) bool {
	for _, k := range kinds {
		if k == double || slices.Contains(netFaults, k) {
			return true
		}
	}
	return false
}

// event is one injected fault, for the report.
type event struct {
	At     time.Duration `json:"at"`
	Healed time.Duration `json:"healed"`
	Kind   string        `json:"kind"`
	Target string        `json:"target"`
	Detail string        `json:"detail,omitempty"`
	// The highest Raft term any node reports before the fault and right
	// after its heal: a rise means the fault caused elections.
	TermBefore uint64 `json:"term_before"`
	TermHealed uint64 `json:"term_healed"`
}

// nemesis injects faults from a schedule, one at a time (or two at once
// for double), with a seeded RNG.
type nemesis struct {
	c     *cluster
	nw    *network // nil: the schedule has no network faults
	rng   *rand.Rand
	kinds []string
	bag   []string // kinds left in this round (draw)
	start time.Time

	mu         sync.Mutex
	events     []event
	joiners    int
	partitions int
}

func (n *nemesis) record(e event) {
	n.mu.Lock()
	n.events = append(n.events, e)
	n.mu.Unlock()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (n *nemesis) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(n.rng.Int64N(int64(hi-lo)))
}

// run injects faults until ctx ends. Each fault is healed before the next
// one starts, and before run returns.
func (n *nemesis) run(ctx context.Context) {
	for ctx.Err() == nil {
		sleep(ctx, n.between(300*time.Millisecond, 900*time.Millisecond))
		if ctx.Err() != nil {
			return
		}
		kind := n.draw()
		e := event{At: time.Since(n.start).Round(time.Millisecond), Kind: kind, TermBefore: n.c.maxTerm()}
		if err := n.inject(ctx, &e); err != nil {
			e.Detail = strings.TrimPrefix(e.Detail+"; ", "; ") + "skipped/failed: " + err.Error()
		}
		e.Healed = time.Since(n.start).Round(time.Millisecond)
		e.TermHealed = n.c.maxTerm()
		n.record(e)
	}
}

// draw returns the next fault kind. Kinds are drawn in rounds, each a
// seeded shuffle of all of them, so even a short schedule injects every
// kind it lists before it repeats one.
func (n *nemesis) draw() string {
	if len(n.bag) == 0 {
		n.bag = append([]string(nil), n.kinds...)
		n.rng.Shuffle(len(n.bag), func(i, j int) { n.bag[i], n.bag[j] = n.bag[j], n.bag[i] })
	}
	k := n.bag[0]
	n.bag = n.bag[1:]
	return k
}

// Marks in a double's busy map: what the first fault did to a node.
const (
	held   = "held"    // killed or paused: no second fault on it
	cutOff = "cut off" // on a partition's minority side
)

// pick returns the leader, or a random running, unpaused follower.
func (n *nemesis) pick(leader bool) (*node, error) {
	return n.pickFrom(leader, 20*time.Second, nil)
}

// pickFrom is pick for the second fault of a double: it skips nodes the
// first one holds and prefers followers it did not cut off, so that the
// two faults add up (a partition plus a kill on the majority side takes
// the quorum away; killing the node already cut off changes little).
func (n *nemesis) pickFrom(leader bool, wait time.Duration, busy map[*node]string) (*node, error) {
	l, err := n.c.waitLeader(wait)
	if err != nil {
		return nil, err
	}
	if leader {
		if busy[l] == held {
			return nil, fmt.Errorf("the leader %s is already faulted", l.id)
		}
		return l, nil
	}
	var fs, preferred []*node
	for _, nd := range n.c.members() {
		if nd != l && nd.running() && !nd.isPaused() && busy[nd] != held {
			fs = append(fs, nd)
			if busy[nd] == "" {
				preferred = append(preferred, nd)
			}
		}
	}
	if len(preferred) > 0 {
		fs = preferred
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("no running follower")
	}
	return fs[n.rng.IntN(len(fs))], nil
}

// hold is how long a fault stays before it is healed: network faults
// stay long enough for the majority side to elect a leader and the
// minority side's leader to step down.
func (n *nemesis) hold(kind string) time.Duration {
	if kind == double || slices.Contains(netFaults, kind) {
		// Sometimes past --leader-wait (3s), so clients on the minority
		// side also see TRYAGAIN, not only a late success.
		return n.between(time.Second, 4*time.Second)
	}
	return n.between(500*time.Millisecond, 1500*time.Millisecond)
}

func (n *nemesis) inject(ctx context.Context, e *event) error {
	switch e.Kind {
	case clockBack:
		return n.clockBack(ctx, e)
	case membership:
		return n.membership(ctx, e)
	case double:
		return n.double(ctx, e)
	}
	heal, err := n.begin(e, nil)
	if err != nil {
		return err
	}
	sleep(ctx, n.hold(e.Kind))
	return heal()
}

// begin starts one fault of kind e.Kind, recording its target, and
// returns what heals it. Faults of a double pass busy, what the first
// one did to which node (held, cutOff); their leader wait is short,
// because the first fault may have taken the quorum away.
func (n *nemesis) begin(e *event, busy map[*node]string) (heal func() error, err error) {
	wait := 20 * time.Second
	if busy != nil {
		wait = 5 * time.Second
	}
	switch e.Kind {
	case killLeader, killFollower:
		nd, err := n.pickFrom(e.Kind == killLeader, wait, busy)
		if err != nil {
			return nil, err
		}
		e.Target = nd.id
		nd.kill()
		return nd.start, nil
	case pauseLeader, pauseFollower:
		nd, err := n.pickFrom(e.Kind == pauseLeader, wait, busy)
		if err != nil {
			return nil, err
		}
		e.Target = nd.id
		nd.stop()
		return func() error { nd.cont(); return nil }, nil
	case killSnapLeader, killSnapFollower:
		return n.killSnapshot(e, wait, busy)
	case partLeader, partMajority, partBridge, partOneWay, netDelay, netLoss:
		return n.network(e, wait, busy)
	}
	return nil, fmt.Errorf("unknown fault %q", e.Kind)
}

// killSnapshot asks a node for a snapshot (RAFT SNAPSHOT) and kills it
// while raft's file store is writing it: the store writes into a
// "<name>.tmp" directory and renames it when complete, so the kill lands
// as soon as such a directory shows up. The heal restarts the node, which
// must come back from its last complete snapshot plus its log.
func (n *nemesis) killSnapshot(e *event, wait time.Duration, busy map[*node]string) (func() error, error) {
	nd, err := n.pickFrom(e.Kind == killSnapLeader, wait, busy)
	if err != nil {
		return nil, err
	}
	e.Target = nd.id
	snaps := filepath.Join(nd.dir, "snapshots")
	// A .tmp directory present now belongs to no snapshot in progress
	// (a node removes those of killed snapshots only when it reopens):
	// only a new one shows a snapshot being written.
	stale := map[string]bool{}
	for _, name := range snapshotsInProgress(snaps) {
		stale[name] = true
	}
	res := make(chan error, 1)
	go func() {
		_, err := oneShot(nd.addr, "RAFT", "SNAPSHOT")
		res <- err
	}()
	// Poll tightly: a snapshot of these small states takes milliseconds.
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	var caught string
	var done error
	finished := false
	for deadline := time.Now().Add(10 * time.Second); !finished && time.Now().Before(deadline); {
		for _, name := range snapshotsInProgress(snaps) {
			if !stale[name] {
				caught = name
			}
		}
		if caught != "" {
			break
		}
		select {
		case done = <-res:
			finished = true
		case <-tick.C:
		}
	}
	nd.kill()
	switch {
	case caught != "":
		e.Detail = "killed while writing snapshot " + caught
		<-res
	case finished && done == nil:
		e.Detail = "snapshot finished before the kill"
	case finished:
		e.Detail = "RAFT SNAPSHOT failed before the kill: " + done.Error()
	default:
		e.Detail = "no snapshot seen in 10s"
		<-res
	}
	return func() error {
		if err := nd.start(); err != nil {
			return err
		}
		began := time.Now()
		if err := nd.waitPing(30 * time.Second); err != nil {
			return fmt.Errorf("%s after a kill during a snapshot: %w", nd.id, err)
		}
		e.Detail += fmt.Sprintf("; restarted, answering in %v", time.Since(began).Round(time.Millisecond))
		return nil
	}, nil
}

// snapshotsInProgress lists the snapshot directories in dir that were
// never completed (still named *.tmp).
func snapshotsInProgress(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			out = append(out, e.Name())
		}
	}
	return out
}

// network starts a network fault. Partitions alternate between a heal
// that cuts the connections they stalled and one that lets them deliver
// what they held, late.
func (n *nemesis) network(e *event, wait time.Duration, busy map[*node]string) (func() error, error) {
	if n.nw == nil {
		return nil, fmt.Errorf("this schedule's cluster has no proxies")
	}
	busyIDs := map[string]bool{}
	for nd, mark := range busy {
		busyIDs[nd.id] = mark == held
	}
	ids := append([]string(nil), n.nw.ids...)
	n.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	leader := ""
	if l, err := n.c.waitLeader(wait); err == nil {
		leader = l.id
	}
	// leaderFirst moves the leader (if known and wanted) to the front.
	leaderFirst := func() {
		if i := slices.Index(ids, leader); i > 0 {
			ids[0], ids[i] = ids[i], ids[0]
		}
	}
	// Alternate, so that even a short schedule heals both ways.
	n.mu.Lock()
	n.partitions++
	cut := n.partitions%2 == 1
	n.mu.Unlock()
	healDesc := "heal cuts held connections"
	if !cut {
		healDesc = "heal delivers held bytes late"
	}
	switch e.Kind {
	case partLeader:
		if leader == "" {
			return nil, fmt.Errorf("no leader to isolate")
		}
		leaderFirst()
		n.nw.partition(groupString(ids[:1], ids[1:]), across(ids[:1], ids[1:]))
		e.Target, e.Detail = leader, groupString(ids[:1], ids[1:])+"; "+healDesc
	case partMajority:
		// The leader goes to the minority or stays with the majority at
		// random; in a double, the nodes the other fault holds go to the
		// majority side, so that both faults together take the quorum
		// away instead of the partition cutting off a node already down.
		m := (len(ids) - 1) / 2
		var minority []string
		if n.rng.IntN(2) == 0 && leader != "" {
			minority = append(minority, leader)
		}
		for _, wantBusy := range []bool{false, true} {
			for _, id := range ids {
				if len(minority) < m && id != leader && busyIDs[id] == wantBusy {
					minority = append(minority, id)
				}
			}
		}
		var majority []string
		for _, id := range ids {
			if !slices.Contains(minority, id) {
				majority = append(majority, id)
			}
		}
		n.nw.partition(groupString(minority, majority), across(minority, majority))
		e.Target, e.Detail = strings.Join(minority, ","), groupString(minority, majority)+fmt.Sprintf(" (leader was %s); %s", leader, healDesc)
	case partBridge:
		// 5 nodes: {a,b} - m - {c,d}; 3 nodes: a - m - c.
		side := (len(ids) - 1) / 2
		a, mid, b := ids[:side], ids[side], ids[side+1:]
		n.nw.partition(groupString(a, []string{mid}, b), across(a, b))
		e.Target = mid
		e.Detail = fmt.Sprintf("%s see only %s in between (leader was %s); %s", groupString(a, b), mid, leader, healDesc)
	case partOneWay:
		// The leader at random, else a follower: a deaf leader keeps
		// sending heartbeats that hold off elections while it can commit
		// nothing; a deaf follower keeps calling elections it cannot win.
		deaf := ids[0]
		if leader != "" && n.rng.IntN(2) == 0 {
			deaf = leader
		}
		n.nw.deafen(deaf+" hears nobody", deaf)
		e.Target = deaf
		e.Detail = fmt.Sprintf("%s hears nobody, the others hear it (leader was %s); %s", deaf, leader, healDesc)
	case netDelay:
		lo := n.between(5*time.Millisecond, 20*time.Millisecond)
		hi := lo + n.between(10*time.Millisecond, 180*time.Millisecond)
		st := linkState{mode: linkDelay, lo: lo.Round(time.Millisecond), hi: hi.Round(time.Millisecond)}
		e.Target, e.Detail = "all links", fmt.Sprintf("%v-%v per chunk and direction", st.lo, st.hi)
		n.nw.setAll("delay "+e.Detail, st)
		cut = false
	case netLoss:
		st := linkState{mode: linkLoss, cutP: 0.002 + 0.02*n.rng.Float64(), stallP: 0.01 + 0.04*n.rng.Float64(),
			stallLo: 100 * time.Millisecond, stallHi: 800 * time.Millisecond}
		e.Target = "all links"
		e.Detail = fmt.Sprintf("per chunk: cut %.1f%%, stall 100-800ms %.1f%%", 100*st.cutP, 100*st.stallP)
		n.nw.setAll("loss "+e.Detail, st)
		cut = false
	}
	return func() error { n.nw.heal(cut); return nil }, nil
}

// double overlaps two faults: a network fault and a process fault (in
// either order) or two process faults on different nodes. The cluster
// may lose its quorum until the heal; both are healed, in reverse order,
// before the next fault.
func (n *nemesis) double(ctx context.Context, e *event) error {
	var kinds [2]string
	pickNet := func() string { return netFaults[n.rng.IntN(len(netFaults))] }
	pickProc := func() string { return procFaults[n.rng.IntN(len(procFaults))] }
	switch r := n.rng.IntN(3); {
	case n.nw == nil || r == 2:
		kinds = [2]string{pickProc(), pickProc()}
	case r == 0:
		kinds = [2]string{pickNet(), pickProc()}
	default:
		kinds = [2]string{pickProc(), pickNet()}
	}
	busy := map[*node]string{}
	var heals []func() error
	var subs []*event
	for _, k := range kinds {
		sub := &event{Kind: k}
		subs = append(subs, sub)
		heal, err := n.begin(sub, busy)
		if err != nil {
			sub.Detail = strings.TrimPrefix(sub.Detail+"; ", "; ") + "skipped: " + err.Error()
			continue
		}
		heals = append(heals, heal)
		// A process fault holds its node. A partition's target names the
		// side it cut off, whose nodes stay fair game but are not
		// preferred; the bridge's middle node and delay's "all links"
		// mark nothing.
		for _, nd := range n.c.members() {
			switch {
			case nd.id == sub.Target && slices.Contains(procFaults, k):
				busy[nd] = held
			case (k == partLeader || k == partMajority) && slices.Contains(strings.Split(sub.Target, ","), nd.id):
				busy[nd] = cutOff
			}
		}
	}
	e.Target = kinds[0] + "+" + kinds[1]
	sleep(ctx, n.hold(double))
	var errs []error
	for i := len(heals) - 1; i >= 0; i-- {
		errs = append(errs, heals[i]())
	}
	var parts []string
	for _, sub := range subs {
		desc := fmt.Sprintf("%s(%s)", sub.Kind, sub.Target)
		if sub.Detail != "" {
			desc += " [" + sub.Detail + "]"
		}
		parts = append(parts, desc)
	}
	e.Detail = strings.Join(parts, " + ")
	return errors.Join(errs...)
}

// clockBack restarts a follower with its clock 5-30s behind and hands it
// leadership, so it stamps entries with times older than existing IDs;
// then restarts it with the right clock.
func (n *nemesis) clockBack(ctx context.Context, e *event) error {
	nd, err := n.pick(false)
	if err != nil {
		return err
	}
	e.Target = nd.id
	off := -n.between(5*time.Second, 30*time.Second).Round(time.Millisecond)
	e.Detail = "clock offset " + off.String()
	nd.kill()
	nd.mu.Lock()
	nd.clockOffset = off
	nd.mu.Unlock()
	defer func() {
		nd.kill()
		nd.mu.Lock()
		nd.clockOffset = 0
		nd.mu.Unlock()
		_ = nd.start()
	}()
	if err := nd.start(); err != nil {
		return err
	}
	if err := nd.waitPing(30 * time.Second); err != nil {
		return err
	}
	l, err := n.c.waitLeader(20 * time.Second)
	if err != nil {
		return err
	}
	// The node must have caught up before Raft lets it take over.
	err = waitUntil(20*time.Second, nd.id+" to lead", func() bool {
		if raftInfo(nd.addr)["raft_state"] == "leader" {
			return true
		}
		_, _ = oneShot(l.addr, "RAFT", "TRANSFER", nd.id)
		return raftInfo(nd.addr)["raft_state"] == "leader"
	})
	if err != nil {
		e.Detail += " (transfer did not happen)"
		return nil
	}
	e.Detail += " (led)"
	sleep(ctx, 2*time.Second)
	return nil
}

// membership adds a fresh node with --join, waits for it to be a voter,
// then removes it with RAFT REMOVE (sent to a random member) and stops it.
func (n *nemesis) membership(ctx context.Context, e *event) error {
	n.mu.Lock()
	n.joiners++
	id := fmt.Sprintf("j%d", n.joiners)
	n.mu.Unlock()
	e.Target = id
	nd, err := n.c.addJoiner(id)
	if err != nil {
		if nd != nil {
			n.c.dropNode(nd)
		}
		return err
	}
	err = waitUntil(30*time.Second, id+" to be a voter", func() bool {
		l, err := n.c.waitLeader(5 * time.Second)
		return err == nil && raftMembers(l.addr)[id] == "voter"
	})
	if err != nil {
		e.Detail = "never became a voter"
	}
	sleep(ctx, n.between(500*time.Millisecond, 1500*time.Millisecond))
	others := n.c.members()
	err = waitUntil(30*time.Second, "RAFT REMOVE "+id, func() bool {
		via := others[n.rng.IntN(len(others))]
		if via == nd {
			return false
		}
		v, err := oneShot(via.addr, "RAFT", "REMOVE", id)
		return (err == nil && v == "OK") || err != nil && err.Error() == "ERR no such Raft member '"+id+"'"
	})
	n.c.dropNode(nd)
	return err
}

// raftMembers parses RAFT NODES into id -> suffrage.
func raftMembers(addr string) map[string]string {
	v, err := oneShot(addr, "RAFT", "NODES")
	if err != nil {
		return nil
	}
	out := map[string]string{}
	arr, _ := v.([]any)
	for _, e := range arr {
		kv, _ := e.([]any)
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
		}
		out[m["id"]] = m["suffrage"]
	}
	return out
}

// healAll resumes paused nodes and starts stopped ones. It returns the
// nodes whose process died without the nemesis killing it.
func (n *nemesis) healAll() (crashed []string, err error) {
	if n.nw != nil {
		n.nw.heal(true)
	}
	for _, nd := range n.c.members() {
		nd.cont()
		if nd.crashed() {
			crashed = append(crashed, nd.id)
		}
		if !nd.running() {
			nd.kill() // forget a crashed process
			if err := nd.start(); err != nil {
				return crashed, err
			}
		}
	}
	return crashed, nil
}
