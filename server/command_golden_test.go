package server

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/command_*.golden from the current build")

// TestCommandRepliesGolden pins COMMAND, COMMAND COUNT/LIST/INFO/DOCS for
// every command and subcommand, in RESP2 and RESP3, byte for byte. The
// golden files were captured from the build whose replies the Redis
// comparison tests check, before the command table became one registry;
// any refactoring of the table must leave them unchanged.
func TestCommandRepliesGolden(t *testing.T) {
	s, _ := startDirect(t, Config{})
	for _, proto := range []string{"2", "3"} {
		c := dialRaw(t, s)
		c.do("HELLO", proto)
		var out bytes.Buffer
		record := func(args ...string) {
			out.WriteString(">> " + strings.Join(args, " ") + "\n")
			out.WriteString(c.do(args...))
			out.WriteString("\n")
		}
		record("COMMAND")
		record("COMMAND", "COUNT")
		record("COMMAND", "LIST")
		record("COMMAND", "DOCS")
		record("COMMAND", "INFO")
		var names []string
		s.table().all(func(c *command) { names = append(names, c.Name()) })
		for _, n := range names {
			record("COMMAND", "INFO", n)
			record("COMMAND", "DOCS", n)
		}
		record("COMMAND", "INFO", "nosuchcommand", "XADD", "Client|List")
		record("COMMAND", "LIST", "FILTERBY", "ACLCAT", "stream")
		record("COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection")
		record("COMMAND", "LIST", "FILTERBY", "PATTERN", "x*")
		path := filepath.Join("testdata", "command_resp"+proto+".golden")
		if *updateGolden {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update-golden to create it)", err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			got, exp := strings.Split(out.String(), "\n"), strings.Split(string(want), "\n")
			for i := 0; i < len(got) && i < len(exp); i++ {
				if got[i] != exp[i] {
					t.Fatalf("RESP%s: first difference at line %d:\n got %.400q\nwant %.400q", proto, i+1, got[i], exp[i])
				}
			}
			t.Fatalf("RESP%s: %d lines, want %d", proto, len(got), len(exp))
		}
	}
}
