package server

import (
	"bytes"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/raftstream/raftstream/cluster"
)

// Blocked clients (XREAD BLOCK, XREADGROUP BLOCK) wait here, outside the
// log: nothing about a blocked client is ever written to the log or the
// snapshot. The state machine calls waiters.notify (installed with
// fsm.FSM.SetSignal) for every key that gained entries, lost a group, or
// was deleted or replaced; block.go re-checks and serves the woken
// clients.
//
// Wake-ups follow Redis's order: every XREAD waiter on the key is woken
// (reading consumes nothing), but of the XREADGROUP waiters only the
// first of each group is, because they compete for the same entries and
// Redis serves the client that blocked first. When that client has been
// served it hands the turn to the next one of its group (passTurn), which
// re-checks and finds whatever the first left. A woken client that finds
// nothing stays first in line.
//
// On the leader, a blocked XREADGROUP can also ride: as the leader seals
// a log entry holding XADDs to its key, Ride adds the client's read to
// the same entry (cluster.Riders), so the client has its entries after
// the one flush that commits the XADD, as it would from Redis, instead of
// proposing its read once the XADD is applied. A waiter's state says who
// may act for it: its own goroutine (busy), the entry it rides in
// (taken), or no one any more (done); see block.go.

// waitKey names a key in a database.
type waitKey struct {
	db  int
	key string
}

// unblockReason is how CLIENT UNBLOCK ends a wait.
type unblockReason uint8

const (
	unblockTimeout unblockReason = iota + 1
	unblockError
)

// waiter is one blocked client's registration.
type waiter struct {
	clientID uint64
	db       int
	keys     []string
	// group is the consumer group of a blocked XREADGROUP, "" for XREAD.
	// It is what orders waiters: see the file comment.
	group   string
	isGroup bool
	// wake holds a token once any of keys was signalled since the client
	// last looked; it is never closed, so the same waiter waits again.
	wake chan struct{}
	// unblock carries a CLIENT UNBLOCK request.
	unblock chan unblockReason

	// ride is the read that serves a blocked XREADGROUP, for Ride to add
	// to an entry (nil: the client serves itself; see register); count
	// is its COUNT (0: none).
	ride  *cluster.Command
	count int64
	// state is one of the waiter states below; rode receives the reply
	// of the ride that took the waiter.
	state atomic.Uint32
	rode  chan pendingWrite
	// parked is set once the client is blocked: past its first look at
	// the state, which may serve it at once. Only parked clients count
	// in INFO's blocked_clients, as in Redis.
	parked atomic.Bool
}

// park marks the client blocked and waiting.
func (w *waiter) park() {
	w.state.Store(waiterWaiting)
	w.parked.Store(true)
}

// Waiter states. A waiter starts busy (its first attempt runs); its
// goroutine moves it between waiting and busy, ride from waiting to
// taken, and its goroutine from waiting to done when it gives up. A
// taken waiter gets its reply on rode and is waiting again if the ride
// found nothing.
const (
	waiterBusy uint32 = iota
	waiterWaiting
	waiterTaken
	waiterDone
)

func (w *waiter) poke() {
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// waiterRegistry maps keys to the clients blocked on them, in the order
// they blocked.
type waiterRegistry struct {
	mu       sync.Mutex
	keys     map[waitKey][]*waiter
	byClient map[uint64]*waiter
	// riders counts registered waiters that can ride, so that sealing an
	// entry costs nothing while there are none.
	riders atomic.Int32
}

func newWaiterRegistry() *waiterRegistry {
	return &waiterRegistry{
		keys:     make(map[waitKey][]*waiter),
		byClient: make(map[uint64]*waiter),
	}
}

// register blocks client id on keys of db. group is the consumer group
// of an XREADGROUP (isGroup set), ignored for XREAD; ride, if set, is
// the read that serves it, with count its COUNT. Wait on the returned
// waiter's channels, then call unregister.
func (r *waiterRegistry) register(id uint64, db int, keys []string, group string, isGroup bool, ride *cluster.Command, count int64) *waiter {
	w := &waiter{
		clientID: id, db: db, keys: keys, group: group, isGroup: isGroup,
		wake:    make(chan struct{}, 1),
		unblock: make(chan unblockReason, 1),
		ride:    ride,
		count:   count,
	}
	if ride != nil {
		w.rode = make(chan pendingWrite, 1)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ride != nil {
		r.riders.Add(1)
	}
	for _, k := range keys {
		wk := waitKey{db, k}
		if !containsWaiter(r.keys[wk], w) { // a key named twice
			r.keys[wk] = append(r.keys[wk], w)
		}
	}
	r.byClient[id] = w
	return w
}

func containsWaiter(ws []*waiter, w *waiter) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// unregister removes w. It is idempotent.
func (r *waiterRegistry) unregister(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range w.keys {
		wk := waitKey{w.db, k}
		ws := r.keys[wk]
		for i, x := range ws {
			if x == w {
				ws = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(r.keys, wk)
		} else {
			r.keys[wk] = ws
		}
	}
	if r.byClient[w.clientID] == w {
		delete(r.byClient, w.clientID)
		if w.ride != nil {
			r.riders.Add(-1)
		}
	}
}

// notify wakes the clients blocked on key that may be served now: every
// XREAD waiter and the first XREADGROUP waiter of each group. It runs on
// the state machine's apply path, so it never blocks.
func (r *waiterRegistry) notify(db int, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := r.keys[waitKey{db, key}]
	var groups []string // groups whose first waiter was woken; few
	for _, w := range ws {
		if !w.isGroup {
			w.poke()
			continue
		}
		seen := false
		for _, g := range groups {
			if g == w.group {
				seen = true
				break
			}
		}
		if !seen {
			groups = append(groups, w.group)
			w.poke()
		}
	}
}

// passTurn wakes, on each key of w (already unregistered), the first
// waiter of w's group: it is next in line for whatever w left.
func (r *waiterRegistry) passTurn(w *waiter) {
	if !w.isGroup {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range w.keys {
		for _, x := range r.keys[waitKey{w.db, k}] {
			if x.isGroup && x.group == w.group {
				x.poke()
				break
			}
		}
	}
}

// unblockClient delivers CLIENT UNBLOCK to client id, reporting whether
// it was blocked.
func (r *waiterRegistry) unblockClient(id uint64, reason unblockReason) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.byClient[id]
	if w == nil {
		return false
	}
	select {
	case w.unblock <- reason:
	default: // already being unblocked
	}
	return true
}

// blocked reports how many keys have clients blocked on them (INFO
// clients total_blocking_keys).
func (r *waiterRegistry) blocked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.keys)
}

// blockedClients reports how many clients are blocked (INFO clients
// blocked_clients).
func (r *waiterRegistry) blockedClients() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, w := range r.byClient {
		if w.parked.Load() {
			n++
		}
	}
	return n
}

// Waiting reports whether a blocked client could ride (cluster.Riders).
func (r *waiterRegistry) Waiting() bool { return r.riders.Load() != 0 }

// Ride is the leader's cluster.Riders: for each key the entry's XADDs
// add to, it adds the reads of the key's blocked XREADGROUP clients that
// the new entries would serve, in the order they blocked, per group:
// enough clients to take as many entries as the XADDs add (each takes up
// to its COUNT). A group whose next client cannot ride (XREADGROUP
// CLAIM) is left to the ordinary wake-up, which keeps the group's order.
// Clients blocked on a follower are not here: they serve themselves.
func (r *waiterRegistry) Ride(cmds iter.Seq[*cluster.Command], add func(cluster.Command) *cluster.Pending) {
	type added struct {
		key waitKey
		n   int64
	}
	var xadds []added // few keys per entry: a slice beats a map
	for c := range cmds {
		if c.Kind != cluster.KindArgv || len(c.Argv) < 2 || !bytes.EqualFold(c.Argv[0], []byte("xadd")) {
			continue
		}
		db, key := int(c.DB), c.Argv[1]
		found := false
		for i := range xadds {
			if xadds[i].key.db == db && xadds[i].key.key == string(key) {
				xadds[i].n++
				found = true
				break
			}
		}
		if !found {
			xadds = append(xadds, added{waitKey{db, string(key)}, 1})
		}
	}
	if len(xadds) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range xadds {
		r.rideKey(r.keys[x.key], x.n, add)
	}
}

// rideKey adds rides for the group waiters ws (one key's, in blocking
// order) that n new entries would serve.
func (r *waiterRegistry) rideKey(ws []*waiter, n int64, add func(cluster.Command) *cluster.Pending) {
	type budget struct {
		group string
		left  int64 // entries not yet spoken for; <= 0: none
	}
	var groups []budget
	for _, w := range ws {
		if !w.isGroup {
			continue
		}
		gi := -1
		for i := range groups {
			if groups[i].group == w.group {
				gi = i
				break
			}
		}
		if gi < 0 {
			groups = append(groups, budget{w.group, n})
			gi = len(groups) - 1
		}
		g := &groups[gi]
		if g.left <= 0 {
			continue
		}
		if w.ride == nil {
			g.left = 0 // it serves itself, first: the rest of the group waits
			continue
		}
		switch w.state.Load() {
		case waiterBusy, waiterTaken:
			// Already reading (its own attempt, or a ride for another of
			// its keys): it takes its share first.
			g.left = take(g.left, w.count)
			continue
		case waiterDone:
			continue
		}
		if !w.state.CompareAndSwap(waiterWaiting, waiterTaken) {
			continue // its goroutine got there first
		}
		// rode is empty: only a taken waiter receives, once. Its goroutine
		// may be waiting on it already.
		p := add(*w.ride)
		if p == nil {
			w.rode <- nil // could not ride: it goes on waiting
			g.left = 0
			continue
		}
		w.rode <- p
		g.left = take(g.left, w.count)
	}
}

// take is what remains of left entries once a read of COUNT count
// (0: no cap) has had its share.
func take(left, count int64) int64 {
	if count == 0 {
		return 0
	}
	return left - count
}
