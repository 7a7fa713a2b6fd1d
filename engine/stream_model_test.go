package engine

import (
	"bytes"
	"fmt"
	"testing"
)

// modelEntry is one entry of the reference model: a plain sorted slice.
type modelEntry struct {
	id ID
	fv [][]byte
}

// model is the simple reference a Stream is checked against.
type model struct {
	entries []modelEntry
}

func (m *model) add(id ID, fv [][]byte) {
	cp := make([][]byte, len(fv))
	for i, b := range fv {
		cp[i] = append([]byte{}, b...)
	}
	m.entries = append(m.entries, modelEntry{id, cp})
}

func (m *model) find(id ID) int {
	for i, e := range m.entries {
		if e.id == id {
			return i
		}
	}
	return -1
}

func (m *model) del(id ID) bool {
	i := m.find(id)
	if i < 0 {
		return false
	}
	m.entries = append(m.entries[:i], m.entries[i+1:]...)
	return true
}

// rangeOf returns the model's entries in [start, end], reversed if rev.
func (m *model) rangeOf(start, end ID, rev bool) []modelEntry {
	var out []modelEntry
	for _, e := range m.entries {
		if !e.id.Less(start) && !end.Less(e.id) {
			out = append(out, e)
		}
	}
	if rev {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// collect reads a stream range into copied entries.
func collect(s *Stream, start, end ID, rev bool) []modelEntry {
	var out []modelEntry
	s.Range(start, end, rev, func(id ID, fv [][]byte) bool {
		var m model
		m.add(id, fv)
		out = append(out, m.entries[0])
		return true
	})
	return out
}

func sameEntries(a, b []modelEntry) error {
	if len(a) != len(b) {
		return fmt.Errorf("got %d entries, want %d", len(a), len(b))
	}
	for i := range a {
		if a[i].id != b[i].id {
			return fmt.Errorf("entry %d: id %v, want %v", i, a[i].id, b[i].id)
		}
		if len(a[i].fv) != len(b[i].fv) {
			return fmt.Errorf("entry %v: %d items, want %d", a[i].id, len(a[i].fv), len(b[i].fv))
		}
		for j := range a[i].fv {
			if !bytes.Equal(a[i].fv[j], b[i].fv[j]) {
				return fmt.Errorf("entry %v item %d: %q, want %q", a[i].id, j, a[i].fv[j], b[i].fv[j])
			}
		}
	}
	return nil
}

// checkStream verifies every observable property of s against m.
func checkStream(t *testing.T, s *Stream, m *model) {
	t.Helper()
	if s.Len() != int64(len(m.entries)) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(m.entries))
	}
	if err := sameEntries(collect(s, MinID, MaxID, false), m.entries); err != nil {
		t.Fatalf("forward range: %v", err)
	}
	if err := sameEntries(collect(s, MinID, MaxID, true), m.rangeOf(MinID, MaxID, true)); err != nil {
		t.Fatalf("reverse range: %v", err)
	}
	first, ok := s.FirstID()
	if len(m.entries) == 0 {
		if ok {
			t.Fatalf("FirstID = %v, true on empty stream", first)
		}
	} else if !ok || first != m.entries[0].id {
		t.Fatalf("FirstID = %v, %v; want %v", first, ok, m.entries[0].id)
	}
	checkInvariants(t, s)
}

// checkInvariants verifies node bookkeeping: counters match flags, lpRest
// matches a fresh computation, masters ascend.
func checkInvariants(t *testing.T, s *Stream) {
	t.Helper()
	var total int64
	var prevLast ID
	i := 0
	s.tree.Scan(func(n node) bool {
		// A node keeping values by reference is checked in the plain
		// form snapshots carry; it has one entry and no owner.
		dn, last, err := decodeNode(n.master, n.appendCanonical(nil))
		if n.ext != nil && (n.own != nil || n.live+n.dead != 1) {
			t.Fatalf("node %v keeps values by reference but has an owner or %d entries", n.master, n.live+n.dead)
		}
		if err != nil {
			t.Fatalf("node %d (%v) invalid: %v", i, n.master, err)
		}
		if dn.live != n.live || dn.dead != n.dead || dn.lpRest != n.lpRest || dn.hdr != n.hdr {
			t.Fatalf("node %v counters live=%d dead=%d lp=%d hdr=%d; recomputed %d %d %d %d",
				n.master, n.live, n.dead, n.lpRest, n.hdr, dn.live, dn.dead, dn.lpRest, dn.hdr)
		}
		if i > 0 && !prevLast.Less(n.master) {
			t.Fatalf("node %v does not follow %v", n.master, prevLast)
		}
		prevLast = last
		total += int64(n.live)
		i++
		return true
	})
	if total != s.Len() {
		t.Fatalf("nodes hold %d live entries, Len = %d", total, s.Len())
	}
}

// fv3 builds the three-field entries used throughout the tests.
func fv3(i int) [][]byte {
	return [][]byte{[]byte("a"), []byte(fmt.Sprint(i)), []byte("b"), []byte("x"), []byte("c"), []byte(fmt.Sprintf("v%d", i%1000))}
}
