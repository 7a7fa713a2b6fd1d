package engine

import (
	"sort"

	"github.com/tidwall/btree"
)

// Consumer groups, laid out as Redis's streamCG/streamConsumer/streamNACK
// but as B-trees of small values instead of radix trees of pointers:
//
//   - a stream's groups: B-tree of *group by name;
//   - a group's PEL: B-tree of pelEntry (64 bytes) by entry ID, each naming
//     its owner, delivery time and count;
//   - a group's delivery order (Redis 8.4's pel_time list, used by
//     XREADGROUP CLAIM and XNACK): B-tree of timeKey (32 bytes), built the
//     first time a command needs it (it is derived from the PEL entries'
//     time and seq, so it is a cache, not state);
//   - a group's consumers: B-tree of *consumer by name, each with the IDs
//     it owns (B-tree of ID).
//
// A PEL entry thus costs 72 bytes in the trees, 104 with the delivery
// order, about 150 (210) bytes of heap with B-tree slack
// (TestPELMemoryPerEntry); Redis 7.0 spends about 150, Redis 8 more.
// Entries name
// their owner rather than point at it, so a group or consumer can be
// copied on write without fixing up pointers.
//
// Copy-on-write: groups and consumers carry the cowToken of the Stream
// allowed to modify them. Stream.Clone shares the group tree (an O(1)
// B-tree copy) and gives both streams new tokens, so every group and
// consumer becomes foreign to both; the first write through mutGroup or
// mutConsumer replaces the shared object by a private copy whose inner
// trees are again O(1) B-tree copies. Nothing a clone can reach is ever
// written by the original.

// invalidEntriesRead is Redis's SCG_INVALID_ENTRIES_READ: the group's
// logical read counter is unknown.
const invalidEntriesRead = -1

// pelEntry is one pending entry of a group (Redis streamNACK).
type pelEntry struct {
	id ID
	// time is the last delivery time in Unix ms (>= 0), or -1 for an
	// entry released by XNACK: it has no owner (Redis's NULL consumer),
	// sits in the NACK zone and shows delivery time 0.
	time int64
	// count is the number of deliveries (saturating at MaxInt64).
	count int64
	// seq orders entries of equal delivery time in the delivery order: it
	// is the group's nextSeq when the entry last moved there.
	seq uint64
	// consumer owns the entry unless it is unowned.
	consumer string
}

// unowned reports whether e was released by XNACK.
func (e *pelEntry) unowned() bool { return e.time < 0 }

// deliveryTime is the delivery time Redis reports: 0 for unowned entries.
func (e *pelEntry) deliveryTime() int64 { return max(e.time, 0) }

func pelLess(a, b pelEntry) bool { return a.id.Less(b.id) }

// timeKey is a PEL entry's place in the group's delivery order, Redis's
// pel_time list: released (XNACK) entries first in release order (their
// time is -1), then the others by delivery time, entries of equal time in
// the order they got it.
type timeKey struct {
	time int64
	seq  uint64
	id   ID
}

func timeLess(a, b timeKey) bool {
	if a.time != b.time {
		return a.time < b.time
	}
	if a.seq != b.seq {
		return a.seq < b.seq
	}
	return a.id.Less(b.id)
}

func (e *pelEntry) timeKey() timeKey { return timeKey{time: e.time, seq: e.seq, id: e.id} }

func idLess(a, b ID) bool { return a.Less(b) }

// consumer is a group member (Redis streamConsumer).
type consumer struct {
	name string
	// seen is the last time the consumer tried an interaction (XREADGROUP,
	// XCLAIM, XAUTOCLAIM); active the last time it got entries, -1 if never.
	seen, active int64
	pel          *btree.BTreeG[ID]
	own          *cowToken
}

func consumerLess(a, b *consumer) bool { return a.name < b.name }

// group is a consumer group (Redis streamCG).
type group struct {
	name   string
	lastID ID
	// entriesRead is the logical read counter of lastID, or
	// invalidEntriesRead.
	entriesRead int64
	pel         *btree.BTreeG[pelEntry]
	// times indexes pel in delivery order; nil until needed (ensureTimes).
	times     *btree.BTreeG[timeKey]
	consumers *btree.BTreeG[*consumer]
	nextSeq   uint64
	// dlq is the dead-letter setting (stream_dlq.go), zero if none.
	dlq dlqConfig
	own *cowToken
}

func groupLess(a, b *group) bool { return a.name < b.name }

func newGroup(name string, last ID, entriesRead int64, own *cowToken) *group {
	return &group{
		name: name, lastID: last, entriesRead: entriesRead, own: own,
		pel:       btree.NewBTreeGOptions(pelLess, treeOpts),
		consumers: btree.NewBTreeGOptions(consumerLess, treeOpts),
	}
}

// group returns the named group, nil if there is none. The result must not
// be modified without mutGroup.
func (s *Stream) group(name string) *group {
	if s.groups == nil {
		return nil
	}
	g, _ := s.groups.Get(&group{name: name})
	return g
}

// GroupCount returns the number of consumer groups.
func (s *Stream) GroupCount() int {
	if s.groups == nil {
		return 0
	}
	return s.groups.Len()
}

// eachGroup calls fn for each group in name order until fn returns false.
func (s *Stream) eachGroup(fn func(g *group) bool) {
	if s.groups != nil {
		s.groups.Scan(fn)
	}
}

// createGroup adds a group and reports false if the name is taken.
func (s *Stream) createGroup(name string, last ID, entriesRead int64) bool {
	if s.groups == nil {
		s.groups = btree.NewBTreeGOptions(groupLess, treeOpts)
	}
	if _, ok := s.groups.Get(&group{name: name}); ok {
		return false
	}
	s.groups.Set(newGroup(name, last, entriesRead, s.own))
	return true
}

// destroyGroup removes a group and reports whether it existed.
func (s *Stream) destroyGroup(name string) bool {
	if s.groups == nil {
		return false
	}
	_, ok := s.groups.Delete(&group{name: name})
	return ok
}

// mutGroup returns a version of g that s may modify, copying it first if
// it is shared with a clone.
func (s *Stream) mutGroup(g *group) *group {
	if g.own == s.own {
		return g
	}
	ng := *g
	ng.pel = g.pel.Copy()
	if g.times != nil {
		ng.times = g.times.Copy()
	}
	ng.consumers = g.consumers.Copy()
	ng.own = s.own
	s.groups.Set(&ng)
	return &ng
}

// consumer returns the named consumer of g, nil if there is none.
func (g *group) consumer(name string) *consumer {
	c, _ := g.consumers.Get(&consumer{name: name})
	return c
}

// mutConsumer is mutGroup for a consumer of g; g must be owned by s.
func (s *Stream) mutConsumer(g *group, c *consumer) *consumer {
	if c.own == s.own {
		return c
	}
	nc := *c
	nc.pel = c.pel.Copy()
	nc.own = s.own
	g.consumers.Set(&nc)
	return &nc
}

// createConsumer adds a consumer to g (owned by s), seen now and never
// active, and returns it; nil if the name is taken.
func (s *Stream) createConsumer(g *group, name string, now int64) *consumer {
	if g.consumer(name) != nil {
		return nil
	}
	c := &consumer{name: name, seen: now, active: -1, own: s.own,
		pel: btree.NewBTreeGOptions(idLess, treeOpts)}
	g.consumers.Set(c)
	return c
}

// lookupOrCreateConsumer returns g's consumer name, owned by s, creating
// it if needed; created reports whether it did.
func (s *Stream) lookupOrCreateConsumer(g *group, name string, now int64) (c *consumer, created bool) {
	if c = g.consumer(name); c != nil {
		return s.mutConsumer(g, c), false
	}
	return s.createConsumer(g, name, now), true
}

// delConsumer removes c and its pending entries from g (owned by s).
func (s *Stream) delConsumer(g *group, c *consumer) {
	c.pel.Scan(func(id ID) bool {
		if e, ok := g.pel.Get(pelEntry{id: id}); ok {
			g.timesDelete(e.timeKey())
			g.pel.Delete(e)
		}
		return true
	})
	g.consumers.Delete(c)
}

// pelGet returns g's PEL entry for id.
func (g *group) pelGet(id ID) (pelEntry, bool) { return g.pel.Get(pelEntry{id: id}) }

// pelAdd creates a PEL entry for id owned by c (owned by s), delivered now
// once, at the end of the delivery order. g must be owned by s.
func (g *group) pelAdd(c *consumer, id ID, now int64) pelEntry {
	e := pelEntry{id: id, time: max(now, 0), count: 1, seq: g.nextSeq, consumer: c.name}
	g.nextSeq++
	g.pel.Set(e)
	g.timesSet(e.timeKey())
	c.pel.Set(id)
	return e
}

// pelRemove deletes e from g (owned by s) and from its owner's PEL.
func (s *Stream) pelRemove(g *group, e pelEntry) {
	g.pel.Delete(e)
	g.timesDelete(e.timeKey())
	if !e.unowned() {
		if c := g.consumer(e.consumer); c != nil {
			s.mutConsumer(g, c).pel.Delete(e.id)
		}
	}
}

// pelOwn gives e to c (owned by s), taking it from its previous owner.
// The caller then moves and stores e with pelMove, which also takes an
// unowned entry out of the NACK zone.
func (s *Stream) pelOwn(g *group, e *pelEntry, c *consumer) {
	if !e.unowned() && e.consumer == c.name {
		return
	}
	if !e.unowned() {
		if old := g.consumer(e.consumer); old != nil {
			s.mutConsumer(g, old).pel.Delete(e.id)
		}
	}
	c.pel.Set(e.id)
	e.consumer = c.name
}

// pelMove sets e's delivery time and moves it to its place in the delivery
// order (Redis pelListUpdate), then stores it. old is e's key before any
// change (from timeKey()).
func (g *group) pelMove(old timeKey, e *pelEntry, time int64) {
	g.timesDelete(old)
	e.time, e.seq = max(time, 0), g.nextSeq
	g.nextSeq++
	g.timesSet(e.timeKey())
	g.pel.Set(*e)
}

// pelRelease takes e from its owner and puts it at the end of the NACK
// zone (Redis pelListInsertNacked), then stores it.
func (s *Stream) pelRelease(g *group, e *pelEntry) {
	old := e.timeKey()
	if !e.unowned() {
		if c := g.consumer(e.consumer); c != nil {
			s.mutConsumer(g, c).pel.Delete(e.id)
		}
	}
	g.timesDelete(old)
	e.consumer, e.time = "", -1
	e.seq = g.nextSeq
	g.nextSeq++
	g.timesSet(e.timeKey())
	g.pel.Set(*e)
}

// nackedCount is the number of entries in g's NACK zone.
func (g *group) nackedCount() int64 {
	var n int64
	g.pel.Scan(func(e pelEntry) bool {
		if e.unowned() {
			n++
		}
		return true
	})
	return n
}

func (g *group) timesSet(k timeKey) {
	if g.times != nil {
		g.times.Set(k)
	}
}

func (g *group) timesDelete(k timeKey) {
	if g.times != nil {
		g.times.Delete(k)
	}
}

// ensureTimes builds g's delivery-order index; g must be owned.
func (g *group) ensureTimes() {
	if g.times != nil {
		return
	}
	g.times = btree.NewBTreeGOptions(timeLess, treeOpts)
	g.pel.Scan(func(e pelEntry) bool {
		g.times.Set(e.timeKey())
		return true
	})
}

// eachByDelivery calls fn for g's pending entries in delivery order until
// fn returns false. Without the index (reads may not build it) it sorts a
// copy of the PEL.
func (g *group) eachByDelivery(fn func(e pelEntry) bool) {
	if g.times != nil {
		g.times.Scan(func(k timeKey) bool {
			e, _ := g.pelGet(k.id)
			return fn(e)
		})
		return
	}
	all := make([]pelEntry, 0, g.pel.Len())
	g.pel.Scan(func(e pelEntry) bool {
		all = append(all, e)
		return true
	})
	sort.Slice(all, func(i, j int) bool { return timeLess(all[i].timeKey(), all[j].timeKey()) })
	for _, e := range all {
		if !fn(e) {
			return
		}
	}
}

// incrCount adds one delivery, saturating as Redis does at LLONG_MAX.
func incrCount(n int64) int64 {
	if n == 1<<63-1 {
		return n
	}
	return n + 1
}

// entryExists reports whether id is a live entry.
func (s *Stream) entryExists(id ID) bool { return s.Get(id, nil) }

// rangeHasTombstones is Redis's streamRangeHasTombstones(s, start, NULL):
// whether an entry at or after start may have been deleted.
func (s *Stream) rangeHasTombstones(start ID) bool {
	if s.length == 0 || s.maxDeleted.IsZero() {
		return false
	}
	return !s.maxDeleted.Less(start)
}

// estimateEntriesRead is Redis's streamEstimateDistanceFromFirstEverEntry:
// the logical read counter of id, false if it cannot be known.
func (s *Stream) estimateEntriesRead(id ID) (int64, bool) {
	added := int64(s.entriesAdded)
	if added == 0 {
		return 0, true
	}
	if s.length == 0 && !s.last.Less(id) {
		return added, true
	}
	if !id.IsZero() && id.Less(s.maxDeleted) {
		return 0, false
	}
	switch id.Compare(s.last) {
	case 0:
		return added, true
	case 1:
		return 0, false
	}
	if s.maxDeleted.IsZero() || s.maxDeleted.Less(s.first) {
		switch id.Compare(s.first) {
		case -1:
			return added - s.length, true
		case 0:
			return added - s.length + 1, true
		}
	}
	return 0, false
}

// groupLag is Redis's streamReplyWithCGLag: the number of entries the group
// has yet to read, false if it cannot be known.
func (s *Stream) groupLag(g *group) (int64, bool) {
	added := int64(s.entriesAdded)
	switch {
	case added == 0, s.length == 0:
		return 0, true
	case g.lastID.Less(s.first) && s.maxDeleted.Less(s.first):
		return s.length, true
	case g.entriesRead != invalidEntriesRead && !s.rangeHasTombstones(g.lastID):
		return added - g.entriesRead, true
	}
	if read, ok := s.estimateEntriesRead(g.lastID); ok {
		return added - read, true
	}
	return 0, false
}

// advanceGroup records that g (owned by s) delivered id, which is above
// its last ID, updating the read counter as Redis's streamReplyWithRange.
func (s *Stream) advanceGroup(g *group, id ID) {
	if g.entriesRead != invalidEntriesRead && !g.lastID.Less(s.first) && !s.rangeHasTombstones(g.lastID) {
		g.entriesRead++
	} else if s.entriesAdded != 0 {
		if n, ok := s.estimateEntriesRead(id); ok {
			g.entriesRead = n
		} else {
			g.entriesRead = invalidEntriesRead
		}
	}
	g.lastID = id
}

// entryReferenced is Redis's streamEntryIsReferenced: whether some group
// has not read id yet or has it pending (the ACKED policy keeps it).
func (s *Stream) entryReferenced(id ID) bool {
	if s.GroupCount() == 0 {
		return false
	}
	min := MaxID
	s.eachGroup(func(g *group) bool {
		if g.lastID.Less(min) {
			min = g.lastID
		}
		return true
	})
	if min.Less(id) {
		return true
	}
	found := false
	s.eachGroup(func(g *group) bool {
		_, found = g.pelGet(id)
		return !found
	})
	return found
}

// dropReferences is Redis's streamCleanupEntryCGroupRefs: it removes id
// from every group's PEL (the DELREF policy).
func (s *Stream) dropReferences(id ID) {
	var holders []*group
	s.eachGroup(func(g *group) bool {
		if _, ok := g.pelGet(id); ok {
			holders = append(holders, g)
		}
		return true
	})
	for _, g := range holders {
		g = s.mutGroup(g)
		e, _ := g.pelGet(id)
		s.pelRemove(g, e)
	}
}

// groupsMemory approximates the bytes held by consumer groups.
func (s *Stream) groupsMemory() int64 {
	var total int64
	s.eachGroup(func(g *group) bool {
		total += 256 + int64(len(g.name))
		per := int64(150)
		if g.times != nil {
			per += 64
		}
		total += int64(g.pel.Len()) * per
		g.consumers.Scan(func(c *consumer) bool {
			total += 128 + int64(len(c.name))
			return true
		})
		return true
	})
	return total
}
