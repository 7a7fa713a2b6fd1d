package engine

import (
	"slices"
	"strings"
	"testing"
)

// TestXAddKeyOutlivesArgv checks that XADD reads its key from the
// arguments without copying them, yet a key it creates is copied: the
// caller reusing the argument buffer afterwards (as a decoder's slab or a
// connection's read buffer is reused) must not rename the stream. The
// signal gets the key, valid during the call.
func TestXAddKeyOutlivesArgv(t *testing.T) {
	s := NewState()
	var signalled []string
	argv := argvOf("XADD orders * f v")
	ctx := &Ctx{Now: testNow, W: respWriter(2), Signal: func(db int, key string) {
		signalled = append(signalled, strings.Clone(key)) // kept, so copied
	}}
	s.Exec(ctx, argv)
	copy(argv[1], "zzzzzz") // the buffer is reused
	s.Exec(ctx, argvOf("XADD orders * f v"))

	var keys []string
	s.VisitKeys(0, func(key string) bool {
		keys = append(keys, key)
		return true
	})
	if !slices.Equal(keys, []string{"orders"}) {
		t.Errorf("keys after the argument buffer was reused: %q, want [orders]", keys)
	}
	if !slices.Equal(signalled, []string{"orders", "orders"}) {
		t.Errorf("signalled %q, want [orders orders]", signalled)
	}
	w := respWriter(2)
	s.Exec(&Ctx{Now: testNow, W: w}, argvOf("XLEN orders"))
	if got := string(w.Buf); got != ":2\r\n" {
		t.Errorf("XLEN orders = %q, want :2", got)
	}
}
