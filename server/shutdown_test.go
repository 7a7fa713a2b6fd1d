package server

import (
	"sync/atomic"
	"testing"
)

// TestShutdown checks SHUTDOWN's option errors against the texts real
// redis-server 7.0.15 gives (checked by hand with redis-cli), that success
// hands over to the process's graceful stop and closes the connection
// without a reply, and that a server without a stop hook refuses it.
func TestShutdown(t *testing.T) {
	var calls atomic.Int32
	node := startNode(t)
	s := startServer(t, Config{Shutdown: func() { calls.Add(1) }}, node)
	c := dialRaw(t, s)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SHUTDOWN", "ABORT"}, "-ERR No shutdown in progress.\r\n"},
		{[]string{"SHUTDOWN", "BOGUS"}, "-ERR syntax error\r\n"},
		{[]string{"SHUTDOWN", "SAVE", "NOSAVE"}, "-ERR syntax error\r\n"},
		{[]string{"SHUTDOWN", "NOW", "ABORT"}, "-ERR syntax error\r\n"},
	} {
		c.expect(tc.want, tc.args...)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("Shutdown called %d times by refused commands", n)
	}
	c.send(encode("SHUTDOWN", "NOSAVE", "NOW", "FORCE"))
	c.expectClosed()
	if n := calls.Load(); n != 1 {
		t.Fatalf("Shutdown called %d times, want 1", n)
	}

	off := startServer(t, Config{}, node)
	dialRaw(t, off).expect("-ERR SHUTDOWN is disabled on this server\r\n", "SHUTDOWN")
}
