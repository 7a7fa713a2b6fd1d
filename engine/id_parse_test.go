package engine

import (
	"strings"
	"testing"
)

const maxU = ^uint64(0)

// Expectations marked "redis" were checked with XADD/XRANGE against
// redis-server 7.0.15; the rest follow t_stream.c's parser.
func TestParseIDWith(t *testing.T) {
	long127 := strings.Repeat("0", 126) + "3"
	tests := []struct {
		in      string
		missing uint64
		strict  bool
		want    ID
		ok      bool
	}{
		{"1-2", 0, true, ID{1, 2}, true},
		{"5", 0, true, ID{5, 0}, true},
		{"5", maxU, true, ID{5, maxU}, true},
		{"0-0", 0, true, ID{0, 0}, true},
		{"18446744073709551615-18446744073709551615", 0, true, MaxID, true}, // redis
		{"18446744073709551616-0", 0, true, ID{}, false},                    // redis
		{"1-18446744073709551616", 0, true, ID{}, false},
		{"-", 0, true, ID{}, false}, // redis (XADD)
		{"+", 0, true, ID{}, false}, // redis (XADD)
		{"-", 0, false, MinID, true},
		{"+", 0, false, MaxID, true},
		{"007-1", 0, true, ID{7, 1}, true},                   // redis: strtoull fallback
		{"+5-1", 0, true, ID{5, 1}, true},                    // redis
		{" 8-1", 0, true, ID{8, 1}, true},                    // redis
		{"9- 2", 0, true, ID{9, 2}, true},                    // redis
		{"10--01", 0, true, ID{10, maxU}, true},              // redis: strtoull negates
		{"11-+3", 0, true, ID{11, 3}, true},                  // redis
		{"1--1", 0, true, ID{}, false},                       // canonical negative rejected
		{"1--0", 0, true, ID{1, 0}, true},                    // "-0" is not canonical: strtoull
		{"1--18446744073709551615", 0, true, ID{1, 1}, true}, // strtoull wraps
		{"1--18446744073709551616", 0, true, ID{}, false},    // ERANGE
		{"0x10-1", 0, true, ID{}, false},                     // redis
		{"12-0 ", 0, true, ID{}, false},                      // redis: trailing space
		{"(5", 0, false, ID{}, false},                        // redis
		{"-1-0", 0, true, ID{}, false},                       // redis: ms part empty
		{"-5", 0, false, ID{}, false},                        // redis
		{"-0", 0, false, ID{}, false},                        // redis
		{"15-", 0, true, ID{}, false},                        // redis
		{"16-1-2", 0, true, ID{}, false},                     // redis
		{"14-*", 0, true, ID{}, false},                       // "*" only for XADD
		{"", 0, false, ID{}, false},
		{" ", 0, false, ID{}, false},
		{"+", 0, true, ID{}, false},
		{"1-+", 0, true, ID{}, false},
		{"2\x00-9", maxU, false, ID{2, maxU}, true}, // redis: C string ends at NUL
		{"-\x00x", 0, false, MinID, true},
		{"-\x00x", 0, true, ID{}, false},
		{long127, 0, true, ID{3, 0}, true},    // redis
		{"0" + long127, 0, true, ID{}, false}, // redis: longer than 127 bytes
		{"9223372036854775808-1", 0, true, ID{1 << 63, 1}, true},
		{"-9223372036854775808", 0, false, ID{}, false},
		{"\t\n\v\f\r7", 0, true, ID{7, 0}, true},
	}
	for _, tc := range tests {
		got, ok := ParseIDWith([]byte(tc.in), tc.missing, tc.strict)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseIDWith(%q, %d, %v) = %v, %v; want %v, %v", tc.in, tc.missing, tc.strict, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ID
		ok   bool
	}{
		{"3", ID{3, 0}, true},
		{"3-4", ID{3, 4}, true},
		{"-", ID{}, false},
		{"+", ID{}, false},
		{"x", ID{}, false},
	} {
		got, ok := ParseID([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseID(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// XRANGE checks marked "redis" ran against redis-server 7.0.15.
func TestParseRangeID(t *testing.T) {
	tests := []struct {
		in      string
		missing uint64
		want    ID
		excl    bool
		ok      bool
	}{
		{"-", 0, MinID, false, true},
		{"+", maxU, MaxID, false, true},
		{"5", 0, ID{5, 0}, false, true},
		{"5", maxU, ID{5, maxU}, false, true},
		{"(5", maxU, ID{5, maxU}, true, true},
		{"(5-3", 0, ID{5, 3}, true, true},
		{"(2", 0, ID{2, 0}, true, true},
		{"( 2", 0, ID{2, 0}, true, true}, // redis
		{"(-", 0, ID{}, true, false},     // redis
		{"(+", 0, ID{}, true, false},
		{"(", 0, ID{}, false, false},    // redis: a lone "(" is parsed as an ID
		{"((2", 0, ID{}, true, false},   // redis
		{"(\x00", 0, ID{}, true, false}, // redis
		{"(18446744073709551615-18446744073709551615", 0, MaxID, true, true},
		{"", 0, ID{}, false, false},
	}
	for _, tc := range tests {
		got, excl, ok := ParseRangeID([]byte(tc.in), tc.missing)
		if ok != tc.ok || (ok && (got != tc.want || excl != tc.excl)) {
			t.Errorf("ParseRangeID(%q, %d) = %v, %v, %v; want %v, %v, %v", tc.in, tc.missing, got, excl, ok, tc.want, tc.excl, tc.ok)
		}
	}
}

func TestParseAddID(t *testing.T) {
	tests := []struct {
		in                string
		ms, seq           uint64
		seqAuto, auto, ok bool
	}{
		{"*", 0, 0, false, true, true},
		{"*\x00junk", 0, 0, false, true, true},
		{"5-*", 5, 0, true, false, true},
		{"5-3", 5, 3, false, false, true},
		{"5", 5, 0, false, false, true},
		{"18446744073709551615-18446744073709551615", maxU, maxU, false, false, true},
		{"14-*x", 0, 0, false, false, false}, // redis
		{"*-1", 0, 0, false, false, false},   // redis
		{"**", 0, 0, false, false, false},
		{"-", 0, 0, false, false, false}, // redis
		{"+", 0, 0, false, false, false}, // redis
		{"5-**", 0, 0, false, false, false},
		{"00017", 17, 0, false, false, true},
		{"18446744073709551616", 0, 0, false, false, false},
		{"", 0, 0, false, false, false},
	}
	for _, tc := range tests {
		ms, seq, seqAuto, auto, ok := ParseAddID([]byte(tc.in))
		if ok != tc.ok || ms != tc.ms || seq != tc.seq || seqAuto != tc.seqAuto || auto != tc.auto {
			t.Errorf("ParseAddID(%q) = %d, %d, %v, %v, %v; want %d, %d, %v, %v, %v", tc.in,
				ms, seq, seqAuto, auto, ok, tc.ms, tc.seq, tc.seqAuto, tc.auto, tc.ok)
		}
	}
}

func TestIDIncrDecr(t *testing.T) {
	tests := []struct {
		id, incr, decr ID
		incrOK, decrOK bool
	}{
		{ID{1, 1}, ID{1, 2}, ID{1, 0}, true, true},
		{ID{1, maxU}, ID{2, 0}, ID{1, maxU - 1}, true, true},
		{ID{2, 0}, ID{2, 1}, ID{1, maxU}, true, true},
		{MaxID, MaxID, ID{maxU, maxU - 1}, false, true},
		{MinID, ID{0, 1}, MinID, true, false},
	}
	for _, tc := range tests {
		if got, ok := tc.id.Incr(); got != tc.incr || ok != tc.incrOK {
			t.Errorf("%v.Incr() = %v, %v; want %v, %v", tc.id, got, ok, tc.incr, tc.incrOK)
		}
		if got, ok := tc.id.Decr(); got != tc.decr || ok != tc.decrOK {
			t.Errorf("%v.Decr() = %v, %v; want %v, %v", tc.id, got, ok, tc.decr, tc.decrOK)
		}
	}
}
