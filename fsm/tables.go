package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The cluster tables section of a snapshot (all integers varints):
//
//	tablesVersion
//	members:  n { id raftAddr clientAddr incarnation }*   sorted by id
//	sessions: n { origin floor touched(signed)
//	              saved: n { seq replies: n { len bytes }* }* }*  sorted by origin, seq
//
// Sorted so that replicas with equal tables write equal bytes.
const tablesVersion = 1

func sortedMembers(m map[string]NodeMeta) []NodeMeta {
	out := make([]NodeMeta, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b NodeMeta) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func encodeTables(members map[string]NodeMeta, ss sessions) []byte {
	b := binary.AppendUvarint(nil, tablesVersion)
	b = binary.AppendUvarint(b, uint64(len(members)))
	for _, m := range sortedMembers(members) {
		b = appendString(b, m.ID)
		b = appendString(b, m.RaftAddr)
		b = appendString(b, m.ClientAddr)
		b = appendString(b, m.Incarnation)
	}
	origins := make([]string, 0, len(ss))
	for o := range ss {
		origins = append(origins, o)
	}
	slices.Sort(origins)
	b = binary.AppendUvarint(b, uint64(len(origins)))
	for _, o := range origins {
		s := ss[o]
		b = appendString(b, o)
		b = binary.AppendUvarint(b, s.floor)
		b = binary.AppendVarint(b, s.touched)
		b = binary.AppendUvarint(b, uint64(len(s.saved)))
		for _, sv := range s.saved {
			b = binary.AppendUvarint(b, sv.seq)
			b = binary.AppendUvarint(b, uint64(len(sv.replies)))
			for _, r := range sv.replies {
				b = binary.AppendUvarint(b, uint64(len(r)))
				b = append(b, r...)
			}
		}
	}
	return b
}

var errBadTables = errors.New("corrupt cluster tables")

func decodeTables(b []byte) (map[string]NodeMeta, sessions, error) {
	d := decoder{b: b}
	if v := d.uvarint(); d.err == nil && v != tablesVersion {
		return nil, nil, fmt.Errorf("%w: version %d", errBadTables, v)
	}
	members := map[string]NodeMeta{}
	for n := d.count(4); n > 0 && d.err == nil; n-- {
		m := NodeMeta{ID: d.string(MaxMemberFieldLen), RaftAddr: d.string(MaxMemberFieldLen),
			ClientAddr: d.string(MaxMemberFieldLen), Incarnation: d.string(MaxMemberFieldLen)}
		members[m.ID] = m
	}
	ss := sessions{}
	for n := d.count(4); n > 0 && d.err == nil; n-- {
		o := d.string(MaxOriginLen)
		s := &session{floor: d.uvarint(), touched: d.varint()}
		saved := d.count(2)
		if d.err != nil {
			break
		}
		s.saved = make([]savedRequest, 0, saved)
		for ; saved > 0 && d.err == nil; saved-- {
			sv := savedRequest{seq: d.uvarint()}
			nr := d.count(1)
			if d.err != nil {
				break
			}
			sv.replies = make([][]byte, nr)
			for i := range sv.replies {
				// Copied: the snapshot buffer is not kept.
				sv.replies[i] = slices.Clone(d.bytes(d.uvarint()))
			}
			if k := len(s.saved); k > 0 && s.saved[k-1].seq >= sv.seq {
				d.fail("saved requests out of order")
			}
			s.saved = append(s.saved, sv)
		}
		ss[o] = s
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errBadTables, d.err)
	}
	if len(d.b) != 0 {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes", errBadTables, len(d.b))
	}
	return members, ss, nil
}

// count reads an element count, refusing one that the remaining bytes
// cannot hold at minSize bytes per element (bounded allocation).
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minSize) {
		d.fail("%d elements in %d bytes", n, len(d.b))
		return 0
	}
	if n > math.MaxInt32 {
		return 0
	}
	return int(n)
}
