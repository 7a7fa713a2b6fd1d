package server

import (
	"math"
	"strings"
)

// parseMemory parses a memory size with Redis's unit suffixes (memtoull):
// b, k, kb, m, mb, g, gb, case-insensitive; k/m/g are powers of 1000 and
// kb/mb/gb powers of 1024. The number itself must be a non-negative
// integer.
// ParseMemory reads a Redis memory value: bytes, or a number with one of
// the units gb, mb, kb (powers of 1024), g, m, k (of 1000) or b, in any
// case, as redis.conf and CONFIG SET take them.
func ParseMemory(s string) (int64, bool) { return parseMemory(s) }

func parseMemory(s string) (int64, bool) {
	// Redis reads the value as a C string.
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
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
	// No digits is 0, as strtoull reads them: Redis takes "" and "kb".
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
		d := int64(s[i] - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, false
		}
		v = v*10 + d
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
