package faults

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// respErr is an error reply from the server (as opposed to an I/O error).
type respErr string

func (e respErr) Error() string { return string(e) }

// errNotSent marks a command that certainly never reached the server (the
// dial failed), so it cannot have been applied.
var errNotSent = errors.New("not sent")

// conn is a minimal RESP2 client. It separates "never sent" (dial error)
// from "sent, outcome unknown" (I/O error after writing), which a
// linearizability history needs and go-redis does not expose.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
}

func dial(addr string, timeout time.Duration) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", errNotSent, addr, err)
	}
	return &conn{addr: addr, c: c, r: bufio.NewReader(c)}, nil
}

func (c *conn) Close() { c.c.Close() }

// do sends one command and returns the parsed reply: string, int64, nil,
// []any, or a respErr as the error.
func (c *conn) do(timeout time.Duration, args ...string) (any, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = c.c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	v, err := readValue(c.r)
	if err != nil {
		return nil, err
	}
	if e, ok := v.(respErr); ok {
		return nil, e
	}
	return v, nil
}

func readValue(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("read: empty line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return respErr(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readValue(r); err != nil {
				return nil, err
			}
			if e, ok := out[i].(respErr); ok {
				return nil, e
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("read: unexpected reply %q", line)
}

// outcome classifies a command error for the history.
type outcome int

const (
	outOK      outcome = iota
	outFail            // certainly not applied (TRYAGAIN, not sent, other definite error)
	outUnknown         // may or may not have been applied
)

func classify(err error) outcome {
	if err == nil {
		return outOK
	}
	var re respErr
	if errors.As(err, &re) {
		s := string(re)
		if strings.Contains(s, "may or may not have been applied") {
			return outUnknown
		}
		return outFail
	}
	if errors.Is(err, errNotSent) {
		return outFail
	}
	return outUnknown // I/O error after the command may have been sent
}

// pool keeps one lazily dialled connection per node for one client
// goroutine; a connection with an I/O error is dropped.
type pool struct {
	conns map[string]*conn
}

func (p *pool) do(addr string, timeout time.Duration, args ...string) (any, error) {
	if p.conns == nil {
		p.conns = map[string]*conn{}
	}
	c := p.conns[addr]
	if c == nil {
		var err error
		if c, err = dial(addr, time.Second); err != nil {
			return nil, err
		}
		p.conns[addr] = c
	}
	v, err := c.do(timeout, args...)
	var re respErr
	if err != nil && !errors.As(err, &re) {
		c.Close()
		delete(p.conns, addr)
	}
	return v, err
}

// drop closes the connection to addr without a goodbye (a crashing client).
func (p *pool) drop(addr string) {
	if c := p.conns[addr]; c != nil {
		c.Close()
		delete(p.conns, addr)
	}
}

func (p *pool) close() {
	for a, c := range p.conns {
		c.Close()
		delete(p.conns, a)
	}
}
