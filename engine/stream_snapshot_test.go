package engine

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func snapshotCases(t *testing.T) map[string]*Stream {
	cases := map[string]*Stream{"empty": NewStream()}
	s, _ := build35(t)
	cases["plain"] = s
	s, m := NewStream(), &model{}
	mutateAll(s, m, 1)
	cases["mutated"] = s
	s, _ = build35(t)
	s.Delete(ID{10, 0})
	s.Trim(TrimArgs{By: TrimByMinID, MinID: ID{10, 0}}) // node with no live entry
	cases["empty node"] = s
	s, _ = build35(t)
	for i := 1; i <= 35; i++ {
		s.Delete(ID{uint64(i), 0})
	}
	cases["all deleted"] = s
	s = NewStream()
	s.Append(ID{1, maxU}, [][]byte{[]byte("f"), make([]byte, 5000)}, NodeLimits{})
	s.Append(ID{2, 0}, [][]byte{[]byte("f"), []byte("-12")}, NodeLimits{})
	s.Append(ID{maxU, maxU}, [][]byte{[]byte("g"), {}, []byte("h"), []byte("1")}, NodeLimits{})
	cases["extremes"] = s
	return cases
}

func TestStreamSnapshotRoundTrip(t *testing.T) {
	for name, s := range snapshotCases(t) {
		t.Run(name, func(t *testing.T) {
			enc := s.AppendSnapshot([]byte("prefix"))[len("prefix"):]
			d, rest, err := DecodeStream(append(append([]byte(nil), enc...), "tail"...))
			if err != nil {
				t.Fatal(err)
			}
			if string(rest) != "tail" {
				t.Fatalf("rest = %q", rest)
			}
			if !bytes.Equal(d.AppendSnapshot(nil), enc) {
				t.Fatal("re-encoding differs")
			}
			var m model
			s.Range(MinID, MaxID, false, func(id ID, fv [][]byte) bool { m.add(id, fv); return true })
			checkStream(t, d, &m)
			f1, ok1 := s.FirstID()
			f2, ok2 := d.FirstID()
			if s.Len() != d.Len() || f1 != f2 || ok1 != ok2 || s.LastID() != d.LastID() ||
				s.MaxDeletedID() != d.MaxDeletedID() || s.EntriesAdded() != d.EntriesAdded() || s.NodeCount() != d.NodeCount() {
				t.Fatal("metadata differs after decoding")
			}
			// The decoded stream evolves exactly like the original.
			if s.LastID() == MaxID {
				return
			}
			a := s.Clone()
			for _, x := range []*Stream{a, d} {
				next := x.LastID()
				for i := 0; i < 30; i++ {
					next, _ = next.Incr()
					x.Append(next, fv3(i), NodeLimits{MaxEntries: 10})
				}
				x.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: 12, Approx: true})
			}
			if !bytes.Equal(a.AppendSnapshot(nil), d.AppendSnapshot(nil)) {
				t.Fatal("decoded stream evolved differently")
			}
		})
	}
}

func TestStreamSnapshotEvolvesIdentically(t *testing.T) {
	s, _ := build35(t)
	s.Delete(ID{10, 0})
	d, _, err := DecodeStream(s.AppendSnapshot(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Stream{s, d} {
		for i := 36; i <= 70; i++ {
			x.Append(ID{uint64(i), 0}, fv3(i), NodeLimits{MaxEntries: 10})
		}
		x.Delete(ID{40, 0})
		x.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: 30, Approx: true})
		x.Trim(TrimArgs{By: TrimByMinID, MinID: ID{45, 0}})
	}
	if !bytes.Equal(s.AppendSnapshot(nil), d.AppendSnapshot(nil)) {
		t.Fatal("decoded stream diverged")
	}
}

func TestDecodeStreamCorrupt(t *testing.T) {
	for name, s := range snapshotCases(t) {
		enc := s.AppendSnapshot(nil)
		for i := 0; i < len(enc); i++ {
			if _, _, err := DecodeStream(enc[:i]); err == nil {
				t.Fatalf("%s: truncated to %d of %d bytes decoded", name, i, len(enc))
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < 2000; i++ {
			bad := append([]byte(nil), enc...)
			bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
			d, _, err := DecodeStream(bad) // must not panic
			if err == nil {
				checkInvariants(t, d)
				d.Range(MinID, MaxID, true, func(ID, [][]byte) bool { return true })
			}
		}
	}
	if _, _, err := DecodeStream([]byte{9}); err == nil {
		t.Fatal("unknown version decoded")
	}
}
