package engine

import "encoding/binary"

// RadixTreeNodes returns the number of nodes Redis's radix tree (rax) of
// this stream's packed nodes would have: XINFO STREAM's radix-tree-nodes.
//
// Redis keys its listpacks by master ID as 16 big-endian bytes. A rax is a
// compressed trie: a chain of single-child, non-key positions is one
// (compressed) node, a branching position is one node, every key ends in a
// leaf node, and the head node always exists. For keys of equal length the
// shape depends only on the key set, so the count follows from the sorted
// keys: a set of one key below depth d costs a leaf plus, if bytes remain,
// one compressed node; a larger set costs a node for its common prefix (if
// any), a branching node, and its branches. Checked against a real
// redis-server after appends, deletions and trims.
func (s *Stream) RadixTreeNodes() int64 {
	n := s.tree.Len()
	if n == 0 {
		return 1
	}
	keys := make([][16]byte, 0, n)
	s.tree.Scan(func(nd node) bool {
		var k [16]byte
		binary.BigEndian.PutUint64(k[:8], nd.master.Ms)
		binary.BigEndian.PutUint64(k[8:], nd.master.Seq)
		keys = append(keys, k)
		return true
	})
	return raxCount(keys, 0)
}

// raxCount counts the rax nodes for sorted, distinct keys that share their
// first depth bytes, from the node reached after those bytes.
func raxCount(keys [][16]byte, depth int) int64 {
	if len(keys) == 1 {
		if depth == len(keys[0]) {
			return 1
		}
		return 2
	}
	first, last := keys[0], keys[len(keys)-1]
	p := depth
	for first[p] == last[p] {
		p++ // distinct sorted keys differ before the end
	}
	var total int64 = 1 // the branching node
	if p > depth {
		total++ // the compressed prefix node
	}
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j][p] == keys[i][p] {
			j++
		}
		total += raxCount(keys[i:j], p+1)
		i = j
	}
	return total
}
