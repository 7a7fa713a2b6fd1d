package e2e

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisCLI runs redis-cli against addr and returns its combined output.
func redisCLI(t testing.TB, addr, stdin string, args ...string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("redis-cli %s: timed out; output so far:\n%s", strings.Join(args, " "), out)
	}
	if err != nil {
		// redis-cli exits non-zero when a command fails in some modes;
		// the output (compared below) carries the error text.
		t.Logf("redis-cli %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// cliSession is a sequence of redis-cli invocations, one command each.
var cliSession = [][]string{
	{"XADD", "s", "1-1", "f", "v"},
	{"XADD", "s", "2-1", "name", "a b c", "n", "42"},
	{"XADD", "s", "3-1", "empty", ""},
	{"XADD", "s", "1-1", "f", "v"},
	{"XADD", "nk", "NOMKSTREAM", "1-1", "f", "v"},
	{"XLEN", "s"},
	{"XRANGE", "s", "-", "+"},
	{"XRANGE", "s", "-", "+", "COUNT", "1"},
	{"XREVRANGE", "s", "+", "-"},
	{"XREAD", "COUNT", "2", "STREAMS", "s", "0"},
	{"XREAD", "STREAMS", "s", "3-1"},
	{"XREAD", "STREAMS", "s"},
	{"XDEL", "s", "2-1"},
	{"XRANGE", "missing", "-", "+"},
	{"XTRIM", "s", "MAXLEN", "1"},
	{"XSETID", "s", "9-9"},
	{"TYPE", "s"},
	{"EXISTS", "s", "nk"},
	{"KEYS", "s*"},
	{"EXPIRE", "s", "1000"},
	{"PERSIST", "s"},
	{"TTL", "s"},
	{"PING"},
	{"ECHO", "hello world"},
}

// cliModes are redis-cli output modes: with stdout not a terminal the
// default is --raw.
var cliModes = [][]string{
	nil,
	{"--no-raw"},
	{"--raw"},
	{"-3", "--no-raw"},
	{"-3", "--raw"},
}

func TestRedisCLI(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not on PATH")
	}
	ref := StartRedis(t)
	prod := StartNode(t)

	for _, mode := range cliModes {
		name := strings.Join(mode, " ")
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			for _, p := range []*Proc{prod, ref} {
				if out := redisCLI(t, p.Addr, "", "FLUSHALL"); strings.TrimSpace(out) != "OK" {
					t.Fatalf("FLUSHALL on %s: %q", p.Name, out)
				}
			}
			for _, args := range cliSession {
				cli := append(append([]string(nil), mode...), args...)
				got := redisCLI(t, prod.Addr, "", cli...)
				want := redisCLI(t, ref.Addr, "", cli...)
				if got != want {
					t.Errorf("redis-cli %s\n--- raftstream ---\n%s--- redis ---\n%s", quoteArgs(cli), got, want)
				}
			}
		})
	}

	t.Run("stdin-pipe", func(t *testing.T) {
		script := "FLUSHALL\nXADD p 1-1 a 1\nXADD p 2-1 b \"two words\"\nXRANGE p - +\nXADD p 1-1 c 3\nXLEN p\n"
		for _, mode := range [][]string{{"--no-raw"}, {"--raw"}} {
			got := redisCLI(t, prod.Addr, script, mode...)
			want := redisCLI(t, ref.Addr, script, mode...)
			if got != want {
				t.Errorf("redis-cli %v < script\n--- raftstream ---\n%s--- redis ---\n%s", mode, got, want)
			}
		}
	})

	// XINFO is part of the consumer-group work; compare it once it exists.
	t.Run("xinfo", func(t *testing.T) {
		for _, p := range []*Proc{prod, ref} {
			redisCLI(t, p.Addr, "", "FLUSHALL")
			redisCLI(t, p.Addr, "", "XADD", "x", "1-1", "a", "1")
			redisCLI(t, p.Addr, "", "XADD", "x", "2-1", "b", "2")
		}
		if out := redisCLI(t, prod.Addr, "", "XINFO", "STREAM", "x"); strings.Contains(out, "unknown command") {
			t.Skipf("product does not implement XINFO yet: %s", out)
		}
		for _, mode := range cliModes {
			for _, args := range [][]string{{"XINFO", "STREAM", "x"}, {"XINFO", "STREAM", "x", "FULL"}, {"XINFO", "STREAM", "nokey"}} {
				cli := append(append([]string(nil), mode...), args...)
				got := redisCLI(t, prod.Addr, "", cli...)
				want := redisCLI(t, ref.Addr, "", cli...)
				if !strings.Contains(want, "idmp-duration") && strings.Contains(got, "idmp-duration") {
					// Redis 8.6's IDMP fields, checked byte-exactly by
					// TestDifferential; the 7.0 reference lacks them.
					stripped, err := stripIDMPCLI(got)
					if err != nil {
						t.Errorf("redis-cli %s: %v\n%s", quoteArgs(cli), err, got)
						continue
					}
					got = stripped
				}
				if got != want {
					t.Errorf("redis-cli %s\n--- raftstream ---\n%s--- redis ---\n%s", quoteArgs(cli), got, want)
				}
			}
		}
	})
	prod.RequireAlive(t)
}

// cliTop matches a top-level numbered line of redis-cli's --no-raw output:
// " 7) ..." for arrays, " 7# ..." for RESP3 maps.
var cliTop = regexp.MustCompile(`^( *)(\d+)([)#]) (.*)$`)

// stripIDMPCLI removes the six Redis 8.6 IDMP fields from redis-cli's
// rendering of XINFO STREAM in any output mode and renumbers what is left
// the way redis-cli would have numbered it.
func stripIDMPCLI(out string) (string, error) {
	isIDMP := func(s string) bool {
		for _, f := range idmpFields {
			if s == f.name {
				return true
			}
		}
		return false
	}
	lines := strings.SplitAfter(out, "\n")
	removed := 0
	m := cliTop.FindStringSubmatch(strings.TrimRight(lines[0], "\n"))
	if m == nil { // --raw: "key\nvalue\n" (RESP2) or "key value\n" (RESP3)
		var kept []string
		for i := 0; i < len(lines); i++ {
			line := strings.TrimRight(lines[i], "\n")
			if isIDMP(line) && i+1 < len(lines) {
				i++
				removed++
				continue
			}
			if k, _, ok := strings.Cut(line, " "); ok && isIDMP(k) {
				removed++
				continue
			}
			kept = append(kept, lines[i])
		}
		if removed != len(idmpFields) {
			return out, fmt.Errorf("found %d of the %d IDMP fields", removed, len(idmpFields))
		}
		return strings.Join(kept, ""), nil
	}
	// --no-raw: group lines into top-level elements.
	width := len(m[1]) + len(m[2])
	marker := m[3]
	type elem struct {
		text string
		rest []string
	}
	var elems []elem
	for _, l := range lines {
		if l == "" {
			continue
		}
		if tm := cliTop.FindStringSubmatch(strings.TrimRight(l, "\n")); tm != nil && len(tm[1])+len(tm[2]) == width {
			elems = append(elems, elem{text: tm[4]})
			continue
		}
		if len(elems) == 0 {
			return out, fmt.Errorf("unexpected line %q", l)
		}
		elems[len(elems)-1].rest = append(elems[len(elems)-1].rest, l)
	}
	var kept []elem
	for i := 0; i < len(elems); i++ {
		e := elems[i]
		if marker == ")" && isIDMP(strings.Trim(e.text, `"`)) && i+1 < len(elems) {
			i++ // RESP2: the key and its value are two elements
			removed++
			continue
		}
		if k, _, ok := strings.Cut(e.text, " => "); marker == "#" && ok && isIDMP(strings.Trim(k, `"`)) {
			removed++
			continue
		}
		kept = append(kept, e)
	}
	if removed != len(idmpFields) {
		return out, fmt.Errorf("found %d of the %d IDMP fields", removed, len(idmpFields))
	}
	newWidth := len(strconv.Itoa(len(kept)))
	var b strings.Builder
	for i, e := range kept {
		fmt.Fprintf(&b, "%*d%s %s\n", newWidth, i+1, marker, strings.TrimRight(e.text, "\n"))
		for _, l := range e.rest {
			// Nested lines are indented past the top-level number.
			if shift := width - newWidth; shift > 0 && strings.HasPrefix(l, strings.Repeat(" ", shift)) {
				l = l[shift:]
			}
			b.WriteString(l)
		}
	}
	return b.String(), nil
}
