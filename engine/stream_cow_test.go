package engine

import (
	"bytes"
	"sync"
	"testing"
)

// mutateAll applies every kind of mutation to s (and the same to m).
func mutateAll(s *Stream, m *model, base int) {
	lim := NodeLimits{MaxEntries: 10}
	for i := 0; i < 25; i++ {
		id := ID{s.LastID().Ms + 1, 0}
		s.Append(id, fv3(base+i), lim)
		m.add(id, fv3(base+i))
	}
	for _, e := range append([]modelEntry(nil), m.entries...) {
		if e.id.Ms%4 == 1 {
			s.Delete(e.id)
			m.del(e.id)
		}
	}
	n := s.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: int64(len(m.entries)) - 3})
	m.entries = m.entries[n:]
	n = s.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: 5, Approx: true})
	m.entries = m.entries[n:]
	s.SetLastID(ID{s.LastID().Ms + 1000, 0})
	s.SetMaxDeletedID(ID{s.LastID().Ms - 1, 0})
	s.SetEntriesAdded(uint64(base))
}

func TestStreamCloneIsolation(t *testing.T) {
	s, m := NewStream(), &model{}
	mutateAll(s, m, 1)
	want := s.AppendSnapshot(nil)
	wantModel := &model{entries: append([]modelEntry(nil), m.entries...)}

	c := s.Clone()
	mutateAll(s, m, 2000) // original changes: clone must not
	if got := c.AppendSnapshot(nil); !bytes.Equal(got, want) {
		t.Fatal("clone changed after mutating the original")
	}
	checkStream(t, c, wantModel)
	checkStream(t, s, m)

	// And the other way round: mutating the clone leaves the original alone.
	orig := s.AppendSnapshot(nil)
	cm := &model{entries: append([]modelEntry(nil), wantModel.entries...)}
	mutateAll(c, cm, 5000)
	checkStream(t, c, cm)
	if got := s.AppendSnapshot(nil); !bytes.Equal(got, orig) {
		t.Fatal("original changed after mutating the clone")
	}

	// Clones of clones.
	c2 := c.Clone()
	snap := c2.AppendSnapshot(nil)
	for _, e := range append([]modelEntry(nil), cm.entries...) {
		c.Delete(e.id)
	}
	if !bytes.Equal(c2.AppendSnapshot(nil), snap) {
		t.Fatal("second-generation clone changed")
	}
}

// TestStreamCloneConcurrentRead reads a clone in one goroutine while the
// original is mutated in another; run with -race.
func TestStreamCloneConcurrentRead(t *testing.T) {
	s, m := NewStream(), &model{}
	mutateAll(s, m, 1)
	for round := 0; round < 20; round++ {
		c := s.Clone()
		want := c.AppendSnapshot(nil)
		wantEntries := append([]modelEntry(nil), m.entries...)
		var wg sync.WaitGroup
		errs := make(chan string, 4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if !bytes.Equal(c.AppendSnapshot(nil), want) {
					errs <- "clone snapshot changed"
					return
				}
				if err := sameEntries(collect(c, MinID, MaxID, i%2 == 1), (&model{entries: wantEntries}).rangeOf(MinID, MaxID, i%2 == 1)); err != nil {
					errs <- err.Error()
					return
				}
				for _, e := range wantEntries {
					if !c.Get(e.id, nil) {
						errs <- "clone lost " + e.id.String()
						return
					}
				}
			}
		}()
		mutateAll(s, m, 100*(round+1)) // concurrently with the reader
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatal(e)
		}
		checkStream(t, s, m)
	}
}
