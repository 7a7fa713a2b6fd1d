package server

import (
	"math"
	"strings"
)

// parseInt64 parses b the way Redis's string2ll does: an optional '-', then
// digits with no leading zeros, no '+', no spaces, within int64. Clients
// see the same "not an integer" errors as from Redis for inputs such as
// "01", "+1" or " 1", which strconv.ParseInt would accept or reject
// differently.
func parseInt64(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i++
		if i == len(b) {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseMemory parses a memory size with Redis's unit suffixes (memtoull):
// b, k, kb, m, mb, g, gb, case-insensitive; k/m/g are powers of 1000 and
// kb/mb/gb powers of 1024. The number itself must be a non-negative
// integer.
// ParseMemory reads a Redis memory value: bytes, or a number with one of
// the units gb, mb, kb (powers of 1024), g, m, k (of 1000) or b, in any
// case, as redis.conf and CONFIG SET take them.
func ParseMemory(s string) (int64, bool) { return parseMemory(s) }

func parseMemory(s string) (int64, bool) {
	lower := strings.ToLower(s)
	units := []struct {
		suffix string
		mul    int64
	}{
		{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10},
		{"g", 1000 * 1000 * 1000}, {"m", 1000 * 1000}, {"k", 1000}, {"b", 1},
	}
	mul := int64(1)
	num := lower
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			mul = u.mul
			num = lower[:len(lower)-len(u.suffix)]
			break
		}
	}
	if num == "" {
		return 0, false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, ok := parseDigits(num)
	if !ok || v > math.MaxInt64/mul {
		return 0, false
	}
	return v * mul, true
}

// parseDigits parses a run of decimal digits (leading zeros allowed).
func parseDigits(s string) (int64, bool) {
	var v int64
	for i := 0; i < len(s); i++ {
		if v > (math.MaxInt64-9)/10 {
			return 0, false
		}
		v = v*10 + int64(s[i]-'0')
	}
	return v, true
}

// validClientAttr reports whether s may be a client name or library
// name/version: Redis accepts only printable ASCII without spaces.
func validClientAttr(s []byte) bool {
	for _, c := range s {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// lower returns the ASCII lower-case form of b as a string.
func lower(b []byte) string {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return strings.ToLower(string(b))
		}
	}
	return string(b)
}

// upper returns the ASCII upper-case form of b as a string.
func upper(b []byte) string { return strings.ToUpper(string(b)) }

// truncate returns at most n bytes of b, as Redis's "%.128s" does; it also
// stops at a NUL byte, which ends a C string.
func truncate(b []byte, n int) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
