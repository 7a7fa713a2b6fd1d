package e2e

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// diffStep is one command of a differential script and how its reply is
// compared with the reference redis-server.
type diffStep struct {
	args []string
	// norm, if set, rewrites both replies before comparing, for replies
	// whose element order Redis leaves unspecified (KEYS, SCAN).
	norm func(*respValue)
	// slack, if positive, lets integer replies differ by that much: a TTL
	// read right after EXPIRE may round down on a server whose write took
	// longer to commit.
	slack int64
	// anyInt: both replies must be integers, of any value (MEMORY USAGE
	// counts each server's own structures).
	anyInt bool
	// idmp86 marks XINFO STREAM: Redis 8.6 added six IDMP fields after
	// recorded-first-entry-id; when the reference lacks them they are
	// checked in the product's reply and removed before comparing.
	idmp86 bool
	// Redis 8 differs from the installed Redis 7.0 reference for this
	// command. Exactly one of want8 and alt8 is set:
	//   want8: the raw Redis 8 reply (error texts from the Redis 8
	//          sources); was70 is Redis 7.0's raw reply,
	//          checked when the product under test is itself the 7.0
	//          reference (harness self-check).
	//   alt8:  a command that makes the 7.0 reference reply exactly what
	//          Redis 8 replies to args (e.g. XREAD "+" vs the previous ID).
	want8, was70 string
	alt8         []string
	why          string
}

// diffScript is a sequence of commands run on a flushed keyspace on a
// fresh connection to each server.
type diffScript struct {
	name string
	// needs names a command the product may not implement yet; when the
	// product answers the first step with "unknown command", the script
	// is skipped instead of failed.
	needs string
	steps []diffStep
	// teardown runs on both servers after the script, even when it
	// failed, to undo server-wide changes (CONFIG SET).
	teardown [][]string
}

// c is a step whose replies must be byte-identical.
func c(args ...string) diffStep { return diffStep{args: args} }

// anyOrder is a step whose reply is an array in unspecified order.
func anyOrder(args ...string) diffStep {
	return diffStep{args: args, norm: func(v *respValue) { v.sortElems() }}
}

// scanStep is a SCAN whose keys (second element) come in unspecified order.
func scanStep(args ...string) diffStep {
	return diffStep{args: args, norm: func(v *respValue) {
		if len(v.elems) == 2 {
			v.elems[1].sortElems()
		}
	}}
}

// xinfo is an XINFO STREAM step (see diffStep.idmp86).
func xinfo(args ...string) diffStep { return diffStep{args: args, idmp86: true} }

// idmpFields are the XINFO STREAM fields Redis 8.6 added, in reply order
// (node-redis's XINFO STREAM reply type and redis-py's tests place them
// after recorded-first-entry-id), with their values on a stream that never
// used IDMP: the XCFGSET defaults (redis.io: 100 s, 100 entries) and zero
// counters.
var idmpFields = []struct {
	name string
	def  string
}{
	{"idmp-duration", "100"}, {"idmp-maxsize", "100"}, {"pids-tracked", "0"},
	{"iids-tracked", "0"}, {"iids-added", "0"}, {"iids-duplicates", "0"},
}

// stripIDMP checks that an XINFO STREAM reply (flat key/value array or
// map) has the Redis 8.6 IDMP fields, with default values, right after
// recorded-first-entry-id, and removes them.
func stripIDMP(b []byte) ([]byte, error) {
	v, err := parseResp(b)
	if err != nil {
		return b, err
	}
	at := -1
	for i := 0; i+1 < len(v.elems); i += 2 {
		if v.elems[i].text == "recorded-first-entry-id" {
			at = i + 2
			break
		}
	}
	if at < 0 || len(v.elems) < at+2*len(idmpFields) {
		return b, fmt.Errorf("no recorded-first-entry-id followed by the 8.6 IDMP fields")
	}
	for j, f := range idmpFields {
		k, val := v.elems[at+2*j], v.elems[at+2*j+1]
		if k.text != f.name || val.typ != ':' || val.text != f.def {
			return b, fmt.Errorf("field %d after recorded-first-entry-id: got %q=%q, want %q=%s",
				j+1, k.text, val.text, f.name, f.def)
		}
	}
	v.elems = append(v.elems[:at:at], v.elems[at+2*len(idmpFields):]...)
	return v.encode(nil), nil
}

// slowlogGet is a SLOWLOG GET step: entry IDs, times, durations and
// client addresses are blanked, the rest (arguments as logged, with their
// cuts and redactions, client names, order) compared.
func slowlogGet(args ...string) diffStep {
	return diffStep{args: args, norm: func(v *respValue) {
		for i := range v.elems {
			e := v.elems[i].elems
			if len(e) != 6 {
				continue // left as it is: the comparison shows it
			}
			e[0].text, e[1].text, e[2].text, e[4].text = "0", "0", "0", ""
		}
	}}
}

// anyInteger is a step whose reply is an integer on both servers, its
// value left uncompared.
func anyInteger(args ...string) diffStep { return diffStep{args: args, anyInt: true} }

// ttl is a TTL/PTTL step whose integer reply may differ by slack.
func ttl(slack int64, args ...string) diffStep { return diffStep{args: args, slack: slack} }

// intsClose reports whether a and b are integer replies within slack.
func intsClose(a, b []byte, slack int64) bool {
	if len(a) < 4 || len(b) < 4 || a[0] != ':' || b[0] != ':' {
		return false
	}
	x, err1 := strconv.ParseInt(string(a[1:len(a)-2]), 10, 64)
	y, err2 := strconv.ParseInt(string(b[1:len(b)-2]), 10, 64)
	d := x - y
	return err1 == nil && err2 == nil && d <= slack && d >= -slack
}

// r8err is a step whose error text changed in Redis 8. was70 is Redis
// 7.0's error text, or "+OK" where 7.0 accepted the command.
func r8err(why, was70, want8 string, args ...string) diffStep {
	raw70 := "-" + was70 + "\r\n"
	if strings.HasPrefix(was70, "+") {
		raw70 = was70 + "\r\n"
	}
	return diffStep{args: args, want8: "-" + want8 + "\r\n", was70: raw70, why: why}
}

// r8alt is a step that Redis 8 answers the way the 7.0 reference answers alt.
func r8alt(why string, alt []string, args ...string) diffStep {
	return diffStep{args: args, alt8: alt, why: why}
}

// repeat returns n steps made by fn(i).
func repeat(n int, fn func(i int) diffStep) []diffStep {
	out := make([]diffStep, n)
	for i := range out {
		out[i] = fn(i)
	}
	return out
}

// steps concatenates step lists.
func steps(parts ...any) []diffStep {
	var out []diffStep
	for _, p := range parts {
		switch v := p.(type) {
		case diffStep:
			out = append(out, v)
		case []diffStep:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("steps: unexpected %T", p))
		}
	}
	return out
}

// TestDifferential replays command scripts against the product and a
// reference redis-server over raw TCP, in RESP2 and after HELLO 3, and
// compares the reply bytes.
func TestDifferential(t *testing.T) {
	ref := StartRedis(t)
	prod := StartNode(t)
	refMajor := serverMajor(t, ref.Addr)
	prodIsRedis7 := targetIsRedis() && refMajor < 8
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			for _, sc := range diffScripts() {
				t.Run(sc.name, func(t *testing.T) {
					runDiffScript(t, sc, proto, prod.Addr, ref.Addr, refMajor, prodIsRedis7)
				})
			}
		})
	}
	prod.RequireAlive(t)
}

func runDiffScript(t *testing.T, sc diffScript, proto int, prodAddr, refAddr string, refMajor int, prodIsRedis7 bool) {
	pc := dialRaw(t, prodAddr)
	rc := dialRaw(t, refAddr)
	for _, conn := range []*rawConn{pc, rc} {
		if proto == 3 {
			if got := conn.MustDo(t, "HELLO", "3"); !bytes.HasPrefix(got, []byte("%")) {
				t.Fatalf("HELLO 3: %s", showResp(got))
			}
		}
		if got := conn.MustDo(t, "FLUSHALL"); string(got) != "+OK\r\n" {
			t.Fatalf("FLUSHALL: %s", showResp(got))
		}
	}
	defer func() {
		for _, args := range sc.teardown {
			for _, conn := range []*rawConn{pc, rc} {
				if got, err := conn.Do(args...); err != nil || isError(got) {
					t.Errorf("teardown %s: %s %v", quoteArgs(args), showResp(got), err)
				}
			}
		}
	}()
	for i, st := range sc.steps {
		got := pc.MustDo(t, st.args...)
		if i == 0 && sc.needs != "" && isUnknownCommand(got) {
			t.Skipf("product does not implement %s yet: %s", sc.needs, showResp(got))
		}
		refArgs := st.args
		if st.alt8 != nil && refMajor < 8 && !prodIsRedis7 {
			refArgs = st.alt8
		}
		want := rc.MustDo(t, refArgs...)
		where := fmt.Sprintf("step %d: %s", i, quoteArgs(st.args))
		if st.want8 != "" && refMajor < 8 {
			expect := st.want8
			if prodIsRedis7 {
				expect = st.was70
			}
			if string(got) != expect {
				t.Errorf("%s\n  Redis 8 differs from 7.0 here (%s)\n  got:  %s\n  want: %s", where, st.why, showResp(got), showResp([]byte(expect)))
			}
			continue
		}
		if st.norm != nil {
			got, want = normalize(t, got, st.norm), normalize(t, want, st.norm)
		}
		if st.idmp86 && !prodIsRedis7 && !bytes.Contains(want, []byte("idmp-duration")) && !isError(got) {
			var err error
			if got, err = stripIDMP(got); err != nil {
				t.Errorf("%s\n  Redis 8.6 IDMP fields: %v\n  got: %s", where, err, showResp(got))
				continue
			}
		}
		if st.slack > 0 && intsClose(got, want, st.slack) {
			continue
		}
		if st.anyInt && len(got) > 0 && got[0] == ':' && len(want) > 0 && want[0] == ':' {
			continue
		}
		if !bytes.Equal(got, want) {
			note := ""
			if st.alt8 != nil {
				note = fmt.Sprintf("\n  (Redis 8 reply taken from the reference's reply to %s: %s)", quoteArgs(st.alt8), st.why)
			}
			t.Errorf("%s\n  got:  %s\n  want: %s%s", where, showResp(got), showResp(want), note)
		}
	}
}

func normalize(t testing.TB, b []byte, fn func(*respValue)) []byte {
	t.Helper()
	v, err := parseResp(b)
	if err != nil {
		return b // compare raw; the mismatch will show
	}
	fn(&v)
	return v.encode(nil)
}

func isUnknownCommand(b []byte) bool { return bytes.HasPrefix(b, []byte("-ERR unknown command")) }

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \"\r\n\\") || !strconv.CanBackquote(a) {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// serverMajor returns the major version of the redis-server at addr.
func serverMajor(t testing.TB, addr string) int {
	t.Helper()
	rc := dialRaw(t, addr)
	info := string(rc.MustDo(t, "INFO", "server"))
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
			major, _, _ := strings.Cut(v, ".")
			n, err := strconv.Atoi(major)
			if err != nil {
				t.Fatalf("redis_version %q", v)
			}
			return n
		}
	}
	t.Fatalf("no redis_version in INFO server: %q", info)
	return 0
}
