package engine

import (
	"bytes"
	"strings"
	"testing"

	"github.com/raftstream/raftstream/engine/resp"
)

func execLine(s *State, db int, line string) string {
	w := resp.NewWriter(2)
	var argv [][]byte
	for _, f := range strings.Fields(line) {
		argv = append(argv, []byte(f))
	}
	s.Exec(&Ctx{DB: db, Now: 1000, W: w}, argv)
	return string(w.Buf)
}

// TestWatchVersions checks which operations change a watched key's
// version, that versions survive a snapshot, and the transaction abort.
func TestWatchVersions(t *testing.T) {
	s := NewState()
	execLine(s, 0, "XADD a 1-1 f v")
	w := s.WatchKey(0, "a", 1000)
	miss := s.WatchKey(0, "b", 1000)
	if w.Ver == 0 || miss.Ver != 0 {
		t.Fatalf("versions: %+v %+v", w, miss)
	}
	execLine(s, 0, "XLEN a")
	execLine(s, 1, "XADD a 1-1 f v") // another database
	if s.watchChanged(w, 1000) || s.watchChanged(miss, 1000) {
		t.Fatal("reads or other databases changed a watched version")
	}
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := ReadSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r.WatchKey(0, "a", 1000) != w || r.WatchKey(0, "b", 1000) != miss {
		t.Fatal("versions differ after a snapshot round trip")
	}
	if c := r.Clone(); c.WatchKey(0, "a", 1000) != w {
		t.Fatal("versions differ after Clone")
	}
	cmds := [][][]byte{{[]byte("XLEN"), []byte("a")}}
	wr := resp.NewWriter(2)
	s.ExecTxn(&Ctx{Now: 1000, W: wr}, []Watch{w}, cmds, nil)
	if got := string(wr.Buf); got != "*1\r\n:1\r\n" {
		t.Fatalf("EXEC = %q", got)
	}
	execLine(s, 0, "XACK a g 1-1") // a write naming the key
	wr.Reset()
	s.ExecTxn(&Ctx{Now: 1000, W: wr}, []Watch{w}, cmds, nil)
	if got := string(wr.Buf); got != "*-1\r\n" {
		t.Fatalf("EXEC after a write = %q", got)
	}
}
