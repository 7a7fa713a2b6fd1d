package server

import (
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bigStream fills key with n entries of a 1 MiB field, so XRANGE key - +
// replies with about n MiB.
func bigStream(t *testing.T, c *rawConn, key string, n int) {
	t.Helper()
	v := strings.Repeat("v", 1<<20)
	for i := 1; i <= n; i++ {
		c.expect(bulkReply(strconv.Itoa(i)+"-0"), "XADD", key, strconv.Itoa(i)+"-0", "f", v)
	}
}

func bulkReply(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

// clientField reads field of client id from CLIENT LIST through c.
func clientField(t *testing.T, c *rawConn, id int, field string) (int64, bool) {
	t.Helper()
	list := bulkBody(c.do("CLIENT", "LIST"))
	for _, line := range strings.Split(list, "\n") {
		if !strings.HasPrefix(line, "id="+strconv.Itoa(id)+" ") {
			continue
		}
		m := regexp.MustCompile(` ` + field + `=(\d+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no %s in %q", field, line)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n, true
	}
	return 0, false
}

func infoField(t *testing.T, c *rawConn, section, field string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + field + `:(\S*)\r$`).FindStringSubmatch(bulkBody(c.do("INFO", section)))
	if m == nil {
		t.Fatalf("INFO %s has no %s", section, field)
	}
	return m[1]
}

// TestOutputBackpressure: a client pipelining big reads without reading
// the replies holds at most one reply in server memory (the issue saw
// +78 MB per XRANGE), stops being served meanwhile, and gets every reply
// intact once it reads.
func TestOutputBackpressure(t *testing.T) {
	s, _ := startDirect(t, Config{})
	admin := dialRaw(t, s)
	bigStream(t, admin, "big", 8)
	reply := admin.do("XRANGE", "big", "-", "+")

	c := dialRaw(t, s)
	id := clientID(t, c)
	const n = 50 // 400 MiB of replies if buffered
	var req []byte
	for range n {
		req = append(req, encode("XRANGE", "big", "-", "+")...)
	}
	req = append(req, encode("PING")...)
	go func() { _, _ = c.c.Write(req) }()

	waitFor(t, 10*time.Second, "the client to block on its output", func() bool {
		omem, _ := clientField(t, admin, id, "omem")
		return omem > 0
	})
	// The kernel takes a few MB; everything else waits in the client's
	// goroutine, which stops reading requests.
	time.Sleep(200 * time.Millisecond) // let a runaway buffer show itself
	if m := s.clientMem.Load(); m > int64(len(reply)+outGather) {
		t.Fatalf("unsent output %d bytes, want at most one reply (%d)", m, len(reply))
	}
	if omem, _ := clientField(t, admin, id, "omem"); omem > int64(len(reply)+outGather) {
		t.Fatalf("CLIENT LIST omem=%d, want <= %d", omem, len(reply)+outGather)
	}
	waitFor(t, 10*time.Second, "client_recent_max_output_buffer > 0", func() bool {
		return infoField(t, admin, "clients", "client_recent_max_output_buffer") != "0"
	})
	for i := range n {
		if got := c.read(); got != reply {
			t.Fatalf("reply %d differs: %d bytes, want %d", i, len(got), len(reply))
		}
	}
	if got := c.read(); got != "+PONG\r\n" {
		t.Fatalf("last reply %q", got)
	}
	waitFor(t, 5*time.Second, "omem back to 0", func() bool { return s.clientMem.Load() == 0 })
}

func TestOutputBufferLimit(t *testing.T) {
	t.Run("hard limit closes at once", func(t *testing.T) {
		s, _ := startDirect(t, Config{})
		admin := dialRaw(t, s)
		bigStream(t, admin, "big", 2)
		admin.expect("+OK\r\n", "CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0")
		c := dialRaw(t, s)
		c.expect("+PONG\r\n", "PING")
		// The pipelined PING's reply is discarded with the XRANGE's.
		c.send(append(encode("XRANGE", "big", "-", "+"), encode("PING")...))
		c.expectClosed()
		if got := infoField(t, admin, "stats", "client_output_buffer_limit_disconnections"); got != "1" {
			t.Errorf("client_output_buffer_limit_disconnections:%s, want 1", got)
		}
		// Replies under the limit are untouched.
		admin.expect(bulkReply("1-0"), "XADD", "small", "1-0", "f", "v")
	})
	t.Run("soft limit closes after soft-seconds", func(t *testing.T) {
		s, _ := startDirect(t, Config{ClientOutputBufferLimit: "normal 0 1mb 1"})
		admin := dialRaw(t, s)
		bigStream(t, admin, "big", 8)
		// A reader that keeps up is over the soft limit only briefly.
		r := dialRaw(t, s)
		for range 3 {
			if got := r.do("XRANGE", "big", "-", "+"); len(got) < 8<<20 {
				t.Fatalf("short reply: %d bytes", len(got))
			}
		}
		c := dialRaw(t, s)
		id := clientID(t, c)
		start := time.Now()
		c.send(encode("XRANGE", "big", "-", "+"))
		waitFor(t, 10*time.Second, "the non-reading client to be closed", func() bool {
			_, ok := clientField(t, admin, id, "omem")
			return !ok
		})
		if d := time.Since(start); d < time.Second {
			t.Errorf("closed after %v, before soft-seconds", d)
		}
		if got := infoField(t, admin, "stats", "client_output_buffer_limit_disconnections"); got != "1" {
			t.Errorf("client_output_buffer_limit_disconnections:%s, want 1", got)
		}
		r.expect("+PONG\r\n", "PING")
	})
}

func TestMaxmemoryClients(t *testing.T) {
	s, _ := startDirect(t, Config{})
	admin := dialRaw(t, s)
	bigStream(t, admin, "big", 8)
	admin.expect("+OK\r\n", "CLIENT", "NO-EVICT", "on")
	admin.expect("+OK\r\n", "CONFIG", "SET", "maxmemory-clients", "1mb")

	spared := dialRaw(t, s)
	spared.expect("+OK\r\n", "CLIENT", "NO-EVICT", "on")
	spared.send(encode("XRANGE", "big", "-", "+"))
	waitFor(t, 10*time.Second, "the NO-EVICT client to hold output", func() bool { return s.clientMem.Load() > 1<<20 })

	// Any other client holding output is evicted while the total is over
	// the limit, as in Redis.
	c := dialRaw(t, s)
	c.send(encode("XRANGE", "big", "-", "+"))
	c.expectClosed()
	if got := infoField(t, admin, "stats", "evicted_clients"); got != "1" {
		t.Errorf("evicted_clients:%s, want 1", got)
	}
	if got := spared.read(); len(got) < 8<<20 {
		t.Fatalf("spared client's reply: %d bytes", len(got))
	}
	spared.expect("+PONG\r\n", "PING")
}

func TestOutputLimitConfig(t *testing.T) {
	s, _ := startDirect(t, Config{})
	c := dialRaw(t, s)
	get := func(name string) string {
		t.Helper()
		r := c.do("CONFIG", "GET", name)
		parts := strings.Split(r, "\r\n")
		return parts[len(parts)-2]
	}
	// Expected texts and values as redis-server 7.0.15 gives them.
	if got := get("client-output-buffer-limit"); got != "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60" {
		t.Errorf("default: %q", got)
	}
	const prefix = "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
	for _, tc := range []struct{ value, want string }{
		{"normal 1", prefix + "Wrong number of arguments in buffer limit configuration.\r\n"},
		{"master 1 2 3", prefix + "Invalid client class specified in buffer limit configuration.\r\n"},
		{"normal 1mb 2x 3", prefix + "Error in hard, soft or soft_seconds setting in buffer limit configuration.\r\n"},
		{"normal 1mb 2 -3", prefix + "Error in hard, soft or soft_seconds setting in buffer limit configuration.\r\n"},
		{"normal 1.5mb 0 0", prefix + "Error in hard, soft or soft_seconds setting in buffer limit configuration.\r\n"},
		{"normal 10mb 5mb 3 replica 1 2 3", "+OK\r\n"},
		{"", "+OK\r\n"},
		{"NORMAL 1k 2g 4 Pubsub 4 5 6", "+OK\r\n"},
	} {
		c.expect(tc.want, "CONFIG", "SET", "client-output-buffer-limit", tc.value)
	}
	if got := get("client-output-buffer-limit"); got != "normal 1000 2000000000 4 slave 1 2 3 pubsub 4 5 6" {
		t.Errorf("after SET: %q", got)
	}

	const mprefix = "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - "
	for _, tc := range []struct{ value, want, get string }{
		{"10%", "+OK\r\n", "10%"},
		{"0%", "+OK\r\n", "0"},
		{"2mb", "+OK\r\n", "2097152"},
		{"101%", mprefix + "percentage argument must be less or equal to 100\r\n", "2097152"},
		{"-1", mprefix + "argument must be a memory or percent value\r\n", "2097152"},
		{"abc", mprefix + "argument must be a memory or percent value\r\n", "2097152"},
		{"0", "+OK\r\n", "0"},
	} {
		c.expect(tc.want, "CONFIG", "SET", "maxmemory-clients", tc.value)
		if got := get("maxmemory-clients"); got != tc.get {
			t.Errorf("after SET %q: GET %q, want %q", tc.value, got, tc.get)
		}
	}
	if _, err := newServer(Config{Addr: "127.0.0.1:0", ClientOutputBufferLimit: "normal 1 2"}, newDirectBackend(), nil); err == nil {
		t.Error("a bad ClientOutputBufferLimit was accepted")
	}
}

// TestBigArguments: big bulk arguments bypass redcon's reader (read once
// into a buffer of their size) and arrive intact, in order, mixed with
// small requests in one pipeline.
func TestBigArguments(t *testing.T) {
	s, _ := startDirect(t, Config{})
	c := dialRaw(t, s)
	a := strings.Repeat("a", bigArg)
	b := strings.Repeat("b", 3*bigArg+7)
	var req []byte
	req = append(req, encode("ECHO", a)...)
	req = append(req, encode("PING")...)
	req = append(req, encode("XADD", "s", "1-0", "f1", a, "f2", "small", "f3", b)...)
	req = append(req, encode("ECHO", strings.Repeat("c", bigArg-1))...)
	// Sent a few bytes at a time: the argument spans many reads.
	go func() {
		for len(req) > 0 {
			n := min(len(req), 5000)
			if _, err := c.c.Write(req[:n]); err != nil {
				return
			}
			req = req[n:]
		}
	}()
	for _, want := range []string{bulkReply(a), "+PONG\r\n", bulkReply("1-0"), bulkReply(strings.Repeat("c", bigArg-1))} {
		if got := c.read(); got != want {
			t.Fatalf("got %d bytes %.40q..., want %d bytes %.40q...", len(got), got, len(want), want)
		}
	}
	c.expect("*1\r\n*2\r\n$3\r\n1-0\r\n*6\r\n$2\r\nf1\r\n"+bulkReply(a)+"$2\r\nf2\r\n$5\r\nsmall\r\n$2\r\nf3\r\n"+bulkReply(b), "XRANGE", "s", "-", "+")
}

// TestBigArgumentMemory: a big XADD allocates about its size for the
// argument plus what the state keeps, not redcon's doubling buffer and
// copy (4.5 times the size before).
func TestBigArgumentMemory(t *testing.T) {
	s, _ := startDirect(t, Config{})
	c := dialRaw(t, s)
	c.expect("+PONG\r\n", "PING")
	const size = 64 << 20
	req := encode("XADD", "s", "1-0", "f", strings.Repeat("v", size))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c.send(req)
	if got := c.read(); got != bulkReply("1-0") {
		t.Fatalf("XADD: %q", got)
	}
	runtime.ReadMemStats(&after)
	// The argument (1x) and the stream's copy of it (1x).
	if d := after.TotalAlloc - before.TotalAlloc; d > 5*size/2 {
		t.Fatalf("a %d MiB XADD allocated %d MiB", size>>20, d>>20)
	}
}
