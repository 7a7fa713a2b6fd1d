package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/tidwall/btree"
)

// Consumer groups, IDMP state and age retention in a stream snapshot
// (version 3; version 2 lacks the dead-letter setting and retention):
//
//	groups:  uvarint count, then per group in name order:
//	           name, last ID, varint entries-read, uvarint next seq,
//	           uvarint dead-letter max (0: none; else then the dead-letter
//	           key and varint moved count),
//	           uvarint consumers, per consumer in name order:
//	             name, varint seen-time, varint active-time
//	           uvarint PEL size, per entry in ID order:
//	             ID, varint delivery time (-1: unowned), varint count,
//	             uvarint seq, uvarint owner (0: unowned, else 1 + index)
//	idmp:    byte 0 (none) or 1, then uvarint duration, uvarint max size,
//	           varint added, varint duplicates, uvarint producers, per
//	           producer in ID order: pid, uvarint entries, per entry in
//	           entry-ID order: ID, iid
//	retention: uvarint max age in ms (0: none), byte ref policy
//
// Names, pids and iids are uvarint-length-prefixed. A consumer's own PEL is
// not stored: it is the set of group PEL entries it owns.

func appendString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func (s *Stream) appendGroups(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(s.GroupCount()))
	s.eachGroup(func(g *group) bool {
		b = appendString(b, g.name)
		b = appendID(b, g.lastID)
		b = binary.AppendVarint(b, g.entriesRead)
		b = binary.AppendUvarint(b, g.nextSeq)
		b = binary.AppendUvarint(b, uint64(g.dlq.max))
		if g.dlq.max != 0 {
			b = appendString(b, g.dlq.key)
			b = binary.AppendVarint(b, g.dlq.moved)
		}
		b = binary.AppendUvarint(b, uint64(g.consumers.Len()))
		index := make(map[string]uint64, g.consumers.Len())
		g.consumers.Scan(func(c *consumer) bool {
			index[c.name] = uint64(len(index)) + 1
			b = appendString(b, c.name)
			b = binary.AppendVarint(b, c.seen)
			b = binary.AppendVarint(b, c.active)
			return true
		})
		b = binary.AppendUvarint(b, uint64(g.pel.Len()))
		g.pel.Scan(func(e pelEntry) bool {
			b = appendID(b, e.id)
			b = binary.AppendVarint(b, e.time)
			b = binary.AppendVarint(b, e.count)
			b = binary.AppendUvarint(b, e.seq)
			if e.unowned() {
				b = binary.AppendUvarint(b, 0)
			} else {
				b = binary.AppendUvarint(b, index[e.consumer])
			}
			return true
		})
		return true
	})
	return b
}

func (s *Stream) appendIDMP(b []byte) []byte {
	st := s.idmp
	if st == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(st.duration))
	b = binary.AppendUvarint(b, uint64(st.maxSize))
	b = binary.AppendVarint(b, st.added)
	b = binary.AppendVarint(b, st.dups)
	if st.producers == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(st.producers.Len()))
	st.producers.Scan(func(p *idmpProducer) bool {
		b = appendString(b, p.pid)
		b = binary.AppendUvarint(b, uint64(p.byID.Len()))
		p.byID.Scan(func(e idmpEntry) bool {
			b = appendID(b, e.id)
			b = appendString(b, e.iid)
			return true
		})
		return true
	})
	return b
}

func (r *snapReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.err = errShortStream
		return 0
	}
	r.off += n
	return v
}

func (r *snapReader) string() string { return string(r.bytes(r.uvarint())) }

// count reads an element count that cannot exceed the bytes left.
func (r *snapReader) count() uint64 {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("count %d exceeds the %d bytes left", n, len(r.b)-r.off)
	}
	return n
}

var errGroupOrder = errors.New("names out of order")

// readGroups decodes and validates the groups section of a stream
// snapshot of the given version into s.
func (r *snapReader) readGroups(s *Stream, version byte) error {
	n := r.count()
	prevName := ""
	for i := uint64(0); i < n && r.err == nil; i++ {
		name := r.string()
		last := r.id()
		entriesRead := r.varint()
		nextSeq := r.uvarint()
		var dlq dlqConfig
		if version >= 3 {
			if m := r.uvarint(); m != 0 {
				dlq = dlqConfig{max: int64(m), key: r.string(), moved: r.varint()}
				if r.err == nil && (dlq.max < 0 || dlq.moved < 0) {
					return fmt.Errorf("group %q: dead-letter setting %d/%d", name, m, dlq.moved)
				}
			}
		}
		if r.err != nil {
			break
		}
		if i > 0 && name <= prevName {
			return fmt.Errorf("group %q: %w", name, errGroupOrder)
		}
		if entriesRead < invalidEntriesRead {
			return fmt.Errorf("group %q: entries-read %d", name, entriesRead)
		}
		prevName = name
		s.createGroup(name, last, entriesRead)
		g := s.group(name)
		g.nextSeq, g.dlq = nextSeq, dlq
		if err := r.readGroupBody(s, g); err != nil {
			return fmt.Errorf("group %q: %w", name, err)
		}
	}
	return r.err
}

func (r *snapReader) readGroupBody(s *Stream, g *group) error {
	nc := r.count()
	consumers := make([]*consumer, 0, min(nc, 1024))
	for i := uint64(0); i < nc && r.err == nil; i++ {
		c := &consumer{name: r.string(), seen: r.varint(), active: r.varint(),
			own: s.own, pel: btree.NewBTreeGOptions(idLess, treeOpts)}
		if r.err != nil {
			break
		}
		if i > 0 && c.name <= consumers[i-1].name {
			return fmt.Errorf("consumer %q: %w", c.name, errGroupOrder)
		}
		consumers = append(consumers, c)
		g.consumers.Load(c)
	}
	np := r.count()
	var prev ID
	for i := uint64(0); i < np && r.err == nil; i++ {
		e := pelEntry{id: r.id(), time: r.varint(), count: r.varint(), seq: r.uvarint()}
		owner := r.uvarint()
		if r.err != nil {
			break
		}
		switch {
		case i > 0 && !prev.Less(e.id):
			return fmt.Errorf("pending entry %s out of order", e.id)
		case e.count < 0:
			return fmt.Errorf("pending entry %s: delivery count %d", e.id, e.count)
		case e.seq >= g.nextSeq:
			return fmt.Errorf("pending entry %s: seq %d not below %d", e.id, e.seq, g.nextSeq)
		case owner > uint64(len(consumers)):
			return fmt.Errorf("pending entry %s: owner %d of %d", e.id, owner, len(consumers))
		case (owner == 0) != (e.time == -1), e.time < -1:
			return fmt.Errorf("pending entry %s: owner %d with delivery time %d", e.id, owner, e.time)
		}
		prev = e.id
		if owner != 0 {
			c := consumers[owner-1]
			e.consumer = c.name
			c.pel.Load(e.id)
		}
		g.pel.Load(e)
	}
	return r.err
}

// readIDMP decodes and validates the IDMP section into s.
func (r *snapReader) readIDMP(s *Stream) error {
	switch r.byte() {
	case 0:
		return r.err
	case 1:
	default:
		if r.err == nil {
			return errors.New("bad presence byte")
		}
		return r.err
	}
	st := &idmpState{own: s.own}
	dur, maxSize := r.uvarint(), r.uvarint()
	st.added, st.dups = r.varint(), r.varint()
	np := r.count()
	if r.err != nil {
		return r.err
	}
	if dur < idmpMinDuration || dur > idmpMaxDuration || maxSize < idmpMinMaxSize || maxSize > idmpMaxMaxSize {
		return fmt.Errorf("settings %d/%d out of range", dur, maxSize)
	}
	if st.added < 0 || st.dups < 0 {
		return fmt.Errorf("counters %d/%d", st.added, st.dups)
	}
	st.duration, st.maxSize = int64(dur), int64(maxSize)
	s.idmp = st
	prevPID := ""
	for i := uint64(0); i < np && r.err == nil; i++ {
		pid := r.string()
		ne := r.count()
		if r.err != nil {
			break
		}
		if i > 0 && pid <= prevPID {
			return fmt.Errorf("producer %q: %w", pid, errGroupOrder)
		}
		if ne == 0 || ne > maxSize || ne > math.MaxInt32 {
			return fmt.Errorf("producer %q: %d entries", pid, ne)
		}
		prevPID = pid
		p := st.mutProducer(pid, true)
		var prev ID
		for j := uint64(0); j < ne && r.err == nil; j++ {
			e := idmpEntry{id: r.id(), iid: r.string()}
			if r.err != nil {
				break
			}
			if j > 0 && !prev.Less(e.id) {
				return fmt.Errorf("producer %q: entry %s out of order", pid, e.id)
			}
			if _, dup := p.byIID.Set(e); dup {
				return fmt.Errorf("producer %q: duplicate idempotent ID", pid)
			}
			if _, dup := st.expiry.Set(idmpRef{id: e.id, pid: pid}); dup {
				return fmt.Errorf("producer %q: entry %s in two producers", pid, e.id)
			}
			prev = e.id
			p.byID.Load(e)
		}
	}
	return r.err
}
