package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Lines as perf trace prints them (from real runs): raftstream writes its
// log with pwrite64, Redis its AOF with write; a call another thread's
// interrupted is printed split and skipped.
func TestTraceGaps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		trace string
		want  traceGaps
	}{
		{"pwrite log", `
   191.429 ( 0.184 ms): rs/26466 fdatasync(fd: 12)                                     = 0
   191.886 ( 0.061 ms): rs/26466 write(fd: 14, buf: 0xcdf3aa32390, count: 22)          = 22
   192.168 ( 0.088 ms): rs/26469 pwrite64(fd: 12, buf: 0xcdf3ab02000, count: 112, pos: 3320) = 112
   192.283 ( 0.295 ms): rs/26469 fdatasync(fd: 12)                                     = 0
         ? (         ): rs/26470  ... [continued]: fdatasync())                        = 0
   192.730 ( 0.042 ms): rs/26469 write(fd: 14, buf: 0xcdf3aa32390, count: 22)          = 22
`, traceGaps{
			flush:        []time.Duration{184 * time.Microsecond, 295 * time.Microsecond},
			flushToReply: []time.Duration{273 * time.Microsecond, 152 * time.Microsecond},
			replyToLog:   []time.Duration{221 * time.Microsecond},
			logToFlush:   []time.Duration{27 * time.Microsecond},
		}},
		{"write log", `
     0.000 ( 0.063 ms): redis-server/24568 write(fd: 7, buf: 0x7f5a03a23bc3, count: 104) = 104
     0.074 ( 0.521 ms): redis-server/24568 fdatasync(fd: 7)                              = 0
     0.606 ( 0.017 ms): redis-server/24568 write(fd: 8, buf: 0x7f5a03a5d000, count: 22)  = 22
     0.700 ( 0.050 ms): redis-server/24568 write(fd: 7, buf: 0x7f5a03a23bc3, count: 104) = 104
`, traceGaps{
			flush:        []time.Duration{521 * time.Microsecond},
			flushToReply: []time.Duration{11 * time.Microsecond},
			replyToLog:   []time.Duration{77 * time.Microsecond},
			logToFlush:   []time.Duration{11 * time.Microsecond},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls, err := parseTrace(strings.NewReader(tc.trace))
			if err != nil {
				t.Fatal(err)
			}
			got, err := gapsOf(calls)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name      string
				got, want []time.Duration
			}{
				{"flush", got.flush, tc.want.flush},
				{"flush to reply", got.flushToReply, tc.want.flushToReply},
				{"reply to log", got.replyToLog, tc.want.replyToLog},
				{"log to flush", got.logToFlush, tc.want.logToFlush},
			} {
				if len(f.got) != len(f.want) {
					t.Fatalf("%s: %v, want %v", f.name, f.got, f.want)
				}
				for i := range f.got {
					if d := f.got[i] - f.want[i]; d < -time.Microsecond || d > time.Microsecond {
						t.Errorf("%s: %v, want %v", f.name, f.got, f.want)
					}
				}
			}
		})
	}
	var out bytes.Buffer
	o := &options{label: "x", format: "metrics"}
	if err := runTraceGapsMode(strings.NewReader("nothing traced\n"), o, &out); err == nil {
		t.Errorf("a trace without fdatasync: no error, %q", out.String())
	}
}
