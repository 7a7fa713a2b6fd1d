package faults

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// echoServer echoes every line back; it stops with the test.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

type lineConn struct {
	net.Conn
	r *bufio.Reader
}

func dialLine(t *testing.T, addr string) *lineConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &lineConn{c, bufio.NewReader(c)}
}

// roundTrip writes a line and reads the echo within d.
func (c *lineConn) roundTrip(line string, d time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	return c.r.ReadString('\n')
}

// TestProxyModes checks each link mode on an echo server: pass forwards,
// blackhole is silence for old and new connections (not a refusal) and
// heals by cutting or by late delivery, a one-way blackhole holds only
// one direction, delay adds latency, loss cuts,
// and close leaves no goroutine behind.
func TestProxyModes(t *testing.T) {
	base := runtime.NumGoroutine()
	target := echoServer(t)
	p, err := newProxy("a", "b", 1)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
	func() {
		defer p.close()
		c := dialLine(t, p.addr())
		if got, err := c.roundTrip("hello", 5*time.Second); err != nil || got != "hello\n" {
			t.Fatalf("pass: %q %v", got, err)
		}

		// Blackhole, then heal letting held bytes through.
		p.setState(linkState{mode: linkBlackhole}, false)
		if got, err := c.roundTrip("held", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("blackhole: got %q %v, want silence", got, err)
		}
		fresh := dialLine(t, p.addr()) // accepted, not refused
		if got, err := fresh.roundTrip("new", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("blackhole, new connection: got %q %v, want silence", got, err)
		}
		p.setState(linkState{}, false)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if got, err := c.r.ReadString('\n'); err != nil || got != "held\n" {
			t.Fatalf("heal (resume): %q %v, want the held line", got, err)
		}
		_ = fresh.SetDeadline(time.Now().Add(5 * time.Second))
		if got, err := fresh.r.ReadString('\n'); err != nil || got != "new\n" {
			t.Fatalf("heal (resume), new connection: %q %v", got, err)
		}

		// Blackhole, then heal cutting what lived through it.
		p.setState(linkState{mode: linkBlackhole}, false)
		_, _ = c.roundTrip("lost", 200*time.Millisecond)
		p.setState(linkState{}, true)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if got, err := c.r.ReadString('\n'); err == nil {
			t.Fatalf("heal (cut): read %q from a connection that should be cut", got)
		}
		c = dialLine(t, p.addr())
		if got, err := c.roundTrip("again", 5*time.Second); err != nil || got != "again\n" {
			t.Fatalf("after heal: %q %v", got, err)
		}

		// One way: the request goes through, the reply is held; the
		// heal lets it through late.
		p.setState(linkState{mode: linkBlackhole, only: toDialer}, false)
		if got, err := c.roundTrip("oneway", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("one-way (replies held): got %q %v, want silence", got, err)
		}
		p.setState(linkState{}, false)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if got, err := c.r.ReadString('\n'); err != nil || got != "oneway\n" {
			t.Fatalf("one-way heal: %q %v, want the held reply", got, err)
		}
		// The other way: a new connection opens, its request is held.
		p.setState(linkState{mode: linkBlackhole, only: toTarget}, false)
		req := dialLine(t, p.addr())
		if got, err := req.roundTrip("req", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("one-way (requests held): got %q %v, want silence", got, err)
		}
		p.setState(linkState{}, false)
		_ = req.SetDeadline(time.Now().Add(5 * time.Second))
		if got, err := req.r.ReadString('\n'); err != nil || got != "req\n" {
			t.Fatalf("one-way heal, new connection: %q %v", got, err)
		}

		// Delay: both directions are held at least lo.
		p.setState(linkState{mode: linkDelay, lo: 50 * time.Millisecond, hi: 60 * time.Millisecond}, false)
		start := time.Now()
		if got, err := c.roundTrip("slow", 5*time.Second); err != nil || got != "slow\n" {
			t.Fatalf("delay: %q %v", got, err)
		}
		if rtt := time.Since(start); rtt < 100*time.Millisecond {
			t.Errorf("delay 50-60ms per direction: round trip took %v", rtt)
		}

		// Loss that always cuts.
		p.setState(linkState{mode: linkLoss, cutP: 1}, false)
		if got, err := c.roundTrip("cut", 5*time.Second); err == nil {
			t.Fatalf("loss with cutP=1: got %q", got)
		}
		p.setState(linkState{}, false)
		p.mu.Lock()
		s := p.stats
		p.mu.Unlock()
		if s.Conns != 4 || s.Cut < 2 {
			t.Errorf("stats %+v: want 4 connections, >= 2 cut", s)
		}
	}()
	// The echo server and test conns are cleaned up later; only the
	// proxy's goroutines must be gone now. The echo server's goroutines
	// (accept loop + one per live connection) are not counted in base.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+1 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines after proxy close: %d, before %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}
