package cluster

import (
	"bytes"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestWALBigEntriesWrittenDirect: entries of 1 MiB and more are written to
// the segment straight from their own buffers (the raftstream patch in
// third_party/raft-wal), between entries that go through the segment's
// buffer, in one batch and alone. Every entry reads back the same, before
// and after a restart, which recovers the tail segment by scanning its
// frames and checking the last batch's CRC over all of them.
func TestWALBigEntriesWrittenDirect(t *testing.T) {
	dir := t.TempDir()
	w, err := openWAL(dir, 16<<20, nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	log := checkedLog{LogStore: w, required: true}
	mk := func(i uint64, size int) *raft.Log {
		d := bytes.Repeat([]byte{byte(i)}, size)
		copy(d, []byte("entry"))
		return &raft.Log{Index: i, Term: 3, Type: raft.LogCommand, Data: d, AppendedAt: time.Unix(1700000000, int64(i))}
	}
	want := []*raft.Log{mk(1, 10), mk(2, 3<<20+5), mk(3, 7), mk(4, 1<<20), mk(5, 2<<20+3), mk(6, 1)}
	for _, batch := range [][]*raft.Log{want[:3], want[3:4], want[4:]} {
		if err := log.StoreLogs(batch); err != nil {
			t.Fatal(err)
		}
	}
	check := func(l raft.LogStore, when string) {
		t.Helper()
		for _, e := range want {
			var got raft.Log
			if err := l.GetLog(e.Index, &got); err != nil {
				t.Fatalf("%s: GetLog(%d): %v", when, e.Index, err)
			}
			if !bytes.Equal(got.Data, e.Data) || got.Term != e.Term || !got.AppendedAt.Equal(e.AppendedAt) {
				t.Fatalf("%s: entry %d differs (%d bytes, want %d)", when, e.Index, len(got.Data), len(e.Data))
			}
		}
	}
	check(log, "written")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err = openWAL(dir, 16<<20, nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	log = checkedLog{LogStore: w, required: true}
	check(log, "after a restart")
	if last, _ := log.LastIndex(); last != 6 {
		t.Fatalf("last index %d after a restart, want 6", last)
	}
	// More appends after recovery land after the recovered frames.
	more := mk(7, 1<<20+9)
	if err := log.StoreLogs([]*raft.Log{more}); err != nil {
		t.Fatal(err)
	}
	want = append(want, more)
	check(log, "appended after a restart")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err = openWAL(dir, 16<<20, nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	check(checkedLog{LogStore: w, required: true}, "after a second restart")
}
