package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sockPair returns both ends of a connected socket of the given network.
func sockPair(t *testing.T, network string) (client, server net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestRawSock(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			t.Run("read and write", func(t *testing.T) {
				client, server := sockPair(t, network)
				rs := newRawSock(server)
				if rs == nil {
					t.Fatal("no RawConn")
				}
				if _, err := client.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 64)
				n, err := rs.Read(buf)
				if err != nil || string(buf[:n]) != "*1\r\n$4\r\nPING\r\n" {
					t.Fatalf("Read = %q, %v", buf[:n], err)
				}
				if n, err := rs.Write([]byte("+PONG\r\n")); n != 7 || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				got := make([]byte, 7)
				if _, err := io.ReadFull(client, got); err != nil || string(got) != "+PONG\r\n" {
					t.Fatalf("client read %q, %v", got, err)
				}
			})
			t.Run("read waits for data", func(t *testing.T) {
				client, server := sockPair(t, network)
				rs := newRawSock(server)
				done := make(chan string, 1)
				go func() {
					buf := make([]byte, 16)
					n, err := rs.Read(buf)
					if err != nil {
						done <- err.Error()
						return
					}
					done <- string(buf[:n])
				}()
				if _, err := client.Write([]byte("late")); err != nil {
					t.Fatal(err)
				}
				if got := <-done; got != "late" {
					t.Fatalf("Read = %q", got)
				}
			})
			t.Run("EOF", func(t *testing.T) {
				client, server := sockPair(t, network)
				rs := newRawSock(server)
				client.Close()
				if n, err := rs.Read(make([]byte, 8)); n != 0 || err != io.EOF {
					t.Fatalf("Read = %d, %v; want 0, EOF", n, err)
				}
			})
			t.Run("read deadline", func(t *testing.T) {
				_, server := sockPair(t, network)
				rs := newRawSock(server)
				_ = server.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
				_, err := rs.Read(make([]byte, 8))
				if !errors.Is(err, os.ErrDeadlineExceeded) || !isTimeout(err) {
					t.Fatalf("Read = %v; want a deadline error", err)
				}
			})
			t.Run("closed", func(t *testing.T) {
				_, server := sockPair(t, network)
				rs := newRawSock(server)
				server.Close()
				if _, err := rs.Read(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("Read = %v; want net.ErrClosed", err)
				}
				if _, err := rs.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("Write = %v; want net.ErrClosed", err)
				}
			})
			t.Run("write larger than the socket buffer", func(t *testing.T) {
				// The write fills the socket, parks until the reader
				// drains it, and finishes: every byte arrives in order.
				client, server := sockPair(t, network)
				rs := newRawSock(server)
				big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
				got := make(chan []byte, 1)
				go func() {
					b, _ := io.ReadAll(io.LimitReader(client, int64(len(big))))
					got <- b
				}()
				if n, err := rs.Write(big); n != len(big) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				if b := <-got; !bytes.Equal(b, big) {
					t.Fatalf("reader got %d bytes, not the %d written", len(b), len(big))
				}
			})
			t.Run("write deadline", func(t *testing.T) {
				// Nobody reads: the write fills the socket buffers and
				// then times out, reporting how much it wrote.
				_, server := sockPair(t, network)
				rs := newRawSock(server)
				_ = server.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
				n, err := rs.Write(make([]byte, 64<<20))
				if !isTimeout(err) || n <= 0 || n >= 64<<20 {
					t.Fatalf("Write = %d, %v; want part of it and a timeout", n, err)
				}
			})
			t.Run("peer gone", func(t *testing.T) {
				client, server := sockPair(t, network)
				rs := newRawSock(server)
				client.Close()
				var err error
				deadline := time.Now().Add(10 * time.Second)
				for err == nil && time.Now().Before(deadline) {
					_, err = rs.Write([]byte("+OK\r\n"))
				}
				if err == nil {
					t.Fatal("writes to a closed peer kept succeeding")
				}
			})
		})
	}
}

func TestRawSockNotForTLS(t *testing.T) {
	// A connection without a RawConn (TLS) keeps net.Conn's own I/O.
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	if newRawSock(c1) != nil {
		t.Fatal("net.Pipe has no socket, yet got a rawSock")
	}
}
