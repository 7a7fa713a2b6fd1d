package server

import (
	"math"
	"strings"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// ParseMemory reads a memory value (maxmemory-clients,
// client-output-buffer-limit, ... in CONFIG SET and the config file) as
// Redis's memtoull does (redisutil.MemToULL). The server keeps these
// settings in int64, so a value above 2^63-1 is refused.
func ParseMemory(s string) (int64, bool) {
	v, ok := redisutil.MemToULL([]byte(s))
	if !ok || v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
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
