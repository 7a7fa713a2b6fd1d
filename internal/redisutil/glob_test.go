package redisutil

import (
	"strings"
	"testing"
)

// Case-sensitive expectations (KEYS, SCAN MATCH, ACL key patterns). The
// main table is engine's globTable (engine/cmd_cases_keys_test.go): it
// runs as KEYS cases, which TestAgainstRedis confirms against
// redis-server. These are the cases it cannot hold.
var globCases = []struct {
	pat, s string
	want   bool
}{
	{"", "", true},
	{"a", "", false},
	// Range ends compare as signed chars: [\xff-a] is -1..97, which holds
	// no byte >= 0x80 but \xff itself (checked with KEYS against
	// redis-server 7.0.15).
	{"[\xff-a]", "\x90", false},
	{"[\xff-a]", "\xff", true},
	{"[\xff-a]", "Z", true},
	{"[\x80-\xff]", "\x90", true},
	{"*a*a*a*b", strings.Repeat("a", 39), false},
	{`a\`, `a\`, true},
	{"a[b-", "ab", true},
}

// Case-insensitive expectations (CONFIG GET, COMMAND LIST FILTERBY
// PATTERN).
var globNocaseCases = []struct {
	pat, s string
	want   bool
}{
	{"*", "anything", true},
	{"stream-*", "stream-node-max-bytes", true},
	{"*max-*", "proto-max-bulk-len", true},
	{"h?llo", "hello", true},
	{"h?llo", "hllo", false},
	{"h[ae]llo", "hallo", true},
	{"h[^e]llo", "hello", false},
	{"h[a-c]llo", "hbllo", true},
	{"h[c-a]llo", "hbllo", true},
	{"h[A-C]llo", "hbllo", true},
	{"h[a-c]llo", "HBLLO", true},
	{`h\*llo`, "h*llo", true},
	{`h\*llo`, "hello", false},
	{`h\Ello`, "hello", true},
	{`h[\E]llo`, "hello", false}, // escaped in a class: compared as is
	{"MAX*", "maxclients", true},
	{"h[", "h[", false},
	{"h[ab", "ha", true},
	{"h[AB", "ha", true},
	{"", "", true},
	{"a", "", false},
	{"**a", "ba", true},
}

func TestMatch(t *testing.T) {
	for _, tc := range globCases {
		if got := Match(tc.pat, tc.s, false); got != tc.want {
			t.Errorf("Match(%q, %q, false) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
		if got := Match([]byte(tc.pat), []byte(tc.s), false); got != tc.want {
			t.Errorf("Match([]byte %q, %q, false) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
	for _, tc := range globNocaseCases {
		if got := Match(tc.pat, tc.s, true); got != tc.want {
			t.Errorf("Match(%q, %q, true) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestMatchNesting(t *testing.T) {
	// Each "*a" that has to try several positions recurses once; Redis
	// gives up (no match) past 1000 levels.
	str := strings.Repeat("a", 1100) + "b"
	if !Match(strings.Repeat("*a", 999)+"*b", str, false) {
		t.Error("999 nested stars: want a match")
	}
	if Match(strings.Repeat("*a", 1001)+"*b", str, false) {
		t.Error("1001 nested stars: want no match, as Redis")
	}
}
