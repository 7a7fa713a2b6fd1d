package redisconf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, in string
		want     []Line
		err      string // the Error's Reason; "" for none
		errLine  int
	}{
		{name: "empty"},
		{name: "comments and blanks", in: "# a comment\n\n   # indented\n\t\n"},
		{name: "directives", in: "port 6380\n  bind 127.0.0.1  \nSAVE \"\"\n",
			want: []Line{
				{Num: 1, Text: "port 6380", Name: "port", Args: []string{"6380"}},
				{Num: 2, Text: "bind 127.0.0.1", Name: "bind", Args: []string{"127.0.0.1"}},
				{Num: 3, Text: `SAVE ""`, Name: "save", Args: []string{""}},
			}},
		{name: "quotes and escapes", in: "requirepass \"a b\\\"c\\x41\\n\"\nrequirepass 'it\\'s'\r\n",
			want: []Line{
				{Num: 1, Text: `requirepass "a b\"c\x41\n"`, Name: "requirepass", Args: []string{"a b\"cA\n"}},
				{Num: 2, Text: `requirepass 'it\'s'`, Name: "requirepass", Args: []string{"it's"}},
			}},
		{name: "no final newline", in: "# x\nmaxclients 5",
			want: []Line{{Num: 2, Text: "maxclients 5", Name: "maxclients", Args: []string{"5"}}}},
		{name: "several arguments", in: "client-output-buffer-limit normal 1mb 512kb 10\n",
			want: []Line{{Num: 1, Text: "client-output-buffer-limit normal 1mb 512kb 10", Name: "client-output-buffer-limit",
				Args: []string{"normal", "1mb", "512kb", "10"}}}},
		{name: "unbalanced double quote", in: "# c\nport \"6380\n", err: "Unbalanced quotes in configuration line", errLine: 2},
		{name: "unbalanced single quote", in: "requirepass 'x\n", err: "Unbalanced quotes in configuration line", errLine: 1},
		{name: "text after a closing quote", in: "requirepass \"x\"y\n", err: "Unbalanced quotes in configuration line", errLine: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("f.conf", []byte(tc.in))
			if tc.err != "" {
				var e *Error
				if !errors.As(err, &e) || e.Reason != tc.err || e.Line != tc.errLine || e.File != "f.conf" {
					t.Fatalf("err = %#v, want %q at line %d", err, tc.err, tc.errLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// TestErrorText is Redis 7.0's report of a bad line, with the file named.
func TestErrorText(t *testing.T) {
	e := &Error{File: "/etc/raftstream.conf", Line: 3, Text: "foo bar", Reason: "Bad directive or wrong number of arguments"}
	want := "*** FATAL CONFIG FILE ERROR ***\nReading the configuration file /etc/raftstream.conf, at line 3\n>>> 'foo bar'\nBad directive or wrong number of arguments"
	if e.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", e.Error(), want)
	}
}

// TestRewrite follows what redis-server 7.0.15 wrote for the same old file
// and changes (CONFIG SET maxclients 999, slowlog-max-len 128,
// proto-max-bulk-len 2mb, requirepass with a quote): changed directives
// in place, a duplicate dropped, comments and unknown lines kept (trimmed),
// new ones after the signature (Redis also turned the old file's final
// newline into a blank line before it; here a final newline ends a line).
func TestRewrite(t *testing.T) {
	old := "# my redis\nport 7781\n# limits\nmaxclients 100\nmaxclients 200\n\nslowlog-max-len 50\n   # indented comment\ndaemonize no\n"
	got := string(Rewrite([]byte(old), []Setting{
		{Name: "maxclients", Args: []string{"999"}, Force: true},
		{Name: "slowlog-max-len", Args: []string{"128"}, Force: true},
		{Name: "protected-mode", Args: []string{"yes"}},
		{Name: "proto-max-bulk-len", Args: []string{FormatMemory(2 << 20)}, Force: true},
		{Name: "requirepass", Args: []string{Quote(`p w"x`)}, Force: true},
	}))
	want := "# my redis\nport 7781\n# limits\nmaxclients 999\n\nslowlog-max-len 128\n# indented comment\ndaemonize no\n" +
		Signature + "\nproto-max-bulk-len 2mb\nrequirepass \"p w\\\"x\"\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// Rewriting the result again changes nothing, and adds no second
	// signature.
	again := string(Rewrite([]byte(got), []Setting{
		{Name: "maxclients", Args: []string{"999"}, Force: true},
		{Name: "slowlog-max-len", Args: []string{"128"}, Force: true},
		{Name: "proto-max-bulk-len", Args: []string{"2mb"}, Force: true},
		{Name: "requirepass", Args: []string{Quote(`p w"x`)}, Force: true},
	}))
	if again != got {
		t.Fatalf("second rewrite\n%s\nwant\n%s", again, got)
	}
	// A directive with several lines (one per class) takes its old lines
	// in order and appends the rest.
	multi := string(Rewrite([]byte("client-output-buffer-limit normal 0 0 0\nport 1\n"), []Setting{
		{Name: "client-output-buffer-limit", Args: []string{"normal", "1mb", "0", "0"}, Force: true},
		{Name: "client-output-buffer-limit", Args: []string{"pubsub", "1mb", "0", "0"}, Force: true},
	}))
	if want := "client-output-buffer-limit normal 1mb 0 0\nport 1\n" + Signature + "\nclient-output-buffer-limit pubsub 1mb 0 0\n"; multi != want {
		t.Fatalf("got\n%s\nwant\n%s", multi, want)
	}
	if got := string(Rewrite(nil, []Setting{{Name: "maxclients", Args: []string{"10000"}}})); got != "" {
		t.Errorf("an unforced default was written: %q", got)
	}
}

func TestQuoteRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", `a "quoted" \ word`, "tab\tnew\nline\r\x00\x7f\xff", "it's"} {
		q := Quote(s)
		args, ok := SplitArgs([]byte("requirepass " + q))
		if !ok || len(args) != 2 || string(args[1]) != s {
			t.Errorf("Quote(%q) = %s reads back as %q (ok %v)", s, q, args, ok)
		}
	}
}

func TestFormatMemory(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 1: "1", 1024: "1kb", 1536: "1536", 3 << 20: "3mb", 512 << 20: "512mb", 1 << 30: "1gb", 1<<30 + 1024: "1048577kb"} {
		if got := FormatMemory(n); got != want {
			t.Errorf("FormatMemory(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.conf")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new\n" || st.Mode().Perm() != 0o600 {
		t.Errorf("file %q mode %v", b, st.Mode())
	}
	if names, _ := os.ReadDir(dir); len(names) != 1 {
		t.Errorf("left behind: %v", names)
	}
	// A directory in the file's place: Redis's reply names EISDIR.
	sub := filepath.Join(dir, "d.conf")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	err = WriteFileAtomic(sub, []byte("x"))
	if !errors.Is(err, syscall.EISDIR) || Strerror(err) != "Is a directory" {
		t.Errorf("over a directory: %v (%q)", err, Strerror(err))
	}
	if names, _ := os.ReadDir(dir); len(names) != 2 {
		t.Errorf("left behind: %v", names)
	}
	if got := Strerror(errors.New("plain")); !strings.HasPrefix(got, "plain") {
		t.Errorf("Strerror of an error without errno: %q", got)
	}
}
