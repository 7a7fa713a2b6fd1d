package engine

import (
	"strings"
	"testing"
)

// BenchmarkApplyXReadGroup is an applied XREADGROUP that finds nothing new
// (the parse, the group lookup and the WATCH stamps of its keys).
func BenchmarkApplyXReadGroup(b *testing.B) {
	s := NewState()
	for _, l := range []string{"XADD s 1-1 f v", "XGROUP CREATE s g $", "XGROUP CREATECONSUMER s g c"} {
		runOwn(s, 2, testNow, strings.Fields(l))
	}
	argv := argvOf("XREADGROUP GROUP g c COUNT 10 STREAMS s >")
	c := lookupCommand(argv[0])
	w := respWriter(2)
	ctx := &Ctx{Now: testNow, W: w}
	b.ReportAllocs()
	for b.Loop() {
		w.Buf = w.Buf[:0]
		s.Run(ctx, c, argv)
	}
}
