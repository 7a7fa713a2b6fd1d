package redisutil

import "math"

// ParseLL parses a canonical decimal int64 exactly like Redis's string2ll,
// the parser behind getLongLongFromObject: no sign but '-', no spaces, no
// leading zeros, no "-0". Clients get Redis's "not an integer" errors for
// inputs such as "01", "+1" or " 1", which strconv.ParseInt would accept
// or reject differently.
func ParseLL(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) >= 21 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
