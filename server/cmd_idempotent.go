package server

import "strings"

// RS.IDEMPOTENT ON [<producer-id>] | OFF turns automatic idempotency on or
// off for this connection (the default is --auto-idempotent's,
// Config.AutoIdempotent). While it is on, each XADD with an
// auto-generated ID and no IDMP/IDMPAUTO of its own is proposed as an
// IDMP XADD under the producer ID — the one given here, else the client
// name at the time of the XADD — and a digest of its arguments
// (engine.AutoIdempotentXAdd), so that the XADD resent by a client
// library after a broken connection is stored once.
//
// It is a command of its own with the "RS." prefix, like RS.SETDLQ, rather
// than a CLIENT subcommand: Redis never puts a dot in a core command name,
// so the name cannot collide with a Redis feature of the future. The
// setting lives on the connection: a client that gives a producer ID must
// send it again on every new connection (go-redis's OnConnect hook,
// redis-py's redis_connect_func), while the client name is sent again by
// the libraries themselves (go-redis ClientName, redis-py client_name).
func cmdRSIdempotent(x *call) {
	on := strings.EqualFold(string(x.argv[1]), "on")
	switch {
	case on && len(x.argv) <= 3:
	case strings.EqualFold(string(x.argv[1]), "off") && len(x.argv) == 2:
	default:
		x.w.WriteError(errSyntax)
		return
	}
	producer := ""
	if len(x.argv) == 3 {
		if len(x.argv[2]) == 0 {
			x.w.WriteError("ERR the producer ID must not be empty")
			return
		}
		producer = string(x.argv[2])
	}
	x.cl.mu.Lock()
	x.cl.idem, x.cl.idemProducer = on, producer
	x.cl.mu.Unlock()
	x.w.WriteStatus("OK")
}
