package e2e

import (
	"regexp"
	"strconv"
	"testing"
)

// summaryField matches a COMMAND DOCS summary and its value: raftstream
// gives Redis 8's summaries, the 7.0 reference its own.
var summaryField = regexp.MustCompile(`\$7\r\nsummary\r\n\$\d+\r\n[^\r]*\r\n`)

// TestCommandMetadataMatchesRedis compares COMMAND INFO (flags, ACL
// categories, tips, key specs with their access flags) byte for byte and
// COMMAND DOCS (complexity, history, argument descriptions; summaries
// aside) of the stream and keyspace commands with the reference
// redis-server, in RESP2 and RESP3. Containers are compared through their
// subcommands, since Redis lists those in no particular order and has
// more of them (MEMORY STATS, ...).
func TestCommandMetadataMatchesRedis(t *testing.T) {
	if targetIsRedis() {
		t.Skip("compares raftstream with redis-server")
	}
	ref := StartRedis(t)
	prod := StartNode(t)
	names := []string{
		"xadd", "xrange", "xrevrange", "xread", "xreadgroup", "xlen", "xdel", "xtrim", "xsetid", "xack",
		"xpending", "xclaim", "xautoclaim", "xgroup|create", "xgroup|createconsumer", "xgroup|delconsumer",
		"xgroup|destroy", "xgroup|setid", "xgroup|help", "xinfo|stream", "xinfo|groups", "xinfo|consumers",
		"xinfo|help", "del", "unlink", "exists", "type", "keys", "scan", "dbsize", "flushdb", "flushall",
		"expire", "pexpire", "expireat", "pexpireat", "expiretime", "pexpiretime", "ttl", "pttl", "persist",
		"rename", "renamenx", "copy", "touch", "object|encoding", "object|freq", "object|refcount",
		"memory|usage",
	}
	for _, proto := range []string{"2", "3"} {
		r, p := dialRaw(t, ref.Addr), dialRaw(t, prod.Addr)
		r.MustDo(t, "HELLO", proto)
		p.MustDo(t, "HELLO", proto)
		for _, name := range names {
			want, got := r.MustDo(t, "COMMAND", "INFO", name), p.MustDo(t, "COMMAND", "INFO", name)
			if string(want) != string(got) {
				t.Errorf("RESP%s COMMAND INFO %s:\n got %q\nwant %q", proto, name, got, want)
			}
			want, got = r.MustDo(t, "COMMAND", "DOCS", name), p.MustDo(t, "COMMAND", "DOCS", name)
			want = summaryField.ReplaceAll(want, []byte("SUMMARY"))
			got = summaryField.ReplaceAll(got, []byte("SUMMARY"))
			if string(want) != string(got) {
				t.Errorf("RESP%s COMMAND DOCS %s:\n got %q\nwant %q", proto, name, got, want)
			}
		}
		t.Logf("RESP%s: COMMAND INFO and DOCS of %s commands match", proto, strconv.Itoa(len(names)))
	}
}
