package resp

import (
	"math"
	"testing"
)

func TestWriter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(w *Writer)
		resp2 string
		resp3 string
	}{
		{"array", func(w *Writer) { w.WriteArray(2); w.WriteInt(1); w.WriteBulkString("a") }, "*2\r\n:1\r\n$1\r\na\r\n", "*2\r\n:1\r\n$1\r\na\r\n"},
		{"map", func(w *Writer) { w.WriteMap(1); w.WriteBulkString("k"); w.WriteInt(-3) }, "*2\r\n$1\r\nk\r\n:-3\r\n", "%1\r\n$1\r\nk\r\n:-3\r\n"},
		{"set", func(w *Writer) { w.WriteSet(0) }, "*0\r\n", "~0\r\n"},
		{"push", func(w *Writer) { w.WritePush(1); w.WriteStatus("x") }, "*1\r\n+x\r\n", ">1\r\n+x\r\n"},
		{"null", func(w *Writer) { w.WriteNull() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.WriteNullArray() }, "*-1\r\n", "_\r\n"},
		{"empty bulk", func(w *Writer) { w.WriteBulk([]byte{}) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"bool", func(w *Writer) { w.WriteBool(true); w.WriteBool(false) }, ":1\r\n:0\r\n", "#t\r\n#f\r\n"},
		{"double", func(w *Writer) { w.WriteDouble(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double inf", func(w *Writer) { w.WriteDouble(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"verbatim", func(w *Writer) { w.WriteVerbatim("a:1") }, "$3\r\na:1\r\n", "=7\r\ntxt:a:1\r\n"},
		// CR or LF inside a line reply would break framing.
		{"error sanitized", func(w *Writer) { w.WriteError("ERR bad\r\nthing") }, "-ERR bad  thing\r\n", "-ERR bad  thing\r\n"},
		{"deferred array", func(w *Writer) {
			w.WriteInt(7)
			m := w.BeginArray()
			for i := 0; i < 12; i++ {
				w.WriteInt(int64(i % 2))
			}
			w.EndArray(m, 12)
		}, ":7\r\n*12\r\n" + repeat(":0\r\n:1\r\n", 6), ":7\r\n*12\r\n" + repeat(":0\r\n:1\r\n", 6)},
		{"nested deferred", func(w *Writer) {
			outer := w.BeginArray()
			inner := w.BeginArray()
			w.WriteBulkString("x")
			w.EndArray(inner, 1)
			w.EndArray(outer, 1)
		}, "*1\r\n*1\r\n$1\r\nx\r\n", "*1\r\n*1\r\n$1\r\nx\r\n"},
	} {
		for _, proto := range []int{2, 3} {
			w := NewWriter(proto)
			tc.write(w)
			want := tc.resp2
			if proto == 3 {
				want = tc.resp3
			}
			if got := string(w.Buf); got != want {
				t.Errorf("%s RESP%d: got %q, want %q", tc.name, proto, got, want)
			}
		}
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}
