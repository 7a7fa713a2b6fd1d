package redisutil

import "testing"

func TestParseLL(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"123", 123, true},
		{"9223372036854775807", 1<<63 - 1, true}, {"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"99999999999999999999", 0, false}, {"123456789012345678901", 0, false},
		{"-0", 0, false}, {"01", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false},
		{"", 0, false}, {"-", 0, false}, {"1.5", 0, false}, {"1a", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseLL([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseLL(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
