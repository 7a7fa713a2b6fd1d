package server

import "testing"

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
	a := r.register(1, 0, []string{"s1", "s2"}, "", false)
	b := r.register(2, 1, []string{"s1"}, "", false)
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
	g1 := r.register(1, 0, []string{"k"}, "g", true)
	g2 := r.register(2, 0, []string{"k"}, "g", true)
	x := r.register(3, 0, []string{"k"}, "", false)
	h1 := r.register(4, 0, []string{"k"}, "h", true)
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
	if got := r.blockedClients(); got != 3 {
		t.Errorf("blocked clients = %d, want 3", got)
	}
}
