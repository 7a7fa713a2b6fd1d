package e2e

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// summaryField matches a COMMAND DOCS summary and its value: raftstream
// gives Redis 8's summaries, the 7.0 reference its own.
var summaryField = regexp.MustCompile(`\$7\r\nsummary\r\n\$\d+\r\n[^\r]*\r\n`)

// redis8Options are the commands whose COMMAND DOCS arguments Redis 8
// extended beyond the 7.0 reference.
var redis8Options = map[string]bool{"xadd": true, "xtrim": true, "xreadgroup": true}

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
			if redis8Options[name] {
				// raftstream adds Redis 8's options to these (the
				// reference is 7.0); TestCommandDocsRedis8 checks them,
				// and server's TestRedis8Overlay that only they differ.
				continue
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

// ansi matches redis-cli's terminal colour sequences.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestCommandDocsRedis8: redis-cli's help, built from COMMAND DOCS (as its
// inline hints are), shows the synopsis of Redis 8's stream commands and
// options, and COMMAND COUNT, LIST and INFO know the new commands.
func TestCommandDocsRedis8(t *testing.T) {
	if targetIsRedis() {
		t.Skip("the reference redis-server is 7.0")
	}
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed")
	}
	node := StartNode(t)
	out := ansi.ReplaceAllString(redisCLI(t, node.Addr,
		"help XADD\nhelp XTRIM\nhelp XREADGROUP\nhelp XACKDEL\nhelp XDELEX\nhelp XCFGSET\nhelp XNACK\nhelp RS.IDEMPOTENT\n", "--no-raw"), "")
	for _, want := range []string{
		"XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [IDMPAUTO producer-id|IDMP producer-id idempotent-id] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]",
		"XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] [KEEPREF|DELREF|ACKED]",
		"XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [CLAIM min-idle-time] [NOACK] STREAMS key [key ...] id [id ...]",
		"XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id [id ...]",
		"XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id [id ...]",
		"XCFGSET key [IDMP-DURATION duration] [IDMP-MAXSIZE maxsize]",
		"XNACK key group SILENT|FAIL|FATAL IDS numids id [id ...] [RETRYCOUNT count] [FORCE]",
		"since: 8.8.0",
		"RS.IDEMPOTENT ON [producer-id]|OFF",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("redis-cli help lacks %q; output:\n%s", want, out)
		}
	}

	c := dialRaw(t, node.Addr)
	info := string(c.MustDo(t, "COMMAND", "INFO", "xackdel", "xdelex"))
	for _, want := range []string{
		"*10\r\n$7\r\nxackdel\r\n:-6\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@stream\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*3\r\n+RW\r\n+update\r\n+delete\r\n",
		"$6\r\nxdelex\r\n:-5\r\n",
		"$5\r\nflags\r\n*2\r\n+RW\r\n+delete\r\n",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("COMMAND INFO xackdel xdelex lacks %q:\n%q", want, info)
		}
	}
	list := string(c.MustDo(t, "COMMAND", "LIST"))
	for _, name := range []string{"xackdel", "xdelex", "xcfgset", "xnack", "rs.idempotent"} {
		if !strings.Contains(list, "\r\n"+name+"\r\n") {
			t.Errorf("COMMAND LIST lacks %s", name)
		}
	}
	// COMMAND COUNT counts the top-level commands LIST names.
	top := 0
	for _, l := range strings.Split(list, "\r\n") {
		if l != "" && l[0] != '*' && l[0] != '$' && !strings.Contains(l, "|") {
			top++
		}
	}
	if count := string(c.MustDo(t, "COMMAND", "COUNT")); count != ":"+strconv.Itoa(top)+"\r\n" {
		t.Errorf("COMMAND COUNT %q, COMMAND LIST has %d top-level commands", count, top)
	}
}
