package engine

func keyCases() []cmdCase {
	return []cmdCase{
		{name: "del-exists-type", steps: []step{
			c("XADD a 1-1 f v", bs("1-1")),
			c("XADD b 1-1 f v", bs("1-1")),
			c("EXISTS a b c a", in(3)),
			c("TYPE a", status("stream")),
			c("TYPE c", status("none")),
			c("DEL a c a", in(1)),
			c("EXISTS a", in(0)),
			c("UNLINK b", in(1)),
			c("UNLINK b", in(0)),
			c("DBSIZE", in(0)),
			c("DEL", er(errArity("del"))),
			c("EXISTS", er(errArity("exists"))),
			c("TYPE a b", er(errArity("type"))),
		}},
		{name: "keys", steps: []step{
			c("XADD hello 1-1 f v", bs("1-1")),
			c("KEYS *", bss("hello")),
			c("KEYS h*", bss("hello")),
			c("KEYS x*", ar()),
			c("KEYS h?llo", bss("hello")),
			c("KEYS h[ae]llo", bss("hello")),
			c("KEYS h[^e]llo", ar()),
			c("KEYS *l*o", bss("hello")),
			c("KEYS", er(errArity("keys"))),
		}},
		{name: "scan/single-key", steps: []step{
			c("XADD k 1-1 f v", bs("1-1")),
			c("SCAN 0", ar(bs("0"), bss("k"))),
			c("SCAN 0 COUNT 100", ar(bs("0"), bss("k"))),
			c("SCAN 0 MATCH k*", ar(bs("0"), bss("k"))),
			c("SCAN 0 MATCH x*", ar(bs("0"), ar())),
			c("SCAN 0 TYPE stream", ar(bs("0"), bss("k"))),
			c("SCAN 0 TYPE STREAM", ar(bs("0"), bss("k"))),
			c("SCAN 0 TYPE string", ar(bs("0"), ar())),
			c("SCAN 0 TYPE nosuchtype", ar(bs("0"), ar())),
			c("SCAN 0 MATCH * COUNT 100 TYPE stream", ar(bs("0"), bss("k"))),
			ca(ar(bs("0"), bss("k")), "SCAN", ""),
			c("SCAN +0", ar(bs("0"), bss("k"))),
		}},
		{name: "scan/errors", steps: []step{
			c("SCAN x", er(errInvalidCurs)),
			c("SCAN 1x", er(errInvalidCurs)),
			ca(er(errInvalidCurs), "SCAN", " 1"),
			c("SCAN -", er(errInvalidCurs)),
			c("SCAN 99999999999999999999", er(errInvalidCurs)),
			c("SCAN 0 COUNT 0", er(errSyntax)),
			c("SCAN 0 COUNT -1", er(errSyntax)),
			c("SCAN 0 COUNT x", er(errNotInt)),
			c("SCAN 0 FOO", er(errSyntax)),
			c("SCAN 0 MATCH", er(errSyntax)),
			c("SCAN 0 FOO bar", er(errSyntax)),
			c("SCAN x COUNT 0", er(errInvalidCurs)),
			c("SCAN", er(errArity("scan"))),
		}},
		{name: "dbsize-flush", steps: []step{
			c("XADD a 1-1 f v", bs("1-1")),
			c("XADD b 1-1 f v", bs("1-1")),
			c("DBSIZE", in(2)),
			c("FLUSHDB", ok()),
			c("DBSIZE", in(0)),
			c("XADD a 1-1 f v", bs("1-1")),
			c("FLUSHDB ASYNC", ok()),
			c("FLUSHDB sync", ok()),
			c("FLUSHALL", ok()),
			c("FLUSHALL ASYNC", ok()),
			c("FLUSHALL SYNC", ok()),
			c("FLUSHDB FOO", er(errSyntax)),
			c("FLUSHALL SYNC ASYNC", er(errSyntax)),
			c("DBSIZE x", er(errArity("dbsize"))),
		}},
		{name: "unknown-command", steps: []step{
			c("FOO bar baz", er("ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' ")),
			c("NOPE", er("ERR unknown command 'NOPE', with args beginning with: ")),
		}},
	}
}

func expireCases() []cmdCase {
	return []cmdCase{
		{name: "expire/basic", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("TTL s", in(-1)),
			c("PTTL s", in(-1)),
			c("EXPIRETIME s", in(-1)),
			c("EXPIRE s 100", in(1)),
			c("TTL s", in(100)),
			c("EXPIRE missing 100", in(0)),
			c("TTL missing", in(-2)),
			c("PTTL missing", in(-2)),
			c("EXPIRETIME missing", in(-2)),
			c("PEXPIRETIME missing", in(-2)),
			c("PERSIST s", in(1)),
			c("PERSIST s", in(0)),
			c("PERSIST missing", in(0)),
			c("TTL s", in(-1)),
		}},
		{name: "expire/own-clock", ownOnly: true, steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("PEXPIRE s 1500", in(1)),
			c("PTTL s", in(1500)),
			c("TTL s", in(2)),
			c("PEXPIRETIME s", in(testNow+1500)),
			c("EXPIRETIME s", in((testNow+1500+500)/1000)),
			c("PEXPIRE s 0", in(1)),
			c("EXISTS s", in(0)),
		}},
		{name: "expire/absolute", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("PEXPIREAT s 9999999999999", in(1)),
			c("PEXPIRETIME s", in(9999999999999)),
			c("EXPIRETIME s", in(10000000000)),
			c("EXPIREAT s 100000000000", in(1)),
			c("EXPIRETIME s", in(100000000000)),
			c("PEXPIRETIME s", in(100000000000000)),
			c("EXPIREAT s 1", in(1)),
			c("EXISTS s", in(0)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("PEXPIREAT s -5", in(1)),
			c("TYPE s", status("none")),
		}},
		{name: "expire/negative-deletes", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("EXPIRE s -1", in(1)),
			c("EXISTS s", in(0)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("PEXPIRE s 0", in(1)),
			c("DBSIZE", in(0)),
		}},
		{name: "expire/flags", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("EXPIRE s 100 XX", in(0)),
			c("EXPIRE s 100 GT", in(0)),
			c("TTL s", in(-1)),
			c("EXPIRE s 100 NX", in(1)),
			c("EXPIRE s 200 NX", in(0)),
			c("EXPIRE s 200 XX", in(1)),
			c("TTL s", in(200)),
			c("EXPIRE s 100 GT", in(0)),
			c("EXPIRE s 300 gt", in(1)),
			c("EXPIRE s 400 LT", in(0)),
			c("EXPIRE s 300 LT", in(0)),
			c("EXPIRE s 50 LT", in(1)),
			c("TTL s", in(50)),
			c("EXPIRE s 60 XX GT", in(1)),
			c("PERSIST s", in(1)),
			c("EXPIRE s 70 LT", in(1)),
			c("TTL s", in(70)),
			c("EXPIRE s 10 nx nx", in(0)),
		}},
		{name: "expire/errors", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("EXPIRE s x", er(errNotInt)),
			c("EXPIRE s 1.5", er(errNotInt)),
			c("EXPIRE s 100 FOO", er("ERR Unsupported option FOO")),
			c("EXPIRE s x FOO", er("ERR Unsupported option FOO")),
			c("EXPIRE s 100 NX XX", er("ERR NX and XX, GT or LT options at the same time are not compatible")),
			c("EXPIRE s 100 NX GT", er("ERR NX and XX, GT or LT options at the same time are not compatible")),
			c("EXPIRE s 100 GT LT", er("ERR GT and LT options at the same time are not compatible")),
			c("EXPIRE s 100 XX GT LT", er("ERR GT and LT options at the same time are not compatible")),
			c("EXPIRE s 9223372036854776", er(errExpireTime("expire"))),
			c("EXPIRE s -9223372036854776", er(errExpireTime("expire"))),
			c("EXPIREAT s 9223372036854776", er(errExpireTime("expireat"))),
			c("PEXPIRE s 9223372036854775807", er(errExpireTime("pexpire"))),
			c("PEXPIRE missing 9223372036854775807", er(errExpireTime("pexpire"))),
			c("EXPIRE missing 9223372036854776", er(errExpireTime("expire"))),
			c("EXPIRE s", er(errArity("expire"))),
			c("TTL", er(errArity("ttl"))),
			c("TTL s", in(-1)),
		}},
		{name: "expire/write-deletes-expired", ownOnly: true, steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("PEXPIREAT s "+itoa(testNow), in(1)),
			c("EXISTS s", in(0)),
			c("XADD t 1-1 f v", bs("1-1")),
			c("PEXPIREAT t "+itoa(testNow+1), in(1)),
			c("PTTL t", in(1)),
			c("PEXPIREAT t "+itoa(testNow-1), in(1)),
			c("XADD t 1-1 f v", bs("1-1")),
		}},
	}
}

func renameCases() []cmdCase {
	return []cmdCase{
		{name: "rename", steps: []step{
			c("RENAME missing x", er(errNoSuchKey)),
			c("RENAMENX missing x", er(errNoSuchKey)),
			c("RENAME missing missing", er(errNoSuchKey)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("RENAME s t", ok()),
			c("EXISTS s", in(0)),
			c("XRANGE t - +", ar(ent("1-1", "f", "v"))),
			c("RENAME t t", ok()),
			c("RENAMENX t t", in(0)),
			c("XADD u 2-2 g w", bs("2-2")),
			c("RENAMENX t u", in(0)),
			c("RENAME t u", ok()),
			c("XRANGE u - +", ar(ent("1-1", "f", "v"))),
			c("RENAMENX u v", in(1)),
			c("DBSIZE", in(1)),
			c("RENAME u", er(errArity("rename"))),
		}},
		{name: "rename/ttl", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("PEXPIREAT s 9999999999999", in(1)),
			c("RENAME s t", ok()),
			c("PEXPIRETIME t", in(9999999999999)),
			c("XADD s 1-1 f v", bs("1-1")),
			c("RENAME s t", ok()),
			c("PEXPIRETIME t", in(-1)),
		}},
		{name: "copy", steps: []step{
			c("XADD s 1-1 f v", bs("1-1")),
			c("PEXPIREAT s 9999999999999", in(1)),
			c("COPY s t", in(1)),
			c("PEXPIRETIME t", in(9999999999999)),
			c("XADD t 2-1 g w", bs("2-1")),
			c("XLEN s", in(1)),
			c("XLEN t", in(2)),
			c("COPY s t", in(0)),
			c("COPY s t REPLACE", in(1)),
			c("XLEN t", in(1)),
			c("COPY missing t", in(0)),
			c("COPY s s", er(errSameObject)),
			c("COPY s s DB 0", er(errSameObject)),
			c("COPY s s REPLACE", er(errSameObject)),
			c("COPY s t DB 16", er(errDBRange)),
			c("COPY s t DB -1", er(errDBRange)),
			c("COPY s t DB x", er(errNotInt)),
			c("COPY s t DB 4294967296", er(errIntRange)),
			c("COPY s t DB -2147483649", er(errIntRange)),
			c("COPY s t FOO", er(errSyntax)),
			c("COPY s t DB", er(errSyntax)),
			c("COPY s s DB 1", in(1)),
			c("COPY s s DB 1", in(0)),
			c("COPY", er(errArity("copy"))),
		}},
	}
}

func configCases() []cmdCase {
	set := func(args string) string { return "CONFIG SET " + args }
	failed := func(param, why string) string {
		return er("ERR CONFIG SET failed (possibly related to argument '" + param + "') - " + why)
	}
	bounds := "argument must be between 0 and 9223372036854775807 inclusive"
	return []cmdCase{
		{name: "config-set", steps: []step{
			c(set("stream-node-max-entries 50"), ok()),
			c(set("STREAM-NODE-MAX-BYTES 1kb stream-node-max-entries 100"), ok()),
			c(set("stream-node-max-bytes 4096"), ok()),
			c(set("stream-node-max-entries -1"), failed("stream-node-max-entries", bounds)),
			c(set("stream-node-max-entries x"), failed("stream-node-max-entries", "argument couldn't be parsed into an integer")),
			c(set("stream-node-max-bytes -1"), failed("stream-node-max-bytes", "argument must be a memory value")),
			c(set("stream-node-max-bytes 1x"), failed("stream-node-max-bytes", "argument must be a memory value")),
			c(set("stream-node-max-bytes 99999999999999999999"), failed("stream-node-max-bytes", bounds)),
			c(set("stream-node-max-bytes 9223372036854775808"), failed("stream-node-max-bytes", bounds)),
			c(set("Stream-Node-Max-Bytes x"), failed("stream-node-max-bytes", "argument must be a memory value")),
			c(set("foo 1"), er("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")),
			c(set("stream-node-max-entries 1 foo 2"), er("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")),
			c(set("stream-node-max-entries 1 stream-node-max-entries 2"), failed("stream-node-max-entries", "duplicate parameter")),
			c(set("stream-node-max-entries x stream-node-max-entries 2"), failed("stream-node-max-entries", "duplicate parameter")),
			c(set("stream-node-max-entries"), er(errArity("config|set"))),
			c(set("stream-node-max-entries 1 stream-node-max-bytes"), er(errSyntax)),
			c(set("foo 1 bar"), er(errSyntax)),
			c(set("stream-node-max-entries 1 stream-node-max-bytes x"), failed("stream-node-max-bytes", "argument must be a memory value")),
		}},
	}
}

// globCase is a KEYS pattern tried against one key.
type globCase struct {
	pattern, key string
	match        bool
}

// globTable exercises Redis's stringmatchlen; the expectations were
// confirmed with KEYS against redis-server (see TestAgainstRedis).
var globTable = []globCase{
	{"*", "abc", true},
	{"a*", "abc", true},
	{"*c", "abc", true},
	{"*b*", "abc", true},
	{"*d*", "abc", false},
	{"a?c", "abc", true},
	{"a??c", "abc", false},
	{"???", "abc", true},
	{"a[bc]c", "abc", true},
	{"a[^b]c", "abc", false},
	{"a[^x]c", "abc", true},
	{"a[a-c]c", "abc", true},
	{"a[c-a]c", "abc", true},
	{"a[x-z]c", "abc", false},
	{"a[\\b]c", "abc", true},
	{"a\\bc", "abc", true},
	{"a\\*c", "a*c", true},
	{"a\\*c", "abc", false},
	{"a[*]c", "a*c", true},
	{"a[", "a[", false},
	{"a[", "ab", false},
	{"a[b", "ab", true},
	{"a[^", "ab", true},
	{"a[b-", "ab", true},
	{"a[]]", "a]", false},
	{"a\\", "a\\", true},
	{"ab\\", "ab", false},
	{"**", "", false},
	{"h*llo*", "hello", true},
	{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	{"[a-z][0-9]", "q7", true},
	{"[a-z][0-9]", "Q7", false},
	{"*[", "ab[", false},
	{"a*", "a", true},
	{"a**", "a", true},
	{"*?", "a", true},
	{"?*", "", false},
}

// globCases turns globTable into KEYS cases.
func globCases() []cmdCase {
	var cs []cmdCase
	for _, g := range globTable {
		if g.key == "" {
			continue // empty keys are fine, but not worth a special case
		}
		want := ar()
		if g.match {
			want = bss(g.key)
		}
		cs = append(cs, cmdCase{name: "glob/" + g.pattern + "~" + g.key, steps: []step{
			ca(bs("1-1"), "XADD", g.key, "1-1", "f", "v"),
			ca(want, "KEYS", g.pattern),
		}})
	}
	return cs
}

func itoa(n int64) string { return string(appendInt(nil, n)) }
