package fsm

import (
	"testing"

	"github.com/raftstream/raftstream/engine/resp"
)

func TestSplitArray(t *testing.T) {
	for _, proto := range []int{2, 3} {
		w := &resp.Writer{Version: proto}
		w.WriteArray(7)
		w.WriteStatus("OK")
		w.WriteError("ERR x")
		w.WriteInt(-5)
		w.WriteBulk([]byte("a\r\nb"))
		w.WriteNullArray()
		w.WriteMap(1)
		w.WriteBulkString("k")
		w.WriteArray(2)
		w.WriteBulkString("v")
		w.WriteNull()
		w.WriteArray(0)
		elems, ok := splitArray(w.Buf)
		if !ok || len(elems) != 7 {
			t.Fatalf("resp%d: splitArray(%q) = %q, %v", proto, w.Buf, elems, ok)
		}
		var joined []byte
		for _, e := range elems {
			if l, ok := respValueLen(e, 0); !ok || l != len(e) {
				t.Errorf("resp%d: element %q is not one whole value", proto, e)
			}
			joined = append(joined, e...)
		}
		if hdr := len(w.Buf) - len(joined); string(w.Buf[hdr:]) != string(joined) {
			t.Errorf("resp%d: elements do not cover the reply", proto)
		}
	}
	for _, bad := range []string{"", "+OK\r\n", "*2\r\n+OK\r\n", "*1\r\n$5\r\nab\r\n", "*1\r\n:1\r\n:2\r\n", "*x\r\n", "*1\r\n?\r\n"} {
		if _, ok := splitArray([]byte(bad)); ok {
			t.Errorf("splitArray(%q) accepted", bad)
		}
	}
}

// FuzzSplitArray: any input is split or refused, never a panic, and an
// accepted split covers the input exactly.
func FuzzSplitArray(f *testing.F) {
	f.Add([]byte("*2\r\n+OK\r\n$1\r\nx\r\n"))
	f.Add([]byte("*1\r\n%1\r\n+a\r\n*-1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		elems, ok := splitArray(b)
		if !ok {
			return
		}
		n := 0
		for _, e := range elems {
			n += len(e)
		}
		if n > len(b) {
			t.Fatalf("elements longer than the input")
		}
	})
}
