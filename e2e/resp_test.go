package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawConn is a minimal RESP client that returns every reply as the exact
// bytes the server sent, so tests can compare servers byte for byte.
type rawConn struct {
	c       net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

func newRawConn(c net.Conn) *rawConn {
	return &rawConn{c: c, r: bufio.NewReaderSize(c, 64<<10), timeout: ioTimeout}
}

// dialRaw connects to addr and closes the connection when t ends.
func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return newRawConn(c)
}

// Close closes the connection.
func (c *rawConn) Close() error { return c.c.Close() }

// Do sends one command and returns its raw reply.
func (c *rawConn) Do(args ...string) ([]byte, error) {
	if err := c.Write(encodeCommand(args...)); err != nil {
		return nil, err
	}
	return c.ReadReply()
}

// MustDo is Do that fails t on an I/O error.
func (c *rawConn) MustDo(t testing.TB, args ...string) []byte {
	t.Helper()
	b, err := c.Do(args...)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return b
}

// Write sends raw bytes.
func (c *rawConn) Write(b []byte) error {
	if err := c.c.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	_, err := c.c.Write(b)
	return err
}

// ReadReply reads one complete RESP2/RESP3 frame and returns its bytes.
func (c *rawConn) ReadReply() ([]byte, error) {
	if err := c.c.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, err
	}
	return readFrame(c.r, nil)
}

// encodeCommand encodes argv as a RESP multibulk request.
func encodeCommand(args ...string) []byte {
	var b []byte
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// readFrame appends one frame read from r to dst.
func readFrame(r *bufio.Reader, dst []byte) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return dst, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return dst, fmt.Errorf("malformed RESP line %q", line)
	}
	dst = append(dst, line...)
	typ := line[0]
	body := string(line[1 : len(line)-2])
	switch typ {
	case '+', '-', ':', '_', ',', '#', '(':
		return dst, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil {
			return dst, fmt.Errorf("bad length in %q", line)
		}
		if n < 0 {
			return dst, nil
		}
		start := len(dst)
		dst = append(dst, make([]byte, n+2)...)
		if _, err := io.ReadFull(r, dst[start:]); err != nil {
			return dst, err
		}
		return dst, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return dst, fmt.Errorf("bad length in %q", line)
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if dst, err = readFrame(r, dst); err != nil {
				return dst, err
			}
		}
		if typ == '|' { // an attribute precedes the reply it annotates
			return readFrame(r, dst)
		}
		return dst, nil
	}
	return dst, fmt.Errorf("unknown RESP type %q in %q", typ, line)
}

// respValue is a parsed frame, used where a comparison must ignore the
// order of elements (KEYS, SCAN) or show structure.
type respValue struct {
	typ   byte
	text  string // simple string/error/number text, or bulk payload
	null  bool   // $-1 / *-1
	elems []respValue
}

// parseResp parses exactly one frame.
func parseResp(b []byte) (respValue, error) {
	v, rest, err := parseOne(b)
	if err != nil {
		return v, err
	}
	if len(rest) != 0 {
		return v, fmt.Errorf("%d trailing bytes", len(rest))
	}
	return v, nil
}

func parseOne(b []byte) (respValue, []byte, error) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 1 {
		return respValue{}, nil, errors.New("truncated frame")
	}
	v := respValue{typ: b[0], text: string(b[1:i])}
	rest := b[i+2:]
	switch v.typ {
	case '$', '=', '!':
		n, err := strconv.Atoi(v.text)
		if err != nil {
			return v, nil, err
		}
		if n < 0 {
			v.null, v.text = true, ""
			return v, rest, nil
		}
		if len(rest) < n+2 {
			return v, nil, errors.New("truncated bulk")
		}
		v.text, rest = string(rest[:n]), rest[n+2:]
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(v.text)
		if err != nil {
			return v, nil, err
		}
		if n < 0 {
			v.null = true
			return v, rest, nil
		}
		if v.typ == '%' || v.typ == '|' {
			n *= 2
		}
		v.elems = make([]respValue, 0, n)
		for j := 0; j < n; j++ {
			var e respValue
			if e, rest, err = parseOne(rest); err != nil {
				return v, nil, err
			}
			v.elems = append(v.elems, e)
		}
	}
	return v, rest, nil
}

// encode writes v back as RESP.
func (v respValue) encode(b []byte) []byte {
	b = append(b, v.typ)
	switch v.typ {
	case '$', '=', '!':
		if v.null {
			return append(b, "-1\r\n"...)
		}
		b = strconv.AppendInt(b, int64(len(v.text)), 10)
		b = append(b, '\r', '\n')
		b = append(b, v.text...)
		return append(b, '\r', '\n')
	case '*', '~', '>', '%', '|':
		if v.null {
			return append(b, "-1\r\n"...)
		}
		n := len(v.elems)
		if v.typ == '%' || v.typ == '|' {
			n /= 2
		}
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, '\r', '\n')
		for _, e := range v.elems {
			b = e.encode(b)
		}
		return b
	}
	b = append(b, v.text...)
	return append(b, '\r', '\n')
}

// sortElems sorts the elements of an array (or set) by their encoding so
// that replies whose order Redis leaves unspecified compare equal.
func (v *respValue) sortElems() {
	sort.Slice(v.elems, func(i, j int) bool {
		return bytes.Compare(v.elems[i].encode(nil), v.elems[j].encode(nil)) < 0
	})
}

// showResp renders raw RESP one frame line per line for failure messages.
func showResp(b []byte) string {
	s := strconv.Quote(string(b))
	return strings.ReplaceAll(s, `\r\n`, `\r\n `)
}

// isError reports whether a raw reply is an error frame.
func isError(b []byte) bool { return len(b) > 0 && b[0] == '-' }

// readUntilClosed reads until the server closes the connection or the
// deadline passes, and returns what was read and whether it was closed.
func readUntilClosed(c net.Conn, timeout time.Duration) ([]byte, bool) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return out, false
			}
			return out, true // EOF or reset: closed by the server
		}
	}
}
