package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// opTimeout bounds one client operation; longer than --leader-wait so a
// failover shows up as TRYAGAIN or an unknown outcome, not a client timeout.
const opTimeout = 5 * time.Second

// logWorkload: clients XADD unique values and XRANGE - + through random
// nodes, recording every operation.
type logWorkload struct {
	clients int
	keys    int
	hist    *history
}

func (w *logWorkload) key(i int) string { return fmt.Sprintf("log:%d", i) }

// keyNames lists every key the workload writes.
func (w *logWorkload) keyNames() []string {
	out := make([]string, w.keys)
	for i := range out {
		out[i] = w.key(i)
	}
	return out
}

// run drives the clients until ctx ends; it returns when all have stopped.
func (w *logWorkload) run(ctx context.Context, seed uint64, addrs func() []string) {
	var wg sync.WaitGroup
	for c := 0; c < w.clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)+1))
			var p pool
			defer p.close()
			for seq := 0; ctx.Err() == nil; seq++ {
				as := addrs()
				addr := as[rng.IntN(len(as))]
				key := w.key(rng.IntN(w.keys))
				if rng.IntN(10) < 6 {
					w.doAdd(&p, c, addr, key, fmt.Sprintf("c%d-%d", c, seq))
				} else {
					w.doRead(&p, c, addr, key)
				}
			}
		}(c)
	}
	wg.Wait()
}

func (w *logWorkload) doAdd(p *pool, c int, addr, key, val string) {
	o := op{Client: c, Node: addr, Kind: "add", Key: key, Value: val, Call: w.hist.now()}
	v, err := p.do(addr, opTimeout, "XADD", key, "*", "v", val)
	o.Return = w.hist.now()
	o.Out = classify(err)
	if err != nil {
		o.Err = err.Error()
	} else if id, ok := v.(string); ok {
		o.ID = id
	} else {
		o.Out, o.Err = outUnknown, fmt.Sprintf("unexpected XADD reply %#v", v)
	}
	w.hist.add(o)
}

// doRead records a successful read; failed reads have no effect and are
// left out of the history.
func (w *logWorkload) doRead(p *pool, c int, addr, key string) bool {
	o := op{Client: c, Node: addr, Kind: "read", Key: key, Call: w.hist.now()}
	v, err := p.do(addr, opTimeout, "XRANGE", key, "-", "+")
	o.Return = w.hist.now()
	if err != nil {
		return false
	}
	entries, ok := parseEntries(v)
	if !ok {
		w.hist.add(op{Client: c, Node: addr, Kind: "read", Key: key, Call: o.Call, Return: o.Return, Vals: []string{fmt.Sprintf("<unparsable %#v>", v)}, IDs: []string{"?"}})
		return true
	}
	for _, e := range entries {
		o.IDs, o.Vals = append(o.IDs, e.id), append(o.Vals, e.val)
	}
	w.hist.add(o)
	return true
}

type entry struct{ id, val string }

// parseEntries parses an XRANGE reply of single-field entries.
func parseEntries(v any) ([]entry, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, v == nil
	}
	out := make([]entry, 0, len(arr))
	for _, e := range arr {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return nil, false
		}
		id, _ := pair[0].(string)
		fv, _ := pair[1].([]any)
		if len(fv) != 2 {
			return nil, false
		}
		val, _ := fv[1].(string)
		out = append(out, entry{id, val})
	}
	return out, true
}

// finalReads reads every key through every node once the cluster has
// healed, so lost writes show up even if no client read after them.
func (w *logWorkload) finalReads(addrs []string) {
	var p pool
	defer p.close()
	for _, a := range addrs {
		for k := 0; k < w.keys; k++ {
			for try := 0; try < 20 && !w.doRead(&p, w.clients, a, w.key(k)); try++ {
				time.Sleep(100 * time.Millisecond) // retry pacing against a settling cluster, not synchronisation
			}
		}
	}
}
