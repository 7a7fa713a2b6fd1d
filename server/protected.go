package server

import (
	"net"
	"time"
)

// protectedModeDenied is Redis's reply to a client refused by protected
// mode, byte for byte (networking.c, clientAcceptHandler; Redis 7.0 wrote
// "Setup a an" where later releases write "Set up an").
const protectedModeDenied = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, " +
	"however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
	"2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
	"4) Set up an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// deniedByProtectedMode tells whether c must be refused: protected mode
// is on, the default user is nopass (Redis checks only that flag, so
// ACL users with passwords do not lift it while the default user stays
// open, and neither does turning the default user off), and the client
// is not on the loopback
// interface. As in Redis, an address that cannot be read counts as not
// local.
func (s *Server) deniedByProtectedMode(c net.Conn) bool {
	if !s.protectedMode.Load() || !s.aclUser("default").NoPass {
		return false
	}
	addr, ok := c.RemoteAddr().(*net.TCPAddr)
	return !ok || !addr.IP.IsLoopback()
}

// refuse writes a one-line error to a connection that is not served and
// closes it, counting it in rejected_connections.
func (s *Server) refuse(c net.Conn, reply string) {
	s.stats.rejected.Add(1)
	_ = c.SetDeadline(time.Now().Add(time.Second)) // a TLS handshake reads too
	_, _ = c.Write([]byte(reply))
	_ = c.Close()
}
