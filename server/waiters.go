package server

import "sync"

// Blocking reads (XREAD BLOCK, XREADGROUP BLOCK) are not implemented yet:
// XREAD with BLOCK runs as a plain, non-blocking read, and XREADGROUP with
// BLOCK as one non-blocking attempt through the log.
//
// They plug in here. The state machine calls waiters.notify (installed with
// fsm.FSM.SetSignal) for every key that gained entries or was deleted or
// replaced. A blocked connection will flush the replies before it (redcon
// holds them back while a handler blocks), register on its keys, and on
// each wake-up re-run the read (XREAD) or propose another non-blocking
// attempt (XREADGROUP) until it gets data or its local timeout fires.
// Nothing about a blocked client is ever written to the log or the
// snapshot.

// waitKey names a key in a database.
type waitKey struct {
	db  int
	key string
}

// waiter is one blocked client's registration.
type waiter struct {
	keys []waitKey
	// ready is closed by the first notify of any of keys.
	ready chan struct{}
	fired bool
}

// waiterRegistry maps keys to the clients blocked on them.
type waiterRegistry struct {
	mu   sync.Mutex
	keys map[waitKey]map[*waiter]struct{}
}

func newWaiterRegistry() *waiterRegistry {
	return &waiterRegistry{keys: make(map[waitKey]map[*waiter]struct{})}
}

// register blocks a client on keys of db; wait on the returned waiter's
// ready channel, then call unregister.
func (r *waiterRegistry) register(db int, keys []string) *waiter {
	w := &waiter{ready: make(chan struct{})}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		wk := waitKey{db, k}
		set := r.keys[wk]
		if set == nil {
			set = make(map[*waiter]struct{})
			r.keys[wk] = set
		}
		set[w] = struct{}{}
		w.keys = append(w.keys, wk)
	}
	return w
}

func (r *waiterRegistry) unregister(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, wk := range w.keys {
		if set := r.keys[wk]; set != nil {
			delete(set, w)
			if len(set) == 0 {
				delete(r.keys, wk)
			}
		}
	}
}

// notify wakes every client blocked on key. It runs on the state
// machine's apply path, so it only closes channels and never blocks.
func (r *waiterRegistry) notify(db int, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.keys[waitKey{db, key}] {
		if !w.fired {
			w.fired = true
			close(w.ready)
		}
	}
}

// blocked reports how many keys have clients blocked on them (INFO
// clients total_blocking_keys).
func (r *waiterRegistry) blocked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.keys)
}
