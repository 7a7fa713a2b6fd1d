package cluster

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// A follower that rejects appends now and then (its log store fails, so
// it answers Success=false) must still be replicated to afterwards, and
// the leader must still shut down. Upstream hashicorp/raft could park
// the leader's pipelined send for good after such a rejection
// (hashicorp/raft#612; third_party/raft/README.md): the follower then
// never caught up and Close hung.
func TestReplicationAfterRejectedAppends(t *testing.T) {
	failing := map[string]*atomic.Bool{}
	nodes, _ := startClusterConfigs(t, 3, func(c *Config) {
		f := new(atomic.Bool)
		failing[c.NodeID] = f
		c.beforeStore = func([]*raft.Log) error {
			if f.Load() {
				return errors.New("injected store failure")
			}
			return nil
		}
	})
	leader := waitLeader(t, nodes...)
	follower := others(nodes, leader)[0]
	fail := failing[follower.cfg.NodeID]

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
				_, _ = leader.Propose(xadd("p", w*1_000_000+i)).Wait(wctx)
				wcancel()
			}
		}(w)
	}
	for i := 0; i < 40; i++ {
		fail.Store(true)
		time.Sleep(5 * time.Millisecond) // a window of rejections, not a wait for an outcome
		fail.Store(false)
		time.Sleep(15 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	write(t, leader, xadd("after", 0))
	want := leader.FSM().AppliedIndex()
	waitFor(t, 20*time.Second, "the follower that rejected appends to catch up", func() bool {
		return follower.FSM().AppliedIndex() >= want
	})
	closed := make(chan error, 1)
	go func() { closed <- leader.Close() }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the leader did not close")
	}
}
