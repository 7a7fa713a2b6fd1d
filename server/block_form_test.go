package server

import (
	"strings"
	"testing"

	"github.com/raftstream/raftstream/engine"
)

// blockingForm parses a read only when an argument may be BLOCK, and then
// exactly as the engine's parser does (a BLOCK cut by a NUL included).
func TestBlockingForm(t *testing.T) {
	tests := []struct {
		cmd, line string
		ok        bool
	}{
		{"xread", "XREAD STREAMS s 0", false},
		{"xread", "XREAD bLoCk 10 STREAMS s 0", true},
		{"xread", "XREAD BLOCK\x00x 10 STREAMS s 0", true},
		{"xread", "XREAD STREAMS block 0", false},
		{"xread", "XREAD BLOCK x STREAMS s 0", false}, // its error is the ordinary path's
		{"xreadgroup", "XREADGROUP GROUP g c STREAMS s >", false},
		{"xreadgroup", "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", true},
		{"xreadgroup", "XREADGROUP GROUP g c BLOCK 0 STREAMS s", false},
		{"xrange", "XRANGE block - +", false},
		{"xreadgroup", "XREADGROUP GROUP g c STREAMS blocks >", false}, // a key like BLOCK
	}
	reg := engine.NewRegistry()
	for _, tc := range tests {
		var argv [][]byte
		for _, f := range strings.Fields(tc.line) {
			argv = append(argv, []byte(f))
		}
		b, ok, parsed := blockingForm(reg.Get(tc.cmd), argv, new(engine.Parsed))
		if ok != tc.ok {
			t.Errorf("%q: blocking %v, want %v", tc.line, ok, tc.ok)
		}
		// What it parsed and did not block on goes to the ordinary path,
		// which does not parse it again.
		if looked := tc.cmd != "xrange" && mayBlock(argv); !ok && looked != (parsed != nil) {
			t.Errorf("%q: parsed value %v, want one: %v", tc.line, parsed != nil, looked)
		}
		if ok && (len(b.keys) != 1 || b.keys[0] != "s" || b.group != (tc.cmd == "xreadgroup")) {
			t.Errorf("%q: parsed %+v", tc.line, b)
		}
	}
}
