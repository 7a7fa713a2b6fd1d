package engine

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"
)

// bigVal returns a value of n bytes with a pattern that differs per seed.
func bigVal(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

// extShapes are field/value lists with big values in various places.
func extShapes() map[string][][]byte {
	big := BigValue
	return map[string][][]byte{
		"one big value":      {[]byte("f"), bigVal(big+17, 1)},
		"big then small":     {[]byte("f"), bigVal(big, 2), []byte("g"), []byte("12345")},
		"small then big":     {[]byte("a"), []byte("x"), []byte("b"), bigVal(2*big+3, 3)},
		"two big, one small": {[]byte("a"), bigVal(big+1, 4), []byte("b"), []byte("v"), []byte("c"), bigVal(big+300, 5)},
		"just under":         {[]byte("f"), bigVal(big-1, 6)},
	}
}

// TestAppendRetainedMatchesAppend runs the same operations on a stream built
// with Append (every value copied) and one built with AppendRetained (big
// values referenced): after each step both give the same snapshot bytes and
// the same entries, the referenced values are never written, and a snapshot
// of the retained stream decodes and re-encodes to the same bytes.
func TestAppendRetainedMatchesAppend(t *testing.T) {
	limits := map[string]NodeLimits{
		"default":           {MaxBytes: 4096, MaxEntries: 100},
		"no byte limit":     {MaxBytes: 0, MaxEntries: 100}, // the next entry joins the big one's node
		"one entry a node":  {MaxBytes: 0, MaxEntries: 1},
		"no limits at all":  {},
		"small entry limit": {MaxBytes: 4096, MaxEntries: 3},
	}
	for ln, lim := range limits {
		for sn, fv := range extShapes() {
			for _, op := range []string{"append", "xdel", "xdel-small", "maxlen-exact", "maxlen-approx", "minid-exact", "trim-keep", "clone-append", "clone-xdel"} {
				t.Run(fmt.Sprintf("%s/%s/%s", ln, sn, op), func(t *testing.T) {
					pristine := make([][]byte, len(fv))
					for i, b := range fv {
						pristine[i] = bytes.Clone(b)
					}
					a, r := NewStream(), NewStream()
					small := [][]byte{[]byte("f"), []byte("v")}
					both := func(f func(s *Stream, retain bool)) {
						f(a, false)
						f(r, true)
						compareStreams(t, a, r)
					}
					add := func(id ID, fv [][]byte) func(*Stream, bool) {
						return func(s *Stream, retain bool) {
							if retain {
								s.AppendRetained(id, fv, lim)
							} else {
								s.Append(id, fv, lim)
							}
						}
					}
					both(add(ID{1, 0}, small))
					both(add(ID{2, 0}, fv))
					if sn != "just under" && lim.MaxBytes == 4096 {
						// A new node referencing the values, not copying them.
						r.Get(ID{2, 0}, func(got [][]byte) {
							for i := 1; i < len(fv); i += 2 {
								if len(fv[i]) >= BigValue && unsafe.SliceData(got[i]) != unsafe.SliceData(fv[i]) {
									t.Errorf("value %d was copied", i)
								}
							}
						})
					}
					switch op {
					case "append":
						both(add(ID{3, 0}, small))
						both(add(ID{4, 0}, fv))
					case "xdel":
						both(func(s *Stream, _ bool) { s.Delete(ID{2, 0}) })
						both(add(ID{3, 0}, small))
					case "xdel-small":
						both(add(ID{3, 0}, small))
						both(func(s *Stream, _ bool) { s.Delete(ID{1, 0}) })
						both(func(s *Stream, _ bool) { s.Delete(ID{3, 0}) })
					case "maxlen-exact":
						both(add(ID{3, 0}, small))
						both(func(s *Stream, _ bool) { s.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: 1}) })
					case "maxlen-approx":
						both(add(ID{3, 0}, small))
						both(func(s *Stream, _ bool) { s.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: 1, Approx: true}) })
					case "minid-exact":
						both(add(ID{3, 0}, small))
						both(func(s *Stream, _ bool) { s.Trim(TrimArgs{By: TrimByMinID, MinID: ID{3, 0}}) })
					case "trim-keep":
						// Redis 8.2 ACKED/DELREF trims walk entry by entry,
						// flagging entries in the big entry's node too.
						both(add(ID{3, 0}, small))
						both(func(s *Stream, _ bool) {
							s.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: 1, Keep: func(id ID) bool { return id == ID{1, 0} }})
						})
					case "clone-append", "clone-xdel":
						ca, cr := a.Clone(), r.Clone()
						snap := ca.AppendSnapshot(nil)
						if op == "clone-append" {
							both(add(ID{3, 0}, small))
						} else {
							both(func(s *Stream, _ bool) { s.Delete(ID{2, 0}) })
						}
						compareStreams(t, ca, cr)
						if !bytes.Equal(cr.AppendSnapshot(nil), snap) {
							t.Fatal("clone changed")
						}
					}
					for i := range fv {
						if !bytes.Equal(fv[i], pristine[i]) {
							t.Fatalf("argument %d was modified", i)
						}
					}
				})
			}
		}
	}
}

// compareStreams fails unless a and r hold the same entries and encode to
// the same snapshot bytes, and r's snapshot decodes to a stream that
// encodes to them again.
func compareStreams(t *testing.T, a, r *Stream) {
	t.Helper()
	sa, sr := a.AppendSnapshot(nil), r.AppendSnapshot(nil)
	if !bytes.Equal(sa, sr) {
		t.Fatalf("snapshots differ: %d vs %d bytes", len(sa), len(sr))
	}
	d, rest, err := DecodeStream(sr)
	if err != nil || len(rest) != 0 {
		t.Fatalf("DecodeStream: %v (%d bytes left)", err, len(rest))
	}
	if !bytes.Equal(d.AppendSnapshot(nil), sr) {
		t.Fatal("decoded stream encodes differently")
	}
	if a.NodeCount() != r.NodeCount() || a.Len() != r.Len() {
		t.Fatalf("nodes %d/%d, length %d/%d", a.NodeCount(), r.NodeCount(), a.Len(), r.Len())
	}
	for _, rev := range []bool{false, true} {
		var ea, er []string
		collect := func(out *[]string) func(ID, [][]byte) bool {
			return func(id ID, fv [][]byte) bool {
				s := id.String()
				for _, b := range fv {
					s += fmt.Sprintf("|%d:%x", len(b), b[:min(len(b), 8)])
					if len(b) > 8 {
						s += fmt.Sprintf("..%x", b[len(b)-8:])
					}
				}
				*out = append(*out, s)
				return true
			}
		}
		a.Range(MinID, MaxID, rev, collect(&ea))
		r.Range(MinID, MaxID, rev, collect(&er))
		if fmt.Sprint(ea) != fmt.Sprint(er) {
			t.Fatalf("Range(rev=%v):\ncopied   %v\nretained %v", rev, ea, er)
		}
	}
	ma, mr := a.MemoryUsage(), r.MemoryUsage()
	if d := ma - mr; d < -4096 || d > 4096 {
		t.Fatalf("MemoryUsage %d copied, %d retained", ma, mr)
	}
}
