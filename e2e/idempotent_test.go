package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// replyDropper is a TCP proxy in front of a server that loses one reply:
// the first request containing an XADD is forwarded, the server's reply
// to it is read and thrown away, and both connections are closed — what
// a client sees when the node dies between committing its write and
// sending the reply, made deterministic. Everything else is passed on.
type replyDropper struct {
	ln     net.Listener
	target string
	// claimed is set by the connection that carries the XADD whose reply
	// is dropped; dropped is closed once it was.
	claimed atomic.Bool
	dropped chan struct{}
}

func newReplyDropper(t *testing.T, target string) *replyDropper {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	p := &replyDropper{ln: ln, target: target, dropped: make(chan struct{})}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *replyDropper) Addr() string { return p.ln.Addr().String() }

func (p *replyDropper) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	var mine atomic.Bool // this connection carries the doomed XADD
	go func() {          // client -> server
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				// Claim before forwarding, so the reply cannot arrive
				// before the other direction knows to drop it.
				if bytes.Contains(bytes.ToLower(buf[:n]), []byte("\r\nxadd\r\n")) && p.claimed.CompareAndSwap(false, true) {
					mine.Store(true)
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				_ = server.Close()
				return
			}
		}
	}()
	buf := make([]byte, 64<<10) // server -> client
	for {
		n, err := server.Read(buf)
		if n > 0 && mine.Load() {
			// The client sends the XADD only after the replies to its
			// connection setup, so this is the XADD's reply.
			_ = client.Close()
			_ = server.Close()
			close(p.dropped)
			return
		}
		if n > 0 {
			if _, werr := client.Write(buf[:n]); werr != nil {
				_ = server.Close()
				return
			}
		}
		if err != nil {
			_ = client.Close()
			return
		}
	}
}

// TestAutoIdempotentLostReply: go-redis resends an XADD whose reply was
// lost (it retries on EOF). Without --auto-idempotent the stream then
// holds the entry twice; with it, once, and the resent XADD returns the
// ID the lost reply carried.
func TestAutoIdempotentLostReply(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream only")
	}
	for _, tc := range []struct {
		name  string
		flags []string
		want  int64
	}{
		{"off", nil, 2},
		{"on", []string{"--auto-idempotent"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := StartNode(t, tc.flags...)
			proxy := newReplyDropper(t, node.Addr)
			c := redis.NewClient(&redis.Options{Addr: proxy.Addr(), ClientName: "orders-api-7f9c",
				DialTimeout: 5 * time.Second, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout})
			defer c.Close()
			ctx := testCtx(t, time.Minute)
			id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []any{"order", "1001", "amount", "25"}}).Result()
			must(t, err)
			select {
			case <-proxy.dropped:
			default:
				t.Fatal("the proxy dropped no reply")
			}
			direct := newClient(t, node.Addr, 2, 0)
			msgs, err := direct.XRange(ctx, "orders", "-", "+").Result()
			must(t, err)
			if int64(len(msgs)) != tc.want {
				t.Fatalf("after the resent XADD the stream holds %d entries, want %d", len(msgs), tc.want)
			}
			if msgs[0].ID != id && tc.want == 1 {
				t.Errorf("resent XADD returned %s, the entry is %s", id, msgs[0].ID)
			}
			t.Logf("%s: the stream holds %d after one lost reply and go-redis's resend", tc.name, len(msgs))
		})
	}
}

// resendPy is a redis-py client that names itself and resends a command
// once its connection breaks, as an application configures redis-py to
// retry; it prints the ID its XADD returned.
const resendPy = `
import sys, redis
from redis.backoff import NoBackoff
from redis.retry import Retry
r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), client_name="orders-api-py",
                retry=Retry(NoBackoff(), 3), retry_on_error=[redis.exceptions.ConnectionError])
print(r.xadd("orders", {"order": "1001", "amount": "25"}).decode())
`

// TestAutoIdempotentLostReplyRedisPy: redis-py sends its client_name again
// on the connection it opens to resend an XADD whose reply was lost, so
// --auto-idempotent stores the XADD once.
func TestAutoIdempotentLostReplyRedisPy(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream only")
	}
	if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err != nil {
		t.Skipf("redis-py not importable by %s: %v\n%s", systemPython, err, out)
	}
	node := StartNode(t, "--auto-idempotent")
	proxy := newReplyDropper(t, node.Addr)
	host, port, _ := net.SplitHostPort(proxy.Addr())
	ctx := testCtx(t, time.Minute)
	out, err := exec.CommandContext(ctx, systemPython, "-c", resendPy, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-py: %v\n%s", err, out)
	}
	select {
	case <-proxy.dropped:
	default:
		t.Fatal("the proxy dropped no reply")
	}
	msgs, err := newClient(t, node.Addr, 2, 0).XRange(ctx, "orders", "-", "+").Result()
	must(t, err)
	if len(msgs) != 1 || msgs[0].ID != strings.TrimSpace(string(out)) {
		t.Fatalf("the stream holds %v; redis-py's resend returned %q", msgs, out)
	}
}

// TestAutoIdempotentLeaderKill: writers share a go-redis client pointed at
// the leader, with a client name and --auto-idempotent on every node, and
// append plain XADDs (each with its own content) as fast as they can. The
// leader is killed with SIGKILL while XADDs are in flight and restarted;
// go-redis retries what broke (EOF, refused dials) and the writers resend
// what go-redis gave up on, with the same arguments. Every acknowledged
// write must be stored once, under the ID its writer got.
func TestAutoIdempotentLeaderKill(t *testing.T) {
	nodes := startCluster3(t, 3, "--auto-idempotent")
	leader := waitNewLeader(t, nodes)
	c := redis.NewClient(&redis.Options{Addr: leader.Addr, ClientName: "loader",
		// Retry long enough to outlast the restart of the killed node.
		MaxRetries: 200, MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 100 * time.Millisecond,
		DialTimeout: time.Second, ReadTimeout: 5 * time.Second, PoolSize: 8})
	defer c.Close()

	// The writers share one producer (the client name), and IDMP keeps
	// the last IDMP-MAXSIZE entries of a producer: a writer still backing
	// off must find its first attempt there when its resend arrives,
	// however many XADDs the writers that reconnected first have added
	// meanwhile. So the stream gets Redis's largest size, as
	// docs/operations.md advises for streams written under one name by
	// many connections.
	admin := newClient(t, leader.Addr, 2, 0)
	must(t, admin.XGroupCreateMkStream(testCtx(t, time.Minute), "load", "g", "$").Err())
	must(t, admin.Do(testCtx(t, time.Minute), "XCFGSET", "load", "IDMP-MAXSIZE", "10000").Err())

	const writers = 8
	type key struct{ w, seq int }
	var (
		mu      sync.Mutex
		acked   = map[key]string{}
		appErrs int
		samples []string
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; ctx.Err() == nil; {
				id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "load",
					Values: []any{"w", strconv.Itoa(w), "seq", strconv.Itoa(seq)}}).Result()
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						appErrs++
						if len(samples) < 8 {
							samples = append(samples, err.Error())
						}
					}
					mu.Unlock()
					select { // resend the same XADD: go-redis gave up
					case <-time.After(20 * time.Millisecond):
					case <-ctx.Done():
					}
					continue
				}
				acked[key{w, seq}] = id
				mu.Unlock()
				seq++
			}
		}()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	grow := func(what string, n int) {
		t.Helper()
		from := count()
		waitFor(t, time.Minute, fmt.Sprintf("%d more acknowledged writes %s", n, what), func() bool { return count() >= from+n })
	}
	grow("before the kill", 200)
	leader.Kill()
	t.Logf("killed leader %s with SIGKILL", leader.id)
	next := waitNewLeader(t, nodes)
	leader.Start() // the client only knows the killed node's address
	grow("after the restart", 200)
	cancel()
	wg.Wait()

	verify := newClient(t, next.Addr, 2, 0)
	vctx := testCtx(t, time.Minute)
	msgs, err := verify.XRange(vctx, "load", "-", "+").Result()
	must(t, err)
	stored := map[key]string{}
	for _, m := range msgs {
		w, _ := strconv.Atoi(fmt.Sprint(m.Values["w"]))
		seq, _ := strconv.Atoi(fmt.Sprint(m.Values["seq"]))
		k := key{w, seq}
		if prev, dup := stored[k]; dup {
			t.Errorf("writer %d seq %d stored twice (%s and %s)", w, seq, prev, m.ID)
		}
		stored[k] = m.ID
	}
	for k, id := range acked {
		if stored[k] != id {
			t.Errorf("writer %d seq %d acknowledged as %s, stored as %q", k.w, k.seq, id, stored[k])
		}
	}
	dups := "?"
	if info, err := verify.Do(vctx, "XINFO", "STREAM", "load").Slice(); err == nil {
		for i := 0; i+1 < len(info); i += 2 {
			if info[i] == "iids-duplicates" {
				dups = fmt.Sprint(info[i+1])
			}
		}
	} else if !errors.Is(err, redis.Nil) {
		t.Logf("XINFO STREAM: %v", err)
	}
	t.Logf("%d writes acknowledged, %d entries stored, no duplicates; resent XADDs answered from IDMP: %s; "+
		"errors go-redis passed to the writers: %d %q", len(acked), len(stored), dups, appErrs, samples)
}
