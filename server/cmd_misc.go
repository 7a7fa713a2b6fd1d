package server

import (
	"strconv"
	"strings"
	"time"
)

func cmdTime(x *call) {
	now := time.Now()
	x.w.WriteArray(2)
	x.w.WriteBulkString(strconv.FormatInt(now.Unix(), 10))
	x.w.WriteBulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// cmdFunctionFlush accepts FUNCTION FLUSH [ASYNC|SYNC]: there are no
// functions to delete, but test suites and tools call it to reset a
// server.
func cmdFunctionFlush(x *call) {
	if len(x.argv) == 3 {
		switch strings.ToLower(string(x.argv[2])) {
		case "async", "sync":
		default:
			x.w.WriteError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			return
		}
	} else if len(x.argv) > 3 {
		x.w.WriteError("ERR wrong number of arguments for 'function|flush' command")
		return
	}
	x.w.WriteStatus("OK")
}

// cmdShutdown is SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. There is
// nothing to save (every acknowledged write is already in the fsynced Raft
// log), so the options are checked as Redis checks them and then do the
// same thing: a graceful stop. As in Redis, success closes the connection
// without a reply.
func cmdShutdown(x *call) {
	var save, nosave, abort, other bool
	for _, a := range x.argv[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave":
			nosave = true
		case "save":
			save = true
		case "now", "force":
			other = true
		case "abort":
			abort = true
		default:
			x.w.WriteError("ERR syntax error")
			return
		}
	}
	if (save && nosave) || (abort && (save || nosave || other)) {
		x.w.WriteError("ERR syntax error")
		return
	}
	if abort {
		x.w.WriteError("ERR No shutdown in progress.")
		return
	}
	if x.s.cfg.Shutdown == nil {
		x.w.WriteError("ERR SHUTDOWN is disabled on this server")
		return
	}
	x.s.logger.Warn("SHUTDOWN received from a client; shutting down", "client", x.cl.id)
	x.s.cfg.Shutdown()
	x.quit = true
}
