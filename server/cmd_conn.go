package server

import (
	"crypto/subtle"
	"math"
	"strings"

	"github.com/raftstream/raftstream/engine"
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

// checkPassword reports whether user/pass authenticate as Redis's default
// user: any password when requirepass is empty (the user is "nopass"),
// otherwise requirepass. Other user names do not exist.
func (s *Server) checkPassword(user, pass []byte) bool {
	if string(user) != "default" {
		return false
	}
	want := *s.requirePass.Load()
	if want == "" {
		return true
	}
	return subtle.ConstantTimeCompare(pass, []byte(want)) == 1
}

func cmdAuth(x *call) {
	var user, pass []byte
	switch len(x.argv) {
	case 2:
		if *x.s.requirePass.Load() == "" {
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
	if !x.s.checkPassword(user, pass) {
		x.w.WriteError(errWrongPass)
		return
	}
	x.cl.authed.Store(true)
	x.w.WriteStatus("OK")
}

func cmdHello(x *call) {
	ver := int64(0)
	next := 1
	if len(x.argv) >= 2 {
		v, ok := parseInt64(x.argv[1])
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
	if user != nil {
		if !x.s.checkPassword(user, pass) {
			x.w.WriteError(errWrongPass)
			return
		}
		x.cl.authed.Store(true)
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
	id, ok := parseInt64(x.argv[1])
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
// RESP2, no name, automatic idempotency as the server's default,
// authenticated only if no password is required). The
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
	cl.authed.Store(*x.s.requirePass.Load() == "")
	x.w.Version = 2
	x.w.WriteStatus("RESET")
}
