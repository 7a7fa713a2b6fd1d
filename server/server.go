package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// Server is the RESP front end: it accepts Redis clients, routes their
// commands to the Raft node (writes) or the local state machine (reads),
// and answers connection and server commands itself.
type Server struct {
	cfg    Config
	be     backend
	logger *slog.Logger
	// durable is be when it may apply entries before they are flushed
	// (a lone voter, cluster.Node.SyncThrough); nil for fakes.
	durable durableBackend

	ln  net.Listener
	lnw *listener
	rs  *redcon.Server
	// The TLS port (Config.TLSAddr), nil when off: its own listener and
	// redcon server, sharing the handlers and client registry.
	tlsLn   net.Listener
	tlsLnw  *listener
	tlsRS   *redcon.Server
	started time.Time
	runID   string
	// bigToken stands for a big argument in the bytes handed to redcon
	// (scanner.takeBig); random, so no client can forge it.
	bigToken []byte

	// Settings CONFIG SET may change at run time.
	requirePass atomic.Pointer[string]
	// localDefault is the default user made from requirepass, in force
	// while the replicated ACL has no default user (acl.go).
	localDefault atomic.Pointer[engine.ACLUser]
	acllog       *aclLog
	maxClients   atomic.Int64
	// protectedMode: refuse non-loopback clients while no password is set.
	protectedMode atomic.Bool
	maxBulk       atomic.Int64
	queryLimit    atomic.Int64
	outLimits     atomic.Pointer[bufferLimits]
	// maxClientMem is maxmemory-clients in bytes (0: no limit);
	// maxClientMemText is the value as set, which may be a percentage.
	maxClientMem     atomic.Int64
	maxClientMemText atomic.Pointer[string]
	// clientMem is the unsent output of all clients; evictMu serializes
	// evictions.
	clientMem atomic.Int64
	evictMu   sync.Mutex

	clients *registry
	nextID  atomic.Uint64
	stats   *stats
	waiters *waiterRegistry
	slowlog *slowLog
	// rewriteMu serializes CONFIG REWRITE: each reads the file, then
	// replaces it.
	rewriteMu sync.Mutex

	tableOnce sync.Once
	tab       *commandTable

	serving   atomic.Bool
	serveDone chan struct{}
	closeOnce sync.Once
	closing   atomic.Bool
	// drained is closed once every client has gone after Close; the
	// listener wrapper holds redcon's accept loop until then, because
	// redcon closes all remaining connections as soon as that loop ends.
	drained chan struct{}
	// unhook removes the server's signal hook from the state machine.
	unhook func()
}

// New returns a server for node, listening on cfg.Addr (call Serve to start
// accepting clients).
func New(cfg Config, node *cluster.Node, logger *slog.Logger) (*Server, error) {
	if node == nil {
		return nil, errors.New("server: nil cluster node")
	}
	s, err := newServer(cfg, nodeBackend{node}, logger)
	if err != nil {
		return nil, err
	}
	node.FSM().SetSignal(s.waiters.notify)
	node.FSM().SetACLHook(s.aclChanged)
	node.SetRiders(s.waiters)
	s.unhook = func() { node.FSM().SetSignal(nil); node.FSM().SetACLHook(nil); node.SetRiders(nil) }
	return s, nil
}

func newServer(cfg Config, be backend, logger *slog.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %q: %w", cfg.Addr, err)
	}
	var id [20]byte
	_, _ = rand.Read(id[:])
	token := make([]byte, 24)
	_, _ = rand.Read(token)
	durable, _ := be.(durableBackend)
	s := &Server{
		cfg:       cfg,
		be:        be,
		durable:   durable,
		logger:    logger.With("component", "server"),
		ln:        ln,
		started:   time.Now(),
		runID:     hex.EncodeToString(id[:]),
		bigToken:  token,
		clients:   newRegistry(),
		stats:     newStats(),
		waiters:   newWaiterRegistry(),
		serveDone: make(chan struct{}),
		drained:   make(chan struct{}),
	}
	s.setRequirePass(cfg.RequirePass)
	s.acllog = newACLLog()
	s.maxClients.Store(int64(cfg.MaxClients))
	s.protectedMode.Store(!cfg.NoProtectedMode)
	s.maxBulk.Store(cfg.MaxBulkLen)
	s.queryLimit.Store(cfg.ClientQueryBufferLimit)
	lims, _ := parseBufferLimits(defaultBufferLimits, cfg.ClientOutputBufferLimit) // checked by withDefaults
	s.outLimits.Store(&lims)
	s.maxClientMem.Store(cfg.MaxMemoryClients)
	memText := strconv.FormatInt(cfg.MaxMemoryClients, 10)
	s.maxClientMemText.Store(&memText)
	s.slowlog = newSlowLog()
	if cfg.SlowlogSlowerThan != nil {
		s.slowlog.slowerThan.Store(*cfg.SlowlogSlowerThan)
	}
	if cfg.SlowlogMaxLen != nil {
		s.slowlog.maxLen.Store(*cfg.SlowlogMaxLen)
	}
	s.lnw = &listener{Listener: ln, s: s}
	s.rs = redcon.NewServerNetwork("tcp", cfg.Addr, s.handle, s.accept, s.closed)
	if cfg.TLSAddr != "" {
		if cfg.TLS == nil {
			_ = ln.Close()
			return nil, errors.New("server: TLSAddr needs a TLS configuration")
		}
		if s.tlsLn, err = net.Listen("tcp", cfg.TLSAddr); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("server: listen for TLS on %q: %w", cfg.TLSAddr, err)
		}
		s.tlsLnw = &listener{Listener: s.tlsLn, s: s, tls: cfg.TLS}
		s.tlsRS = redcon.NewServerNetwork("tcp", cfg.TLSAddr, s.handle, s.accept, s.closed)
	}
	return s, nil
}

// TLSAddr is the address of the TLS port, or nil if there is none.
func (s *Server) TLSAddr() net.Addr {
	if s.tlsLn == nil {
		return nil
	}
	return s.tlsLn.Addr()
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts clients until Close is called. It returns nil after Close.
func (s *Server) Serve() error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("server: Serve called twice")
	}
	defer close(s.serveDone)
	if s.closing.Load() {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		s.stats.runSampler(ctx)
	}()
	defer func() {
		cancel()
		<-samplerDone
	}()
	tlsErr := make(chan error, 1)
	if s.tlsRS != nil {
		s.logger.Info("serving RESP clients over TLS", "addr", s.TLSAddr().String())
		go func() { tlsErr <- s.tlsRS.Serve(s.tlsLnw) }()
	} else {
		tlsErr <- nil
	}
	s.logger.Info("serving RESP clients", "addr", s.Addr().String())
	err := s.rs.Serve(s.lnw)
	if s.tlsRS != nil && !s.closing.Load() {
		// The plain port failed: stop the TLS one too.
		_ = s.tlsLn.Close()
	}
	if err := errors.Join(err, <-tlsErr); err != nil {
		return fmt.Errorf("server: serve: %w", err)
	}
	return nil
}

// Close stops accepting clients, lets every connection finish the batch
// of commands it is executing and flush the replies, then closes it. It
// waits at most CommandTimeout plus a margin for busy connections before
// closing them regardless.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		for _, ln := range []net.Listener{s.ln, s.tlsLn} {
			if ln == nil {
				continue
			}
			if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				s.logger.Warn("closing the listener", "error", err)
			}
		}
		for _, c := range s.clients.list() {
			c.pc.shutdown()
		}
		select {
		case <-s.clients.waitEmpty():
		case <-time.After(s.cfg.CommandTimeout + 5*time.Second):
			s.logger.Warn("clients still busy at shutdown; closing their connections")
			for _, c := range s.clients.list() {
				_ = c.pc.Conn.Close()
			}
		}
		close(s.drained)
		if s.serving.Load() {
			<-s.serveDone
		}
		if s.unhook != nil {
			s.unhook()
		}
	})
	return nil
}

// accept is redcon's accept callback: it sets up the client state.
func (s *Server) accept(conn redcon.Conn) bool {
	pc, ok := conn.NetConn().(*protoConn)
	if !ok {
		return false
	}
	cl := &client{
		id:      s.nextID.Add(1),
		pc:      pc,
		conn:    conn,
		addr:    pc.RemoteAddr().String(),
		laddr:   pc.LocalAddr().String(),
		created: time.Now(),
		proto:   2,
		w:       resp.NewWriter(2),
		idem:    s.cfg.AutoIdempotent,
	}
	cl.authed.Store(s.defaultNoPass())
	cl.lastActive.Store(cl.created.UnixNano())
	pc.cl = cl
	conn.SetContext(cl)
	s.clients.add(cl)
	s.stats.connections.Add(1)
	if s.closing.Load() {
		pc.shutdown()
	}
	return true
}

// closed is redcon's callback for a finished connection.
func (s *Server) closed(conn redcon.Conn, err error) {
	cl, ok := conn.Context().(*client)
	if !ok {
		return
	}
	s.clients.remove(cl)
	if err != nil && !errors.Is(err, errClosing) && !errors.Is(err, net.ErrClosed) {
		s.logger.Debug("client connection ended", "client", cl.id, "addr", cl.addr, "error", err)
	}
}

// scanLimits are the request limits in force.
func (s *Server) scanLimits() scanLimits {
	return scanLimits{
		maxBulk:       s.maxBulk.Load(),
		maxMultibulk:  s.cfg.MaxMultibulkLen,
		maxQueryBytes: s.queryLimit.Load(),
	}
}

// listener wraps the TCP listener: it refuses clients beyond maxclients
// and those protected mode keeps out with Redis's errors, wraps each connection in a protoConn, and after
// Close holds redcon's accept loop until the clients have drained.
type listener struct {
	net.Listener
	s   *Server
	tls *tls.Config // set on the TLS port
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if l.s.closing.Load() {
				<-l.s.drained
				return nil, fmt.Errorf("server closed: %w", net.ErrClosed)
			}
			return nil, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
			_ = tc.SetKeepAlive(true)
			_ = tc.SetKeepAlivePeriod(300 * time.Second)
		}
		if l.tls != nil {
			// The handshake runs on the connection's first read or write,
			// off this accept loop.
			c = tls.Server(c, l.tls)
		}
		var refusal string
		switch {
		case int64(l.s.clients.count()) >= l.s.maxClients.Load():
			refusal = "-ERR max number of clients reached\r\n"
		case l.s.deniedByProtectedMode(c):
			refusal = protectedModeDenied
		}
		switch {
		case refusal == "":
			return newProtoConn(l.s, c), nil
		case l.tls != nil:
			// The refusal needs a handshake first: not on this loop.
			go l.s.refuse(c, refusal)
		default:
			l.s.refuse(c, refusal)
		}
	}
}

// Close is a no-op: the Server closes the real listener itself, and redcon
// calls this only after its accept loop ended.
func (l *listener) Close() error { return nil }
