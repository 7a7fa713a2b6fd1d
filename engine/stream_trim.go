package engine

// Delete removes entry id (XDEL) and reports whether it existed. Like Redis's
// XDEL it raises MaxDeletedID to id if id is greater, flags the entry
// deleted in its node, and removes the node when this was its last live
// entry.
func (s *Stream) Delete(id ID) bool {
	n, ok := s.seekNode(id)
	if !ok || n.live == 0 {
		return false
	}
	nm := n.nmaster()
	for off := int(n.hdr); off < len(n.data); {
		flags, eid, body := n.entryID(off)
		if id.Less(eid) {
			return false
		}
		if eid != id {
			off = n.skipEntry(flags, body, nm)
			continue
		}
		if flags&flagDeleted != 0 {
			return false
		}
		if n.live == 1 {
			s.tree.Delete(n)
		} else {
			s.ownData(&n)
			n.data[off] |= flagDeleted
			n.live--
			n.dead++
			s.tree.Set(n)
		}
		s.length--
		if s.maxDeleted.Less(id) {
			s.maxDeleted = id
		}
		if id == s.first {
			s.updateFirst()
		}
		return true
	}
	return false
}

// ownData makes n's bytes private to s before an in-place write.
func (s *Stream) ownData(n *node) {
	if n.own == s.own {
		return
	}
	n.data = n.copyData(0)
	n.ext = nil
	n.own = s.own
}

// copyData returns a copy of n's bytes, with every value in line
// (canonical), and extra bytes of spare capacity.
func (n *node) copyData(extra int) []byte {
	return n.appendCanonical(make([]byte, 0, n.canonicalLen()+extra))
}

// TrimBy is what bounds a trim.
type TrimBy int

const (
	// TrimNone trims nothing (Redis TRIM_STRATEGY_NONE), so a zero TrimArgs
	// is harmless.
	TrimNone TrimBy = iota
	// TrimByMaxLen keeps at most MaxLen entries (MAXLEN).
	TrimByMaxLen
	// TrimByMinID removes entries with IDs below MinID (MINID).
	TrimByMinID
)

// TrimArgs describes one trim, as Redis's streamAddTrimArgs.
type TrimArgs struct {
	By     TrimBy
	MaxLen int64
	MinID  ID
	// Approx ("~") removes whole nodes only.
	Approx bool
	// Limit > 0 caps the entries removed, checked node by node as Redis
	// does; <= 0 is unlimited. The command layer supplies Redis's default
	// for "~" (100 * stream-node-max-entries) and 0 for "=".
	Limit int64
	// Keep, if set, is asked about each live entry the trim would remove;
	// true keeps it (Redis 8.2 ACKED: entries still referenced by a group).
	Keep func(id ID) bool
	// Removed, if set, is called for each entry the trim removes (Redis 8.2
	// DELREF: drop its references from consumer groups).
	Removed func(id ID)
}

// TrimMaxLen removes the oldest entries until at most maxLen remain, as
// Redis's streamTrim with MAXLEN. With approx, only whole nodes are removed
// and limit (> 0) caps the number of entries removed. It returns the number
// of entries removed. lim is accepted for a future compaction and unused:
// Redis does not compact nodes while trimming.
func (s *Stream) TrimMaxLen(maxLen int64, approx bool, limit int64, lim NodeLimits) int64 {
	return s.Trim(TrimArgs{By: TrimByMaxLen, MaxLen: maxLen, Approx: approx, Limit: limit})
}

// TrimMinID removes entries with IDs below minID, as Redis's streamTrim with
// MINID; approx, limit and lim as for TrimMaxLen.
func (s *Stream) TrimMinID(minID ID, approx bool, limit int64, lim NodeLimits) int64 {
	return s.Trim(TrimArgs{By: TrimByMinID, MinID: minID, Approx: approx, Limit: limit})
}

// Trim mirrors Redis's streamTrim node loop and returns the number of entries
// removed. Walking nodes from the oldest:
//
//   - MAXLEN stops once Len() <= MaxLen;
//   - the node's live count is checked against Limit before it is touched;
//   - a node is removable if MAXLEN: Len() - live >= MaxLen, MINID: its last
//     entry (deleted or not) is below MinID; removable nodes go whole;
//   - otherwise approximate trimming stops, and exact trimming flags the
//     node's entries deleted up to the bound, then stops.
//
// Trimming never changes MaxDeletedID or LastID; the first ID is refreshed.
//
// With Keep or Removed set (Redis 8.2 ACKED/DELREF, streamTrim's
// non-KEEPREF delete strategies), every node is walked entry by entry:
// entries Keep wants stay, a removable node goes only if none stays and the
// walk continues to the next node, and "~" no longer stops the walk at the
// first node that cannot go whole (that node is trimmed like an exact
// trim). This follows Redis 8.2+ t_stream.c; no 8.x server was available
// to compare with.
func (s *Stream) Trim(a TrimArgs) int64 {
	if a.By != TrimByMaxLen && a.By != TrimByMinID {
		return 0
	}
	var deleted int64
	var cur ID // master of the last node visited
	started := false
	for {
		if a.By == TrimByMaxLen && s.length <= a.MaxLen {
			break
		}
		n, ok := s.nodeAfter(cur, started)
		if !ok {
			break
		}
		cur, started = n.master, true
		entries := int64(n.live)
		if a.Limit > 0 && deleted+entries > a.Limit {
			break
		}
		var removable bool
		if a.By == TrimByMaxLen {
			removable = s.length-entries >= a.MaxLen
		} else {
			removable = n.lastID().Less(a.MinID)
		}
		keepRef := a.Keep == nil && a.Removed == nil
		if removable && keepRef {
			s.tree.Delete(n)
			s.length -= entries
			deleted += entries
			continue
		}
		// Redis 8.2: "~" stops at the first node that cannot go whole only
		// under KEEPREF; with a reference policy that node is trimmed
		// entry by entry like an exact trim.
		if a.Approx && keepRef {
			break
		}
		removed, next := s.trimInNode(n, removable, &a)
		deleted += removed
		if !next {
			break
		}
	}
	if deleted > 0 {
		s.updateFirst()
	}
	return deleted
}

// nodeAfter returns the first node, or once started the first node whose
// master ID is above cur.
func (s *Stream) nodeAfter(cur ID, started bool) (node, bool) {
	if !started {
		return s.tree.Min()
	}
	var found node
	ok := false
	s.tree.Ascend(node{master: cur}, func(n node) bool {
		if n.master == cur {
			return true
		}
		found, ok = n, true
		return false
	})
	return found, ok
}

// trimInNode flags entries of n deleted up to the trim bound (all of them if
// removable), honouring Keep and Removed, and removes n if removable and
// every live entry went. It returns the entries removed and whether the walk
// goes on to the next node.
func (s *Stream) trimInNode(n node, removable bool, a *TrimArgs) (int64, bool) {
	entries := int64(n.live)
	var removed int64
	nm := n.nmaster()
	for off := int(n.hdr); off < len(n.data); {
		flags, id, body := n.entryID(off)
		var stop bool
		if a.By == TrimByMaxLen {
			stop = s.length <= a.MaxLen
		} else {
			stop = !id.Less(a.MinID)
		}
		if stop {
			break
		}
		next := n.skipEntry(flags, body, nm)
		if flags&flagDeleted == 0 && (a.Keep == nil || !a.Keep(id)) {
			if removed == 0 {
				s.ownData(&n)
				// A node with references has one entry, at the same
				// offset in its copy, which is longer: step over it there.
				flags = n.data[off]
				next = n.skipEntry(flags, body, nm)
			}
			n.data[off] |= flagDeleted
			removed++
			s.length--
			if a.Removed != nil {
				a.Removed(id)
			}
		}
		off = next
	}
	if removable && removed == entries {
		s.tree.Delete(n)
		return removed, true
	}
	if removed > 0 {
		n.live -= uint32(removed)
		n.dead += uint32(removed)
		s.tree.Set(n)
	}
	return removed, removable
}
