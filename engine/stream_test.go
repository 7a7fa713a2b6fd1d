package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var smallNodes = NodeLimits{MaxBytes: 4096, MaxEntries: 7}

func TestStreamEmpty(t *testing.T) {
	s := NewStream()
	checkStream(t, s, &model{})
	if s.Get(ID{1, 1}, nil) || s.Delete(ID{1, 1}) {
		t.Fatal("empty stream has an entry")
	}
	if n := s.TrimMaxLen(0, false, 0, smallNodes); n != 0 {
		t.Fatalf("trim removed %d", n)
	}
	if s.LastID() != (ID{}) || s.NodeCount() != 0 {
		t.Fatal("bad empty metadata")
	}
}

func TestStreamAppendRange(t *testing.T) {
	for _, lim := range []NodeLimits{{}, {MaxEntries: 1}, smallNodes, {MaxBytes: 60}, {MaxBytes: 4096, MaxEntries: 100}} {
		t.Run(fmt.Sprintf("%+v", lim), func(t *testing.T) {
			s, m := NewStream(), &model{}
			rng := rand.New(rand.NewPCG(1, 2))
			id := ID{100, 0}
			for i := 0; i < 500; i++ {
				// Mix same-ms and new-ms IDs, and entries whose fields
				// differ from the node's master fields.
				if rng.IntN(3) == 0 {
					id = ID{id.Ms + uint64(rng.IntN(5)) + 1, uint64(rng.IntN(3))}
				} else {
					id.Seq++
				}
				fv := fv3(i)
				if rng.IntN(4) == 0 {
					fv = [][]byte{[]byte("other"), []byte(fmt.Sprint(i))}
				}
				s.Append(id, fv, lim)
				m.add(id, fv)
			}
			checkStream(t, s, m)
			if s.LastID() != id || s.EntriesAdded() != 500 {
				t.Fatalf("LastID %v EntriesAdded %d", s.LastID(), s.EntriesAdded())
			}
			for i := 0; i < 300; i++ {
				a := m.entries[rng.IntN(len(m.entries))].id
				b := m.entries[rng.IntN(len(m.entries))].id
				// Bounds between entries too.
				if rng.IntN(2) == 0 {
					a.Seq++
				}
				if rng.IntN(2) == 0 {
					b, _ = b.Decr()
				}
				rev := rng.IntN(2) == 0
				if err := sameEntries(collect(s, a, b, rev), m.rangeOf(a, b, rev)); err != nil {
					t.Fatalf("range %v..%v rev=%v: %v", a, b, rev, err)
				}
			}
			for _, e := range m.entries {
				var got []modelEntry
				if !s.Get(e.id, func(fv [][]byte) { var mm model; mm.add(e.id, fv); got = mm.entries }) {
					t.Fatalf("Get(%v) missing", e.id)
				}
				if err := sameEntries(got, []modelEntry{e}); err != nil {
					t.Fatalf("Get(%v): %v", e.id, err)
				}
				if next, _ := e.id.Incr(); m.find(next) < 0 && s.Get(next, nil) {
					t.Fatalf("Get(%v) found a missing entry", next)
				}
			}
		})
	}
}

func TestStreamRangeStops(t *testing.T) {
	s := NewStream()
	for i := 1; i <= 50; i++ {
		s.Append(ID{uint64(i), 0}, fv3(i), smallNodes)
	}
	for _, rev := range []bool{false, true} {
		n := 0
		s.Range(MinID, MaxID, rev, func(ID, [][]byte) bool { n++; return n < 10 })
		if n != 10 {
			t.Fatalf("rev=%v: fn called %d times after returning false", rev, n)
		}
	}
	n := 0
	s.Range(ID{30, 0}, ID{20, 0}, false, func(ID, [][]byte) bool { n++; return true })
	if n != 0 {
		t.Fatalf("inverted range returned %d entries", n)
	}
}

// TestStreamNodeBoundaries checks streamAppendItem's rule: a new node when
// lpBytes + len(fields and values) >= max-bytes or live+deleted >= max-entries.
func TestStreamNodeBoundaries(t *testing.T) {
	s := NewStream()
	lim := NodeLimits{MaxBytes: 4096, MaxEntries: 10}
	for i := 1; i <= 35; i++ {
		s.Append(ID{uint64(i), 0}, fv3(i), lim)
	}
	if s.NodeCount() != 4 {
		t.Fatalf("35 entries with max-entries 10: %d nodes, want 4", s.NodeCount())
	}
	// Deleted entries still count toward max-entries.
	s.Delete(ID{32, 0})
	for i := 36; i <= 40; i++ {
		s.Append(ID{uint64(i), 0}, fv3(i), lim)
	}
	if s.NodeCount() != 4 {
		t.Fatalf("%d nodes, want 4", s.NodeCount())
	}
	s.Append(ID{41, 0}, fv3(41), lim)
	if s.NodeCount() != 5 {
		t.Fatalf("%d nodes, want 5", s.NodeCount())
	}

	// Byte limit: one listpack-equivalent size check per append.
	b := NewStream()
	big := make([]byte, 100)
	for i := 1; i <= 100; i++ {
		b.Append(ID{uint64(i), 0}, [][]byte{[]byte("f"), big}, NodeLimits{MaxBytes: 1000})
	}
	b.tree.Scan(func(n node) bool {
		if n.lpBytes() >= 1000+104 {
			t.Fatalf("node %v has %d listpack bytes", n.master, n.lpBytes())
		}
		return true
	})
	// lpBytes of a node of k such entries: 7 + count + deleted + header
	// (num-fields 2, "f" 2, terminator 2) + k * (flags 2, deltas 2+2,
	// value 1+1+100+1... ) -- the exact figure is checked against Redis in
	// TestRedisNodeBoundaries; here only that every node but the last is full.
	nodes := b.tree.Items()
	for _, n := range nodes[:len(nodes)-1] {
		if n.lpBytes()+101 < 1000 {
			t.Fatalf("node %v closed early at %d bytes", n.master, n.lpBytes())
		}
	}
}

func TestStreamDelete(t *testing.T) {
	s, m := NewStream(), &model{}
	for i := 1; i <= 30; i++ {
		id := ID{uint64(i), 0}
		s.Append(id, fv3(i), NodeLimits{MaxEntries: 5})
		m.add(id, fv3(i))
	}
	if s.NodeCount() != 6 {
		t.Fatalf("%d nodes", s.NodeCount())
	}
	steps := []struct {
		id       ID
		ok       bool
		nodes    int
		maxDel   ID
		comments string
	}{
		{ID{3, 0}, true, 6, ID{3, 0}, "middle of first node"},
		{ID{3, 0}, false, 6, ID{3, 0}, "already deleted"},
		{ID{3, 1}, false, 6, ID{3, 0}, "never existed"},
		{ID{1, 0}, true, 6, ID{3, 0}, "first entry: first ID moves, max deleted stays"},
		{ID{2, 0}, true, 6, ID{3, 0}, ""},
		{ID{4, 0}, true, 6, ID{4, 0}, ""},
		{ID{5, 0}, true, 5, ID{5, 0}, "last live entry of node: node removed"},
		{ID{30, 0}, true, 5, ID{30, 0}, "last entry of stream"},
		{ID{31, 0}, false, 5, ID{30, 0}, "beyond the end"},
		{ID{0, 5}, false, 5, ID{30, 0}, "before the start"},
	}
	for _, st := range steps {
		if got := s.Delete(st.id); got != st.ok {
			t.Fatalf("Delete(%v) = %v (%s)", st.id, got, st.comments)
		}
		if st.ok {
			m.del(st.id)
		}
		if s.NodeCount() != st.nodes || s.MaxDeletedID() != st.maxDel {
			t.Fatalf("after Delete(%v): %d nodes, max deleted %v (%s)", st.id, s.NodeCount(), s.MaxDeletedID(), st.comments)
		}
		checkStream(t, s, m)
	}
	if s.LastID() != (ID{30, 0}) {
		t.Fatalf("LastID moved to %v", s.LastID())
	}
	for _, e := range append([]modelEntry(nil), m.entries...) {
		s.Delete(e.id)
		m.del(e.id)
	}
	checkStream(t, s, m)
	if s.NodeCount() != 0 || s.LastID() != (ID{30, 0}) || s.EntriesAdded() != 30 {
		t.Fatalf("emptied stream: %d nodes, last %v, added %d", s.NodeCount(), s.LastID(), s.EntriesAdded())
	}
	// Appending after emptying starts afresh.
	s.Append(ID{40, 0}, fv3(40), NodeLimits{MaxEntries: 5})
	m.add(ID{40, 0}, fv3(40))
	checkStream(t, s, m)
}

func TestStreamMetadataSetters(t *testing.T) {
	s := NewStream()
	s.SetLastID(ID{9, 9})
	s.SetMaxDeletedID(ID{4, 4})
	s.SetEntriesAdded(77)
	if s.LastID() != (ID{9, 9}) || s.MaxDeletedID() != (ID{4, 4}) || s.EntriesAdded() != 77 {
		t.Fatal("setters did not stick")
	}
}

func TestStreamMemoryUsage(t *testing.T) {
	s := NewStream()
	before := s.MemoryUsage()
	for i := 1; i <= 1000; i++ {
		s.Append(ID{uint64(i), 0}, fv3(i), NodeLimits{MaxBytes: 4096, MaxEntries: 100})
	}
	if got := s.MemoryUsage() - before; got < 15*1000 || got > 60*1000 {
		t.Fatalf("MemoryUsage grew by %d for 1000 entries", got)
	}
}

func TestStreamAppendContract(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	s := NewStream()
	mustPanic("0-0", func() { s.Append(ID{}, fv3(1), NodeLimits{}) })
	//lint:ignore SA5012 an odd field list is the case under test
	mustPanic("odd fields", func() { s.Append(ID{1, 0}, [][]byte{[]byte("f")}, NodeLimits{}) })
	mustPanic("no fields", func() { s.Append(ID{1, 0}, nil, NodeLimits{}) })
	s.Append(ID{5, 0}, fv3(1), NodeLimits{})
	mustPanic("equal", func() { s.Append(ID{5, 0}, fv3(1), NodeLimits{}) })
	mustPanic("lower", func() { s.Append(ID{4, 9}, fv3(1), NodeLimits{}) })
	s.SetLastID(ID{4, 0}) // a caller bug: below the last entry
	mustPanic("below last entry", func() { s.Append(ID{4, 5}, fv3(1), NodeLimits{}) })
	s.SetLastID(ID{9, 0})
	s.Append(ID{9, 1}, fv3(1), NodeLimits{})
	if s.Len() != 2 {
		t.Fatalf("Len %d", s.Len())
	}
}
