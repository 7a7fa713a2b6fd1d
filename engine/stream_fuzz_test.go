package engine

import (
	"bytes"
	"testing"
)

// fuzzBig is the big value FuzzStreamOps appends by reference; nothing
// may ever write it.
var fuzzBig = bytes.Repeat([]byte("B"), BigValue)

// Every snapshot, clone and full check of FuzzStreamOps copies or
// compares each big value in the stream, so an input of thousands of ops
// with hundreds of 1 MiB values took minutes per run, and minimising one
// stalled CI's fuzz step for over 4 minutes. So one input appends at most
// maxFuzzBigs big values (a few already reach every position the ops can
// put them in), and stops once its snapshots and checks have handled
// fuzzWorkBytes of them.
const (
	maxFuzzBigs   = 4
	fuzzWorkBytes = 32 << 20
)

// FuzzStreamOps runs a byte-coded sequence of operations on a Stream and on
// the plain-slice model and checks they agree. Exact trims must match the
// model exactly; approximate trims must remove a prefix of the entries no
// larger than the exact trim would, within LIMIT. Clones taken along the
// way must not change, and snapshots must round-trip.
func FuzzStreamOps(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 1, 9, 2, 4, 3, 7, 5, 6, 0, 0, 0, 7})
	f.Add(bytes.Repeat([]byte{0, 1, 2, 0, 5, 3}, 40))
	f.Add(append(bytes.Repeat([]byte{0}, 60), 2, 20, 3, 1, 40, 0, 4, 5, 4, 6))
	// Big values by reference among small entries, deleted, trimmed,
	// cloned and snapshotted.
	big := []byte{0, 1, 1, 31, 0, 2, 5, 1, 63, 7, 0, 3, 0, 1, 95, 2, 1, 6, 1, 127, 7, 3, 2, 2, 0, 3, 1, 4,
		1, 159, 0, 9, 4, 1, 7, 2, 0, 7, 0, 0}
	f.Add(append([]byte{5, 3}, big...)) // 120-byte nodes: each big value starts one
	f.Add(append([]byte{5, 0}, big...)) // no byte limit: big values join nodes too
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) < 2 {
			return
		}
		lim := NodeLimits{MaxEntries: int64(ops[0] % 12), MaxBytes: int64(ops[1]%8) * 40}
		ops = ops[2:]
		if len(ops) > 4000 { // full checks make long inputs quadratic
			ops = ops[:4000]
		}
		s, m := NewStream(), &model{}
		type frozen struct {
			c    *Stream
			snap []byte
		}
		var clones []frozen
		bigs := 0
		next := ID{1, 0}
		arg := func(i int) int {
			if i < len(ops) {
				return int(ops[i])
			}
			return 0
		}
		work := 0 // bytes of big values copied or compared so far
		for i := 0; i < len(ops) && work < fuzzWorkBytes; i++ {
			switch op := ops[i] % 8; op {
			case 0, 1: // append, sometimes with other fields or a new ms
				a := arg(i + 1)
				if a%3 == 0 {
					next = ID{next.Ms + uint64(a%5), uint64(a % 4)}
				}
				if next.IsZero() || !s.LastID().Less(next) {
					next, _ = s.LastID().Incr()
				}
				fv := fv3(a)
				if op == 1 {
					fv = [][]byte{[]byte("z"), bytes.Repeat([]byte("q"), a)}
				}
				if op == 1 && a%32 == 31 && bigs < maxFuzzBigs {
					// A big value kept by reference (AppendRetained).
					bigs++
					fv = [][]byte{[]byte("z"), fuzzBig, []byte("n"), []byte{byte(a)}}
					s.AppendRetained(next, fv, lim)
				} else {
					s.Append(next, fv, lim)
				}
				m.add(next, fv)
				next, _ = next.Incr()
			case 2: // delete an existing or missing entry
				if len(m.entries) == 0 {
					continue
				}
				id := m.entries[arg(i+1)%len(m.entries)].id
				if arg(i+1)%5 == 0 {
					id.Seq++ // often missing
				}
				want := m.del(id)
				if got := s.Delete(id); got != want {
					t.Fatalf("Delete(%v) = %v, model %v", id, got, want)
				}
				i++
			case 3, 4: // trim by MAXLEN / MINID
				a, b := arg(i+1), arg(i+2)
				i += 2
				args := TrimArgs{By: TrimByMaxLen, Approx: a%2 == 1}
				if args.Approx && a%4 == 3 {
					args.Limit = int64(b % 30)
				}
				var exact int // what an exact, unlimited trim removes
				if op == 3 {
					args.MaxLen = int64(b % (len(m.entries) + 3))
					exact = max(0, len(m.entries)-int(args.MaxLen))
				} else {
					args.By = TrimByMinID
					args.MinID = ID{uint64(b), 0}
					for exact < len(m.entries) && m.entries[exact].id.Less(args.MinID) {
						exact++
					}
				}
				got := int(s.Trim(args))
				switch {
				case !args.Approx && got != exact:
					t.Fatalf("exact trim %+v removed %d, want %d", args, got, exact)
				case got > exact:
					t.Fatalf("approx trim %+v removed %d, more than exact %d", args, got, exact)
				case args.Limit > 0 && got > int(args.Limit):
					t.Fatalf("trim %+v removed %d, above limit", args, got)
				}
				m.entries = m.entries[got:]
			case 5: // clone; the clone is checked at the end
				work += bigs * BigValue
				clones = append(clones, frozen{s.Clone(), s.AppendSnapshot(nil)})
			case 6: // snapshot round trip, continuing on the decoded stream
				work += bigs * BigValue
				enc := s.AppendSnapshot(nil)
				d, rest, err := DecodeStream(enc)
				if err != nil || len(rest) != 0 {
					t.Fatalf("decode: %v (rest %d)", err, len(rest))
				}
				if !bytes.Equal(d.AppendSnapshot(nil), enc) {
					t.Fatal("re-encoding differs")
				}
				s = d
			case 7: // full check, plus a random range
				work += bigs * BigValue
				checkStream(t, s, m)
				if len(m.entries) > 0 {
					a := m.entries[arg(i+1)%len(m.entries)].id
					b := m.entries[arg(i+2)%len(m.entries)].id
					rev := arg(i+1)%2 == 1
					if err := sameEntries(collect(s, a, b, rev), m.rangeOf(a, b, rev)); err != nil {
						t.Fatalf("range %v..%v: %v", a, b, err)
					}
				}
			}
		}
		checkStream(t, s, m)
		if bytes.Count(fuzzBig, []byte("B")) != len(fuzzBig) {
			t.Fatal("a value kept by reference was written")
		}
		for _, c := range clones {
			if !bytes.Equal(c.c.AppendSnapshot(nil), c.snap) {
				t.Fatal("clone changed")
			}
			checkInvariants(t, c.c)
		}
	})
}
