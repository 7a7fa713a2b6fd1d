package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

// Deprecated fallback: joining through a member's client (RESP) address,
// as every node did before joins went over the cluster RPC (join.go).
// It is used only for a seed that turned out to be a client address, so
// that deployments whose --join still names client ports keep working;
// it will be removed once they have moved to Raft addresses. The joiner
// sends
//
//	AUTH <--join-password>   (if set)
//	RAFT ADD <id> <raft-addr> <client-addr> <incarnation>
//
// and the server runs RAFT ADD as Node.AddMember, exactly what the
// cluster RPC's opAddMember runs. This file is the only user of
// internal/respclient in this package.

// joinRESP asks one seed, a client address, to add self.
func joinRESP(ctx context.Context, seed string, self NodeInfo, password string) error {
	d := net.Dialer{Timeout: joinDialTimeout}
	conn, err := d.DialContext(ctx, "tcp", seed)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(joinReplyTimeout))
	// One deadline for the whole exchange, set above: timeout 0.
	c := respclient.New(conn, 0, 0)
	if password != "" {
		if err := expectOK(c, "AUTH", password); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := expectOK(c, "RAFT", "ADD", self.ID, self.RaftAddr, self.ClientAddr, self.Incarnation); err != nil {
		return fmt.Errorf("RAFT ADD: %w", err)
	}
	return nil
}

// expectOK sends a command and accepts only a simple-string OK; an error
// reply is a remoteError (the seed's own words, which isJoinRefusal reads).
func expectOK(c *respclient.Conn, args ...string) error {
	c.AppendStrings(args...)
	if err := c.Flush(); err != nil {
		return err
	}
	v, err := c.Read()
	switch {
	case err != nil:
		return err
	case v.IsError():
		return &remoteError{msg: v.Str}
	case v.Kind == '+' && v.Str == "OK":
		return nil
	}
	return fmt.Errorf("unexpected reply %c%q", v.Kind, v.Str)
}

// isRESP tells whether addr answers a RESP PING with a RESP simple
// string or error (+PONG, -NOAUTH, -DENIED, ...): a client port. The
// probe is two pipelined PINGs, longer than the Raft port's handshake
// hello, so a Raft port answers at once with its binary challenge (or a
// TLS one closes), which fails the check at the first byte that is not
// part of a printable line, without waiting for a timeout.
func isRESP(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: joinDialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(joinDialTimeout))
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	br := bufio.NewReaderSize(conn, 512)
	for i := 0; i < 512; i++ {
		c, err := br.ReadByte()
		switch {
		case err != nil:
			return false
		case i == 0:
			if c != '+' && c != '-' {
				return false
			}
		case c == '\r':
			c, err := br.ReadByte()
			return err == nil && c == '\n' && i > 1
		case c < ' ' || c > '~':
			return false
		}
	}
	return false
}
