package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

// opKind is one benchmarked command.
type opKind string

const (
	opXAdd       opKind = "xadd"
	opXRange     opKind = "xrange"
	opXRevRange  opKind = "xrevrange"
	opXLen       opKind = "xlen"
	opXRead      opKind = "xread"
	opXReadGroup opKind = "xreadgroup"
)

var knownOps = []opKind{opXAdd, opXRange, opXRevRange, opXLen, opXRead, opXReadGroup, opXAddWait}

// mixEntry is a command and its share of the clients.
type mixEntry struct {
	op     opKind
	weight int
}

// parseMix parses "xadd" or "xadd=8,xreadgroup=4".
func parseMix(s string) ([]mixEntry, error) {
	var mix []mixEntry
	for _, part := range strings.Split(s, ",") {
		name, w, hasW := strings.Cut(strings.TrimSpace(part), "=")
		weight := 1
		if hasW {
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("mix %q: weight %q must be a positive integer", s, w)
			}
			weight = n
		}
		op := opKind(strings.ToLower(name))
		known := false
		for _, k := range knownOps {
			known = known || k == op
		}
		if !known {
			return nil, fmt.Errorf("mix %q: unknown command %q (known: %v)", s, name, knownOps)
		}
		mix = append(mix, mixEntry{op, weight})
	}
	return mix, nil
}

// roles assigns each client a command in proportion to the weights:
// "xadd=8,xreadgroup=4" with 12 clients gives 8 producers and 4 consumers.
func roles(mix []mixEntry, clients int) []opKind {
	var cycle []opKind
	for _, m := range mix {
		for i := 0; i < m.weight; i++ {
			cycle = append(cycle, m.op)
		}
	}
	out := make([]opKind, clients)
	for i := range out {
		out[i] = cycle[i%len(cycle)]
	}
	return out
}

// loadConfig is one workload.
type loadConfig struct {
	addr      string
	proto     int
	clients   int
	pipeline  int
	duration  time.Duration
	requests  int64
	mix       []mixEntry
	valueSize int
	keys      int
	prefix    string
	timeout   time.Duration
	cleanup   bool
	// waitReplicas is the numreplicas of the xaddwait mix's WAIT.
	waitReplicas int
	// clientName, if set, is sent with CLIENT SETNAME on every
	// connection, and XADD values are made unique (worker.uniqueValue).
	clientName string
}

// result is the outcome of one run.
type result struct {
	ops      int64
	consumed int64 // entries read and acknowledged by xreadgroup clients
	elapsed  time.Duration
	errors   int64
	firstErr string
	lat      hist
}

func (r *result) opsPerSec() float64 { return float64(r.ops) / r.elapsed.Seconds() }

// runLoad runs one workload on fresh keys and deletes them afterwards.
func runLoad(ctx context.Context, cfg loadConfig, run int) (*result, error) {
	keys := make([]string, cfg.keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s:%d:%d:%d", cfg.prefix, time.Now().UnixNano(), run, i)
	}
	rl := roles(cfg.mix, cfg.clients)
	if err := prepare(ctx, cfg, keys, rl); err != nil {
		return nil, err
	}
	if cfg.cleanup {
		defer deleteKeys(cfg, keys)
	}

	conns := make([]*respclient.Conn, cfg.clients)
	for i := range conns {
		c, err := dial(ctx, cfg.addr, cfg.proto, cfg.timeout)
		if err != nil {
			for _, o := range conns[:i] {
				o.Close()
			}
			return nil, err
		}
		conns[i] = c
		if cfg.clientName != "" {
			v, err := c.Do("CLIENT", "SETNAME", cfg.clientName)
			if err == nil && v.IsError() {
				err = errors.New(v.Str)
			}
			if err != nil {
				for _, o := range conns[:i+1] {
					o.Close()
				}
				return nil, fmt.Errorf("CLIENT SETNAME: %w", err)
			}
		}
	}

	var budget atomic.Int64
	budget.Store(cfg.requests)
	res := &result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(cfg.duration)
	value := []byte(strings.Repeat("x", cfg.valueSize))
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			w := &worker{cfg: cfg, c: c, id: i, op: rl[i], key: keys[i%len(keys)], value: value}
			w.loop(ctx, deadline, &budget)
			mu.Lock()
			defer mu.Unlock()
			res.ops += w.ops
			res.consumed += w.consumed
			res.errors += w.errors
			if res.firstErr == "" {
				res.firstErr = w.firstErr
			}
			res.lat.Merge(&w.lat)
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if res.ops == 0 && res.firstErr != "" {
		return res, fmt.Errorf("no command succeeded: %s", res.firstErr)
	}
	return res, nil
}

// prepare creates consumer groups for xreadgroup clients and gives read
// clients something to read.
func prepare(ctx context.Context, cfg loadConfig, keys []string, rl []opKind) error {
	needGroup, needData := false, false
	for _, op := range rl {
		needGroup = needGroup || op == opXReadGroup
		needData = needData || op == opXRange || op == opXRevRange || op == opXRead
	}
	if !needGroup && !needData {
		return nil
	}
	c, err := dial(ctx, cfg.addr, 2, cfg.timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, k := range keys {
		if needGroup {
			v, err := c.Do("XGROUP", "CREATE", k, "g", "0", "MKSTREAM")
			if err != nil {
				return fmt.Errorf("XGROUP CREATE: %w", err)
			}
			if v.IsError() && !strings.HasPrefix(v.Str, "BUSYGROUP") {
				return fmt.Errorf("XGROUP CREATE %s: %s", k, v.Str)
			}
		}
		if needData {
			for i := 0; i < 100; i++ {
				c.AppendStrings("XADD", k, "*", "f", strings.Repeat("x", cfg.valueSize))
			}
			if err := c.Flush(); err != nil {
				return err
			}
			for i := 0; i < 100; i++ {
				if e, err := c.Skip(); err != nil || e != "" {
					return fmt.Errorf("seeding %s: %v %s", k, err, e)
				}
			}
		}
	}
	return nil
}

func deleteKeys(cfg loadConfig, keys []string) {
	c, err := dial(context.Background(), cfg.addr, 2, time.Minute)
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.Do(append([]string{"DEL"}, keys...)...)
}

// worker is one closed-loop client.
type worker struct {
	cfg   loadConfig
	c     *respclient.Conn
	id    int
	op    opKind
	key   string
	value []byte

	ops, consumed, errors int64
	firstErr              string
	lat                   hist
	// seq numbers this worker's XADDs for uniqueValue.
	seq int64
}

// uniqueValue returns the next XADD value of a run with -client-name: the
// worker's ID and a sequence number, padded with 'x' to the value size,
// so that no two XADDs of a run have the same arguments and automatic
// idempotency deduplicates none of them.
func (w *worker) uniqueValue() []byte {
	w.seq++
	v := strconv.AppendInt(append(strconv.AppendInt(make([]byte, 0, len(w.value)+24), int64(w.id), 10), '-'), w.seq, 10)
	for len(v) < len(w.value) {
		v = append(v, 'x')
	}
	return v
}

func (w *worker) loop(ctx context.Context, deadline time.Time, budget *atomic.Int64) {
	batch := w.cfg.pipeline
	if w.op == opXReadGroup {
		batch = 1 // each read depends on the previous acknowledgement
	}
	for ctx.Err() == nil && time.Now().Before(deadline) {
		n := batch
		if w.cfg.requests > 0 {
			left := budget.Add(-int64(n))
			if left < 0 {
				n += int(left)
				if n <= 0 {
					return
				}
			}
		}
		t0 := time.Now()
		var err error
		switch w.op {
		case opXReadGroup:
			err = w.readGroup()
		case opXAddWait:
			err = w.batchWait(n)
		default:
			err = w.batch(n)
		}
		if err != nil {
			w.fail(err.Error())
			return
		}
		w.lat.Record(time.Since(t0), n)
		w.ops += int64(n)
	}
}

func (w *worker) fail(msg string) {
	w.errors++
	if w.firstErr == "" {
		w.firstErr = msg
	}
}

var (
	bXAdd      = []byte("XADD")
	bXRange    = []byte("XRANGE")
	bXRevRange = []byte("XREVRANGE")
	bXLen      = []byte("XLEN")
	bXRead     = []byte("XREAD")
	bStar      = []byte("*")
	bField     = []byte("f")
	bMinus     = []byte("-")
	bPlus      = []byte("+")
	bCount     = []byte("COUNT")
	bTen       = []byte("10")
	bStreams   = []byte("STREAMS")
	bZero      = []byte("0-0")
)

// batch sends n commands in one write and reads n replies.
func (w *worker) batch(n int) error {
	key := []byte(w.key)
	for i := 0; i < n; i++ {
		switch w.op {
		case opXAdd:
			value := w.value
			if w.cfg.clientName != "" {
				value = w.uniqueValue()
			}
			w.c.Append(bXAdd, key, bStar, bField, value)
		case opXRange:
			w.c.Append(bXRange, key, bMinus, bPlus, bCount, bTen)
		case opXRevRange:
			w.c.Append(bXRevRange, key, bPlus, bMinus, bCount, bTen)
		case opXLen:
			w.c.Append(bXLen, key)
		case opXRead:
			w.c.Append(bXRead, bCount, bTen, bStreams, key, bZero)
		}
	}
	if err := w.c.Flush(); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		e, err := w.c.Skip()
		if err != nil {
			return err
		}
		if e != "" {
			w.fail(e)
		}
	}
	return nil
}

// readGroup reads up to 10 new entries as this client's consumer and
// acknowledges them.
func (w *worker) readGroup() error {
	v, err := w.c.Do("XREADGROUP", "GROUP", "g", "c"+strconv.Itoa(w.id), "COUNT", "10", "STREAMS", w.key, ">")
	if err != nil {
		return err
	}
	if v.IsError() {
		w.fail(v.Str)
		return nil
	}
	ids := entryIDs(v)
	if len(ids) == 0 {
		return nil
	}
	ack, err := w.c.Do(append([]string{"XACK", w.key, "g"}, ids...)...)
	if err != nil {
		return err
	}
	if ack.IsError() {
		w.fail(ack.Str)
		return nil
	}
	w.consumed += int64(len(ids))
	return nil
}

// entryIDs extracts entry IDs from an XREADGROUP reply in either protocol:
// RESP2 [[key, entries]], RESP3 {key: entries}.
func entryIDs(v respclient.Value) []string {
	var out []string
	var entries []respclient.Value
	switch {
	case v.Null:
		return nil
	case v.Kind == '%':
		for i := 1; i < len(v.Elems); i += 2 {
			entries = append(entries, v.Elems[i].Elems...)
		}
	default:
		for _, kv := range v.Elems {
			if len(kv.Elems) == 2 {
				entries = append(entries, kv.Elems[1].Elems...)
			}
		}
	}
	for _, e := range entries {
		if len(e.Elems) >= 1 {
			out = append(out, e.Elems[0].Str)
		}
	}
	return out
}
