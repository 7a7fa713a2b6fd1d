package server

import (
	"errors"
	"strings"
	"testing"
)

// scanAll runs input through a scanner fed in chunks of size chunk (0:
// all at once), the way protoConn feeds it, and returns the normalized
// output and the first error.
func scanAll(t *testing.T, lim scanLimits, authRequired bool, input string, chunk int) (string, error) {
	t.Helper()
	sc := &scanner{limits: func() scanLimits { return lim }, authRequired: func() bool { return authRequired }}
	var out []byte
	var pending []byte
	if chunk <= 0 {
		chunk = len(input) + 1
	}
	for i := 0; i < len(input); i += chunk {
		end := min(i+chunk, len(input))
		pending = append(pending, input[i:end]...)
		for {
			n, _, err := sc.scan(pending, &out, false)
			pending = pending[n:]
			if err != nil {
				return string(out), err
			}
			if n == 0 {
				break
			}
		}
	}
	return string(out), nil
}

var testLimits = scanLimits{maxBulk: 512 << 20, maxMultibulk: 1<<31 - 1, maxQueryBytes: 1 << 30}

// The expected outputs and error texts below were taken from a real
// redis-server 7.0.15 fed the same bytes.
func TestScannerNormalizes(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"multibulk", "*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING\r\n"},
		{"empty requests are dropped", "*0\r\n*-1\r\n*-10\r\n\r\n\r\n", ""},
		{"inline", "PING\r\n", "*1\r\n$4\r\nPING\r\n"},
		{"inline LF only and spaces", "  PING  \n", "*1\r\n$4\r\nPING\r\n"},
		{"inline CR is whitespace", "PING\rx\n", "*2\r\n$4\r\nPING\r\n$1\r\nx\r\n"},
		{"inline quotes and escapes", "ECHO \"\\x41\\n\"\r\n", "*2\r\n$4\r\nECHO\r\n$2\r\nA\n\r\n"},
		{"inline single quotes", "ECHO 'a\\'b'\r\n", "*2\r\n$4\r\nECHO\r\n$3\r\na'b\r\n"},
		{"any two bytes end a payload", "*1\r\n$4\r\nPINGxx", "*1\r\n$4\r\nPING\r\n"},
		{"any byte follows a header CR", "*1\rX$4\rXPINGab", "*1\r\n$4\r\nPING\r\n"},
		{"empty bulk", "*1\r\n$0\r\n\r\n", "*1\r\n$0\r\n\r\n"},
		{"a NUL stops the header search", "*1\r\n\x00\r\n", "*1\r\n"},
		{"a NUL stops the inline search", "ECHO a\x00b\r\n", ""},
		{"incomplete", "*2\r\n$3\r\nfoo\r\n$3\r\nba", "*2\r\n$3\r\nfoo\r\n$3\r\nba"},
	}
	for _, tc := range cases {
		for _, chunk := range []int{0, 1, 3} {
			got, err := scanAll(t, testLimits, false, tc.in, chunk)
			if err != nil {
				t.Errorf("%s (chunk %d): error %v", tc.name, chunk, err)
				continue
			}
			if got != tc.want {
				t.Errorf("%s (chunk %d): got %q want %q", tc.name, chunk, got, tc.want)
			}
		}
	}
}

func TestScannerErrors(t *testing.T) {
	cases := []struct {
		name, in string
		auth     bool
		lim      *scanLimits
		want     string // the protocol error's text
	}{
		{"count over INT_MAX", "*2147483648\r\n", false, nil, "invalid multibulk length"},
		{"count not a number", "*abc\r\n", false, nil, "invalid multibulk length"},
		{"count with leading zero", "*01\r\n", false, nil, "invalid multibulk length"},
		{"count with plus", "*+1\r\n", false, nil, "invalid multibulk length"},
		{"count with space", "*1 \r\n", false, nil, "invalid multibulk length"},
		{"empty count", "*\r\n", false, nil, "invalid multibulk length"},
		{"negative bulk", "*1\r\n$-1\r\n", false, nil, "invalid bulk length"},
		{"bulk not a number", "*1\r\n$abc\r\n", false, nil, "invalid bulk length"},
		{"bulk leading zero", "*1\r\n$04\r\nPING\r\n", false, nil, "invalid bulk length"},
		{"bulk minus zero", "*1\r\n$-0\r\n", false, nil, "invalid bulk length"},
		{"empty bulk length", "*1\r\n$\r\n", false, nil, "invalid bulk length"},
		{"bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n", false, nil, "invalid bulk length"},
		{"expected dollar", "*1\r\nx3\r\n", false, nil, "expected '$', got 'x'"},
		{"expected dollar got CR", "*1\r\n\r\n", false, nil, "expected '$', got '\r'"},
		{"unbalanced quotes", "PING \"a\r\n", false, nil, "unbalanced quotes in request"},
		{"quote then letter", "PING \"a\"b\r\n", false, nil, "unbalanced quotes in request"},
		{"too big inline", strings.Repeat("x", 70000), false, nil, "too big inline request"},
		{"too big mbulk count", "*" + strings.Repeat("1", 70000), false, nil, "too big mbulk count string"},
		{"too big bulk count", "*1\r\n$" + strings.Repeat("1", 70000), false, nil, "too big bulk count string"},
		{"unauthenticated count", "*11\r\n", true, nil, "unauthenticated multibulk length"},
		{"unauthenticated bulk", "*1\r\n$16385\r\n", true, nil, "unauthenticated bulk length"},
		{"configured multibulk limit", "*11\r\n", false, &scanLimits{maxBulk: 100, maxMultibulk: 10, maxQueryBytes: 1000}, "invalid multibulk length"},
	}
	for _, tc := range cases {
		lim := testLimits
		if tc.lim != nil {
			lim = *tc.lim
		}
		for _, chunk := range []int{0, 1, 7} {
			_, err := scanAll(t, lim, tc.auth, tc.in, chunk)
			var pe *protoError
			if !errors.As(err, &pe) {
				t.Errorf("%s (chunk %d): got %v, want protocol error %q", tc.name, chunk, err, tc.want)
				continue
			}
			if pe.msg != tc.want {
				t.Errorf("%s (chunk %d): got %q want %q", tc.name, chunk, pe.msg, tc.want)
			}
		}
	}
}

func TestScannerLimitsBeforeBuffering(t *testing.T) {
	// Within limits when authenticated, refused when not.
	if _, err := scanAll(t, testLimits, false, "*11\r\n", 0); err != nil {
		t.Errorf("authenticated *11: %v", err)
	}
	// The query buffer limit is enforced while a payload streams in.
	lim := scanLimits{maxBulk: 1 << 20, maxMultibulk: 1000, maxQueryBytes: 100}
	_, err := scanAll(t, lim, false, "*1\r\n$500\r\n"+strings.Repeat("a", 200), 16)
	if !errors.Is(err, errQueryBufferLimit) {
		t.Errorf("query buffer limit: got %v", err)
	}
	// Each request is accounted separately.
	req := "*1\r\n$50\r\n" + strings.Repeat("a", 50) + "\r\n"
	if _, err := scanAll(t, lim, false, req+req+req, 5); err != nil {
		t.Errorf("separate requests: %v", err)
	}
}

func TestScannerOnce(t *testing.T) {
	sc := &scanner{limits: func() scanLimits { return testLimits }, authRequired: func() bool { return true }}
	in := []byte("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n")
	var out []byte
	n, completeAt, err := sc.scan(in, &out, true)
	if err != nil || completeAt != len(out) || n != len(in)/2 || string(out) != "*1\r\n$4\r\nPING\r\n" {
		t.Fatalf("once: n=%d completeAt=%d err=%v out=%q", n, completeAt, err, out)
	}
}

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"   ", nil, true},
		{"a b  c", []string{"a", "b", "c"}, true},
		{`"a b" c`, []string{"a b", "c"}, true},
		{`a"b c"`, []string{"ab c"}, true},
		{`"\x4a\x4B" "\xzz"`, []string{"JK", "xzz"}, true},
		{`"a\"b"`, []string{`a"b`}, true},
		{`'a\"b'`, []string{`a\"b`}, true},
		{`""`, []string{""}, true},
		{`"abc`, nil, false},
		{`'abc`, nil, false},
		{`"a"b`, nil, false},
		{`'a'b`, nil, false},
		{"\"\\", nil, false},
	}
	for _, tc := range cases {
		got, ok := splitArgs([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("%q: ok=%v want %v", tc.in, ok, tc.ok)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %q want %q", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("%q: got %q want %q", tc.in, got, tc.want)
			}
		}
	}
}

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"17", 17, true}, {"1b", 1, true}, {"1k", 1000, true}, {"1KB", 1024, true},
		{"2mb", 2 << 20, true}, {"1Gb", 1 << 30, true}, {"01", 1, true},
		// Redis 7.0.15 takes these as 0 (CONFIG SET maxmemory ""/"kb").
		{"", 0, true}, {"kb", 0, true}, {"1\x00junk", 1, true},
		{"-1", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"1tb", 0, false}, {"50%", 0, false},
		{"9223372036854775807", 1<<63 - 1, true}, {"9223372036854775808", 0, false},
	} {
		got, ok := ParseMemory(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseMemory(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
