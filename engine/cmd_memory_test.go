package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestMemoryUsage checks that MEMORY USAGE follows what the key holds:
// more entries, a consumer group with pending entries and a longer key
// name each cost more, and deleting the key gives nil. (Its errors are
// compared with redis-server in e2e's memory-usage script.)
func TestMemoryUsage(t *testing.T) {
	s := NewState()
	usage := func(key string) int64 {
		t.Helper()
		got := runOwn(s, 2, testNow, []string{"MEMORY", "USAGE", key})
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(got, ":"), "\r\n"), 10, 64)
		if err != nil {
			t.Fatalf("MEMORY USAGE %s = %q", key, got)
		}
		return n
	}
	runOwn(s, 2, testNow, []string{"XADD", "s", "1-1", "f", "v"})
	one := usage("s")
	for i := 2; i <= 1000; i++ {
		runOwn(s, 2, testNow, []string{"XADD", "s", fmt.Sprintf("%d-1", i), "field", strings.Repeat("v", 20)})
	}
	many := usage("s")
	if many < one+999*20 {
		t.Errorf("1 entry: %d bytes, 1000 entries: %d bytes; want at least 20 more per entry", one, many)
	}
	runOwn(s, 2, testNow, []string{"XGROUP", "CREATE", "s", "g", "0"})
	runOwn(s, 2, testNow, []string{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"})
	if withGroup := usage("s"); withGroup <= many {
		t.Errorf("a group with 1000 pending entries did not add to %d bytes: %d", many, withGroup)
	}
	runOwn(s, 2, testNow, []string{"XADD", strings.Repeat("k", 100), "1-1", "f", "v"})
	if long := usage(strings.Repeat("k", 100)); long != one+99 {
		t.Errorf("a 100-byte key: %d bytes, want %d (a 1-byte key's %d plus 99)", long, one+99, one)
	}
	runOwn(s, 2, testNow, []string{"DEL", "s"})
	if got := runOwn(s, 2, testNow, []string{"MEMORY", "USAGE", "s"}); got != nullBulk() {
		t.Errorf("MEMORY USAGE of a deleted key = %q, want nil", got)
	}
	help := runOwn(s, 2, testNow, []string{"MEMORY", "HELP"})
	if !strings.Contains(help, "+USAGE <key> [SAMPLES <count>]\r\n") || strings.Contains(help, "STATS") {
		t.Errorf("MEMORY HELP lists what exists, USAGE and HELP only: %q", help)
	}
}

// TestObjectHelpAndIdletime: OBJECT HELP lists what exists, and IDLETIME,
// which would need a per-key access clock, is an unknown subcommand
// rather than a made-up 0. (The other subcommands and TOUCH are compared
// with redis-server in e2e's object-touch script.)
func TestObjectHelpAndIdletime(t *testing.T) {
	s := NewState()
	runOwn(s, 2, testNow, []string{"XADD", "s", "1-1", "f", "v"})
	help := runOwn(s, 2, testNow, []string{"OBJECT", "HELP"})
	for _, sub := range []string{"+ENCODING <key>", "+FREQ <key>", "+REFCOUNT <key>"} {
		if !strings.Contains(help, sub+"\r\n") {
			t.Errorf("OBJECT HELP lacks %q: %q", sub, help)
		}
	}
	if strings.Contains(help, "IDLETIME") {
		t.Errorf("OBJECT HELP lists IDLETIME: %q", help)
	}
	if got := runOwn(s, 2, testNow, []string{"OBJECT", "IDLETIME", "s"}); !strings.HasPrefix(got, "-ERR unknown subcommand") {
		t.Errorf("OBJECT IDLETIME = %q, want unknown subcommand", got)
	}
}
