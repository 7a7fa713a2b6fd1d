package server

import (
	"math"
	"strings"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/internal/redisutil"
)

// Error texts of the connection commands, as Redis sends them.
const (
	errSyntax        = "ERR syntax error"
	errNotInteger    = "ERR value is not an integer or out of range"
	errWrongPass     = "WRONGPASS invalid username-password pair or user is disabled."
	errNoPassword    = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errHelloNoAuth   = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errBadClientName = "ERR Client names cannot contain spaces, newlines or special characters."
)

func cmdPing(x *call) {
	switch len(x.argv) {
	case 1:
		x.w.WriteStatus("PONG")
	case 2:
		x.w.WriteBulk(x.argv[1])
	default:
		x.w.WriteError("ERR wrong number of arguments for 'ping' command")
	}
}

func cmdEcho(x *call) { x.w.WriteBulk(x.argv[1]) }

func cmdQuit(x *call) {
	x.w.WriteStatus("OK")
	x.quit = true
}

func cmdAuth(x *call) {
	var user, pass []byte
	switch len(x.argv) {
	case 2:
		// As Redis: the one-argument form is an error while the default
		// user needs no password.
		if d := x.s.aclUser("default"); d.NoPass {
			x.w.WriteError(errNoPassword)
			return
		}
		user, pass = []byte("default"), x.argv[1]
	case 3:
		user, pass = x.argv[1], x.argv[2]
	default:
		x.w.WriteError(errSyntax)
		return
	}
	if !x.s.authAs(x.cl, user, pass) {
		x.w.WriteError(x.s.wrongPass())
		return
	}
	x.w.WriteStatus("OK")
}

// authAs authenticates the connection as user, logging a failure in the
// ACL LOG.
func (s *Server) authAs(cl *client, user, pass []byte) bool {
	u := s.authenticate(user, pass)
	if u == nil {
		s.logAuthFailure(cl, user)
		return false
	}
	cl.setUser(u.Name)
	return true
}

// wrongPass is the reply to failed credentials: -LOADING while the node
// is still loading (the replicated users are not known yet), WRONGPASS
// otherwise.
func (s *Server) wrongPass() string {
	if s.loading() {
		return loadingReply
	}
	return errWrongPass
}

func cmdHello(x *call) {
	ver := int64(0)
	next := 1
	if len(x.argv) >= 2 {
		v, ok := redisutil.ParseLL(x.argv[1])
		if !ok {
			x.w.WriteError("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			x.w.WriteError("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	var user, pass, name []byte
	for j := next; j < len(x.argv); j++ {
		more := len(x.argv) - 1 - j
		opt := strings.ToLower(string(x.argv[j]))
		switch {
		case opt == "auth" && more >= 2:
			user, pass = x.argv[j+1], x.argv[j+2]
			j += 2
		case opt == "setname" && more >= 1:
			name = x.argv[j+1]
			j++
		default:
			x.w.WriteError("ERR Syntax error in HELLO option '" + truncate(x.argv[j], len(x.argv[j])) + "'")
			return
		}
	}
	if user != nil && !x.s.authAs(x.cl, user, pass) {
		x.w.WriteError(x.s.wrongPass())
		return
	}
	if !x.cl.authed.Load() {
		x.w.WriteError(errHelloNoAuth)
		return
	}
	if name != nil {
		if !validClientAttr(name) {
			x.w.WriteError(errBadClientName)
			return
		}
		x.cl.setName(string(name))
	}
	if ver != 0 {
		x.cl.setProto(int(ver))
		x.w.Version = int(ver)
	}
	role := "master"
	if x.s.be.Status().State != "leader" {
		role = "replica"
	}
	w := x.w
	w.WriteMap(7)
	w.WriteBulkString("server")
	w.WriteBulkString("redis")
	w.WriteBulkString("version")
	w.WriteBulkString(x.s.cfg.RedisVersion)
	w.WriteBulkString("proto")
	w.WriteInt(int64(w.Proto()))
	w.WriteBulkString("id")
	w.WriteInt(int64(x.cl.id))
	w.WriteBulkString("mode")
	w.WriteBulkString("cluster")
	w.WriteBulkString("role")
	w.WriteBulkString(role)
	w.WriteBulkString("modules")
	w.WriteArray(0)
}

func cmdSelect(x *call) {
	id, ok := redisutil.ParseLL(x.argv[1])
	if !ok || id < math.MinInt32 || id > math.MaxInt32 {
		x.w.WriteError(errNotInteger)
		return
	}
	if id < 0 || id >= engine.NumDBs {
		x.w.WriteError("ERR DB index is out of range")
		return
	}
	x.cl.setDB(int(id))
	x.w.WriteStatus("OK")
}

// cmdReset is RESET: back to a fresh connection's state (database 0,
// RESP2, no name, the default user, automatic idempotency as the server's
// default, authenticated only if the default user needs no password). The
// library name and version stay, as in Redis.
func cmdReset(x *call) {
	cl := x.cl
	cl.mu.Lock()
	cl.db = 0
	cl.proto = 2
	cl.name = ""
	cl.idem, cl.idemProducer = x.s.cfg.AutoIdempotent, ""
	cl.mu.Unlock()
	cl.noEvict.Store(false)
	cl.noTouch.Store(false)
	cl.readOnly.Store(false) // RESET sets the connection to READWRITE mode
	cl.tx = nil              // and discards MULTI and every WATCH
	// Back to the default user, authenticated only if it needs no password.
	def := "default"
	cl.user.Store(&def)
	cl.authed.Store(x.s.defaultNoPass())
	x.w.Version = 2
	x.w.WriteStatus("RESET")
}
