package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Connection kinds on the Raft port: a dialer names one of these in its
// handshake (auth.go), and the Mux hands the connection to the matching
// sub-listener.
const (
	// MuxRaft carries hashicorp/raft's RPCs.
	MuxRaft byte = 1
	// MuxForward carries the cluster RPC: forwarded writes, read indexes,
	// membership requests and status (rpc_*.go).
	MuxForward byte = 2
)

// Defaults of MuxLimits.
const (
	DefaultRaftMaxConns         = 1024
	DefaultRaftHandshakeTimeout = 3 * time.Second
)

// MuxLimits bound what connections to the Raft port may hold, so that a
// flood of connections (idle or not) cannot exhaust file descriptors or
// goroutines, nor keep the node's peers out.
type MuxLimits struct {
	// MaxConns caps the connections open on the port, authenticated or
	// still in their handshake. At the cap, a new connection replaces the
	// oldest one still in its handshake, or is closed at once if all are
	// authenticated. At most a quarter of the cap may be in their
	// handshake: beyond that, too, the oldest makes room. A peer's
	// handshake takes a round trip, so peers get through a flood unless
	// it opens a quarter of the cap in connections per round trip.
	// Zero means DefaultRaftMaxConns.
	MaxConns int
	// HandshakeTimeout bounds how long an accepted connection may take to
	// authenticate and name its kind. Zero means
	// DefaultRaftHandshakeTimeout.
	HandshakeTimeout time.Duration
}

func (l MuxLimits) withDefaults() MuxLimits {
	if l.MaxConns <= 0 {
		l.MaxConns = DefaultRaftMaxConns
	}
	if l.HandshakeTimeout <= 0 {
		l.HandshakeTimeout = DefaultRaftHandshakeTimeout
	}
	return l
}

// errMuxClosed is returned by Accept once the mux or sub-listener closed.
var errMuxClosed = errors.New("cluster: listener closed")

// Mux shares one TCP listener between several protocols, told apart by
// the first byte of each connection (as rqlite, Consul and Nomad do).
// One port per node keeps the address the Raft configuration stores usable
// for every node-to-node protocol.
type Mux struct {
	ln     net.Listener
	log    *slog.Logger
	secret []byte

	limits MuxLimits

	mu     sync.Mutex
	subs   map[byte]*subListener
	closed bool
	// pending holds connections still in their handshake, with the time
	// they were accepted, so Close can cut them short and a flood can be
	// shed oldest first.
	pending map[net.Conn]time.Time
	// established counts authenticated connections not yet closed.
	established int
	// shed counts connections closed for the cap since the last warning.
	shed     int
	lastWarn time.Time

	wg sync.WaitGroup
}

// NewMux starts demultiplexing connections accepted on ln, with the
// default limits; every connection must authenticate with secret (see
// auth.go).
func NewMux(ln net.Listener, log *slog.Logger, secret string) *Mux {
	return NewMuxWithLimits(ln, log, secret, MuxLimits{})
}

// NewMuxWithLimits is NewMux with the given limits.
func NewMuxWithLimits(ln net.Listener, log *slog.Logger, secret string, limits MuxLimits) *Mux {
	m := &Mux{
		ln: ln, log: log, secret: []byte(secret), limits: limits.withDefaults(),
		subs: make(map[byte]*subListener), pending: make(map[net.Conn]time.Time),
	}
	m.wg.Add(1)
	go m.acceptLoop()
	return m
}

// Addr is the shared listener's address.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// Listen returns the listener for connections of the given kind. It must be
// called once per kind, before peers dial that kind.
func (m *Mux) Listen(kind byte) (net.Listener, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errMuxClosed
	}
	if _, ok := m.subs[kind]; ok {
		return nil, fmt.Errorf("cluster: mux kind %d already registered", kind)
	}
	s := &subListener{mux: m, kind: kind, conns: make(chan net.Conn), done: make(chan struct{})}
	m.subs[kind] = s
	return s, nil
}

// Close stops accepting, closes every sub-listener and waits for the mux
// goroutines to exit.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	subs := make([]*subListener, 0, len(m.subs))
	for _, s := range m.subs {
		subs = append(subs, s)
	}
	for c := range m.pending {
		_ = c.Close()
	}
	m.mu.Unlock()
	err := m.ln.Close()
	for _, s := range subs {
		s.close()
	}
	m.wg.Wait()
	return err
}

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			m.mu.Lock()
			closed := m.closed
			m.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failures (EMFILE...): back off instead of spinning.
			m.log.Warn("raft port accept failed", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			_ = conn.Close()
			return
		}
		admitted := m.admit()
		if admitted {
			m.pending[conn] = time.Now()
		}
		m.mu.Unlock()
		if !admitted {
			_ = conn.Close()
			continue
		}
		m.wg.Add(1)
		go m.route(conn)
	}
}

// admit makes room for a new connection under the limits, shedding the
// oldest connection still in its handshake if need be. It reports false
// when every connection at the cap is authenticated. m.mu is held.
func (m *Mux) admit() bool {
	maxPending := max(1, m.limits.MaxConns/4)
	full := m.established+len(m.pending) >= m.limits.MaxConns
	if !full && len(m.pending) < maxPending {
		return true
	}
	m.shed++
	if now := time.Now(); now.Sub(m.lastWarn) >= 10*time.Second {
		m.log.Warn("raft port: too many connections; closing the oldest unauthenticated ones",
			"closed", m.shed, "max_conns", m.limits.MaxConns, "authenticated", m.established, "in_handshake", len(m.pending))
		m.shed, m.lastWarn = 0, now
	}
	if len(m.pending) == 0 {
		return false
	}
	var oldest net.Conn
	var at time.Time
	for c, t := range m.pending {
		if oldest == nil || t.Before(at) {
			oldest, at = c, t
		}
	}
	delete(m.pending, oldest)
	_ = oldest.Close()
	return true
}

// route authenticates conn and hands it to its kind's sub-listener.
func (m *Mux) route(conn net.Conn) {
	defer m.wg.Done()
	_ = conn.SetDeadline(time.Now().Add(m.limits.HandshakeTimeout))
	kind, err := acceptHandshake(conn, m.secret)
	_ = conn.SetDeadline(time.Time{})
	m.mu.Lock()
	_, kept := m.pending[conn] // not shed meanwhile
	delete(m.pending, conn)
	closed := m.closed
	s := m.subs[kind]
	if kept && err == nil && !closed {
		m.established++
	}
	m.mu.Unlock()
	if errors.Is(err, errAuth) {
		m.log.Warn("raft port: rejected connection with a wrong cluster secret", "remote", conn.RemoteAddr().String())
	}
	if err != nil || closed || !kept {
		_ = conn.Close()
		return
	}
	conn = &countedConn{Conn: conn, m: m}
	if s == nil {
		m.log.Warn("raft port: unknown connection kind", "kind", kind, "remote", conn.RemoteAddr().String())
		_ = conn.Close()
		return
	}
	select {
	case s.conns <- conn:
	case <-s.done:
		_ = conn.Close()
	}
}

// countedConn is an authenticated connection; closing it frees its place
// under MuxLimits.MaxConns.
type countedConn struct {
	net.Conn
	m    *Mux
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.m.mu.Lock()
		c.m.established--
		c.m.mu.Unlock()
	})
	return c.Conn.Close()
}

// subListener is the net.Listener of one connection kind.
type subListener struct {
	mux   *Mux
	kind  byte
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (s *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, errMuxClosed
	}
}

// Close stops this kind only; the shared port stays open for the others.
func (s *subListener) Close() error {
	s.close()
	return nil
}

func (s *subListener) close() { s.once.Do(func() { close(s.done) }) }

func (s *subListener) Addr() net.Addr { return s.mux.Addr() }

// streamLayer is raft's StreamLayer over the mux: it accepts MuxRaft
// connections and prefixes outgoing ones with the MuxRaft byte.
//
// It also tracks every connection it hands to raft: raft's transport does
// not close its pooled connections on Close, which would leave the peer's
// handler goroutine (and ours, for accepted ones) blocked on a dead node's
// socket; closeAll ends them.
type streamLayer struct {
	net.Listener
	advertise net.Addr
	dialer    peerDialer

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

var _ raft.StreamLayer = (*streamLayer)(nil)

func newStreamLayer(ln net.Listener, advertise net.Addr, dialer peerDialer) *streamLayer {
	return &streamLayer{Listener: ln, advertise: advertise, dialer: dialer, conns: map[*trackedConn]struct{}{}}
}

// Dial connects to a peer's Raft port as a Raft connection.
func (l *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := l.dialer.dial(string(addr), MuxRaft, timeout)
	if err != nil {
		return nil, err
	}
	return l.track(c)
}

// Accept returns the next inbound Raft connection.
func (l *streamLayer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.track(c)
}

func (l *streamLayer) track(c net.Conn) (net.Conn, error) {
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return nil, errMuxClosed
	}
	l.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every Raft connection, now and from now on.
func (l *streamLayer) closeAll() {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[*trackedConn]struct{}{}
	l.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	l *streamLayer
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// Addr is what raft advertises as this node's address.
func (l *streamLayer) Addr() net.Addr {
	if l.advertise != nil {
		return l.advertise
	}
	return l.Listener.Addr()
}

// DialKind connects to a peer's Raft port for connections of the given
// kind (MuxRaft, MuxForward), authenticating with the cluster secret;
// timeout bounds the dial and the handshake.
func DialKind(addr string, kind byte, timeout time.Duration, secret string) (net.Conn, error) {
	return dialKind(addr, kind, timeout, secret, nil)
}

// dialKind is DialKind, in TLS if tlsCfg is set.
func dialKind(addr string, kind byte, timeout time.Duration, secret string, tlsCfg *tls.Config) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		tc, err := tlsClient(conn, tlsCfg, deadline)
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("connect to %s: %w", addr, err)
		}
		conn = tc
	}
	if err := dialHandshake(conn, kind, []byte(secret), deadline); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return conn, nil
}

// peerDialer is how a node dials its peers' Raft ports: both raft's
// transport and the cluster RPC pool use it, so Config.DialMap rewrites
// every node-to-node connection alike and in one place.
type peerDialer struct {
	secret string
	// via maps an advertised Raft address to the address actually
	// dialed (Config.DialMap); the advertised address stays what the
	// Raft configuration stores and reports.
	via map[string]string
	// tls, if set, wraps every connection in mutual TLS (Config.PeerTLS).
	tls *tls.Config
}

func (d peerDialer) dial(addr string, kind byte, timeout time.Duration) (net.Conn, error) {
	if a, ok := d.via[addr]; ok {
		addr = a
	}
	return dialKind(addr, kind, timeout, d.secret, d.tls)
}
