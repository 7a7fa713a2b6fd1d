package engine

import (
	"strings"
	"testing"
)

// touchKeys works from the resolved command: a write stamps its key
// range, a container's subcommands stamp nothing, and XREADGROUP stamps
// the keys it parsed whenever it parses without the clock (even if it
// then fails), exactly as the name-resolving version did.
func TestTouchKeysFromResolvedCommand(t *testing.T) {
	const huge = "9223372036854775000"
	for _, tc := range []struct {
		line    string
		changed bool
	}{
		{"XADD s * f v", true},
		{"XDEL s 1-1", true},
		{"DEL s", true}, // deletion: the key is gone
		{"XGROUP SETID s g 0", false},
		{"XGROUP CREATECONSUMER s g c2", false},
		{"XREADGROUP GROUP g c STREAMS s >", true},
		{"XREADGROUP GROUP nogroup c STREAMS s >", true},
		{"XREADGROUP GROUP g c BLOCK " + huge + " STREAMS s >", true},
		{"XREADGROUP GROUP g c COUNT x STREAMS s >", false},
		{"XREADGROUP GROUP g c BLOCK " + huge + " COUNT x STREAMS s >", false},
		{"XLEN s", false},
	} {
		s := NewState()
		for _, l := range []string{"XADD s 1-1 f v", "XADD s 2-1 f v", "XGROUP CREATE s g 0", "XGROUP CREATECONSUMER s g c"} {
			runOwn(s, 2, testNow, strings.Fields(l))
		}
		before := s.WatchKey(0, "s", testNow)
		runOwn(s, 2, testNow, strings.Fields(tc.line))
		if got := s.watchChanged(before, testNow); got != tc.changed {
			t.Errorf("%s: stamp changed %v, want %v", tc.line, got, tc.changed)
		}
	}
}
