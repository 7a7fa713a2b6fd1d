package redisutil

import (
	"strings"
	"testing"
)

// Case-sensitive expectations (KEYS, SCAN MATCH, ACL key patterns),
// confirmed against redis-server: engine's KEYS cases (globTable in
// engine/cmd_cases_keys_test.go) run the same patterns through KEYS in the
// differential test.
var globCases = []struct {
	pat, s string
	want   bool
}{
	{"*", "abc", true},
	{"a*", "abc", true},
	{"*c", "abc", true},
	{"*b*", "abc", true},
	{"*d*", "abc", false},
	{"a?c", "abc", true},
	{"a??c", "abc", false},
	{"???", "abc", true},
	{"a[bc]c", "abc", true},
	{"a[^b]c", "abc", false},
	{"a[^x]c", "abc", true},
	{"a[a-c]c", "abc", true},
	{"a[c-a]c", "abc", true},
	{"a[x-z]c", "abc", false},
	{`a[\b]c`, "abc", true},
	{`a\bc`, "abc", true},
	{`a\*c`, "a*c", true},
	{`a\*c`, "abc", false},
	{"a[*]c", "a*c", true},
	{"a[", "a[", false},
	{"a[", "ab", false},
	{"a[b", "ab", true},
	{"a[^", "ab", true},
	{"a[b-", "ab", true},
	{"a[]]", "a]", false},
	{`a\`, `a\`, true},
	{`ab\`, "ab", false},
	{"**", "", false},
	{"h*llo*", "hello", true},
	{"*a*a*a*b", strings.Repeat("a", 39), false},
	{"[a-z][0-9]", "q7", true},
	{"[a-z][0-9]", "Q7", false},
	{"*[", "ab[", false},
	{"a*", "a", true},
	{"a**", "a", true},
	{"*?", "a", true},
	{"?*", "", false},
	{"", "", true},
	{"a", "", false},
	{"**a", "ba", true},
	// Range ends compare as signed chars: [\xff-a] is -1..97, which holds
	// no byte >= 0x80 but \xff itself.
	{"[\xff-a]", "\x90", false},
	{"[\xff-a]", "\xff", true},
	{"[\xff-a]", "Z", true},
	{"[\x80-\xff]", "\x90", true},
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
