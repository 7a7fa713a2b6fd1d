package server

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// Redis's defaults for SLOWLOG: slowlog-log-slower-than (µs) and
// slowlog-max-len (entries).
const (
	DefaultSlowlogSlowerThan = 10000
	DefaultSlowlogMaxLen     = 128
)

// Redis's limits for SLOWLOG.
const (
	defaultSlowlogSlowerThan = DefaultSlowlogSlowerThan
	defaultSlowlogMaxLen     = DefaultSlowlogMaxLen
	slowlogMaxArgc           = 32  // arguments kept per entry
	slowlogMaxString         = 128 // bytes kept per argument
)

// slowLog is SLOWLOG: the latest commands that took longer than
// slowlog-log-slower-than microseconds, at most slowlog-max-len of them.
// A command's time runs from its arrival to its reply being ready, so a
// write includes its Raft commit (that is what executing a write is
// here); waits of blocking commands (BLOCK, WAIT) are not counted, as
// Redis does not count them.
type slowLog struct {
	slowerThan atomic.Int64 // µs; negative: off
	maxLen     atomic.Int64

	mu      sync.Mutex
	nextID  int64
	entries []slowEntry // oldest first
}

type slowEntry struct {
	id, unix, micros int64
	args             [][]byte
	addr, name       string
}

func newSlowLog() *slowLog {
	l := &slowLog{}
	l.slowerThan.Store(defaultSlowlogSlowerThan)
	l.maxLen.Store(defaultSlowlogMaxLen)
	return l
}

// observe logs a command that took d, if that is slow enough. argv is
// copied (cut as Redis cuts it), with secrets redacted.
func (l *slowLog) observe(cl *client, cmd *command, argv [][]byte, d time.Duration) {
	limit := l.slowerThan.Load()
	micros := d.Microseconds()
	if limit < 0 || micros < limit || argv == nil || hasFlag(cmd.Info().Flags, "skip_slowlog") {
		return
	}
	e := slowEntry{unix: time.Now().Unix(), micros: micros, args: slowArgs(argv), addr: cl.addr, name: cl.getName()}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	l.trim()
}

// trim drops the oldest entries beyond slowlog-max-len; l.mu is held.
func (l *slowLog) trim() {
	if n := len(l.entries) - int(l.maxLen.Load()); n > 0 {
		l.entries = append(l.entries[:0], l.entries[n:]...)
	}
}

// slowArgs copies argv as Redis's slowlogCreateEntry keeps it: at most 32
// arguments, the last standing for the rest, each cut to 128 bytes; the
// values of AUTH, HELLO ... AUTH, ACL SETUSER and CONFIG SET requirepass
// redacted.
func slowArgs(argv [][]byte) [][]byte {
	keep := min(len(argv), slowlogMaxArgc)
	out := make([][]byte, keep)
	redacted := redactedArgs(argv)
	for j := 0; j < keep; j++ {
		switch {
		case keep != len(argv) && j == keep-1:
			out[j] = fmt.Appendf(nil, "... (%d more arguments)", len(argv)-keep+1)
		case redacted[j]:
			out[j] = []byte("(redacted)")
		case len(argv[j]) > slowlogMaxString:
			out[j] = fmt.Appendf(bytes.Clone(argv[j][:slowlogMaxString]), "... (%d more bytes)", len(argv[j])-slowlogMaxString)
		default:
			out[j] = bytes.Clone(argv[j])
		}
	}
	return out
}

// redactedArgs marks the arguments Redis replaces by "(redacted)".
func redactedArgs(argv [][]byte) map[int]bool {
	r := map[int]bool{}
	switch lower(argv[0]) {
	case "auth":
		for j := 1; j < len(argv); j++ {
			r[j] = true
		}
	case "hello":
		for j := 2; j+2 < len(argv); j++ {
			if strings.EqualFold(string(argv[j]), "auth") {
				r[j+1], r[j+2] = true, true
			}
		}
	case "acl":
		// ACL SETUSER: the user name and every rule, as Redis redacts them.
		if len(argv) > 2 && strings.EqualFold(string(argv[1]), "setuser") {
			for j := 2; j < len(argv); j++ {
				r[j] = true
			}
		}
	case "config":
		if len(argv) > 1 && strings.EqualFold(string(argv[1]), "set") {
			for j := 2; j+1 < len(argv); j += 2 {
				if strings.EqualFold(string(argv[j]), "requirepass") {
					r[j+1] = true
				}
			}
		}
	}
	return r
}

var slowlogHelp = []string{
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
}

func cmdSlowlogHelp(x *call) { writeHelp(x.w, x.argv[0], slowlogHelp) }

func cmdSlowlogLen(x *call) {
	l := x.s.slowlog
	l.mu.Lock()
	defer l.mu.Unlock()
	x.w.WriteInt(int64(len(l.entries)))
}

func cmdSlowlogReset(x *call) {
	l := x.s.slowlog
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
	x.w.WriteStatus("OK")
}

// cmdSlowlogGet is SLOWLOG GET [count]: newest first, 10 by default, all
// for -1.
func cmdSlowlogGet(x *call) {
	if len(x.argv) > 3 {
		x.w.WriteError("ERR unknown subcommand or wrong number of arguments for '" + string(x.argv[1]) + "'. Try SLOWLOG HELP.")
		return
	}
	count := int64(10)
	if len(x.argv) == 3 {
		n, ok := redisutil.ParseLL(x.argv[2])
		if !ok || n < -1 {
			x.w.WriteError("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	l := x.s.slowlog
	l.mu.Lock()
	defer l.mu.Unlock()
	if count == -1 || count > int64(len(l.entries)) {
		count = int64(len(l.entries))
	}
	x.w.WriteArray(int(count))
	for i := len(l.entries) - 1; i >= len(l.entries)-int(count); i-- {
		e := &l.entries[i]
		x.w.WriteArray(6)
		x.w.WriteInt(e.id)
		x.w.WriteInt(e.unix)
		x.w.WriteInt(e.micros)
		x.w.WriteArray(len(e.args))
		for _, a := range e.args {
			x.w.WriteBulk(a)
		}
		x.w.WriteBulkString(e.addr)
		x.w.WriteBulkString(e.name)
	}
}
