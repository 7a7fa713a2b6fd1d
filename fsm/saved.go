package fsm

import (
	"bytes"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// The dedupe table (dedupe.go) keeps a forwarded request's replies as
// encoded bytes, which is also how snapshots store them, so a retried
// request is answered from bytes: its replies' outcomes and a
// transaction's parts are recovered here from the encoding our own writer
// produced. This is the one place replies are parsed: for requests
// applied twice, and for the answers of a leader of the previous version
// to forwarded requests (cluster).

// ReplyOf rebuilds the Reply of command c from its encoding b alone, for
// replies that travelled as bytes: saved in the dedupe table, or answered
// by a leader of the previous version to a forwarded request.
func ReplyOf(c *Command, b []byte) Reply {
	r := Reply{RESP: b}
	switch {
	case len(b) > 0 && b[0] == '-':
		r.Outcome = OutcomeError
	case string(b) == "*-1\r\n" || string(b) == "$-1\r\n" || string(b) == "_\r\n":
		r.Outcome = OutcomeNull
	case isTxn(c):
		// A transaction that ran: an array of its commands' replies.
		r.Parts, _ = splitArray(b)
	}
	return r
}

// isTxn reports whether c is a transaction, typed or tunnelled.
func isTxn(c *Command) bool {
	return c.Kind == KindTxn || (c.Kind == KindArgv && len(c.Argv) > 0 && string(c.Argv[0]) == legacyTxnName)
}

// splitArray splits a RESP2/RESP3 array reply into its elements, each a
// complete reply of its own.
func splitArray(b []byte) ([][]byte, bool) {
	if len(b) == 0 || b[0] != '*' {
		return nil, false
	}
	n, hdr, ok := respHeader(b)
	if !ok || n < 0 {
		return nil, false
	}
	elems := make([][]byte, 0, n)
	rest := b[hdr:]
	for i := 0; i < n; i++ {
		l, ok := respValueLen(rest, 0)
		if !ok {
			return nil, false
		}
		elems = append(elems, rest[:l])
		rest = rest[l:]
	}
	return elems, len(rest) == 0
}

// respHeader parses a type byte, a decimal number and CRLF: the number
// and the header's length.
func respHeader(b []byte) (n, hdr int, ok bool) {
	end := bytes.Index(b, []byte("\r\n"))
	if end < 2 {
		return 0, 0, false
	}
	v, ok := redisutil.ParseLL(b[1:end])
	if !ok || v < -1 || v > int64(len(b)) {
		return 0, 0, false
	}
	return int(v), end + 2, true
}

// maxRESPDepth bounds nesting so a malformed reply cannot recurse deeply.
const maxRESPDepth = 64

// respValueLen returns the length of the one complete RESP value at the
// start of b.
func respValueLen(b []byte, depth int) (int, bool) {
	if len(b) == 0 || depth > maxRESPDepth {
		return 0, false
	}
	switch b[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		end := bytes.Index(b, []byte("\r\n"))
		return end + 2, end >= 1
	case '$', '=', '!':
		n, hdr, ok := respHeader(b)
		if !ok {
			return 0, false
		}
		if n < 0 {
			return hdr, true
		}
		if len(b) < hdr+n+2 || b[hdr+n] != '\r' || b[hdr+n+1] != '\n' {
			return 0, false
		}
		return hdr + n + 2, true
	case '*', '~', '>', '%', '|':
		n, hdr, ok := respHeader(b)
		if !ok {
			return 0, false
		}
		if n < 0 {
			return hdr, true
		}
		if b[0] == '%' || b[0] == '|' {
			n *= 2
		}
		off := hdr
		for i := 0; i < n; i++ {
			l, ok := respValueLen(b[off:], depth+1)
			if !ok {
				return 0, false
			}
			off += l
		}
		return off, true
	}
	return 0, false
}
