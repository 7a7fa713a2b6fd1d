package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/engine/resp"
	"github.com/raftstream/raftstream/internal/redisutil"
)

// writeHelp writes a Redis subcommand help reply: a header naming the
// command as the client typed it, the lines, and the HELP footer.
func writeHelp(w *resp.Writer, cmdName []byte, lines []string) {
	w.WriteArray(len(lines) + 3)
	w.WriteStatus(upper(cmdName) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		w.WriteStatus(l)
	}
	w.WriteStatus("HELP")
	w.WriteStatus("    Print this help.")
}

// clientHelp lists the CLIENT subcommands raftstream supports, in Redis 8's
// words.
var clientHelp = []string{
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"    * ID <client-id>",
	"      Kill connections by client id.",
	"    * MAXAGE <maxage>",
	"      Kill connections older than the specified age.",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"SETINFO <option> <value>",
	"    Set client meta attr. Options are:",
	"    * LIB-NAME: the client lib name.",
	"    * LIB-VER: the client lib version.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"NO-TOUCH (ON|OFF)",
	"    Will not touch LRU/LFU stats when this mode is on.",
}

func cmdClientHelp(x *call) { writeHelp(x.w, x.argv[0], clientHelp) }

func cmdClientID(x *call) { x.w.WriteInt(int64(x.cl.id)) }

func cmdClientGetname(x *call) {
	if n := x.cl.getName(); n != "" {
		x.w.WriteBulkString(n)
		return
	}
	x.w.WriteNull()
}

func cmdClientSetname(x *call) {
	if !validClientAttr(x.argv[2]) {
		x.w.WriteError(errBadClientName)
		return
	}
	x.cl.setName(string(x.argv[2]))
	x.w.WriteStatus("OK")
}

func cmdClientSetinfo(x *call) {
	attr, val := x.argv[2], x.argv[3]
	var dest *string
	switch strings.ToLower(string(attr)) {
	case "lib-name":
		dest = &x.cl.libName
	case "lib-ver":
		dest = &x.cl.libVer
	default:
		x.w.WriteError("ERR Unrecognized option '" + truncate(attr, len(attr)) + "'")
		return
	}
	if !validClientAttr(val) {
		x.w.WriteError("ERR " + truncate(attr, len(attr)) + " cannot contain spaces, newlines or special characters.")
		return
	}
	x.cl.mu.Lock()
	*dest = string(val)
	x.cl.mu.Unlock()
	x.w.WriteStatus("OK")
}

// cmdClientOnOff is CLIENT NO-EVICT and CLIENT NO-TOUCH. There is no
// eviction and no LRU here; the flags are kept for CLIENT LIST.
func cmdClientOnOff(x *call) {
	var on bool
	switch strings.ToLower(string(x.argv[2])) {
	case "on":
		on = true
	case "off":
	default:
		x.w.WriteError(errSyntax)
		return
	}
	if x.cmd.Name() == "client|no-evict" {
		x.cl.noEvict.Store(on)
	} else {
		x.cl.noTouch.Store(on)
	}
	x.w.WriteStatus("OK")
}

func cmdClientInfo(x *call) {
	x.w.WriteVerbatim(x.s.clientLine(x.cl, time.Now()) + "\n")
}

// clientTypeValid reports whether t names a Redis client type; all
// raftstream clients are of type "normal".
func clientTypeValid(t string) bool {
	switch strings.ToLower(t) {
	case "normal", "slave", "replica", "pubsub", "master":
		return true
	}
	return false
}

func cmdClientList(x *call) {
	var only map[uint64]bool
	typeNormal := true
	switch {
	case len(x.argv) == 4 && strings.EqualFold(string(x.argv[2]), "type"):
		t := string(x.argv[3])
		if !clientTypeValid(t) {
			x.w.WriteError("ERR Unknown client type '" + truncate(x.argv[3], len(x.argv[3])) + "'")
			return
		}
		typeNormal = strings.EqualFold(t, "normal")
	case len(x.argv) > 3 && strings.EqualFold(string(x.argv[2]), "id"):
		only = make(map[uint64]bool)
		for _, a := range x.argv[3:] {
			id, ok := redisutil.ParseLL(a)
			if !ok {
				x.w.WriteError("ERR Invalid client ID")
				return
			}
			if id > 0 {
				only[uint64(id)] = true
			}
		}
	case len(x.argv) != 2:
		x.w.WriteError(errSyntax)
		return
	}
	var b strings.Builder
	if typeNormal {
		now := time.Now()
		for _, c := range x.s.clients.list() {
			if only != nil && !only[c.id] {
				continue
			}
			b.WriteString(x.s.clientLine(c, now))
			b.WriteByte('\n')
		}
	}
	x.w.WriteVerbatim(b.String())
}

// clientLine formats one CLIENT LIST line with Redis 8's fields. Fields
// that describe Redis internals raftstream does not have (pub/sub,
// MULTI, buffers, I/O threads) carry their idle values.
func (s *Server) clientLine(c *client, now time.Time) string {
	c.mu.Lock()
	name, db, proto, lib, ver, cmd := c.name, c.db, c.proto, c.libName, c.libVer, c.lastCmd
	c.mu.Unlock()
	if cmd == "" {
		cmd = "NULL"
	}
	flags := ""
	if c.noEvict.Load() {
		flags += "e"
	}
	if c.noTouch.Load() {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	age := int64(now.Sub(c.created) / time.Second)
	idle := int64(now.Sub(time.Unix(0, c.lastActive.Load())) / time.Second)
	if idle < 0 {
		idle = 0
	}
	var b strings.Builder
	b.Grow(320)
	field := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	field("id", strconv.FormatUint(c.id, 10))
	field("addr", c.addr)
	field("laddr", c.laddr)
	field("fd", "-1")
	field("name", name)
	field("age", itoa(age))
	field("idle", itoa(idle))
	field("flags", flags)
	field("db", itoa(int64(db)))
	field("sub", "0")
	field("psub", "0")
	field("ssub", "0")
	field("multi", "-1")
	field("watch", "0")
	field("qbuf", "0")
	field("qbuf-free", "0")
	field("argv-mem", "0")
	field("multi-mem", "0")
	field("rbs", itoa(readChunk))
	field("rbp", "0")
	field("obl", "0")
	field("oll", "0")
	omem := itoa(c.omem.Load())
	field("omem", omem)
	field("tot-mem", omem)
	field("events", "r")
	field("cmd", cmd)
	field("user", c.userName())
	field("redir", "-1")
	field("resp", itoa(int64(proto)))
	field("lib-name", lib)
	field("lib-ver", ver)
	field("io-thread", "0")
	field("tot-net-in", itoa(c.pc.netIn.Load()))
	field("tot-net-out", itoa(c.pc.netOut.Load()))
	field("tot-cmds", itoa(c.totCmds.Load()))
	return b.String()
}

func cmdClientKill(x *call) {
	var (
		addr, laddr string
		hasAddr     bool
		hasLaddr    bool
		id          int64
		maxAge      int64
		typeNormal  = true
		skipMe      = true
		user        string
		hasUser     bool
	)
	if len(x.argv) == 3 {
		// Old form, CLIENT KILL <addr>: a client may kill itself.
		addr, hasAddr, skipMe = string(x.argv[2]), true, false
	} else {
		for i := 2; i < len(x.argv); i += 2 {
			opt := strings.ToLower(string(x.argv[i]))
			if i+1 >= len(x.argv) {
				x.w.WriteError(errSyntax)
				return
			}
			val := x.argv[i+1]
			switch opt {
			case "id":
				n, ok := redisutil.ParseLL(val)
				if !ok || n < 1 {
					x.w.WriteError("ERR client-id should be greater than 0")
					return
				}
				id = n
			case "maxage":
				n, ok := redisutil.ParseLL(val)
				if !ok {
					x.w.WriteError("ERR maxage is not an integer or out of range")
					return
				}
				if n <= 0 {
					x.w.WriteError("ERR maxage should be greater than 0")
					return
				}
				maxAge = n
			case "type":
				if !clientTypeValid(string(val)) {
					x.w.WriteError("ERR Unknown client type '" + truncate(val, len(val)) + "'")
					return
				}
				typeNormal = strings.EqualFold(string(val), "normal")
			case "addr":
				addr, hasAddr = string(val), true
			case "laddr":
				laddr, hasLaddr = string(val), true
			case "user":
				if x.s.aclUser(string(val)) == nil {
					x.w.WriteError("ERR No such user '" + truncate(val, len(val)) + "'")
					return
				}
				user, hasUser = string(val), true
			case "skipme":
				switch strings.ToLower(string(val)) {
				case "yes":
					skipMe = true
				case "no":
					skipMe = false
				default:
					x.w.WriteError(errSyntax)
					return
				}
			default:
				x.w.WriteError(errSyntax)
				return
			}
		}
	}
	killed := 0
	now := time.Now()
	for _, c := range x.s.clients.list() {
		if hasAddr && c.addr != addr || hasLaddr && c.laddr != laddr || !typeNormal ||
			hasUser && c.userName() != user ||
			id != 0 && int64(c.id) != id || c == x.cl && skipMe {
			continue
		}
		if maxAge != 0 && int64(now.Sub(c.created)/time.Second) <= maxAge {
			continue
		}
		killed++
		if c == x.cl {
			x.quit = true
			continue
		}
		c.killed.Store(true)
		c.pc.shutdown()
		_ = c.pc.Conn.Close()
	}
	if len(x.argv) == 3 {
		if killed == 0 {
			x.w.WriteError("ERR No such client")
			x.quit = false
			return
		}
		x.w.WriteStatus("OK")
		return
	}
	x.w.WriteInt(int64(killed))
}
