package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// streamSnapshotVersion tags the stream encoding so it can evolve.
// Version 2 added consumer groups and IDMP state; version 3 the groups'
// dead-letter settings and the stream's age retention. Versions 1 (no
// groups) and 2 still decode.
const streamSnapshotVersion = 3

// errShortStream reports a truncated stream encoding.
var errShortStream = errors.New("stream snapshot: truncated")

// AppendSnapshot appends a deterministic binary encoding of the stream to b:
//
//	version byte, last ID, max deleted ID, entries added, node count,
//	then per node: master ID, data length, data bytes,
//	then the consumer groups, IDMP state and age retention (appendGroups,
//	appendIDMP, appendRetention)
//
// with IDs as two uvarints. Node bytes are written verbatim, deleted entries
// included, so a decoded stream has the same nodes and trims, appends and
// re-encodes exactly like the original.
func (s *Stream) AppendSnapshot(b []byte) []byte { return s.appendSnapshot(b, nil) }

// appendSnapshot is AppendSnapshot that hands b to flush (which returns
// it emptied) whenever it holds snapFlushAt bytes between two nodes, so
// that writing a large stream (WriteSnapshot: a Raft snapshot or a
// backup) does not first build its whole encoding in memory. The bytes
// are the same either way.
func (s *Stream) appendSnapshot(b []byte, flush func([]byte) []byte) []byte {
	b = append(b, streamSnapshotVersion)
	b = appendID(b, s.last)
	b = appendID(b, s.maxDeleted)
	b = binary.AppendUvarint(b, s.entriesAdded)
	b = binary.AppendUvarint(b, uint64(s.tree.Len()))
	s.tree.Scan(func(n node) bool {
		b = appendID(b, n.master)
		b = binary.AppendUvarint(b, uint64(n.canonicalLen()))
		b = n.appendCanonical(b)
		if flush != nil && len(b) >= snapFlushAt {
			b = flush(b)
		}
		return true
	})
	b = s.appendGroups(b)
	b = s.appendIDMP(b)
	return s.appendRetention(b)
}

func appendID(b []byte, id ID) []byte {
	b = binary.AppendUvarint(b, id.Ms)
	return binary.AppendUvarint(b, id.Seq)
}

// DecodeStream decodes a stream written by AppendSnapshot and returns the
// bytes that follow it. Every node is validated, so a corrupt snapshot gives
// an error rather than a stream that panics later. The result does not alias b.
func DecodeStream(b []byte) (*Stream, []byte, error) {
	r := snapReader{b: b}
	version := r.byte()
	if r.err == nil && (version < 1 || version > streamSnapshotVersion) {
		return nil, nil, fmt.Errorf("stream snapshot: unknown version %d", version)
	}
	s := NewStream()
	s.last = r.id()
	s.maxDeleted = r.id()
	s.entriesAdded = r.uvarint()
	count := r.uvarint()
	if r.err != nil {
		return nil, nil, r.err
	}
	var prev ID // last entry ID of the previous node
	for i := uint64(0); i < count; i++ {
		master := r.id()
		data := r.bytes(r.uvarint())
		if r.err != nil {
			return nil, nil, r.err
		}
		n, lastID, err := decodeNode(master, data)
		if err != nil {
			return nil, nil, fmt.Errorf("stream snapshot: node %d (%s): %w", i, master, err)
		}
		if i > 0 && !prev.Less(master) {
			return nil, nil, fmt.Errorf("stream snapshot: node %s does not follow %s", master, prev)
		}
		if s.last.Less(lastID) {
			return nil, nil, fmt.Errorf("stream snapshot: entry %s above last ID %s", lastID, s.last)
		}
		prev = lastID
		n.own = s.own
		s.tree.Load(n)
		s.length += int64(n.live)
	}
	s.updateFirst()
	if version >= 2 {
		if err := r.readGroups(s, version); err != nil {
			return nil, nil, fmt.Errorf("stream snapshot: groups: %w", err)
		}
		if err := r.readIDMP(s); err != nil {
			return nil, nil, fmt.Errorf("stream snapshot: idmp: %w", err)
		}
	}
	if version >= 3 {
		if err := r.readRetention(s); err != nil {
			return nil, nil, fmt.Errorf("stream snapshot: retention: %w", err)
		}
	}
	return s, r.b[r.off:], nil
}

// decodeNode validates data as a node with the given master ID and returns
// the node (with its own copy of data) and the ID of its last entry.
func decodeNode(master ID, data []byte) (node, ID, error) {
	r := snapReader{b: data}
	nf := r.uvarint()
	if r.err == nil && (nf == 0 || nf > uint64(len(data))) {
		return node{}, ID{}, fmt.Errorf("bad master field count %d", nf)
	}
	lp := lpIntElemSize(int64(nf)) + lpIntElemSize(0)
	for i := uint64(0); i < nf && r.err == nil; i++ {
		lp += lpStrElemSize(r.bytes(r.uvarint()))
	}
	if r.err != nil {
		return node{}, ID{}, r.err
	}
	n := node{master: master, hdr: uint32(r.off)}
	var last ID
	for r.off < len(data) {
		start := r.off
		flags := r.byte()
		msd, seq := r.uvarint(), r.uvarint()
		if r.err != nil {
			return node{}, ID{}, r.err
		}
		if flags&^(flagDeleted|flagSameFields) != 0 {
			return node{}, ID{}, fmt.Errorf("bad entry flags %#x", flags)
		}
		id := ID{master.Ms + msd, seq}
		if msd == 0 {
			id.Seq = master.Seq + seq
		}
		if id.Ms < master.Ms || id.Seq < seq && msd == 0 {
			return node{}, ID{}, errors.New("entry ID overflows")
		}
		switch {
		case start == int(n.hdr) && id != master:
			return node{}, ID{}, fmt.Errorf("first entry %s is not the master ID", id)
		case start != int(n.hdr) && !last.Less(id):
			return node{}, ID{}, fmt.Errorf("entry %s does not follow %s", id, last)
		}
		last = id
		lp += lpIntElemSize(int64(flags)) + lpIntElemSize(int64(id.Ms-master.Ms)) +
			lpIntElemSize(int64(id.Seq-master.Seq))
		lpCount := int64(nf) + 3
		items := nf
		if flags&flagSameFields == 0 {
			efn := r.uvarint()
			if r.err == nil && (efn == 0 || efn > uint64(len(data))) {
				return node{}, ID{}, fmt.Errorf("bad entry field count %d", efn)
			}
			items = 2 * efn
			lp += lpIntElemSize(int64(efn))
			lpCount = 2*int64(efn) + 4
		}
		for i := uint64(0); i < items && r.err == nil; i++ {
			lp += lpStrElemSize(r.bytes(r.uvarint()))
		}
		if r.err != nil {
			return node{}, ID{}, r.err
		}
		lp += lpIntElemSize(lpCount)
		want := appendBacklen(nil, uint64(r.off-start))
		if got := r.bytes(uint64(len(want))); r.err != nil || !bytes.Equal(got, want) {
			return node{}, ID{}, errors.New("bad entry backlen")
		}
		if flags&flagDeleted != 0 {
			n.dead++
		} else {
			n.live++
		}
		if n.live+n.dead == math.MaxUint32 {
			return node{}, ID{}, errors.New("too many entries")
		}
	}
	if n.live+n.dead == 0 {
		return node{}, ID{}, errors.New("node without entries")
	}
	n.lpRest = lp
	n.data = append(make([]byte, 0, len(data)), data...)
	return n, last, nil
}

// snapReader decodes untrusted bytes, remembering the first error.
type snapReader struct {
	b   []byte
	off int
	err error
}

func (r *snapReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.err = errShortStream
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *snapReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.err = errShortStream
		if n < 0 {
			r.err = errors.New("stream snapshot: varint overflows")
		}
		return 0
	}
	r.off += n
	return v
}

func (r *snapReader) id() ID { return ID{r.uvarint(), r.uvarint()} }

func (r *snapReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.err = errShortStream
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}
