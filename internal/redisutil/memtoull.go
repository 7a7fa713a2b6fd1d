package redisutil

import "math"

// MemToULL is Redis's memtoull, the parser of memory-size config values
// (maxmemory, client-output-buffer-limit, stream-node-max-bytes, ...):
// digits then an optional unit b, k, kb, m, mb, g or gb in any case; k, m
// and g are powers of 1000, kb, mb and gb powers of 1024. It reads b as a
// C string (up to a NUL byte) and, like strtoull, takes an empty digit
// string as 0 (so "" and "kb" are 0) and saturates an overflowing number
// at 2^64-1 before the unit is applied; a product that overflows, a sign
// or any other suffix is an error.
func MemToULL(b []byte) (uint64, bool) {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) > 0 && b[0] == '-' {
		return 0, false
	}
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	var mul uint64
	switch unit := b[i:]; {
	case len(unit) == 0 || foldEq(unit, "b"):
		mul = 1
	case foldEq(unit, "k"):
		mul = 1000
	case foldEq(unit, "kb"):
		mul = 1024
	case foldEq(unit, "m"):
		mul = 1000 * 1000
	case foldEq(unit, "mb"):
		mul = 1024 * 1024
	case foldEq(unit, "g"):
		mul = 1000 * 1000 * 1000
	case foldEq(unit, "gb"):
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	// memtoull copies the digits into a 128-byte buffer and gives up on
	// longer ones.
	if i >= 128 {
		return 0, false
	}
	var v uint64
	for _, c := range b[:i] {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			// strtoull saturates at ULLONG_MAX on overflow and memtoull
			// does not look at ERANGE.
			v = math.MaxUint64
			break
		}
		v = v*10 + d
	}
	if v > math.MaxUint64/mul {
		return 0, false
	}
	return v * mul, true
}

// foldEq reports whether b equals the lower-case ASCII word w, ignoring
// ASCII case only (strcasecmp in the C locale; strings.EqualFold would
// also fold non-ASCII letters such as the Kelvin sign).
func foldEq(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
