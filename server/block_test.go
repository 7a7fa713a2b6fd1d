package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// waitBlocked waits until n clients are blocked on s.
func waitBlocked(t *testing.T, s *Server, n int) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d blocked clients", n), func() bool { return s.waiters.blockedClients() == n })
}

// result is the outcome of a command run in the background.
type result[T any] struct {
	val T
	err error
	at  time.Time
}

func goRun[T any](fn func() (T, error)) <-chan result[T] {
	ch := make(chan result[T], 1)
	go func() {
		v, err := fn()
		ch <- result[T]{v, err, time.Now()}
	}()
	return ch
}

func recv[T any](t *testing.T, ch <-chan result[T]) result[T] {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("blocked command did not return")
	}
	panic("unreachable")
}

func TestBlockingXRead(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			key := fmt.Sprintf("xr%d", proto)
			reader := newGoRedis(t, s, &redis.Options{Protocol: proto})
			writer := newGoRedis(t, s, &redis.Options{Protocol: proto})
			if err := writer.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: "1-1", Values: []string{"old", "x"}}).Err(); err != nil {
				t.Fatal(err)
			}
			ch := goRun(func() ([]redis.XStream, error) {
				return reader.XRead(ctx, &redis.XReadArgs{Streams: []string{key, "$"}, Block: 0}).Result()
			})
			waitBlocked(t, s, 1)
			sent := time.Now()
			if err := writer.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: "2-1", Values: []string{"new", "y"}}).Err(); err != nil {
				t.Fatal(err)
			}
			r := recv(t, ch)
			if r.err != nil || len(r.val) != 1 || len(r.val[0].Messages) != 1 || r.val[0].Messages[0].ID != "2-1" {
				t.Fatalf("XREAD BLOCK = %v, %v", r.val, r.err)
			}
			if lat := r.at.Sub(sent); lat > time.Second {
				t.Errorf("wake-up latency %v", lat)
			}
			// Timeout: nil reply.
			start := time.Now()
			_, err := reader.XRead(ctx, &redis.XReadArgs{Streams: []string{key, "$"}, Block: 100 * time.Millisecond}).Result()
			if !errors.Is(err, redis.Nil) {
				t.Fatalf("timed-out XREAD: %v, want nil", err)
			}
			if d := time.Since(start); d < 100*time.Millisecond {
				t.Errorf("timed out after %v, before 100ms", d)
			}
			waitBlocked(t, s, 0)
		})
	}
}

func TestBlockingRawReplies(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	c.expect("*-1\r\n", "XREAD", "BLOCK", "10", "STREAMS", "nokey", "$")
	c.expect("-NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option\r\n",
		"XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "nokey", ">")
	c.do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	c.expect("*-1\r\n", "XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", ">")
	c.do("HELLO", "3")
	c.expect("_\r\n", "XREAD", "BLOCK", "10", "STREAMS", "nokey", "$")
	c.expect("_\r\n", "XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", ">")
	c.expect("-ERR timeout is negative\r\n", "XREAD", "BLOCK", "-1", "STREAMS", "s", "$")

	// Pipelined: PING's reply must arrive while XREAD blocks.
	c.send(append(encode("PING"), encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$")...))
	if got := c.read(); got != "+PONG\r\n" {
		t.Fatalf("pipelined PING = %q", got)
	}
	waitBlocked(t, s, 1)
	// Bytes sent while blocked are kept and run afterwards, in order.
	c.send(encode("PING", "after"))
	w := dialRaw(t, s)
	w.do("XADD", "s", "5-1", "f", "v")
	if got := c.read(); !strings.Contains(got, "5-1") {
		t.Fatalf("blocked XREAD = %q", got)
	}
	if got := c.read(); got != "$5\r\nafter\r\n" {
		t.Fatalf("PING sent while blocked = %q", got)
	}
}
