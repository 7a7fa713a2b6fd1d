package server

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// TestNoGoroutineLeak checks that Close ends every goroutine the server
// started: accept loop, sampler, one per connection.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	be := newDirectBackend()
	s, err := newServer(Config{Addr: "127.0.0.1:0"}, be, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	var conns []*rawConn
	for i := 0; i < 5; i++ {
		c := dialRaw(t, s)
		c.expect("+PONG\r\n", "PING")
		conns = append(conns, c)
	}
	conns[0].send(append(encode("XADD", "s", "*", "f", "v"), encode("XLEN", "s")...))
	conns[0].read()
	conns[0].read()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.expectClosed()
		_ = c.c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), bytes.TrimSpace(buf[:n]))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
