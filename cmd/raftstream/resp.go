package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// A minimal RESP2 client for the health and transfer-leadership
// subcommands. They run as container probes in an image with nothing but
// this binary, so they cannot shell out to redis-cli, and one request at
// a time over one connection needs no client library.

// respError is an error reply from the server ("-ERR ...").
type respError string

func (e respError) Error() string { return string(e) }

// respValue is one decoded reply. Arrays hold their elements in arr; a
// null bulk string or array has null set.
type respValue struct {
	kind byte // '+', ':', '$' or '*'
	str  string
	num  int64
	arr  []respValue
	null bool
}

// Limits on what a reply may claim to hold, so a confused peer (or
// something that is not a RESP server) cannot make the probe allocate
// without bound.
const (
	maxReplyBulk  = 64 << 20
	maxReplyArray = 1 << 20
	maxReplyDepth = 16
)

type respConn struct {
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

// dialRESP connects to addr; every later request must complete within
// timeout of being sent.
func dialRESP(ctx context.Context, addr string, timeout time.Duration) (*respConn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return &respConn{conn: c, r: bufio.NewReader(c), timeout: timeout}, nil
}

func (c *respConn) Close() error { return c.conn.Close() }

// do sends one command and reads its reply. A server error reply comes
// back as a respError.
func (c *respConn) do(args ...string) (respValue, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return respValue{}, fmt.Errorf("%s: %w", args[0], err)
	}
	if _, err := io.WriteString(c.conn, b.String()); err != nil {
		return respValue{}, fmt.Errorf("send %s: %w", args[0], err)
	}
	v, err := readReply(c.r, 0)
	if err != nil {
		var re respError
		if errors.As(err, &re) {
			return respValue{}, err
		}
		return respValue{}, fmt.Errorf("read %s reply: %w", args[0], err)
	}
	return v, nil
}

// doString runs a command whose reply is a status or bulk string.
func (c *respConn) doString(args ...string) (string, error) {
	v, err := c.do(args...)
	if err != nil {
		return "", err
	}
	if (v.kind != '+' && v.kind != '$') || v.null {
		return "", fmt.Errorf("%s: unexpected reply type %q", args[0], v.kind)
	}
	return v.str, nil
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("malformed reply line %q", line)
	}
	return line[:len(line)-2], nil
}

func readReply(r *bufio.Reader, depth int) (respValue, error) {
	if depth > maxReplyDepth {
		return respValue{}, errors.New("reply nested too deeply")
	}
	line, err := readLine(r)
	if err != nil {
		return respValue{}, err
	}
	if line == "" {
		return respValue{}, errors.New("empty reply line")
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '+':
		return respValue{kind: kind, str: rest}, nil
	case '-':
		return respValue{}, respError(rest)
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return respValue{}, fmt.Errorf("bad integer reply %q", rest)
		}
		return respValue{kind: kind, num: n}, nil
	case '$':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < -1 || n > maxReplyBulk {
			return respValue{}, fmt.Errorf("bad bulk length %q", rest)
		}
		if n == -1 {
			return respValue{kind: kind, null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return respValue{}, err
		}
		if string(buf[n:]) != "\r\n" {
			return respValue{}, errors.New("bulk string not terminated by CRLF")
		}
		return respValue{kind: kind, str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < -1 || n > maxReplyArray {
			return respValue{}, fmt.Errorf("bad array length %q", rest)
		}
		if n == -1 {
			return respValue{kind: kind, null: true}, nil
		}
		v := respValue{kind: kind, arr: make([]respValue, 0, n)}
		for i := int64(0); i < n; i++ {
			e, err := readReply(r, depth+1)
			if err != nil {
				return respValue{}, err
			}
			v.arr = append(v.arr, e)
		}
		return v, nil
	default:
		return respValue{}, fmt.Errorf("unexpected reply type %q", kind)
	}
}

// parseInfo reads "key:value" lines of an INFO reply; section headers
// and blank lines are skipped.
func parseInfo(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}
