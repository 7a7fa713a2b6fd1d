package server

import (
	"slices"
	"strconv"
	"testing"

	"github.com/raftstream/raftstream/cluster"
)

func woken(w *waiter) bool {
	select {
	case <-w.wake:
		return true
	default:
		return false
	}
}

func TestWaiterRegistry(t *testing.T) {
	r := newWaiterRegistry()
	a := r.register(1, 0, []string{"s1", "s2"}, "", false, nil, 0)
	b := r.register(2, 1, []string{"s1"}, "", false, nil, 0)
	if got := r.blocked(); got != 3 {
		t.Fatalf("blocked keys = %d, want 3", got)
	}
	r.notify(0, "s1")
	r.notify(0, "s2") // a second wake-up must not block
	if !woken(a) {
		t.Fatal("waiter on db 0 s1 not woken")
	}
	if woken(b) {
		t.Fatal("waiter on db 1 woken by db 0")
	}
	r.unregister(a)
	r.unregister(b)
	r.unregister(b) // idempotent
	if got := r.blocked(); got != 0 {
		t.Fatalf("blocked keys after unregister = %d", got)
	}
	r.notify(1, "s1") // no waiters: nothing to do
}

// TestWaiterRegistryGroupOrder checks that of the XREADGROUP waiters of a
// group only the first is woken, that XREAD waiters and other groups are
// woken too, and that passTurn wakes the next in line.
func TestWaiterRegistryGroupOrder(t *testing.T) {
	r := newWaiterRegistry()
	g1 := r.register(1, 0, []string{"k"}, "g", true, nil, 0)
	g2 := r.register(2, 0, []string{"k"}, "g", true, nil, 0)
	x := r.register(3, 0, []string{"k"}, "", false, nil, 0)
	h1 := r.register(4, 0, []string{"k"}, "h", true, nil, 0)
	r.notify(0, "k")
	for _, tc := range []struct {
		name string
		w    *waiter
		want bool
	}{{"g first", g1, true}, {"g second", g2, false}, {"xread", x, true}, {"h first", h1, true}} {
		if got := woken(tc.w); got != tc.want {
			t.Errorf("%s woken = %v, want %v", tc.name, got, tc.want)
		}
	}
	r.unregister(g1)
	r.passTurn(g1)
	if !woken(g2) {
		t.Error("passTurn did not wake the next waiter of the group")
	}
	if woken(h1) {
		t.Error("passTurn woke another group")
	}
	if !r.unblockClient(2, unblockError) || r.unblockClient(1, unblockError) {
		t.Error("unblockClient: wrong report")
	}
	if got := <-g2.unblock; got != unblockError {
		t.Errorf("unblock reason = %v", got)
	}
	// Only parked clients count: the others are still on their first look.
	if got := r.blockedClients(); got != 0 {
		t.Errorf("blocked clients = %d before any parked, want 0", got)
	}
	for _, w := range []*waiter{g2, x, h1} {
		w.park()
	}
	if got := r.blockedClients(); got != 3 {
		t.Errorf("blocked clients = %d, want 3", got)
	}
}

// TestWaiterRide: as the leader seals an entry, its XADDs take the reads
// of the clients they would serve, in blocking order per group, up to as
// many entries as the XADDs add.
func TestWaiterRide(t *testing.T) {
	xadd := func(db uint8, key string) cluster.Command {
		return cluster.Command{DB: db, Argv: [][]byte{[]byte("xAdd"), []byte(key), []byte("*"), []byte("f"), []byte("v")}}
	}
	type reg struct {
		group string // "" for XREAD
		count int64
		claim bool   // XREADGROUP CLAIM: cannot ride
		busy  bool   // its own goroutine is reading
		done  bool   // it is leaving
		key   string // "" for "k"
	}
	for _, tc := range []struct {
		name   string
		reg    []reg
		cmds   []cluster.Command
		refuse bool  // add refuses the command
		want   []int // the registrations that ride, in order
	}{
		{name: "nothing blocked", cmds: []cluster.Command{xadd(0, "k")}},
		{name: "one entry, first of the group", reg: []reg{{group: "g"}, {group: "g"}},
			cmds: []cluster.Command{xadd(0, "k")}, want: []int{0}},
		{name: "a COUNT 1 reader per entry", reg: []reg{{group: "g", count: 1}, {group: "g", count: 1}, {group: "g", count: 1}},
			cmds: []cluster.Command{xadd(0, "k"), xadd(0, "k")}, want: []int{0, 1}},
		{name: "COUNT 10 takes both entries", reg: []reg{{group: "g", count: 10}, {group: "g", count: 10}},
			cmds: []cluster.Command{xadd(0, "k"), xadd(0, "k")}, want: []int{0}},
		{name: "each group", reg: []reg{{group: "g"}, {group: "h"}, {}},
			cmds: []cluster.Command{xadd(0, "k")}, want: []int{0, 1}},
		{name: "CLAIM first keeps its group's order", reg: []reg{{group: "g", claim: true}, {group: "g"}, {group: "h"}},
			cmds: []cluster.Command{xadd(0, "k")}, want: []int{2}},
		{name: "a busy reader takes its share", reg: []reg{{group: "g", count: 1, busy: true}, {group: "g", count: 1}},
			cmds: []cluster.Command{xadd(0, "k")}},
		{name: "after the busy reader's share", reg: []reg{{group: "g", count: 1, busy: true}, {group: "g", count: 1}},
			cmds: []cluster.Command{xadd(0, "k"), xadd(0, "k")}, want: []int{1}},
		{name: "a reader leaving is skipped", reg: []reg{{group: "g", done: true}, {group: "g"}},
			cmds: []cluster.Command{xadd(0, "k")}, want: []int{1}},
		{name: "other key and database", reg: []reg{{group: "g"}, {group: "g", key: "other"}},
			cmds: []cluster.Command{xadd(1, "k"), xadd(0, "other")}, want: []int{1}},
		{name: "not an XADD", reg: []reg{{group: "g"}},
			cmds: []cluster.Command{{Argv: [][]byte{[]byte("XDEL"), []byte("k"), []byte("1-1")}}, {Kind: cluster.KindTxn}}},
		{name: "refused", reg: []reg{{group: "g"}}, cmds: []cluster.Command{xadd(0, "k")}, refuse: true, want: []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newWaiterRegistry()
			var ws []*waiter
			for i, g := range tc.reg {
				key := g.key
				if key == "" {
					key = "k"
				}
				var ride *cluster.Command
				if g.group != "" && !g.claim {
					ride = &cluster.Command{Argv: [][]byte{[]byte("XREADGROUP"), []byte(strconv.Itoa(i))}}
				}
				w := r.register(uint64(i+1), 0, []string{key}, g.group, g.group != "", ride, g.count)
				switch {
				case g.busy:
					w.state.Store(waiterBusy)
				case g.done:
					w.state.Store(waiterDone)
				default:
					w.state.Store(waiterWaiting)
				}
				ws = append(ws, w)
			}
			var added []string
			r.Ride(slices.Values(ptrs(tc.cmds)), func(c cluster.Command) *cluster.Pending {
				added = append(added, string(c.Argv[1]))
				if tc.refuse {
					return nil
				}
				return &cluster.Pending{}
			})
			var want []string
			for _, i := range tc.want {
				want = append(want, strconv.Itoa(i))
			}
			if !slices.Equal(added, want) {
				t.Fatalf("rides %q, want %q", added, want)
			}
			for i, w := range ws {
				rides := slices.Contains(tc.want, i)
				if got := w.state.Load() == waiterTaken; got != rides {
					t.Errorf("registration %d: taken %v, want %v", i, got, rides)
				}
				if w.rode == nil {
					continue
				}
				select {
				case p := <-w.rode:
					if !rides || (p == nil) != tc.refuse {
						t.Errorf("registration %d was handed %v", i, p)
					}
				default:
					if rides {
						t.Errorf("registration %d rides but was handed nothing", i)
					}
				}
			}
		})
	}
}

func ptrs[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}
