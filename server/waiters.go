package server

import "sync"

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
}

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
}

func newWaiterRegistry() *waiterRegistry {
	return &waiterRegistry{
		keys:     make(map[waitKey][]*waiter),
		byClient: make(map[uint64]*waiter),
	}
}

// register blocks client id on keys of db. group is the consumer group
// of an XREADGROUP (isGroup set), ignored for XREAD. Wait on the
// returned waiter's channels, then call unregister.
func (r *waiterRegistry) register(id uint64, db int, keys []string, group string, isGroup bool) *waiter {
	w := &waiter{
		clientID: id, db: db, keys: keys, group: group, isGroup: isGroup,
		wake:    make(chan struct{}, 1),
		unblock: make(chan unblockReason, 1),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
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
	return len(r.byClient)
}
