package engine

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cmpConn is a raw RESP connection to a reference redis-server that
// returns replies as the exact bytes received.
type cmpConn struct {
	c net.Conn
	r *bufio.Reader
}

// startCmpRedis starts a private redis-server on a unix socket in a temp
// dir (no TCP port at all) and stops it when the test ends.
func startCmpRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--save", "",
		"--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("unix", sock)
		if err == nil {
			conn.Close()
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling for the socket, not papering over a race
	}
}

func dialCmp(t *testing.T, sock string, proto int) *cmpConn {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("dial redis: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	cc := &cmpConn{c: conn, r: bufio.NewReader(conn)}
	if proto == 3 {
		if _, err := cc.do("HELLO", "3"); err != nil {
			t.Fatalf("HELLO 3: %v", err)
		}
	}
	return cc
}

// do sends one command and returns the raw reply.
func (cc *cmpConn) do(args ...string) (string, error) {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if err := cc.c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return "", err
	}
	if _, err := cc.c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	var out []byte
	if err := readRawReply(cc.r, &out); err != nil {
		return "", err
	}
	return string(out), nil
}

// readRawReply appends one complete RESP2/RESP3 reply to out.
func readRawReply(r *bufio.Reader, out *[]byte) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return err
	}
	*out = append(*out, line...)
	if len(line) < 3 {
		return errors.New("short RESP line")
	}
	n := 0
	switch line[0] {
	case '$', '=', '!', '*', '~', '>', '%', '|':
		if n, err = strconv.Atoi(string(line[1 : len(line)-2])); err != nil {
			return fmt.Errorf("bad length in %q", line)
		}
	}
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := readFullCmp(r, buf); err != nil {
			return err
		}
		*out = append(*out, buf...)
	case '*', '~', '>':
		for i := 0; i < n; i++ {
			if err := readRawReply(r, out); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := readRawReply(r, out); err != nil {
				return err
			}
		}
		if line[0] == '|' { // an attribute precedes the real reply
			return readRawReply(r, out)
		}
	}
	return nil
}

func readFullCmp(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// resetCmp brings the reference server back to a blank, default state.
func resetCmp(t *testing.T, cc *cmpConn) {
	t.Helper()
	for _, cmd := range [][]string{
		{"SELECT", "0"},
		{"FLUSHALL"},
		{"CONFIG", "SET", "stream-node-max-bytes", "4096", "stream-node-max-entries", "100"},
	} {
		if got, err := cc.do(cmd...); err != nil || got != "+OK\r\n" {
			t.Fatalf("reset %q: %q %v", cmd, got, err)
		}
	}
}

// TestAgainstRedis replays the command table against a real redis-server
// and asserts byte-identical replies in RESP2 and RESP3, skipping cases
// marked redis8Only (the installed server is Redis 7) or ownOnly. Steps
// marked x7 run on the server (to keep it in step) without comparison.
func TestAgainstRedis(t *testing.T) {
	sock := startCmpRedis(t)
	for _, proto := range []int{2, 3} {
		cc := dialCmp(t, sock, proto)
		for _, tc := range allCases() {
			if tc.redis8Only || tc.ownOnly {
				continue
			}
			t.Run(tc.name+"/resp"+strconv.Itoa(proto), func(t *testing.T) {
				resetCmp(t, cc)
				for i, stp := range tc.steps {
					got, err := cc.do(stp.args...)
					if err != nil {
						t.Fatalf("step %d %q: %v", i, stp.args, err)
					}
					if want := stp.expected(proto); got != want && !stp.skip7 {
						t.Errorf("step %d %q: redis replies\n %q\nthe table expects\n %q", i, stp.args, got, want)
					}
				}
			})
		}
	}
}
