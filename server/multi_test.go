package server

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startRedisServer runs a throwaway redis-server on a unix socket and
// returns a raw connection to it; it skips t if redis-server is missing.
func startRedisServer(t *testing.T) *rawConn {
	t.Helper()
	return dialUnix(t, startRedisSocket(t))
}

// startRedisSocket starts a reference redis-server listening on a unix
// socket only and returns the socket's path; it skips t without one.
func startRedisSocket(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	waitFor(t, 10*time.Second, "redis-server socket", func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return sock
}

// dialUnix connects to the reference server's socket.
func dialUnix(t *testing.T, sock string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// TestMultiExecMatchesRedis runs transactions (no WATCH) against
// raftstream and a real redis-server and compares the replies byte for
// byte.
func TestMultiExecMatchesRedis(t *testing.T) {
	ref := startRedisServer(t)
	s := startServer(t, Config{}, startNode(t))
	got := dialRaw(t, s)
	script := [][]string{
		{"EXEC"},
		{"DISCARD"},
		{"MULTI"},
		{"MULTI"},
		{"XADD", "s", "1-1", "a", "1"},
		{"XLEN", "s"},
		{"EXEC"},
		{"XLEN", "s"},
		// Errors while queuing abort the transaction.
		{"MULTI"},
		{"XADD", "s", "2-1", "a", "1"},
		{"NOSUCHCOMMAND", "x"},
		{"EXEC"},
		{"MULTI"},
		{"XADD", "s", "2-1", "a"},
		{"EXEC"},
		{"XLEN", "s"},
		// Errors while executing are reply elements; the rest runs.
		{"MULTI"},
		{"XADD", "s", "0-1", "a", "1"},
		{"XADD", "s", "3-1", "b", "2"},
		{"XRANGE", "s", "-", "+"},
		{"XREAD", "BLOCK", "1000", "STREAMS", "s", "$"},
		{"XGROUP", "CREATE", "s", "g", "0"},
		{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"},
		{"XACK", "s", "g", "1-1"},
		{"EXEC"},
		{"MULTI"},
		{"XDEL", "s", "1-1"},
		{"DISCARD"},
		{"XLEN", "s"},
		{"MULTI"},
		{"EXEC"},
		// Connection commands Redis queues inside MULTI.
		{"MULTI"},
		{"PING"},
		{"PING", "hello"},
		{"ECHO", "e"},
		{"UNWATCH"},
		{"XLEN", "s"},
		{"EXEC"},
		// Server commands queue too; SELECT switches the database of
		// the commands after it and, once EXEC ran, the connection's.
		{"MULTI"},
		{"SELECT", "1"},
		{"XADD", "s", "1-1", "a", "1"},
		{"SELECT", "99"},
		{"SELECT", "x"},
		{"CLIENT", "SETNAME", "tx"},
		{"CLIENT", "GETNAME"},
		{"CONFIG", "GET", "stream-node-max-entries"},
		{"XLEN", "s"},
		{"EXEC"},
		{"XLEN", "s"},
		{"CLIENT", "GETNAME"},
		{"SELECT", "0"},
		{"XLEN", "s"},
		// A WATCH abort runs none of them.
		{"WATCH", "w"},
		{"XADD", "w", "1-1", "a", "1"},
		{"MULTI"},
		{"SELECT", "3"},
		{"CLIENT", "SETNAME", "no"},
		{"EXEC"},
		{"XLEN", "w"},
		{"CLIENT", "GETNAME"},
		// Only server commands, no log entry.
		{"MULTI"},
		{"CLIENT", "GETNAME"},
		{"ECHO", "only"},
		{"EXEC"},
		// SHUTDOWN cannot be queued.
		{"MULTI"},
		{"XADD", "s", "5-1", "a", "1"},
		{"SHUTDOWN"},
		{"EXEC"},
		// RESET discards an open transaction.
		{"MULTI"},
		{"XADD", "s", "9-1", "a", "1"},
		{"RESET"},
		{"EXEC"},
		{"XLEN", "s"},
		{"HELLO", "3"},
		{"MULTI"},
		{"XINFO", "STREAM", "nokey"},
		{"XREAD", "STREAMS", "nokey", "0"},
		{"XPENDING", "s", "g"},
		{"PING"},
		{"CLIENT", "GETNAME"},
		{"EXEC"},
	}
	for _, cmd := range script {
		want := ref.do(cmd...)
		if cmd[0] == "HELLO" {
			got.do(cmd...) // server identity differs
			continue
		}
		if g := got.do(cmd...); g != want {
			t.Errorf("%s:\n got %q\nwant %q", strings.Join(cmd, " "), g, want)
		}
	}
}

// TestMultiPipelined sends a whole transaction in one write, as clients'
// transaction pipelines do.
func TestMultiPipelined(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	var b []byte
	for _, cmd := range [][]string{{"MULTI"}, {"XADD", "p", "1-1", "f", "v"}, {"XADD", "p", "2-1", "f", "v"}, {"XLEN", "p"}, {"EXEC"}, {"PING"}} {
		b = append(b, encode(cmd...)...)
	}
	c.send(b)
	for _, want := range []string{"+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "+QUEUED\r\n",
		"*3\r\n$3\r\n1-1\r\n$3\r\n2-1\r\n:2\r\n", "+PONG\r\n"} {
		if got := c.read(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	// TIME queued between writes: EXEC's reply has it in its place.
	b = b[:0]
	for _, cmd := range [][]string{{"MULTI"}, {"XADD", "p", "3-1", "f", "v"}, {"TIME"}, {"XLEN", "p"}, {"EXEC"}} {
		b = append(b, encode(cmd...)...)
	}
	c.send(b)
	for _, want := range []string{"+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "+QUEUED\r\n"} {
		if got := c.read(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	re := regexp.MustCompile(`^\*3\r\n\$3\r\n3-1\r\n\*2\r\n\$10\r\n[0-9]{10}\r\n\$[0-9]\r\n[0-9]{1,6}\r\n:3\r\n$`)
	if got := c.read(); !re.MatchString(got) {
		t.Errorf("EXEC with TIME: %q", got)
	}
}

// TestWatch checks that EXEC aborts (null reply) when a watched key was
// changed, created or deleted by another client, and runs otherwise.
func TestWatch(t *testing.T) {
	s := startServer(t, Config{}, startNode(t))
	c := dialRaw(t, s)
	other := dialRaw(t, s)
	c.do("XADD", "w", "1-1", "f", "v")
	txn := func(watch string, between []string, wantNull bool) {
		t.Helper()
		c.expect("+OK\r\n", "WATCH", watch)
		if between != nil {
			other.do(between...)
		}
		c.expect("+OK\r\n", "MULTI")
		c.expect("+QUEUED\r\n", "XLEN", "w")
		got := c.do("EXEC")
		if isNull := got == "*-1\r\n"; isNull != wantNull {
			t.Errorf("WATCH %s, then %q: EXEC = %q, want null %v", watch, between, got, wantNull)
		}
	}
	txn("w", nil, false)
	txn("w", []string{"XADD", "w", "2-1", "f", "v"}, true)
	txn("w", []string{"XLEN", "w"}, false) // reads do not touch
	txn("w", []string{"XADD", "other", "*", "f", "v"}, false)
	txn("w", []string{"XTRIM", "w", "MAXLEN", "0"}, true)
	txn("missing", []string{"XADD", "missing", "1-1", "f", "v"}, true)
	txn("gone", []string{"XADD", "gone", "1-1", "f", "v"}, true)
	c.do("DEL", "gone")
	txn("gone", []string{"XADD", "gone", "1-1", "f", "v"}, true) // recreated
	txn("missing", []string{"DEL", "missing"}, true)
	// Deleted and recreated between WATCH and EXEC.
	c.expect("+OK\r\n", "WATCH", "w")
	other.do("DEL", "w")
	other.do("XADD", "w", "1-1", "f", "v")
	c.do("MULTI")
	c.do("XLEN", "w")
	c.expect("*-1\r\n", "EXEC")
	// UNWATCH and a watched key in another database.
	c.expect("+OK\r\n", "WATCH", "w")
	c.expect("+OK\r\n", "UNWATCH")
	other.do("XADD", "w", "*", "f", "v")
	c.do("MULTI")
	c.do("XLEN", "w")
	c.expect("*1\r\n:2\r\n", "EXEC")
	c.expect("+OK\r\n", "MULTI")
	c.expect("-ERR WATCH inside MULTI is not allowed\r\n", "WATCH", "w")
	c.expect("+OK\r\n", "DISCARD")
}
