package server

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"testing"
)

// BenchmarkPipelinedReadServerOnly measures engine reads pipelined 64 deep
// through the server over an in-memory state without Raft: routing, the
// parse, the run under the state's read lock and the reply. b.N counts
// commands.
func BenchmarkPipelinedReadServerOnly(b *testing.B) {
	s, _ := startDirect(b, Config{})
	setup := dialRaw(b, s)
	for i := 1; i <= 10; i++ {
		setup.do("XADD", "s", strings.Repeat("1", i)+"-1", "f", "v")
	}
	setup.do("XGROUP", "CREATE", "s", "g", "0")
	setup.do("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">")
	for _, line := range []string{"XRANGE s - + COUNT 2", "XREVRANGE s + - COUNT 2", "XPENDING s g - + 10", "XREAD COUNT 2 STREAMS s 0", "XLEN s"} {
		args := strings.Fields(line)
		reply := setup.do(args...)
		const depth = 64
		req := bytes.Repeat(encode(args...), depth)
		b.Run(args[0], func(b *testing.B) {
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n += depth {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := br.Discard(len(reply) * depth); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
