package fsm

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// TestBigValueByReference checks the apply of an entry whose XADD values
// are kept by reference (retainArgs, engine.Stream.AppendRetained): the
// stream holds the log entry's bytes, not a copy; the state is the one an
// apply that copies them gives (same digest, whether the big XADD was
// applied alone or in an entry too small-valued to be retained); later
// writes to it (XDEL, XTRIM, an append to its node) never write the
// entry's bytes; snapshots of two FSMs fed the same entries, and of one
// restored from the other, are byte-identical; MEMORY USAGE counts the
// value once.
func TestBigValueByReference(t *testing.T) {
	val := strings.Repeat("v", engine.BigValue+123)
	big := cmd(0, 2, "XADD", "big", "1-1", "f", val)
	// pad makes an entry holding big mostly small arguments: not retained.
	pad := Command{Proto: 2, Argv: argv("XADD", "pad", "1-1")}
	for i := 0; len(pad.Argv) < 3+2*1200; i++ {
		pad.Argv = append(pad.Argv, []byte(fmt.Sprint("f", i)), bytes.Repeat([]byte("p"), 1000))
	}
	after := []Entry{
		{Type: EntryCommands, Now: 3, Commands: []Command{cmd(0, 2, "CONFIG", "SET", "stream-node-max-bytes", "0")}},
		{Type: EntryCommands, Now: 4, Commands: []Command{cmd(0, 2, "XADD", "big", "2-1", "f", "small")}},
		{Type: EntryCommands, Now: 5, Commands: []Command{cmd(0, 2, "XDEL", "big", "2-1"), cmd(0, 2, "XTRIM", "big", "MAXLEN", "0")}},
	}

	// a: the big XADD alone in its entry (retained), then pad.
	ea := []Entry{
		{Type: EntryCommands, Now: 1, Commands: []Command{big}},
		{Type: EntryCommands, Now: 1, Commands: []Command{pad}},
	}
	// b: both in one entry, mostly small arguments (copied); a no-op keeps
	// the indexes in step.
	eb := []Entry{
		{Type: EntryCommands, Now: 1, Commands: []Command{big, pad}},
		{Type: EntryNoop, Now: 1},
	}
	logsA, logsB := entriesToLogs(t, ea), entriesToLogs(t, eb)
	if !retainArgs(logsA[0].Data, ea[0].Commands) || retainArgs(logsB[0].Data, eb[0].Commands) {
		t.Fatal("retainArgs: want the lone XADD retained and the padded one not")
	}
	pristine := bytes.Clone(logsA[0].Data)
	a, b, c := New(quietLogger()), New(quietLogger()), New(quietLogger())
	// The stream references the entry: applying it allocates far less
	// than the value (a copy allocates the value's size).
	if n := allocated(func() { a.Apply(logsA[0]) }); n > 64<<10 {
		t.Fatalf("applying the big XADD allocated %d bytes", n)
	}
	if n := allocated(func() { b.Apply(logsB[0]) }); n < int64(len(val)) {
		t.Fatalf("applying the padded entry allocated %d bytes, less than the value", n)
	}
	a.Apply(logsA[1])
	b.Apply(logsB[1])
	applyInChunks(c, logsA, 2)
	memA, memB := memoryUsage(t, a, "big"), memoryUsage(t, b, "big")
	if memA < int64(len(val)) || memA > int64(len(val))+8192 || memB < int64(len(val)) || memB > int64(len(val))+8192 {
		t.Fatalf("MEMORY USAGE big: %d retained, %d copied, value %d", memA, memB, len(val))
	}
	sameState(t, a, b, c)

	// A snapshot restored in d: its node is a plain copy, a's references
	// the entry; both must go on alike.
	d := New(quietLogger())
	if err := d.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, a)))); err != nil {
		t.Fatal(err)
	}
	for i, e := range after {
		idx := uint64(len(logsA) + 1 + i)
		for _, f := range []*FSM{a, b, c, d} {
			f.Apply(logOf(t, idx, e))
		}
		sameState(t, a, b, c, d)
		if !bytes.Equal(logsA[0].Data, pristine) {
			t.Fatalf("applying %v wrote into the big entry's bytes", e.Commands[0].Argv[0])
		}
	}
}

func entriesToLogs(t *testing.T, es []Entry) []*raft.Log {
	var logs []*raft.Log
	for i, e := range es {
		logs = append(logs, logOf(t, uint64(i+1), e))
	}
	return logs
}

// sameState fails unless every FSM gives the first one's snapshot bytes.
func sameState(t *testing.T, fs ...*FSM) {
	t.Helper()
	want := snapshotBytes(t, fs[0])
	for i, f := range fs[1:] {
		if got := snapshotBytes(t, f); !bytes.Equal(got, want) {
			t.Fatalf("FSM %d: snapshot differs (%d vs %d bytes)", i+1, len(got), len(want))
		}
	}
}

// allocated returns the bytes the heap allocated while fn ran.
func allocated(fn func()) int64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	fn()
	runtime.ReadMemStats(&m1)
	return int64(m1.TotalAlloc - m0.TotalAlloc)
}

func memoryUsage(t *testing.T, f *FSM, key string) int64 {
	t.Helper()
	var n int64
	f.Read(func(st *engine.State) {
		w := &resp.Writer{Version: 2}
		st.Exec(&engine.Ctx{Now: st.Clock(), W: w}, argv("MEMORY", "USAGE", key))
		if _, err := fmt.Sscanf(string(w.Buf), ":%d\r\n", &n); err != nil {
			t.Fatalf("MEMORY USAGE: %q", w.Buf)
		}
	})
	return n
}
