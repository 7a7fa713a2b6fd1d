package server

import "testing"

func TestWaiterRegistry(t *testing.T) {
	r := newWaiterRegistry()
	a := r.register(0, []string{"s1", "s2"})
	b := r.register(1, []string{"s1"})
	if got := r.blocked(); got != 3 {
		t.Fatalf("blocked keys = %d, want 3", got)
	}
	r.notify(0, "s1")
	r.notify(0, "s2") // a second wake-up must not close twice
	select {
	case <-a.ready:
	default:
		t.Fatal("waiter on db 0 s1 not woken")
	}
	select {
	case <-b.ready:
		t.Fatal("waiter on db 1 woken by db 0")
	default:
	}
	r.unregister(a)
	r.unregister(b)
	if got := r.blocked(); got != 0 {
		t.Fatalf("blocked keys after unregister = %d", got)
	}
	r.notify(1, "s1") // no waiters: nothing to do
}
