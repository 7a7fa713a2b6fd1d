package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestRaxCountSmall(t *testing.T) {
	key := func(ms, seq uint64) [16]byte {
		var k [16]byte
		for i := 0; i < 8; i++ {
			k[7-i] = byte(ms >> (8 * i))
			k[15-i] = byte(seq >> (8 * i))
		}
		return k
	}
	tests := []struct {
		keys [][16]byte
		want int64
	}{
		{[][16]byte{key(1, 0)}, 2},
		// Shared 15-byte prefix, a branch, two leaves.
		{[][16]byte{key(1, 0), key(1, 1)}, 4},
		// No common prefix: the head branches.
		{[][16]byte{key(0, 0), key(1<<63, 0)}, 5},
		// Three keys branching at the last byte: prefix, branch, 3 leaves.
		{[][16]byte{key(1, 1), key(1, 2), key(1, 3)}, 5},
	}
	for i, tc := range tests {
		if got := raxCount(tc.keys, 0); got != tc.want {
			t.Errorf("case %d: %d nodes, want %d", i, got, tc.want)
		}
	}
	if got := NewStream().RadixTreeNodes(); got != 1 {
		t.Errorf("empty stream: %d nodes, want 1 (the rax head)", got)
	}
}

// TestRedisRadixTreeNodes compares RadixTreeNodes with XINFO STREAM's
// radix-tree-nodes of a real redis-server over sparse IDs (one entry per
// node, so every ID is a rax key) under appends, deletions and trims.
func TestRedisRadixTreeNodes(t *testing.T) {
	c := startRedis(t)
	mustDo(t, c, "CONFIG", "SET", "stream-node-max-entries", "1")
	lim := NodeLimits{MaxBytes: 4096, MaxEntries: 1}
	for seed := uint64(0); seed < 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		key := fmt.Sprintf("rax%d", seed)
		s := NewStream()
		id := ID{}
		var ids []ID
		for op := 0; op < 300; op++ {
			switch r := rng.IntN(10); {
			case r < 6:
				switch rng.IntN(4) {
				case 0:
					id = ID{id.Ms + uint64(rng.Int64N(1<<40)) + 1, rng.Uint64N(1 << 20)}
				case 1:
					id = ID{id.Ms + uint64(rng.IntN(300)) + 1, 0}
				default:
					id.Seq += uint64(rng.IntN(600)) + 1
				}
				mustDo(t, c, "XADD", key, id.String(), "f", "v")
				s.Append(id, [][]byte{[]byte("f"), []byte("v")}, lim)
				ids = append(ids, id)
			case r < 9:
				if len(ids) == 0 {
					continue
				}
				v := ids[rng.IntN(len(ids))]
				mustDo(t, c, "XDEL", key, v.String())
				s.Delete(v)
			default:
				if len(ids) == 0 {
					continue
				}
				v := ids[rng.IntN(len(ids))]
				mustDo(t, c, "XTRIM", key, "MINID", v.String())
				s.Trim(TrimArgs{By: TrimByMinID, MinID: v})
			}
			if op%10 == 9 {
				info := xinfo(t, c, key)
				if got, want := int64(s.NodeCount()), info["radix-tree-keys"].(int64); got != want {
					t.Fatalf("seed %d op %d: %d keys, redis %d", seed, op, got, want)
				}
				if got, want := s.RadixTreeNodes(), info["radix-tree-nodes"].(int64); got != want {
					t.Fatalf("seed %d op %d: %d nodes, redis %d", seed, op, got, want)
				}
			}
		}
	}
}
