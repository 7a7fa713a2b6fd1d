package cluster

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestStoreGate(t *testing.T) {
	g := newStoreGate(raft.NewInmemStore())
	stop := make(chan struct{})

	// The write after the mark wakes the waiter.
	mark := g.mark()
	woke := make(chan struct{})
	go func() {
		g.wait(mark, time.Minute, stop)
		close(woke)
	}()
	if err := g.StoreLogs([]*raft.Log{{Index: 1, Term: 1}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return after the write")
	}

	// A write already finished returns at once; none bounds the wait by max.
	g.wait(mark, time.Minute, stop)
	start := time.Now()
	g.wait(g.mark(), 20*time.Millisecond, stop)
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("wait returned before max with no write")
	}

	// Closing stop releases a waiter.
	close(stop)
	g.wait(g.mark(), time.Minute, stop)
}
