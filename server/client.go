package server

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// client is the state of one connection. The connection's own goroutine
// owns it; fields that CLIENT LIST / KILL / INFO read from other goroutines
// are atomics or guarded by mu.
type client struct {
	// room is the spare buffer around the big argument of the command
	// being executed, for its proposal (cluster.Command.Room); nil otherwise.
	room []byte

	id      uint64
	pc      *protoConn
	conn    redcon.Conn
	addr    string
	laddr   string
	created time.Time

	authed     atomic.Bool
	user       atomic.Pointer[string] // the ACL user (default until AUTH)
	noEvict    atomic.Bool            // CLIENT NO-EVICT, shown in CLIENT LIST flags
	noTouch    atomic.Bool            // CLIENT NO-TOUCH
	readOnly   atomic.Bool            // READONLY: reads skip the Raft read barrier
	killed     atomic.Bool            // CLIENT KILL'ed, hidden from CLIENT LIST
	lastActive atomic.Int64           // unix nanoseconds of the last command
	totCmds    atomic.Int64

	mu      sync.Mutex
	name    string
	libName string
	libVer  string
	db      int
	proto   int
	lastCmd string // full name of the last command, for CLIENT LIST
	// idem turns automatic idempotency on (Config.AutoIdempotent,
	// RS.IDEMPOTENT): XADDs are proposed with IDMP under idemProducer,
	// or under the client name when idemProducer is empty.
	idem         bool
	idemProducer string

	// Used only by the connection goroutine.
	// shows is the log index whose state the replies not yet on the
	// socket may show: writeOut waits for it to be durable.
	shows   uint64
	w       *resp.Writer // scratch writer for replies built here
	pending []slot       // replies of the current batch not yet written
	arena   []byte       // ready replies queued behind pending writes
	// barrierDone is set once a read barrier has been passed in the
	// current batch; later reads in the batch reuse it.
	barrierDone bool
	// parsed is the engine read being run (runRead): kept here, where
	// it costs no allocation, rather than captured by the read closure.
	parsed engine.Parsed
	// permsUser and perms cache the compiled ACL rules of the client's
	// user; a changed user (a new *engine.ACLUser) recompiles them.
	permsUser *engine.ACLUser
	perms     *perms
	// tx is the open MULTI transaction, nil outside one (multi.go).
	tx *txState
	// out gathers small replies until the next socket write (output.go).
	out []byte
	// softOver is when the unsent output went over the soft limit; zero
	// while under it.
	softOver time.Time
	// outErr is set once the client was dropped (output limit, eviction,
	// write error): its remaining commands are not executed.
	outErr error

	omem    atomic.Int64 // reply bytes not yet accepted by the socket
	evicted atomic.Bool  // closed by maxmemory-clients
}

// userName is the ACL user the connection runs as.
func (c *client) userName() string {
	if u := c.user.Load(); u != nil {
		return *u
	}
	return "default"
}

// setUser authenticates the connection as name.
func (c *client) setUser(name string) {
	c.user.Store(&name)
	c.authed.Store(true)
}

func (c *client) getDB() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.db
}

func (c *client) setDB(db int) {
	c.mu.Lock()
	c.db = db
	c.mu.Unlock()
}

func (c *client) getProto() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proto
}

func (c *client) setProto(p int) {
	c.mu.Lock()
	c.proto = p
	c.mu.Unlock()
}

func (c *client) getName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name
}

func (c *client) setName(n string) {
	c.mu.Lock()
	c.name = n
	c.mu.Unlock()
}

// autoIdempotent returns the argv to propose for a write: with automatic
// idempotency on and a producer ID known, an XADD that
// engine.AutoIdempotentXAdd accepts is rewritten to IDMP; anything else
// is returned as is. unnamed reports an XADD left alone only because the
// connection has no producer ID, which INFO counts: the setting protects
// nothing for such clients. p, if not nil, is argv parsed (the check of a
// write about to be proposed): the rewrite is then built from it, and q
// is out parsed, so nothing is parsed again.
func (c *client) autoIdempotent(argv [][]byte, p *engine.Parsed) (out [][]byte, q *engine.Parsed, rewritten, unnamed bool) {
	c.mu.Lock()
	on, producer := c.idem, c.idemProducer
	if producer == "" {
		producer = c.name
	}
	c.mu.Unlock()
	if !on || len(argv) == 0 || !strings.EqualFold(string(argv[0]), "xadd") {
		return argv, p, false, false
	}
	rewrite := func(producer string) ([][]byte, *engine.Parsed, bool) {
		if p != nil {
			q, ok := p.AutoIdempotentXAdd(producer)
			return q.Argv(), q, ok
		}
		out, ok := engine.AutoIdempotentXAdd(argv, producer)
		return out, nil, ok
	}
	if producer == "" {
		_, _, eligible := rewrite("-")
		return argv, p, false, eligible
	}
	out, q, rewritten = rewrite(producer)
	return out, q, rewritten, false
}

// writer returns the scratch writer, emptied, in the client's protocol.
func (c *client) writer() *resp.Writer {
	if cap(c.w.Buf) > maxScratch {
		// Don't pin the memory of a big reply between commands.
		c.w.Buf = nil
	}
	c.w.Reset()
	c.w.Version = c.getProto()
	return c.w
}

// maxScratch is the largest reply buffer a client keeps for reuse.
const maxScratch = 1 << 20

// registry tracks connected clients for CLIENT LIST/KILL and INFO.
type registry struct {
	mu      sync.Mutex
	clients map[uint64]*client
	// empty is closed when the registry becomes empty while waiting in
	// waitEmpty.
	empty chan struct{}
}

func newRegistry() *registry { return &registry{clients: make(map[uint64]*client)} }

func (r *registry) add(c *client) {
	r.mu.Lock()
	r.clients[c.id] = c
	r.mu.Unlock()
}

func (r *registry) remove(c *client) {
	r.mu.Lock()
	delete(r.clients, c.id)
	if len(r.clients) == 0 && r.empty != nil {
		close(r.empty)
		r.empty = nil
	}
	r.mu.Unlock()
}

func (r *registry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clients)
}

// list returns the clients ordered by ID, so CLIENT LIST is stable.
func (r *registry) list() []*client {
	r.mu.Lock()
	out := make([]*client, 0, len(r.clients))
	for _, c := range r.clients {
		if !c.killed.Load() {
			out = append(out, c)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *client) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return out
}

// waitEmpty returns a channel closed once no client is connected.
func (r *registry) waitEmpty() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if len(r.clients) == 0 {
		close(ch)
		return ch
	}
	if r.empty == nil {
		r.empty = make(chan struct{})
	}
	return r.empty
}
