package engine

// fieldScratch is the initial capacity of the per-call slices readers use;
// entries with more fields grow them once.
const fieldScratch = 16

// seekNode returns the node that may hold id: the one with the greatest
// master ID <= id, or the first node if id precedes them all.
func (s *Stream) seekNode(id ID) (node, bool) {
	var found node
	ok := false
	s.tree.Descend(node{master: id}, func(n node) bool {
		found, ok = n, true
		return false
	})
	if !ok {
		return s.tree.Min()
	}
	return found, ok
}

// Get calls fn with the fields and values of entry id and reports whether the
// entry exists. fv is valid only during fn and must not be modified.
func (s *Stream) Get(id ID, fn func(fv [][]byte)) bool {
	n, ok := s.seekNode(id)
	if !ok {
		return false
	}
	nm := n.nmaster()
	for off := int(n.hdr); off < len(n.data); {
		flags, eid, body := n.entryID(off)
		if id.Less(eid) {
			return false
		}
		if eid == id {
			if flags&flagDeleted != 0 {
				return false
			}
			if fn != nil {
				master := n.masterFields(make([][]byte, 0, nm))
				fv, _ := n.entryFields(flags, body, master, make([][]byte, 0, 2*nm))
				fn(fv)
			}
			return true
		}
		off = n.skipEntry(flags, body, nm)
	}
	return false
}

// Range calls fn for live entries with start <= id <= end, ascending (rev
// false) or descending, and stops when fn returns false. fv aliases internal
// memory or a scratch buffer: it is valid only during fn and must not be
// modified. fn must not modify the stream.
func (s *Stream) Range(start, end ID, rev bool, fn func(id ID, fv [][]byte) bool) {
	if end.Less(start) || s.length == 0 {
		return
	}
	r := rangeScan{start: start, end: end, fn: fn,
		master: make([][]byte, 0, fieldScratch), fv: make([][]byte, 0, fieldScratch)}
	if rev {
		first, ok := s.seekNode(end)
		if !ok {
			return
		}
		s.tree.Descend(first, r.backward)
		return
	}
	first, ok := s.seekNode(start)
	if !ok {
		return
	}
	s.tree.Ascend(first, r.forward)
}

// rangeScan carries one Range call's bounds and scratch slices.
type rangeScan struct {
	start, end ID
	fn         func(id ID, fv [][]byte) bool
	master, fv [][]byte
}

// forward scans one node ascending; false stops the tree walk.
func (r *rangeScan) forward(n node) bool {
	if r.end.Less(n.master) {
		return false
	}
	if n.live == 0 {
		return true
	}
	r.master = n.masterFields(r.master)
	for off := int(n.hdr); off < len(n.data); {
		flags, id, body := n.entryID(off)
		if r.end.Less(id) {
			return false
		}
		if flags&flagDeleted != 0 || id.Less(r.start) {
			off = n.skipEntry(flags, body, len(r.master))
			continue
		}
		r.fv, off = n.entryFields(flags, body, r.master, r.fv)
		if !r.fn(id, r.fv) {
			return false
		}
	}
	return true
}

// backward scans one node descending; false stops the tree walk.
func (r *rangeScan) backward(n node) bool {
	if n.live == 0 {
		return r.start.Less(n.master)
	}
	r.master = n.masterFields(r.master)
	for end := len(n.data); end > int(n.hdr); {
		off := n.prevEntry(end)
		end = off
		flags, id, body := n.entryID(off)
		if id.Less(r.start) {
			return false
		}
		if flags&flagDeleted != 0 || r.end.Less(id) {
			continue
		}
		r.fv, _ = n.entryFields(flags, body, r.master, r.fv)
		if !r.fn(id, r.fv) {
			return false
		}
	}
	// Earlier nodes hold only IDs below this node's master.
	return r.start.Less(n.master)
}

// firstLive finds the first live entry (Redis streamGetEdgeID(s,1,1,...)).
func (s *Stream) firstLive() (ID, bool) {
	var first ID
	found := false
	s.tree.Scan(func(n node) bool {
		if n.live == 0 {
			return true
		}
		nm := n.nmaster()
		for off := int(n.hdr); off < len(n.data); {
			flags, id, body := n.entryID(off)
			if flags&flagDeleted == 0 {
				first, found = id, true
				return false
			}
			off = n.skipEntry(flags, body, nm)
		}
		return true
	})
	return first, found
}

// updateFirst refreshes the cached first ID after entries were removed.
func (s *Stream) updateFirst() {
	if s.length == 0 {
		s.first = ID{}
		return
	}
	s.first, _ = s.firstLive()
}
