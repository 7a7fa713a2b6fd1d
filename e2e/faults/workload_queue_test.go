package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	queueKey   = "queue"
	queueGroup = "g"
	// queueDead is the group's dead-letter stream (RS.SETDLQ) and
	// queueMaxDeliveries its limit.
	queueDead          = "queue:dead"
	queueMaxDeliveries = 3
	// poisonSuffix marks the values consumers never acknowledge.
	poisonSuffix = "-poison"
)

// queueWorkload: producers XADD unique values; consumers in one group
// XREADGROUP ">" and XACK, sometimes crashing (dropping the connection
// without acking); a reaper XAUTOCLAIMs entries idle > 300ms. One value
// in 13 is poison: nobody ever acknowledges it, so it is redelivered until
// the group's dead-letter setting moves it to queueDead.
type queueWorkload struct {
	producers, consumers int
	// noDeadLetters runs the workload without poison values or a
	// dead-letter setting, for the reference Redis, which has neither.
	noDeadLetters bool

	mu         sync.Mutex
	produced   map[string]op // value -> the XADD
	newDeliv   map[string]int
	deliveries map[string]int    // ID -> deliveries observed (new + claimed)
	delivVal   map[string]string // ID -> value as delivered
	acked      map[string]bool
	unknownOps int // reads/claims whose reply was lost: deliveries we did not see
	crashes    int
	claims     int
	anomalies  []string
}

func (q *queueWorkload) init() {
	q.produced, q.newDeliv, q.deliveries = map[string]op{}, map[string]int{}, map[string]int{}
	q.delivVal, q.acked = map[string]string{}, map[string]bool{}
}

func (q *queueWorkload) anomaly(format string, args ...any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.anomalies) < 50 {
		q.anomalies = append(q.anomalies, fmt.Sprintf(format, args...))
	}
}

// setup creates the group, retrying while the cluster elects a leader.
func (q *queueWorkload) setup(addr string) error {
	err := waitUntil(time.Minute, "XGROUP CREATE", func() bool {
		_, err := oneShot(addr, "XGROUP", "CREATE", queueKey, queueGroup, "0", "MKSTREAM")
		var re respErr
		return err == nil || (errors.As(err, &re) && len(re) >= 9 && string(re[:9]) == "BUSYGROUP")
	})
	if err != nil {
		return err
	}
	if q.noDeadLetters {
		return nil
	}
	return waitUntil(time.Minute, "RS.SETDLQ", func() bool {
		_, err := oneShot(addr, "RS.SETDLQ", queueKey, queueGroup,
			"MAXDELIVERIES", strconv.Itoa(queueMaxDeliveries), "DEADLETTER", queueDead)
		return err == nil
	})
}

// acceptable returns the entries a consumer processes successfully: all
// but the poison ones.
func acceptable(es []entry) []entry {
	out := make([]entry, 0, len(es))
	for _, e := range es {
		if !strings.HasSuffix(e.val, poisonSuffix) {
			out = append(out, e)
		}
	}
	return out
}

func (q *queueWorkload) run(ctx context.Context, seed uint64, addrs func() []string) {
	var wg sync.WaitGroup
	pick := func(rng *rand.Rand) string { as := addrs(); return as[rng.IntN(len(as))] }
	for i := 0; i < q.producers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 100+uint64(i)))
			var p pool
			defer p.close()
			for seq := 0; ctx.Err() == nil; seq++ {
				val := fmt.Sprintf("p%d-%d", i, seq)
				if seq%13 == 0 && !q.noDeadLetters {
					val += poisonSuffix
				}
				v, err := p.do(pick(rng), opTimeout, "XADD", queueKey, "*", "v", val)
				o := op{Kind: "add", Key: queueKey, Value: val, Out: classify(err)}
				if id, ok := v.(string); ok && err == nil {
					o.ID = id
				}
				q.mu.Lock()
				q.produced[val] = o
				q.mu.Unlock()
			}
		}(i)
	}
	for i := 0; i < q.consumers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 200+uint64(i)))
			var p pool
			defer p.close()
			idle := time.NewTicker(20 * time.Millisecond)
			defer idle.Stop()
			for ctx.Err() == nil {
				addr := pick(rng)
				n := q.readNew(&p, addr, fmt.Sprintf("c%d", i), rng.IntN(10) == 0, rng.IntN(2) == 0)
				if n == 0 {
					select {
					case <-idle.C:
					case <-ctx.Done():
					}
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, 300))
		var p pool
		defer p.close()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			q.claim(&p, pick(rng), "300")
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
	}()
	wg.Wait()
}

// readNew reads new entries as consumer and acks them unless crash, in
// which case it drops the connection instead. It returns how many it read.
func (q *queueWorkload) readNew(p *pool, addr, consumer string, crash, block bool) int {
	args := []string{"XREADGROUP", "GROUP", queueGroup, consumer, "COUNT", "10"}
	if block {
		args = append(args, "BLOCK", "100")
	}
	v, err := p.do(addr, opTimeout, append(args, "STREAMS", queueKey, ">")...)
	if classify(err) == outUnknown {
		q.mu.Lock()
		q.unknownOps++
		q.mu.Unlock()
	}
	if err != nil || v == nil {
		return 0
	}
	streams, _ := v.([]any)
	if len(streams) != 1 {
		q.anomaly("XREADGROUP reply with %d streams: %#v", len(streams), v)
		return 0
	}
	kv, _ := streams[0].([]any)
	if len(kv) != 2 {
		q.anomaly("XREADGROUP stream reply %#v", streams[0])
		return 0
	}
	es, ok := parseEntries(kv[1])
	if !ok {
		q.anomaly("XREADGROUP entries %#v", kv[1])
		return 0
	}
	q.delivered(es, true)
	if crash {
		p.drop(addr)
		q.mu.Lock()
		q.crashes++
		q.mu.Unlock()
		return len(es)
	}
	q.ack(p, addr, acceptable(es))
	return len(es)
}

func (q *queueWorkload) delivered(es []entry, isNew bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range es {
		if isNew {
			q.newDeliv[e.id]++
			if q.newDeliv[e.id] == 2 {
				q.anomalies = append(q.anomalies, fmt.Sprintf("entry %s (%s) delivered as new (>) twice", e.id, e.val))
			}
		} else {
			q.claims++
		}
		q.deliveries[e.id]++
		if q.deliveries[e.id] == queueMaxDeliveries+1 && !q.noDeadLetters {
			q.anomalies = append(q.anomalies, fmt.Sprintf("entry %s (%s) delivered more than MAXDELIVERIES %d times", e.id, e.val, queueMaxDeliveries))
		}
		if old, ok := q.delivVal[e.id]; ok && old != e.val {
			q.anomalies = append(q.anomalies, fmt.Sprintf("entry %s delivered as %s and as %s", e.id, old, e.val))
		}
		q.delivVal[e.id] = e.val
	}
}

func (q *queueWorkload) ack(p *pool, addr string, es []entry) {
	if len(es) == 0 {
		return
	}
	args := []string{"XACK", queueKey, queueGroup}
	for _, e := range es {
		args = append(args, e.id)
	}
	v, err := p.do(addr, opTimeout, args...)
	if n, ok := v.(int64); ok && err == nil {
		q.mu.Lock()
		for _, e := range es {
			q.acked[e.id] = true
		}
		q.mu.Unlock()
		_ = n // fewer than len(es) is legal: a reaper may have claimed and acked some
	}
}

// claim runs one XAUTOCLAIM sweep (cursor to 0-0) and acks what it got;
// it returns how many entries were claimed.
func (q *queueWorkload) claim(p *pool, addr, minIdle string) int {
	total := 0
	cursor := "0-0"
	for i := 0; i < 100; i++ {
		v, err := p.do(addr, opTimeout, "XAUTOCLAIM", queueKey, queueGroup, "reaper", minIdle, cursor, "COUNT", "50")
		if classify(err) == outUnknown {
			q.mu.Lock()
			q.unknownOps++
			q.mu.Unlock()
		}
		if err != nil {
			return total
		}
		arr, _ := v.([]any)
		if len(arr) != 3 {
			q.anomaly("XAUTOCLAIM reply %#v", v)
			return total
		}
		es, ok := parseEntries(arr[1])
		if !ok {
			q.anomaly("XAUTOCLAIM entries %#v", arr[1])
			return total
		}
		if del, _ := arr[2].([]any); len(del) > 0 {
			q.anomaly("XAUTOCLAIM reports deleted entries %v (nothing deletes)", del)
		}
		q.delivered(es, false)
		q.ack(p, addr, acceptable(es))
		total += len(es)
		cursor, _ = arr[0].(string)
		if cursor == "0-0" {
			return total
		}
	}
	return total
}

// pendingCounts returns ID -> delivery count from XPENDING (extended).
func pendingCounts(addr string) (map[string]int64, error) {
	v, err := oneShot(addr, "XPENDING", queueKey, queueGroup, "-", "+", "1000000")
	if err != nil {
		return nil, fmt.Errorf("XPENDING: %w", err)
	}
	out := map[string]int64{}
	arr, _ := v.([]any)
	for _, e := range arr {
		f, _ := e.([]any)
		if len(f) != 4 {
			return nil, fmt.Errorf("XPENDING entry %#v", e)
		}
		id, _ := f[0].(string)
		n, _ := f[3].(int64)
		out[id] = n
	}
	return out, nil
}

// queueVerdict summarises a queue run.
type queueVerdict struct {
	Produced, ProducedOK, Delivered, NewDeliveries, Claims, Crashes, Acked, UnknownOps int
	// DeadLettered is the dead-letter stream's length, DeadPoison how many
	// of its entries are poison (the others had their acks lost).
	DeadLettered, DeadPoison int
	Anomalies                []string
}

// deadLetters reads the dead-letter stream: original ID -> value, each
// checked for the fields RS.SETDLQ documents.
func (q *queueWorkload) deadLetters(addr string) map[string]string {
	v, err := oneShot(addr, "XRANGE", queueDead, "-", "+")
	if err != nil {
		q.anomaly("XRANGE %s: %v", queueDead, err)
		return nil
	}
	out := map[string]string{}
	arr, _ := v.([]any)
	for _, e := range arr {
		pair, _ := e.([]any)
		if len(pair) != 2 {
			q.anomaly("dead-letter entry %#v", e)
			continue
		}
		raw, _ := pair[1].([]any)
		f := map[string]string{}
		for i := 0; i+1 < len(raw); i += 2 {
			k, _ := raw[i].(string)
			val, _ := raw[i+1].(string)
			f[k] = val
		}
		id := f["dlq-id"]
		if _, dup := out[id]; dup || id == "" {
			q.anomaly("dead-letter entry %v: missing or repeated ID", f)
		}
		if f["dlq-stream"] != queueKey || f["dlq-group"] != queueGroup || f["dlq-deliveries"] != strconv.Itoa(queueMaxDeliveries) {
			q.anomaly("dead-letter entry %v: wrong origin or delivery count", f)
		}
		out[id] = f["v"]
	}
	return out
}

// check drains the group through addr (the cluster has healed) and checks
// the at-least-once properties.
func (q *queueWorkload) check(addr string) queueVerdict {
	// Delivery counts before the drain: the server counted at least every
	// delivery we saw of a pending entry, and at most those plus one per
	// read whose reply we lost.
	if pend, err := pendingCounts(addr); err != nil {
		q.anomaly("%v", err)
	} else {
		q.mu.Lock()
		for _, id := range sortedKeys(pend) {
			n := pend[id]
			if seen := int64(q.deliveries[id]); n < seen || n > seen+int64(q.unknownOps) {
				q.anomalies = append(q.anomalies, fmt.Sprintf("entry %s: XPENDING delivery count %d, observed %d deliveries (+%d lost replies)", id, n, seen, q.unknownOps))
			}
		}
		q.mu.Unlock()
	}
	var p pool
	defer p.close()
	for quiet := 0; quiet < 3; {
		n := q.readNew(&p, addr, "drain", false, false) + q.claim(&p, addr, "0")
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	if v, err := oneShot(addr, "XPENDING", queueKey, queueGroup); err != nil {
		q.anomaly("XPENDING summary: %v", err)
	} else if arr, _ := v.([]any); len(arr) == 0 || arr[0] != int64(0) {
		q.anomaly("entries still pending after the drain: %#v", v)
	}
	dead := map[string]string{}
	if !q.noDeadLetters {
		dead = q.deadLetters(addr)
	}
	v, err := oneShot(addr, "XRANGE", queueKey, "-", "+")
	all, ok := parseEntries(v)
	if err != nil || !ok {
		q.anomaly("final XRANGE: %v %#v", err, v)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	inStream := map[string]string{} // value -> ID
	for _, e := range all {
		if _, dup := inStream[e.val]; dup {
			q.anomalies = append(q.anomalies, fmt.Sprintf("value %s is in the stream twice", e.val))
		}
		inStream[e.val] = e.id
		o, ok := q.produced[e.val]
		switch {
		case !ok:
			q.anomalies = append(q.anomalies, fmt.Sprintf("value %s (%s) in the stream was never added", e.val, e.id))
		case o.Out == outFail:
			q.anomalies = append(q.anomalies, fmt.Sprintf("value %s (%s) in the stream but its XADD failed", e.val, e.id))
		case o.Out == outOK && o.ID != e.id:
			q.anomalies = append(q.anomalies, fmt.Sprintf("value %s: XADD returned %s, stream has %s", e.val, o.ID, e.id))
		}
		deadVal, isDead := dead[e.id]
		switch {
		case isDead && deadVal != e.val:
			q.anomalies = append(q.anomalies, fmt.Sprintf("entry %s is %s, its dead letter %s", e.id, e.val, deadVal))
		case !isDead && strings.HasSuffix(e.val, poisonSuffix):
			q.anomalies = append(q.anomalies, fmt.Sprintf("poison entry %s (%s) not in the dead-letter stream", e.id, e.val))
		}
		// A dead-lettered entry may have had all its deliveries' replies
		// lost; any other entry must have been seen.
		if q.deliveries[e.id] == 0 && !isDead {
			q.anomalies = append(q.anomalies, fmt.Sprintf("entry %s (%s) never delivered", e.id, e.val))
		} else if q.delivVal[e.id] != e.val {
			q.anomalies = append(q.anomalies, fmt.Sprintf("entry %s delivered as %s, stream has %s", e.id, q.delivVal[e.id], e.val))
		}
	}
	deadPoison := 0
	for id, val := range dead {
		if strings.HasSuffix(val, poisonSuffix) {
			deadPoison++
		}
		if inStream[val] != id {
			q.anomalies = append(q.anomalies, fmt.Sprintf("dead letter %s (%s) is not that entry of the stream", id, val))
		}
	}
	okCount := 0
	for _, val := range sortedKeys(q.produced) {
		if q.produced[val].Out != outOK {
			continue
		}
		okCount++
		if _, ok := inStream[val]; !ok {
			q.anomalies = append(q.anomalies, fmt.Sprintf("acknowledged XADD %s (%s) lost from the stream", val, q.produced[val].ID))
		}
	}
	for id := range q.delivVal {
		if _, ok := inStream[q.delivVal[id]]; !ok {
			q.anomalies = append(q.anomalies, fmt.Sprintf("delivered entry %s (%s) is not in the stream", id, q.delivVal[id]))
		}
	}
	if len(q.anomalies) > 50 {
		q.anomalies = q.anomalies[:50]
	}
	sort.Strings(q.anomalies)
	return queueVerdict{
		Produced: len(q.produced), ProducedOK: okCount, Delivered: len(q.delivVal), NewDeliveries: len(q.newDeliv),
		Claims: q.claims, Crashes: q.crashes, Acked: len(q.acked), UnknownOps: q.unknownOps,
		DeadLettered: len(dead), DeadPoison: deadPoison, Anomalies: q.anomalies,
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return lessNatural(ks[i], ks[j]) })
	return ks
}

// lessNatural orders stream IDs numerically and other strings bytewise.
func lessNatural(a, b string) bool {
	ia, ea := parseID(a)
	ib, eb := parseID(b)
	if ea == nil && eb == nil {
		return ia.less(ib)
	}
	return a < b
}
