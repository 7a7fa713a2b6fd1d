package engine

import (
	"testing"
)

// build35 returns a stream of entries 1-0 .. 35-0 in nodes of 10, 10, 10, 5.
func build35(t *testing.T) (*Stream, *model) {
	t.Helper()
	s, m := NewStream(), &model{}
	for i := 1; i <= 35; i++ {
		s.Append(ID{uint64(i), 0}, fv3(i), NodeLimits{MaxEntries: 10})
		m.add(ID{uint64(i), 0}, fv3(i))
	}
	if s.NodeCount() != 4 {
		t.Fatalf("%d nodes", s.NodeCount())
	}
	return s, m
}

// Expectations follow Redis's streamTrim node loop on nodes of 10,10,10,5
// entries (see Trim); TestRedisCompat checks the same logic against a real
// server on random operation sequences.
func TestStreamTrim(t *testing.T) {
	tests := []struct {
		name    string
		del     []uint64 // XDEL before trimming
		args    TrimArgs
		removed int64
		first   uint64 // first ID's ms after trimming (0 = empty)
		nodes   int
	}{
		{"maxlen exact", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 12}, 23, 24, 2},
		{"maxlen exact no-op", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 35}, 0, 1, 4},
		{"maxlen exact to zero", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 0}, 35, 0, 0},
		{"maxlen approx", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 12, Approx: true}, 20, 21, 2},
		{"maxlen approx exact fit", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 15, Approx: true}, 20, 21, 2},
		{"maxlen approx one short", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 16, Approx: true}, 10, 11, 3},
		{"maxlen approx limit", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 0, Approx: true, Limit: 15}, 10, 11, 3},
		{"maxlen approx limit exact", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 0, Approx: true, Limit: 20}, 20, 21, 2},
		{"maxlen approx limit below node", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 0, Approx: true, Limit: 9}, 0, 1, 4},
		{"maxlen approx zero", nil, TrimArgs{By: TrimByMaxLen, MaxLen: 0, Approx: true}, 35, 0, 0},
		{"maxlen approx counts live entries", []uint64{1, 2, 3, 4, 5}, TrimArgs{By: TrimByMaxLen, MaxLen: 20, Approx: true}, 5, 11, 3},
		{"minid exact", nil, TrimArgs{By: TrimByMinID, MinID: ID{13, 0}}, 12, 13, 3},
		{"minid exact boundary", nil, TrimArgs{By: TrimByMinID, MinID: ID{11, 0}}, 10, 11, 3},
		{"minid approx", nil, TrimArgs{By: TrimByMinID, MinID: ID{13, 0}, Approx: true}, 10, 11, 3},
		{"minid approx inside first node", nil, TrimArgs{By: TrimByMinID, MinID: ID{10, 0}, Approx: true}, 0, 1, 4},
		{"minid approx all", nil, TrimArgs{By: TrimByMinID, MinID: ID{36, 0}, Approx: true}, 35, 0, 0},
		{"minid approx limit", nil, TrimArgs{By: TrimByMinID, MinID: ID{36, 0}, Approx: true, Limit: 25}, 20, 21, 2},
		// A node's last entry counts for MINID even when deleted: node 1's
		// last entry is 10-0, so MINID 10 cannot remove it whole, and exact
		// trimming flags 1..9, leaving a node with no live entries (Redis
		// keeps it too).
		{"minid exact leaves empty node", []uint64{10}, TrimArgs{By: TrimByMinID, MinID: ID{10, 0}}, 9, 11, 4},
		{"minid exact deleted tail", []uint64{9, 10}, TrimArgs{By: TrimByMinID, MinID: ID{11, 0}}, 8, 11, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, m := build35(t)
			for _, ms := range tc.del {
				if !s.Delete(ID{ms, 0}) {
					t.Fatalf("Delete(%d)", ms)
				}
				m.del(ID{ms, 0})
			}
			maxDel, last := s.MaxDeletedID(), s.LastID()
			got := s.Trim(tc.args)
			if got != tc.removed {
				t.Fatalf("removed %d, want %d", got, tc.removed)
			}
			m.entries = m.entries[got:]
			checkStream(t, s, m)
			if first, _ := s.FirstID(); first.Ms != tc.first {
				t.Fatalf("first ID %v, want ms %d", first, tc.first)
			}
			if s.NodeCount() != tc.nodes {
				t.Fatalf("%d nodes, want %d", s.NodeCount(), tc.nodes)
			}
			if s.MaxDeletedID() != maxDel || s.LastID() != last {
				t.Fatal("trim changed max deleted ID or last ID")
			}
		})
	}
}

func TestStreamTrimWrappers(t *testing.T) {
	s, _ := build35(t)
	if n := s.TrimMaxLen(16, true, 0, NodeLimits{}); n != 10 {
		t.Fatalf("TrimMaxLen removed %d", n)
	}
	if n := s.TrimMinID(ID{22, 0}, false, 0, NodeLimits{}); n != 11 {
		t.Fatalf("TrimMinID removed %d", n)
	}
}

func TestStreamTrimEmptyNodeThenAppend(t *testing.T) {
	s, m := build35(t)
	s.Delete(ID{35, 0})
	m.del(ID{35, 0})
	// Tail node 31..35: MINID 35 flags 31..34, leaving it with no live entry.
	if n := s.Trim(TrimArgs{By: TrimByMinID, MinID: ID{35, 0}}); n != 34 {
		t.Fatalf("removed %d", n)
	}
	m.entries = nil
	checkStream(t, s, m)
	if s.NodeCount() != 1 {
		t.Fatalf("%d nodes", s.NodeCount())
	}
	// New entries still go into that node until it holds 10 entries.
	for i := 36; i <= 41; i++ {
		s.Append(ID{uint64(i), 0}, fv3(i), NodeLimits{MaxEntries: 10})
		m.add(ID{uint64(i), 0}, fv3(i))
	}
	checkStream(t, s, m)
	if s.NodeCount() != 2 {
		t.Fatalf("%d nodes, want 2", s.NodeCount())
	}
}

func TestStreamTrimHooks(t *testing.T) {
	t.Run("removed sees every entry", func(t *testing.T) {
		s, _ := build35(t)
		var seen []ID
		n := s.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: 12, Removed: func(id ID) { seen = append(seen, id) }})
		if n != 23 || len(seen) != 23 || seen[0] != (ID{1, 0}) || seen[22] != (ID{23, 0}) {
			t.Fatalf("removed %d, seen %d: %v", n, len(seen), seen)
		}
	})
	t.Run("keep", func(t *testing.T) {
		s, m := build35(t)
		keep := func(id ID) bool { return id.Ms == 5 || id.Ms == 25 }
		n := s.Trim(TrimArgs{By: TrimByMinID, MinID: ID{30, 0}, Keep: keep})
		// Nodes 1 and 2 are removable: node 1 keeps 5-0, node 2 goes. Node 3
		// is not: exact trimming flags 21..29 except 25 and stops.
		if n != 9+10+8 {
			t.Fatalf("removed %d", n)
		}
		var rest model
		for _, e := range m.entries {
			if e.id.Ms >= 30 || keep(e.id) {
				rest.entries = append(rest.entries, e)
			}
		}
		checkStream(t, s, &rest)
		if s.NodeCount() != 3 {
			t.Fatalf("%d nodes", s.NodeCount())
		}
	})
}

// TestStreamTrimRecordedRedis replays a session recorded against
// redis-server 7.0.15 with default node limits (4096 bytes, 100 entries):
// XADD e <i>-0 a <i> b x c v<i> for i = 1..1000, then the trims below.
func TestStreamTrimRecordedRedis(t *testing.T) {
	s := NewStream()
	for i := 1; i <= 1000; i++ {
		s.Append(ID{uint64(i), 0}, fv3(i), defaultLimits)
	}
	if s.NodeCount() != 10 { // radix-tree-keys
		t.Fatalf("%d nodes, redis 10", s.NodeCount())
	}
	steps := []struct {
		args    TrimArgs
		removed int64
		length  int64
	}{
		{TrimArgs{By: TrimByMaxLen, MaxLen: 550, Approx: true}, 400, 600},           // XTRIM e MAXLEN ~ 550
		{TrimArgs{By: TrimByMinID, MinID: ID{720, 0}, Approx: true}, 300, 300},      // XTRIM e MINID ~ 720
		{TrimArgs{By: TrimByMaxLen, MaxLen: 0, Approx: true, Limit: 250}, 200, 100}, // XTRIM e MAXLEN ~ 0 LIMIT 250
	}
	for _, st := range steps {
		if got := s.Trim(st.args); got != st.removed || s.Len() != st.length {
			t.Fatalf("%+v: removed %d (redis %d), length %d (redis %d)", st.args, got, st.removed, s.Len(), st.length)
		}
	}
	if s.NodeCount() != 1 {
		t.Fatalf("%d nodes, redis 1", s.NodeCount())
	}
}
