package cluster

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

// writers runs client goroutines appending unique values to their own
// streams on every node, recording which writes were acknowledged, so a
// test can check that no acknowledged write is lost or applied twice
// whatever happened to the cluster meanwhile.
type writers struct {
	stopCh chan struct{}
	wg     sync.WaitGroup
	n      atomic.Int64

	mu      sync.Mutex
	acked   map[string][]string // key -> acknowledged values, in order
	unknown map[string]int
	bad     []error
}

func startWriters(nodes []*Node, perNode int) *writers {
	w := &writers{stopCh: make(chan struct{}), acked: map[string][]string{}, unknown: map[string]int{}}
	for _, n := range nodes {
		for i := 0; i < perNode; i++ {
			key := fmt.Sprintf("w-%s-%d", n.cfg.NodeID, i)
			w.wg.Add(1)
			go w.run(n, key)
		}
	}
	return w
}

func (w *writers) run(n *Node, key string) {
	defer w.wg.Done()
	for i := 0; ; i++ {
		select {
		case <-w.stopCh:
			return
		default:
		}
		v := strconv.Itoa(i)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		reply, err := n.Propose(fsm.Command{Proto: 2, Argv: args("XADD", key, "*", "v", v)}).Wait(ctx)
		cancel()
		w.mu.Lock()
		switch {
		case err == nil && reply.Outcome == fsm.OutcomeValue:
			w.acked[key] = append(w.acked[key], v)
			w.n.Add(1)
		case err == nil:
			w.bad = append(w.bad, fmt.Errorf("%s: reply %q", key, reply.RESP))
		case errors.Is(err, ErrUnknownOutcome):
			w.unknown[key]++
		case errors.Is(err, ErrClosed):
			w.mu.Unlock()
			return // our node is gone
		case errors.Is(err, ErrNotLeader):
			// Not applied: fine, go on.
		default:
			w.bad = append(w.bad, fmt.Errorf("%s: %w", key, err))
		}
		w.mu.Unlock()
	}
}

func (w *writers) ackedCount() int64 { return w.n.Load() }

func (w *writers) waitAcked(t *testing.T, n int64) {
	t.Helper()
	waitFor(t, 20*time.Second, fmt.Sprintf("%d acknowledged writes", n), func() bool { return w.ackedCount() >= n })
}

func (w *writers) stop() {
	close(w.stopCh)
	w.wg.Wait()
}

var valueRE = regexp.MustCompile("\\$1\r\nv\r\n\\$\\d+\r\n(\\d+)\r\n")

// check reads every stream on n (which has converged) and verifies that
// each acknowledged value is there, in order, and no value twice.
func (w *writers) check(t *testing.T, n *Node) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, err := range w.bad {
		t.Errorf("unexpected write result: %v", err)
	}
	total, unknown := 0, 0
	for _, u := range w.unknown {
		unknown += u
	}
	for key, acked := range w.acked {
		var got []string
		for _, m := range valueRE.FindAllStringSubmatch(read(n, 0, "XRANGE", key, "-", "+"), -1) {
			got = append(got, m[1])
		}
		seen := map[string]bool{}
		for _, v := range got {
			if seen[v] {
				t.Errorf("%s: value %s applied twice", key, v)
			}
			seen[v] = true
		}
		// Acknowledged values appear in the order they were written.
		j := 0
		for _, v := range got {
			if j < len(acked) && v == acked[j] {
				j++
			}
		}
		if j != len(acked) {
			t.Errorf("%s: acknowledged value %s missing or out of order (have %d entries, %d acknowledged, %d unknown)", key, acked[j], len(got), len(acked), w.unknown[key])
		}
		if extra := len(got) - len(acked); extra > w.unknown[key] {
			t.Errorf("%s: %d entries beyond the acknowledged ones, only %d writes had an unknown outcome", key, extra, w.unknown[key])
		}
		total += len(acked)
	}
	t.Logf("checked %d acknowledged writes in %d streams (%d writes with an unknown outcome)", total, len(w.acked), unknown)
}
