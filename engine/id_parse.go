package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// Stream ID parsing, mirroring Redis's streamGenericParseIDOrReply and
// streamParseIntervalIDOrReply (t_stream.c) including their C-string
// quirks, checked against a real redis-server:
//
//   - an argument longer than 127 bytes is invalid (Redis copies it into a
//     128-byte buffer first);
//   - the argument ends at its first NUL byte ("2\x00-9" parses as "2");
//   - numbers go through Redis's string2ull: a canonical int64 is accepted
//     only if non-negative, anything else falls back to strtoull, which
//     accepts leading whitespace, a '+' or '-' sign and leading zeros
//     ("007-1" is 7-1, "10--01" is 10-18446744073709551615), and rejects
//     trailing bytes and values above 2^64-1.

// maxIDArgLen is the longest argument Redis parses as an ID.
const maxIDArgLen = 127

// ParseID parses a strict stream ID: "ms-seq" or "ms" (seq 0). "-" and "+"
// are rejected, as Redis's streamParseStrictIDOrReply does for XDEL, XACK,
// XCLAIM, XSETID, XREAD and MINID arguments.
func ParseID(b []byte) (ID, bool) { return ParseIDWith(b, 0, true) }

// ParseIDWith is the general parser behind the others: "ms-seq", or "ms"
// with seq = missingSeq. Unless strict, "-" is MinID and "+" is MaxID (Redis
// streamParseIDOrReply, used e.g. by XGROUP CREATE and SETID).
func ParseIDWith(b []byte, missingSeq uint64, strict bool) (ID, bool) {
	b, ok := cString(b)
	if !ok {
		return ID{}, false
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return ID{}, false
		}
		if b[0] == '-' {
			return MinID, true
		}
		return MaxID, true
	}
	ms, rest, hasSeq := splitID(b)
	msv, ok := string2ull(ms)
	if !ok {
		return ID{}, false
	}
	if !hasSeq {
		return ID{msv, missingSeq}, true
	}
	seqv, ok := string2ull(rest)
	if !ok {
		return ID{}, false
	}
	return ID{msv, seqv}, true
}

// ParseRangeID parses a range bound for XRANGE, XREVRANGE, XPENDING and
// XAUTOCLAIM: "-", "+", "ms-seq", "ms" (seq = missingSeq: 0 for a start,
// ^uint64(0) for an end) and, with a leading "(", an exclusive bound whose
// remainder is parsed strictly (so "(-" and "(+" are invalid). The caller
// applies Incr/Decr to exclusive bounds and reports Redis's errors.
func ParseRangeID(b []byte, missingSeq uint64) (id ID, exclusive bool, ok bool) {
	if len(b) > 1 && b[0] == '(' {
		id, ok = ParseIDWith(b[1:], missingSeq, true)
		return id, true, ok
	}
	id, ok = ParseIDWith(b, missingSeq, false)
	return id, false, ok
}

// ParseAddID parses an XADD ID: "*" (auto), "ms-*" (seqAuto: the caller
// picks the sequence), "ms-seq" and "ms" (seq 0). "-" and "+" are invalid.
func ParseAddID(b []byte) (ms uint64, seq uint64, seqAuto bool, auto bool, ok bool) {
	// Redis checks for "*" before any other parsing, as a C string.
	if len(b) > 0 && b[0] == '*' && (len(b) == 1 || b[1] == 0) {
		return 0, 0, false, true, true
	}
	c, ok := cString(b)
	if !ok || (len(c) == 1 && (c[0] == '-' || c[0] == '+')) {
		return 0, 0, false, false, false
	}
	msb, rest, hasSeq := splitID(c)
	if ms, ok = string2ull(msb); !ok {
		return 0, 0, false, false, false
	}
	if !hasSeq {
		return ms, 0, false, false, true
	}
	if len(rest) == 1 && rest[0] == '*' {
		return ms, 0, true, false, true
	}
	if seq, ok = string2ull(rest); !ok {
		return 0, 0, false, false, false
	}
	return ms, seq, false, false, true
}

// Incr returns the next ID, false if id is MaxID.
func (id ID) Incr() (ID, bool) {
	switch {
	case id.Seq != ^uint64(0):
		return ID{id.Ms, id.Seq + 1}, true
	case id.Ms != ^uint64(0):
		return ID{id.Ms + 1, 0}, true
	}
	return id, false
}

// Decr returns the previous ID, false if id is MinID.
func (id ID) Decr() (ID, bool) {
	switch {
	case id.Seq != 0:
		return ID{id.Ms, id.Seq - 1}, true
	case id.Ms != 0:
		return ID{id.Ms - 1, ^uint64(0)}, true
	}
	return id, false
}

// cString applies Redis's length limit and cuts b at its first NUL byte.
func cString(b []byte) ([]byte, bool) {
	if len(b) > maxIDArgLen {
		return nil, false
	}
	for i, c := range b {
		if c == 0 {
			return b[:i], true
		}
	}
	return b, true
}

// splitID splits b at its first '-' like Redis's strchr.
func splitID(b []byte) (ms, seq []byte, hasSeq bool) {
	for i, c := range b {
		if c == '-' {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// string2ull mirrors Redis's string2ull: the canonical int64 fast path
// (negative values rejected), then strtoull(s, &end, 10) semantics.
func string2ull(b []byte) (uint64, bool) {
	if v, ok := redisutil.ParseLL(b); ok {
		if v < 0 {
			return 0, false
		}
		return uint64(v), true
	}
	return strtoull(b)
}

// strtoull mirrors glibc strtoull in base 10 in the C locale, plus Redis's
// checks that something was parsed, nothing trails and there was no ERANGE.
func strtoull(b []byte) (uint64, bool) {
	i := 0
	for i < len(b) && cIsSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	start := i
	var v uint64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if i == start || i != len(b) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}
