package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// conn is a pipelining RESP client: Append queues commands, Flush sends
// them in one write, and Read/Skip consume replies in order.
type conn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
	// timeout bounds every round trip so that a stuck server fails the run
	// instead of hanging it.
	timeout time.Duration
}

func dial(ctx context.Context, addr string, proto int, timeout time.Duration) (*conn, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := &conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10), timeout: timeout}
	if proto == 3 {
		v, err := c.Do("HELLO", "3")
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("HELLO 3: %w", err)
		}
		if v.err != "" {
			nc.Close()
			return nil, fmt.Errorf("HELLO 3: %s", v.err)
		}
	}
	return c, nil
}

func (c *conn) Close() error { return c.nc.Close() }

// Append queues one command.
func (c *conn) Append(args ...[]byte) {
	c.w.WriteByte('*')
	c.w.WriteString(strconv.Itoa(len(args)))
	c.w.WriteString("\r\n")
	for _, a := range args {
		c.w.WriteByte('$')
		c.w.WriteString(strconv.Itoa(len(a)))
		c.w.WriteString("\r\n")
		c.w.Write(a)
		c.w.WriteString("\r\n")
	}
}

// AppendStrings queues one command given as strings.
func (c *conn) AppendStrings(args ...string) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	c.Append(b...)
}

// Flush sends everything queued and arms the read deadline.
func (c *conn) Flush() error {
	deadline := time.Now().Add(c.timeout)
	if err := c.nc.SetDeadline(deadline); err != nil {
		return err
	}
	return c.w.Flush()
}

// Do sends one command and parses its reply.
func (c *conn) Do(args ...string) (value, error) {
	c.AppendStrings(args...)
	if err := c.Flush(); err != nil {
		return value{}, err
	}
	return c.Read()
}

// value is a parsed reply; only what the tool needs.
type value struct {
	err   string // error reply text, "" if not an error
	str   string // simple/bulk string or number text
	null  bool
	isMap bool // RESP3 map: elems alternate keys and values
	elems []value
}

// Read parses one reply.
func (c *conn) Read() (value, error) {
	line, err := c.line()
	if err != nil {
		return value{}, err
	}
	typ, body := line[0], string(line[1:])
	switch typ {
	case '-', '!':
		if typ == '!' {
			n, _ := strconv.Atoi(body)
			b, err := c.bulk(n)
			return value{err: string(b)}, err
		}
		return value{err: body}, nil
	case '+', ':', ',', '#', '(':
		return value{str: body}, nil
	case '_':
		return value{null: true}, nil
	case '$', '=':
		n, err := strconv.Atoi(body)
		if err != nil {
			return value{}, fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return value{null: true}, nil
		}
		b, err := c.bulk(n)
		return value{str: string(b)}, err
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return value{}, fmt.Errorf("bad aggregate length %q", line)
		}
		if n < 0 {
			return value{null: true}, nil
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		v := value{elems: make([]value, 0, n), isMap: typ == '%'}
		for i := 0; i < n; i++ {
			e, err := c.Read()
			if err != nil {
				return v, err
			}
			v.elems = append(v.elems, e)
		}
		if typ == '|' { // attribute: the real reply follows
			return c.Read()
		}
		return v, nil
	}
	return value{}, fmt.Errorf("unknown reply type %q", typ)
}

// Skip consumes one reply without building it and returns its error text,
// if it was an error reply.
func (c *conn) Skip() (string, error) {
	line, err := c.line()
	if err != nil {
		return "", err
	}
	typ := line[0]
	switch typ {
	case '-':
		return string(line[1:]), nil
	case '+', ':', ',', '#', '(', '_':
		return "", nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", nil
		}
		if _, err := c.r.Discard(n + 2); err != nil {
			return "", err
		}
		return "", nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil {
			return "", fmt.Errorf("bad aggregate length %q", line)
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if _, err := c.Skip(); err != nil {
				return "", err
			}
		}
		if typ == '|' {
			return c.Skip()
		}
		return "", nil
	}
	return "", fmt.Errorf("unknown reply type %q", typ)
}

// line reads one protocol line without its CRLF.
func (c *conn) line() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("reply line too long")
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed reply line %q", line)
	}
	return line[:len(line)-2], nil
}

func (c *conn) bulk(n int) ([]byte, error) {
	b := make([]byte, n+2)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return nil, err
	}
	return b[:n], nil
}
