// Package respclient is the RESP client of raftstream's own tools and of
// cluster joins: the health, transfer-leadership and backup subcommands
// (which run as container probes in an image holding only the binary, so
// they cannot shell out to redis-cli), rsbench (which pipelines), and
// Join's RAFT ADD. Each needs a few commands over one connection, which
// does not justify linking a client library into the server binary, and
// one small client serves all three.
//
// It reads RESP2 and RESP3 replies. What a reply may claim to hold is
// bounded (MaxBulk, MaxElems, MaxDepth), so a confused peer, or something
// that is not a RESP server, cannot make a probe allocate without bound.
package respclient

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

// Bounds on a reply.
const (
	MaxBulk  = 64 << 20 // bytes of one bulk string
	MaxElems = 1 << 20  // elements of one aggregate
	MaxDepth = 16       // nesting of aggregates
	maxLine  = 64 << 10 // bytes of one protocol line
)

// Error is an error reply from the server ("-ERR ..."), as Do and
// DoString return it and Value.Err makes it.
type Error string

func (e Error) Error() string { return string(e) }

// Value is one reply.
type Value struct {
	// Kind is the reply's type byte: '+', '-', ':', '$', '*' in RESP2,
	// and RESP3's '_', ',', '#', '(', '=', '!', '~', '>', '%'.
	Kind byte
	// Str is the text of a simple, bulk, verbatim or error string, or of
	// a number (':', ',', '#', '(').
	Str string
	// Int is the value of an integer reply (':').
	Int int64
	// Null is set for a null ('_', or a RESP2 length of -1).
	Null bool
	// Elems are an aggregate's elements; a map's ('%') alternate keys and
	// values.
	Elems []Value
}

// IsError reports whether v is an error reply.
func (v Value) IsError() bool { return v.Kind == '-' || v.Kind == '!' }

// Err returns the error reply v as an Error, or nil if v is not one.
func (v Value) Err() error {
	if v.IsError() {
		return Error(v.Str)
	}
	return nil
}

// Conn is a client connection: one command at a time (Do, DoString), or
// pipelined (Append, Flush, then Read or Skip once per command).
type Conn struct {
	rw io.ReadWriter
	r  *bufio.Reader
	w  *bufio.Writer
	// timeout bounds every round trip from Flush, so that a stuck server
	// fails the caller instead of hanging it; 0 leaves deadlines to the
	// caller.
	timeout time.Duration
}

// Dial connects to addr within timeout; every round trip must then
// complete within timeout of its Flush.
func Dial(ctx context.Context, addr string, timeout time.Duration) (*Conn, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return New(nc, 0, timeout), nil
}

// New wraps rw (usually a net.Conn), reading through a buffer of bufSize
// bytes (a default if 0). Deadlines are set only if rw has SetDeadline.
func New(rw io.ReadWriter, bufSize int, timeout time.Duration) *Conn {
	if bufSize <= 0 {
		bufSize = 64 << 10
	}
	return &Conn{rw: rw, r: bufio.NewReaderSize(rw, bufSize), w: bufio.NewWriterSize(rw, 64<<10), timeout: timeout}
}

// Close closes the connection.
func (c *Conn) Close() error {
	if cl, ok := c.rw.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// SetTimeout changes the bound on each later round trip (0: the caller
// sets deadlines).
func (c *Conn) SetTimeout(d time.Duration) { c.timeout = d }

// Reader is the connection's buffered reader, for a caller that streams a
// large reply body itself (RAFT BACKUP) after reading its header with
// ReadLine.
func (c *Conn) Reader() *bufio.Reader { return c.r }

// Append queues one command.
func (c *Conn) Append(args ...[]byte) { appendCommand(c.w, args) }

// AppendStrings queues one command given as strings.
func (c *Conn) AppendStrings(args ...string) { appendCommand(c.w, args) }

// appendCommand writes a command as an array of bulk strings.
func appendCommand[T string | []byte](w *bufio.Writer, args []T) {
	w.WriteByte('*')
	w.WriteString(strconv.Itoa(len(args)))
	w.WriteString("\r\n")
	for _, a := range args {
		w.WriteByte('$')
		w.WriteString(strconv.Itoa(len(a)))
		w.WriteString("\r\n")
		switch a := any(a).(type) {
		case string:
			w.WriteString(a)
		case []byte:
			w.Write(a)
		}
		w.WriteString("\r\n")
	}
}

// Flush arms the deadline of the round trip and sends everything queued.
func (c *Conn) Flush() error {
	if d, ok := c.rw.(interface{ SetDeadline(time.Time) error }); ok && c.timeout > 0 {
		if err := d.SetDeadline(time.Now().Add(c.timeout)); err != nil {
			return err
		}
	}
	return c.w.Flush()
}

// Do sends one command and reads its reply; an error reply comes back as
// a Value (see IsError), as it would in a pipeline.
func (c *Conn) Do(args ...string) (Value, error) {
	c.AppendStrings(args...)
	if err := c.Flush(); err != nil {
		return Value{}, fmt.Errorf("send %s: %w", name(args), err)
	}
	v, err := c.Read()
	if err != nil {
		return Value{}, fmt.Errorf("read %s reply: %w", name(args), err)
	}
	return v, nil
}

// DoString runs a command whose reply is a status or bulk string. An error
// reply is returned as an Error.
func (c *Conn) DoString(args ...string) (string, error) {
	v, err := c.Do(args...)
	if err != nil {
		return "", err
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	if (v.Kind != '+' && v.Kind != '$' && v.Kind != '=') || v.Null {
		return "", fmt.Errorf("%s: unexpected reply type %q", name(args), v.Kind)
	}
	return v.Str, nil
}

func name(args []string) string {
	if len(args) == 0 {
		return "command"
	}
	return args[0]
}

// Read parses one reply (or, on a server, one request: an array of bulk
// strings). RESP3 attributes are skipped.
func (c *Conn) Read() (Value, error) { return c.read(0) }

func (c *Conn) read(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, errors.New("reply nested too deeply")
	}
	line, err := c.line(depth == 0)
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, errors.New("empty reply line")
	}
	kind, body := line[0], line[1:]
	switch kind {
	case '+', '-', ',', '#', '(':
		return Value{Kind: kind, Str: string(body)}, nil
	case ':':
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("bad integer reply %q", body)
		}
		return Value{Kind: kind, Str: string(body), Int: n}, nil
	case '_':
		return Value{Kind: kind, Null: true}, nil
	case '$', '=', '!':
		n, err := length(body, MaxBulk)
		if err != nil {
			return Value{}, fmt.Errorf("bad bulk length %q", body)
		}
		if n < 0 {
			return Value{Kind: kind, Null: true}, nil
		}
		b, err := c.bulk(n)
		return Value{Kind: kind, Str: string(b)}, err
	case '*', '~', '>', '%', '|':
		n, err := length(body, MaxElems)
		if err != nil {
			return Value{}, fmt.Errorf("bad array length %q", body)
		}
		if n < 0 {
			return Value{Kind: kind, Null: true}, nil
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		v := Value{Kind: kind, Elems: make([]Value, 0, n)}
		for i := 0; i < n; i++ {
			e, err := c.read(depth + 1)
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
		}
		if kind == '|' { // an attribute: the reply follows
			return c.read(depth)
		}
		return v, nil
	}
	return Value{}, fmt.Errorf("unexpected reply type %q", kind)
}

// Skip consumes one reply without building it and returns its error text
// if it was an error reply (for pipelines that only count failures).
func (c *Conn) Skip() (string, error) { return c.skip(0) }

func (c *Conn) skip(depth int) (string, error) {
	if depth > MaxDepth {
		return "", errors.New("reply nested too deeply")
	}
	line, err := c.line(depth == 0)
	if err != nil {
		return "", err
	}
	if len(line) == 0 {
		return "", errors.New("empty reply line")
	}
	kind, body := line[0], line[1:]
	switch kind {
	case '-':
		return string(body), nil
	case '+', ':', ',', '#', '(', '_':
		return "", nil
	case '$', '=', '!':
		n, err := length(body, MaxBulk)
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", body)
		}
		if n < 0 {
			return "", nil
		}
		if kind == '!' {
			b, err := c.bulk(n)
			return string(b), err
		}
		if _, err := c.r.Discard(n + 2); err != nil {
			return "", unexpectedEOF(err)
		}
		return "", nil
	case '*', '~', '>', '%', '|':
		n, err := length(body, MaxElems)
		if err != nil {
			return "", fmt.Errorf("bad array length %q", body)
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if _, err := c.skip(depth + 1); err != nil {
				return "", err
			}
		}
		if kind == '|' {
			return c.skip(depth)
		}
		return "", nil
	}
	return "", fmt.Errorf("unexpected reply type %q", kind)
}

// ReadLine reads one protocol line, without its CRLF.
func (c *Conn) ReadLine() (string, error) {
	line, err := c.line(true)
	return string(line), err
}

// line reads one protocol line without its CRLF; the bytes are valid
// until the next read. At the start of a reply (top) a clean end of the
// stream is io.EOF; anywhere else it is io.ErrUnexpectedEOF.
func (c *Conn) line(top bool) ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxLine {
			line, err = c.r.ReadSlice('\n')
			long = append(long, line...)
		}
		if err == nil && len(long) > maxLine {
			err = errors.New("reply line too long")
		}
		line = long
	}
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("reply line too long")
		}
		if err == io.EOF && (!top || len(line) > 0) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed reply line %q", line)
	}
	return line[:len(line)-2], nil
}

func (c *Conn) bulk(n int) ([]byte, error) {
	b := make([]byte, n+2)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return nil, unexpectedEOF(err)
	}
	if b[n] != '\r' || b[n+1] != '\n' {
		return nil, errors.New("bulk string not terminated by CRLF")
	}
	return b[:n], nil
}

// length parses an aggregate or bulk length: -1 (null) to limit.
func length(b []byte, limit int) (int, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < -1 || n > int64(limit) {
		return 0, errors.New("bad length")
	}
	return int(n), nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
