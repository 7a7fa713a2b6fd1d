// Package resp encodes command replies as RESP2 or RESP3 frames.
//
// redcon only writes RESP2, and redis-py 8 insists on RESP3, so replies are
// encoded here into a byte slice that the server sends with WriteRaw. The
// same encoder runs inside the state machine, which lets a write's reply be
// produced where the command is applied.
package resp

import (
	"math"
	"strconv"
	"strings"
)

// Writer appends RESP frames to Buf. The zero value writes RESP2.
type Writer struct {
	Buf []byte
	// Version is the protocol version, 2 or 3.
	Version int
}

// NewWriter returns a writer for protocol version proto.
func NewWriter(proto int) *Writer { return &Writer{Version: proto} }

// Proto reports the protocol version (2 unless set to 3).
func (w *Writer) Proto() int {
	if w.Version == 3 {
		return 3
	}
	return 2
}

// Reset empties the buffer and keeps its capacity.
func (w *Writer) Reset() { w.Buf = w.Buf[:0] }

func (w *Writer) header(c byte, n int) {
	w.Buf = append(w.Buf, c)
	w.Buf = strconv.AppendInt(w.Buf, int64(n), 10)
	w.Buf = append(w.Buf, '\r', '\n')
}

// WriteArray writes an array header of n elements.
func (w *Writer) WriteArray(n int) { w.header('*', n) }

// WriteMap writes a map header of n pairs.
func (w *Writer) WriteMap(n int) {
	if w.Proto() == 3 {
		w.header('%', n)
		return
	}
	w.header('*', 2*n)
}

// WriteSet writes a set header of n elements.
func (w *Writer) WriteSet(n int) {
	if w.Proto() == 3 {
		w.header('~', n)
		return
	}
	w.header('*', n)
}

// WritePush writes an out-of-band push header (RESP3) or an array (RESP2).
func (w *Writer) WritePush(n int) {
	if w.Proto() == 3 {
		w.header('>', n)
		return
	}
	w.header('*', n)
}

// WriteBulk writes a bulk string.
func (w *Writer) WriteBulk(b []byte) {
	w.header('$', len(b))
	w.Buf = append(w.Buf, b...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// WriteBulkID writes a stream ID ("ms-seq") as a bulk string. It formats
// the ID as engine.ID.Append does: this package cannot import engine,
// whose tests use it.
func (w *Writer) WriteBulkID(ms, seq uint64) {
	var b [41]byte
	s := strconv.AppendUint(b[:0], ms, 10)
	s = append(s, '-')
	w.WriteBulk(strconv.AppendUint(s, seq, 10))
}

// WriteBulkString writes a bulk string.
func (w *Writer) WriteBulkString(s string) {
	w.header('$', len(s))
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// WriteVerbatim writes a RESP3 verbatim string of format "txt" (a bulk string in RESP2).
func (w *Writer) WriteVerbatim(s string) {
	if w.Proto() != 3 {
		w.WriteBulkString(s)
		return
	}
	w.header('=', len(s)+4)
	w.Buf = append(w.Buf, "txt:"...)
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// WriteStatus writes a simple string.
func (w *Writer) WriteStatus(s string) {
	w.Buf = append(w.Buf, '+')
	w.Buf = appendLine(w.Buf, s)
}

// WriteError writes an error; s starts with its code, e.g. "ERR ...".
func (w *Writer) WriteError(s string) {
	w.Buf = append(w.Buf, '-')
	w.Buf = appendLine(w.Buf, s)
}

// WriteInt writes an integer.
func (w *Writer) WriteInt(n int64) {
	w.Buf = append(w.Buf, ':')
	w.Buf = strconv.AppendInt(w.Buf, n, 10)
	w.Buf = append(w.Buf, '\r', '\n')
}

// WriteNull writes a null (bulk) reply.
func (w *Writer) WriteNull() {
	if w.Proto() == 3 {
		w.Buf = append(w.Buf, '_', '\r', '\n')
		return
	}
	w.Buf = append(w.Buf, "$-1\r\n"...)
}

// WriteNullArray writes a null array reply.
func (w *Writer) WriteNullArray() {
	if w.Proto() == 3 {
		w.Buf = append(w.Buf, '_', '\r', '\n')
		return
	}
	w.Buf = append(w.Buf, "*-1\r\n"...)
}

// WriteBool writes a RESP3 boolean, or 1/0 in RESP2.
func (w *Writer) WriteBool(b bool) {
	if w.Proto() == 3 {
		if b {
			w.Buf = append(w.Buf, "#t\r\n"...)
		} else {
			w.Buf = append(w.Buf, "#f\r\n"...)
		}
		return
	}
	if b {
		w.WriteInt(1)
	} else {
		w.WriteInt(0)
	}
}

// WriteDouble writes a double the way Redis formats it.
func (w *Writer) WriteDouble(f float64) {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	case math.IsNaN(f):
		s = "nan"
	default:
		s = strconv.FormatFloat(f, 'g', 17, 64)
	}
	if w.Proto() == 3 {
		w.Buf = append(w.Buf, ',')
		w.Buf = append(w.Buf, s...)
		w.Buf = append(w.Buf, '\r', '\n')
		return
	}
	w.WriteBulkString(s)
}

// WriteRaw appends already-encoded RESP.
func (w *Writer) WriteRaw(b []byte) { w.Buf = append(w.Buf, b...) }

// BeginArray marks where an array header of yet unknown length goes.
func (w *Writer) BeginArray() int { return len(w.Buf) }

// EndArray inserts the header of an n-element array at mark.
func (w *Writer) EndArray(mark, n int) {
	var hdr [24]byte
	h := append(hdr[:0], '*')
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, '\r', '\n')
	w.Buf = append(w.Buf, h...)
	copy(w.Buf[mark+len(h):], w.Buf[mark:len(w.Buf)-len(h)])
	copy(w.Buf[mark:], h)
}

// appendLine appends s as a single protocol line: CR and LF inside a status
// or error would break framing, so they become spaces as in Redis.
func appendLine(b []byte, s string) []byte {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, s)
	}
	b = append(b, s...)
	return append(b, '\r', '\n')
}
