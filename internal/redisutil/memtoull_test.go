package redisutil

import "testing"

func TestMemToULL(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {"17", 17, true}, {"01", 1, true}, {"1b", 1, true},
		{"1k", 1000, true}, {"1KB", 1024, true}, {"2m", 2000000, true}, {"2mb", 2 << 20, true},
		{"1g", 1000000000, true}, {"1Gb", 1 << 30, true}, {"kb", 0, true}, {"1\x00junk", 1, true},
		{"-1", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"1 kb", 0, false}, {"1tb", 0, false},
		{"50%", 0, false}, {"1\u212a", 0, false}, // Kelvin sign: strcasecmp folds ASCII only
		{"18446744073709551615", 1<<64 - 1, true}, {"18446744073709551616", 1<<64 - 1, true},
		{"18446744073709551615k", 0, false},
	}
	for _, tc := range tests {
		got, ok := MemToULL([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("MemToULL(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
