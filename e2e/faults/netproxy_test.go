package faults

import (
	"context"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// linkMode is what a proxy does to the bytes of its link.
type linkMode int

const (
	linkPass      linkMode = iota
	linkBlackhole          // forward nothing: a partition
	linkDelay              // add latency to every chunk
	linkLoss               // stall or cut connections at random
)

// direction is one way of a proxied connection's bytes.
type direction int

const (
	bothWays direction = iota
	toTarget           // from the dialing node to the node it dialed
	toDialer           // the replies: from the dialed node back
)

func (m linkMode) String() string {
	return [...]string{"pass", "blackhole", "delay", "loss"}[m]
}

// linkState is a proxy's fault setting.
type linkState struct {
	mode linkMode
	// blackhole only: if set, only the bytes flowing in that direction
	// are held (a one-way partition); the connection itself still opens.
	only direction
	// delay: each chunk read is held for a uniform [lo, hi) before it is
	// written, per direction, in order.
	lo, hi time.Duration
	// loss: per chunk, the connection is cut with probability cutP, or
	// its direction stalls for stallLo..stallHi with probability stallP.
	// TCP cannot lose single packets without breaking the stream, so
	// "loss" at this level is silence and disconnection.
	cutP, stallP     float64
	stallLo, stallHi time.Duration
}

// proxy is one directed link: the connections node `from` opens to node
// `to`'s Raft port (Raft and forwarding RPC share it). Both directions of
// those connections' bytes pass through it, so a symmetric partition of
// two nodes blackholes the two proxies between them.
type proxy struct {
	from, to string
	ln       net.Listener
	ctx      context.Context // cancelled by close: ends upstream dials
	cancel   context.CancelFunc

	mu      sync.Mutex
	target  string // the Raft address of node to
	st      linkState
	rng     *rand.Rand
	changed chan struct{} // closed and replaced at every setState
	conns   map[*pconn]struct{}
	// stalled holds the connections alive while the link was blackholed:
	// their in-flight bytes are held back, and at heal they are either cut
	// or let through late.
	stalled map[*pconn]struct{}
	closed  bool
	stats   linkStats

	wg sync.WaitGroup
}

// linkStats counts what a proxy did, for the report.
type linkStats struct {
	Conns, Cut, Stalls int
}

// pconn is one proxied connection: down is the dialing node's side, up
// the target's.
type pconn struct {
	down net.Conn
	done chan struct{}

	mu     sync.Mutex
	up     net.Conn
	closed bool
}

func (c *pconn) setUp(up net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.up = up
	return true
}

func (c *pconn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	close(c.done)
	_ = c.down.Close()
	if c.up != nil {
		_ = c.up.Close()
	}
}

func newProxy(from, to string, seed uint64) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &proxy{
		from: from, to: to, ln: ln, ctx: ctx, cancel: cancel,
		rng:     rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		changed: make(chan struct{}),
		conns:   map[*pconn]struct{}{},
		stalled: map[*pconn]struct{}{},
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		pc := &pconn{down: c, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.conns[pc] = struct{}{}
		p.stats.Conns++
		if p.st.mode == linkBlackhole {
			// Accepted (a partition is silence, not a refusal) but held.
			p.stalled[pc] = struct{}{}
		}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.handle(pc)
	}
}

func (p *proxy) handle(pc *pconn) {
	defer p.wg.Done()
	defer func() {
		pc.close()
		p.mu.Lock()
		delete(p.conns, pc)
		delete(p.stalled, pc)
		p.mu.Unlock()
	}()
	if !p.waitOpen(pc, bothWays) {
		return
	}
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	var d net.Dialer
	dctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	up, err := d.DialContext(dctx, "tcp", target)
	cancel()
	if err != nil {
		return // target down: the dialer sees its connection end, as with a dead peer
	}
	if !pc.setUp(up) {
		_ = up.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.pump(pc, up, pc.down, toTarget)
	}()
	p.pump(pc, pc.down, up, toDialer)
	wg.Wait()
}

// chunk is bytes read from one side, to be written to the other at due.
type chunk struct {
	data []byte
	due  time.Time
}

// pump copies src to dst applying the link's state. The reader stamps
// each chunk with when it may be written; due times never decrease, so
// delay never reorders a stream. It returns once both halves have ended
// (and closes the connection on the way).
func (p *proxy) pump(pc *pconn, dst, src net.Conn, dir direction) {
	// A small queue: beyond it the reader stops reading, so a stalled
	// link pushes back on the sender as a silent network does.
	ch := make(chan chunk, 8)
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		defer pc.close()
		for c := range ch {
			if !waitTill(pc, c.due) || !p.waitOpen(pc, dir) {
				return
			}
			if _, err := dst.Write(c.data); err != nil {
				return
			}
		}
	}()
	var last time.Time
	for {
		buf := make([]byte, 32<<10)
		n, err := src.Read(buf)
		if n > 0 {
			hold, cut := p.onChunk()
			if cut {
				pc.close()
				break
			}
			due := time.Now().Add(hold)
			if due.Before(last) {
				due = last
			}
			last = due
			select {
			case ch <- chunk{buf[:n], due}:
			case <-pc.done: // the next Read fails
			}
		}
		if err != nil {
			break
		}
	}
	close(ch)
	<-wrote
}

// onChunk decides the fate of one chunk: how long to hold it, or whether
// to cut the connection.
func (p *proxy) onChunk() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch st := p.st; st.mode {
	case linkDelay:
		return between(p.rng, st.lo, st.hi), false
	case linkLoss:
		r := p.rng.Float64()
		if r < st.cutP {
			p.stats.Cut++
			return 0, true
		}
		if r < st.cutP+st.stallP {
			p.stats.Stalls++
			return between(p.rng, st.stallLo, st.stallHi), false
		}
	}
	return 0, false
}

func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

// waitTill waits until t or until the connection ends.
func waitTill(pc *pconn, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-pc.done:
		return false
	}
}

// waitOpen waits while the link is blackholed for bytes going dir
// (bothWays: a new connection, which a one-way partition lets open);
// false if the connection ended meanwhile (cut at heal, or the proxy
// closed).
func (p *proxy) waitOpen(pc *pconn, dir direction) bool {
	for {
		p.mu.Lock()
		st, changed := p.st, p.changed
		p.mu.Unlock()
		held := st.mode == linkBlackhole && (st.only == bothWays || st.only == dir)
		if !held {
			select {
			case <-pc.done:
				return false
			default:
				return true
			}
		}
		select {
		case <-changed:
		case <-pc.done:
			return false
		}
	}
}

// setState changes the link's behaviour. Leaving blackhole, the
// connections that lived through it are cut if cutStalled (as TCP
// timeouts would after a long partition) or else resume and deliver what
// they held (a short partition, healed before TCP gave up). Cutting
// happens before the mode changes, so no held byte leaks through.
func (p *proxy) setState(st linkState, cutStalled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	was := p.st.mode
	if st.mode == linkBlackhole && was != linkBlackhole {
		for c := range p.conns {
			p.stalled[c] = struct{}{}
		}
	}
	if was == linkBlackhole && st.mode != linkBlackhole {
		if cutStalled {
			for c := range p.stalled {
				c.close()
				p.stats.Cut++
			}
		}
		p.stalled = map[*pconn]struct{}{}
	}
	p.st = st
	close(p.changed)
	p.changed = make(chan struct{})
}

// close stops the proxy and waits for all its goroutines.
func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	conns := make([]*pconn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	p.cancel()
	_ = p.ln.Close()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
}

// network is the set of proxies between a cluster's founding nodes:
// node i dials node j's Raft port through links[{i, j}]. Clients talk to
// nodes directly, and joiners added later dial and are dialled directly.
type network struct {
	ids   []string
	links map[[2]string]*proxy

	mu    sync.Mutex
	state string // description of the current fault, "" when healed
}

// newNetwork opens a proxy for every ordered pair of ids; attach must
// point them at the nodes before those start. The proxies close with the
// test.
func newNetwork(t *testing.T, ids []string, seed uint64) *network {
	t.Helper()
	nw := &network{ids: ids, links: map[[2]string]*proxy{}}
	t.Cleanup(nw.close)
	for i, a := range ids {
		for j, b := range ids {
			if i == j {
				continue
			}
			p, err := newProxy(a, b, seed^uint64(i<<8|j))
			if err != nil {
				t.Fatal(err)
			}
			nw.links[[2]string{a, b}] = p
		}
	}
	return nw
}

// attach sets each proxy's target to its node's Raft address and each
// node's --dial-via to its outgoing proxies.
func (nw *network) attach(nodes []*node) {
	for _, a := range nodes {
		var via []string
		for _, b := range nodes {
			if p := nw.links[[2]string{a.id, b.id}]; p != nil {
				p.mu.Lock()
				p.target = b.raftAddr
				p.mu.Unlock()
				via = append(via, b.raftAddr+"="+p.addr())
			}
		}
		a.dialVia = strings.Join(via, ",")
	}
}

func (nw *network) close() {
	for _, p := range nw.links {
		p.close()
	}
}

// partition blackholes both directions of every pair; the other links
// keep their state.
func (nw *network) partition(desc string, pairs [][2]string) {
	cut := map[[2]string]bool{}
	for _, pr := range pairs {
		cut[pr] = true
		cut[[2]string{pr[1], pr[0]}] = true
	}
	for k, p := range nw.links {
		if cut[k] {
			p.setState(linkState{mode: linkBlackhole}, false)
		}
	}
	nw.mu.Lock()
	nw.state = desc
	nw.mu.Unlock()
}

// deafen blackholes every byte sent to node id by the others, on the
// links it dialed (their replies) and on those they dialed (their
// requests); what id sends still arrives: a one-way partition.
func (nw *network) deafen(desc, id string) {
	for k, p := range nw.links {
		switch {
		case k[0] == id:
			p.setState(linkState{mode: linkBlackhole, only: toDialer}, false)
		case k[1] == id:
			p.setState(linkState{mode: linkBlackhole, only: toTarget}, false)
		}
	}
	nw.mu.Lock()
	nw.state = desc
	nw.mu.Unlock()
}

// setAll puts every link in st.
func (nw *network) setAll(desc string, st linkState) {
	for _, p := range nw.links {
		p.setState(st, false)
	}
	nw.mu.Lock()
	nw.state = desc
	nw.mu.Unlock()
}

// heal returns every link to pass; connections held by a partition are
// cut if cut, else delivered late.
func (nw *network) heal(cut bool) {
	for _, p := range nw.links {
		p.setState(linkState{}, cut)
	}
	nw.mu.Lock()
	nw.state = ""
	nw.mu.Unlock()
}

// stats sums the links' counters.
func (nw *network) stats() linkStats {
	var s linkStats
	for _, p := range nw.links {
		p.mu.Lock()
		s.Conns += p.stats.Conns
		s.Cut += p.stats.Cut
		s.Stalls += p.stats.Stalls
		p.mu.Unlock()
	}
	return s
}

// across lists the pairs with one node in a and one in b.
func across(a, b []string) [][2]string {
	var out [][2]string
	for _, x := range a {
		for _, y := range b {
			out = append(out, [2]string{x, y})
		}
	}
	return out
}

func groupString(gs ...[]string) string {
	var parts []string
	for _, g := range gs {
		s := append([]string(nil), g...)
		sort.Strings(s)
		parts = append(parts, "{"+strings.Join(s, ",")+"}")
	}
	return strings.Join(parts, " | ")
}

// String describes the network for test logs.
func (nw *network) String() string {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if nw.state == "" {
		return "healed"
	}
	return nw.state
}
