package server

import "github.com/raftstream/raftstream/internal/redisutil"

// cmdClientUnblock is CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: a client
// blocked in XREAD/XREADGROUP BLOCK answers as if its timeout fired, or
// with an UNBLOCKED error. The reply is 1 if the client was blocked. A
// client whose wake-up already proposed a read finishes that read first.
func cmdClientUnblock(x *call) {
	id, ok := redisutil.ParseLL(x.argv[2])
	if !ok {
		x.w.WriteError("ERR value is not an integer or out of range")
		return
	}
	reason := unblockTimeout
	if len(x.argv) == 4 {
		switch lower(x.argv[3]) {
		case "timeout":
		case "error":
			reason = unblockError
		default:
			x.w.WriteError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(x.argv) > 4 {
		x.w.WriteError("ERR unknown subcommand or wrong number of arguments for '" + string(x.argv[1]) + "'. Try CLIENT HELP.")
		return
	}
	if id > 0 && x.s.waiters.unblockClient(uint64(id), reason) {
		x.w.WriteInt(1)
		return
	}
	x.w.WriteInt(0)
}
