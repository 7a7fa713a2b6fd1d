package engine

import "encoding/binary"

// Entry flags, as in Redis's listpack entries.
const (
	flagDeleted    = 1 << 0 // entry is a tombstone: skipped by readers
	flagSameFields = 1 << 1 // field names are the node's master fields
	// flagExt: the entry's values of BigValue bytes or more are not in
	// data (only their lengths are), but in node.ext, in order. Only the
	// single entry of a node built by Stream.AppendRetained has it; it
	// never reaches a snapshot (appendCanonical).
	flagExt = 1 << 2
)

// BigValue is the size from which Stream.AppendRetained (Ctx.Retain) keeps
// a value by reference instead of copying it into the node.
const BigValue = 1 << 20

// cowToken marks which Stream owns a node's bytes. A Stream may modify a
// node's data in place only if the node carries the Stream's current token;
// Clone gives both streams fresh tokens so neither owns shared bytes. It has
// a field so that every new(cowToken) has a distinct address.
type cowToken struct{ _ byte }

// node is one packed run of entries, the analogue of a Redis listpack. It is
// stored by value in the B-tree, so a cloned tree holds its own copy of the
// counters and of the data slice header.
//
// data layout (all integers are unsigned varints):
//
//	header: nfields, nfields x (len, field)       -- the master fields
//	entry:  flags byte, ms-delta, seq, then
//	          same fields:  nmaster x (len, value)
//	          otherwise:    nfields, nfields x (len, field, len, value)
//	        then backlen
//
// ms-delta is entry.Ms - master.Ms; seq is entry.Seq - master.Seq when
// ms-delta is 0 and entry.Seq otherwise. Field names are omitted when
// flagSameFields is set. backlen is the byte length of the entry up to
// itself, written so it can be read backwards (see appendBacklen).
type node struct {
	master ID        // ID of the first entry appended; the B-tree key
	data   []byte    // header + entries
	own    *cowToken // owner allowed to write data in place
	hdr    uint32    // offset of the first entry
	live   uint32    // entries not deleted (Redis "count")
	dead   uint32    // entries flagged deleted (Redis "deleted")
	lpRest int64     // listpack-equivalent bytes, see lpBytes
	// ext holds the values kept by reference of a node whose entry has
	// flagExt, nil otherwise. Such a node has exactly one entry and a nil
	// own, so no stream writes it in place: the first write makes it a
	// plain node (ownData, copyData).
	ext *[][]byte
}

// lpBytes is the size Redis's listpack for this node would have: the fixed
// 7 header/end bytes, the count and deleted elements, and everything else.
// Redis decides when to start a new node from it, and matching Redis's node
// boundaries makes approximate trimming remove the same entries Redis does.
func (n *node) lpBytes() int64 {
	return 7 + lpIntElemSize(int64(n.live)) + lpIntElemSize(int64(n.dead)) + n.lpRest
}

func nodeLess(a, b node) bool { return a.master.Less(b.master) }

// masterFields decodes the header's field names into dst (aliasing data).
func (n *node) masterFields(dst [][]byte) [][]byte {
	dst = dst[:0]
	nf, off := uvarint(n.data, 0)
	for i := uint64(0); i < nf; i++ {
		var f []byte
		f, off = lenBytes(n.data, off)
		dst = append(dst, f)
	}
	return dst
}

// entryID decodes the flags and ID of the entry at off and returns the
// offset of what follows the ID.
func (n *node) entryID(off int) (flags byte, id ID, body int) {
	flags = n.data[off]
	msd, off := uvarint(n.data, off+1)
	seq, off := uvarint(n.data, off)
	if msd == 0 {
		return flags, ID{n.master.Ms, n.master.Seq + seq}, off
	}
	return flags, ID{n.master.Ms + msd, seq}, off
}

// entryFields decodes the fields and values of the entry whose body starts
// at off into fv (aliasing data) and returns the offset of the next entry.
// master holds the node's master fields.
func (n *node) entryFields(flags byte, off int, master [][]byte, fv [][]byte) ([][]byte, int) {
	fv = fv[:0]
	if flags&flagExt != 0 {
		ext := *n.ext
		for _, f := range master {
			var v []byte
			if l, o := uvarint(n.data, off); l >= BigValue {
				v, ext, off = ext[0], ext[1:], o
			} else {
				v, off = lenBytes(n.data, off)
			}
			fv = append(fv, f, v)
		}
	} else if flags&flagSameFields != 0 {
		for _, f := range master {
			var v []byte
			v, off = lenBytes(n.data, off)
			fv = append(fv, f, v)
		}
	} else {
		var nf uint64
		nf, off = uvarint(n.data, off)
		for i := uint64(0); i < 2*nf; i++ {
			var b []byte
			b, off = lenBytes(n.data, off)
			fv = append(fv, b)
		}
	}
	return fv, n.skipBacklen(off)
}

// skipEntry returns the offset of the entry after the one whose body
// starts at off, without materialising its fields.
func (n *node) skipEntry(flags byte, off int, nmaster int) int {
	count := uint64(nmaster)
	if flags&flagSameFields == 0 {
		var nf uint64
		nf, off = uvarint(n.data, off)
		count = 2 * nf
	}
	for i := uint64(0); i < count; i++ {
		var l uint64
		l, off = uvarint(n.data, off)
		if flags&flagExt == 0 || l < BigValue {
			off += int(l)
		}
	}
	return n.skipBacklen(off)
}

// skipBacklen steps over the backlen that starts at off. Its first byte is
// the only one without the 0x80 flag, and the next entry starts with a
// flags byte, which never has it.
func (n *node) skipBacklen(off int) int {
	off++
	for off < len(n.data) && n.data[off]&0x80 != 0 {
		off++
	}
	return off
}

// prevEntry returns the start offset of the entry that ends at end.
func (n *node) prevEntry(end int) int {
	l, w := readBacklen(n.data, end)
	return end - w - int(l)
}

// nmaster returns the number of master fields.
func (n *node) nmaster() int {
	nf, _ := uvarint(n.data, 0)
	return int(nf)
}

// lastID returns the ID of the last entry in the node, deleted or not, as
// Redis's lpGetEdgeStreamID(lp, 0, ...) does.
func (n *node) lastID() ID {
	_, id, _ := n.entryID(n.prevEntry(len(n.data)))
	return id
}

// appendEntry encodes an entry and returns data and the entry's
// listpack-equivalent size.
func appendEntry(data []byte, master ID, id ID, fv [][]byte, same bool) ([]byte, int64) {
	return appendEntryExt(data, master, id, fv, same, false)
}

// appendEntryExt is appendEntry that, with ext, writes only the lengths of
// values of BigValue bytes or more and sets flagExt (same must be true).
// The listpack-equivalent size is that of the full entry either way.
func appendEntryExt(data []byte, master ID, id ID, fv [][]byte, same, ext bool) ([]byte, int64) {
	start := len(data)
	flags := byte(0)
	if same {
		flags = flagSameFields
	}
	if ext {
		data = append(data, flags|flagExt)
	} else {
		data = append(data, flags)
	}
	msd := id.Ms - master.Ms
	data = binary.AppendUvarint(data, msd)
	if msd == 0 {
		data = binary.AppendUvarint(data, id.Seq-master.Seq)
	} else {
		data = binary.AppendUvarint(data, id.Seq)
	}
	nf := len(fv) / 2
	// Redis stores the deltas with wrapping arithmetic as int64.
	lp := lpIntElemSize(int64(flags)) + lpIntElemSize(int64(id.Ms-master.Ms)) +
		lpIntElemSize(int64(id.Seq-master.Seq))
	lpCount := int64(nf) + 3
	if same {
		for i := 1; i < len(fv); i += 2 {
			if ext && len(fv[i]) >= BigValue {
				data = binary.AppendUvarint(data, uint64(len(fv[i])))
			} else {
				data = appendLenBytes(data, fv[i])
			}
			lp += lpStrElemSize(fv[i])
		}
	} else {
		data = binary.AppendUvarint(data, uint64(nf))
		lp += lpIntElemSize(int64(nf))
		for _, b := range fv {
			data = appendLenBytes(data, b)
			lp += lpStrElemSize(b)
		}
		lpCount += int64(nf) + 1
	}
	lp += lpIntElemSize(lpCount)
	data = appendBacklen(data, uint64(len(data)-start))
	return data, lp
}

// newNodeData encodes a node header holding fv's field names and returns
// it with its listpack-equivalent size (count and deleted excluded).
func newNodeData(fv [][]byte, extra int) ([]byte, int64) {
	size := binary.MaxVarintLen32 + extra
	for i := 0; i < len(fv); i += 2 {
		size += binary.MaxVarintLen32 + len(fv[i])
	}
	data := make([]byte, 0, size)
	nf := len(fv) / 2
	data = binary.AppendUvarint(data, uint64(nf))
	lp := lpIntElemSize(int64(nf)) + lpIntElemSize(0) // num-fields ... 0 terminator
	for i := 0; i < len(fv); i += 2 {
		data = appendLenBytes(data, fv[i])
		lp += lpStrElemSize(fv[i])
	}
	return data, lp
}

// sameFields reports whether fv's field names equal the master fields.
func (n *node) sameFields(fv [][]byte) bool {
	nf, off := uvarint(n.data, 0)
	if int(nf) != len(fv)/2 {
		return false
	}
	for i := 0; i < len(fv); i += 2 {
		var f []byte
		f, off = lenBytes(n.data, off)
		if string(f) != string(fv[i]) {
			return false
		}
	}
	return true
}

func appendLenBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// uvarint decodes a varint the node code wrote itself; data is trusted
// (DecodeStream validates foreign bytes before building nodes).
func uvarint(b []byte, off int) (uint64, int) {
	v, n := binary.Uvarint(b[off:])
	return v, off + n
}

func lenBytes(b []byte, off int) ([]byte, int) {
	l, off := uvarint(b, off)
	end := off + int(l)
	return b[off:end:end], end
}

// appendBacklen writes l so that it can be read backwards from its end: the
// last byte holds the lowest 7 bits; a byte with 0x80 set has more
// (higher) groups before it.
func appendBacklen(b []byte, l uint64) []byte {
	var tmp [10]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte(l & 0x7f)
		l >>= 7
		if l == 0 {
			break
		}
	}
	// tmp[i] is the highest group; every later byte gets the flag.
	for j := i + 1; j < len(tmp); j++ {
		tmp[j] |= 0x80
	}
	return append(b, tmp[i:]...)
}

// readBacklen reads a backlen that ends at end and returns it and its width.
func readBacklen(b []byte, end int) (l uint64, width int) {
	var shift uint
	for p := end - 1; ; p-- {
		c := b[p]
		l |= uint64(c&0x7f) << shift
		shift += 7
		width++
		if c&0x80 == 0 {
			return l, width
		}
	}
}

// extLen is the byte length of the values n keeps by reference.
func (n *node) extLen() int {
	t := 0
	if n.ext != nil {
		for _, v := range *n.ext {
			t += len(v)
		}
	}
	return t
}

// canonicalLen is the length of n's bytes with every value in line: the
// bytes a node built without references holds, which snapshots carry.
func (n *node) canonicalLen() int {
	if n.ext == nil {
		return len(n.data)
	}
	l, w := readBacklen(n.data, len(n.data))
	if int(n.hdr)+int(l)+w != len(n.data) {
		panic("engine: node with references has more than one entry")
	}
	body := int(l) + n.extLen()
	return int(n.hdr) + body + len(appendBacklen(nil, uint64(body)))
}

// appendCanonical appends n's bytes with every value in line (see
// canonicalLen): for a node with references, the header and its single
// entry encoded again as Append encodes it without them.
func (n *node) appendCanonical(b []byte) []byte {
	if n.ext == nil {
		return append(b, n.data...)
	}
	master := n.masterFields(nil)
	flags, id, body := n.entryID(int(n.hdr))
	fv, _ := n.entryFields(flags, body, master, nil)
	b = append(b, n.data[:n.hdr]...)
	b, _ = appendEntry(b, n.master, id, fv, true)
	return b
}
