/*
Stream data structure: design note.

A stream is a B-tree (github.com/tidwall/btree, BTreeG[node]) of packed
nodes keyed by each node's master ID, plus the metadata Redis keeps: last
generated ID, max deleted entry ID, entries added, length and first ID.

Node format. A node mirrors a Redis listpack without being one: a single
[]byte holding a header with the "master" field names (those of the node's
first entry) followed by entries. Each entry is a flags byte (deleted,
same-fields), the ID delta-encoded against the master ID as varints, then
either only the values (same-fields: names equal the master's, Redis's
SAMEFIELDS) or the field count and all names and values, each
length-prefixed with a varint, and finally a "backlen" (the entry's byte
length, readable backwards) so reverse iteration steps entry by entry
without rescanning. No Go object exists per entry: one allocation per node
of ~100 entries, so a 1M-entry stream of three short fields costs about 22
bytes per entry of Go heap (TestMemoryPerEntry; Redis needs about 31).
Readers get fields and values as slices aliasing node memory, valid only
during the callback.

Node boundaries follow Redis's streamAppendItem exactly: a new node starts
when lpBytes(tail) + len(fields and values) >= stream-node-max-bytes or the
tail's entries (live + deleted) >= stream-node-max-entries. Because our
bytes differ from a listpack's, each node tracks the size Redis's listpack
would have (stream_lpsize.go). Identical boundaries matter because "~"
trimming removes only whole nodes: with them, XTRIM ~ and XADD ... ~ remove
the same entries as Redis. stream_redis_test.go checks node counts, trim
results and the exact sum of listpack sizes (DEBUG OBJECT serializedlength)
against a real redis-server.

Deletion mirrors Redis: XDEL and exact trimming flag entries deleted in
place and keep per-node live/deleted counters; a node is removed when XDEL
deletes its last live entry or a trim removes it whole. Trimming is Redis
8's streamTrim node loop (see Trim), including its quirks: trims never raise
max_deleted_entry_id, and an exact MINID trim can leave a node with no live
entries (Redis does the same, checked; the node still counts as a node).

Copy-on-write. Clone copies the B-tree lazily (tidwall/btree Copy shares
tree nodes until either side writes) and the node structs are stored by
value, so each tree has its own counters and slice headers. Node bytes are
shared; each node records the cowToken of the Stream allowed to write its
bytes in place. Clone gives both streams new tokens, so the first write to a
shared node (an append to the tail, a delete flag) copies its bytes first. A
clone may therefore be read from another goroutine while the original is
mutated: no memory either can reach is written by the other. Clone is O(1).

Values by reference. AppendRetained, for a caller whose bytes never
change (the state machine applying a log entry, Ctx.Retain), builds a new
node whose entry keeps values of BigValue (1 MiB) bytes or more out of line:
the node's bytes hold their lengths, flagExt on the entry says the values
are in node.ext, references to the caller's bytes. Only a node's single
entry is built so (an entry that joins an existing node is copied as
always), and such a node has no owner, so the copy-on-write path turns it
into the plain node Append would have built before any write (ownData,
copyData). Node boundaries use the full sizes, and snapshots write the plain
form (canonicalLen, appendCanonical), so nothing observable differs from
Append but the copy saved: applying a 60 MiB XADD takes microseconds instead
of a 60 MiB copy under the FSM's lock.

Trade-offs. Seeking is O(log nodes) plus a linear scan inside one node (≤
max-entries entries), like Redis; appending replaces the tail node in the
B-tree (O(log nodes), with a path hint). Deleted entries keep their bytes
until their node goes (Redis has no compaction either). Tombstones cost
range scans time, never correctness. Snapshots write node bytes verbatim, so
encoding is deterministic and byte-identical after a decode/encode round
trip, and DecodeStream validates every byte it is given.
*/

package engine

import (
	"encoding/binary"
	"fmt"

	"github.com/tidwall/btree"
)

// NodeLimits shapes the packed nodes a stream is built from, as Redis's
// stream-node-max-bytes and stream-node-max-entries do. Zero means no limit.
type NodeLimits struct {
	MaxBytes   int64
	MaxEntries int64
}

// lpMaxSize is Redis's STREAM_LISTPACK_MAX_SIZE: the node byte limit used
// when stream-node-max-bytes is 0 or larger.
const lpMaxSize = 1 << 30

// Stream is one stream value: entries in packed nodes plus the metadata
// Redis keeps (last ID, max deleted ID, entries added), its consumer groups
// and its IDMP table.
//
// A Stream is not safe for concurrent use, except that a Clone may be read
// concurrently with mutations of the Stream it was cloned from (and vice
// versa).
type Stream struct {
	tree         *btree.BTreeG[node]
	own          *cowToken
	length       int64
	first        ID // first live entry, 0-0 if empty (Redis first_id)
	last         ID // Redis last_id
	maxDeleted   ID // Redis max_deleted_entry_id
	entriesAdded uint64
	// groups holds the consumer groups by name, nil until the first one
	// (stream_groups.go).
	groups *btree.BTreeG[*group]
	// idmp is the XADD IDMP deduplication state, nil while it has never
	// been configured or used (stream_idmp.go).
	idmp *idmpState
	// maxAge is the age retention in ms, 0 if none, and agePolicy its
	// reference policy (stream_retention.go).
	maxAge    int64
	agePolicy int
	// tailHint speeds up replacing the last node on append; only writers
	// use it, so concurrent readers of a clone never touch it.
	tailHint btree.PathHint
}

// NewStream returns an empty stream.
func NewStream() *Stream {
	return &Stream{tree: newNodeTree(), own: new(cowToken)}
}

func newNodeTree() *btree.BTreeG[node] {
	return btree.NewBTreeGOptions(nodeLess, btree.Options{NoLocks: true})
}

// Len returns the number of live entries.
func (s *Stream) Len() int64 { return s.length }

// LastID returns the last generated ID (Redis last_id); it survives deletes.
func (s *Stream) LastID() ID { return s.last }

// SetLastID sets the last generated ID (XSETID). The caller checks it is not
// below the last entry.
func (s *Stream) SetLastID(id ID) { s.last = id }

// FirstID returns the ID of the first live entry, false if the stream is
// empty. It is Redis's first_id (XINFO recorded-first-entry-id).
func (s *Stream) FirstID() (ID, bool) { return s.first, s.length > 0 }

// MaxDeletedID returns the greatest ID ever removed by XDEL (Redis
// max_deleted_entry_id). Trimming does not change it.
func (s *Stream) MaxDeletedID() ID { return s.maxDeleted }

// SetMaxDeletedID sets max_deleted_entry_id (XSETID MAXDELETEDID).
func (s *Stream) SetMaxDeletedID(id ID) { s.maxDeleted = id }

// EntriesAdded returns how many entries were ever added (Redis entries_added).
func (s *Stream) EntriesAdded() uint64 { return s.entriesAdded }

// SetEntriesAdded sets entries_added (XSETID ENTRIESADDED).
func (s *Stream) SetEntriesAdded(n uint64) { s.entriesAdded = n }

// NodeCount returns the number of packed nodes: Redis's listpack count, which
// XINFO reports as radix-tree-keys.
func (s *Stream) NodeCount() int { return s.tree.Len() }

// nodeOverhead approximates the per-node bytes outside node data: the node
// struct in a B-tree slot plus B-tree bookkeeping.
const nodeOverhead = 96

// MemoryUsage returns the approximate number of bytes the stream holds.
func (s *Stream) MemoryUsage() int64 {
	total := int64(128) // Stream, tree header
	s.tree.Scan(func(n node) bool {
		total += int64(cap(n.data)+n.extLen()) + nodeOverhead
		return true
	})
	return total + s.groupsMemory() + s.idmp.memory()
}

// Clone returns a copy-on-write copy in O(1), consumer groups and IDMP
// state included: later mutations of either stream are invisible to the
// other, and the clone may be read concurrently
// with mutations of s. Clone itself must not run concurrently with anything
// else on s.
func (s *Stream) Clone() *Stream {
	c := *s
	c.tree = s.tree.Copy()
	if s.groups != nil {
		// Groups and consumers are shared until either side writes them
		// (mutGroup, mutConsumer); the IDMP state likewise (mutIDMP).
		c.groups = s.groups.Copy()
	}
	c.own = new(cowToken)
	s.own = new(cowToken)
	return &c
}

// Append adds an entry. The caller guarantees id > LastID() and that fv holds
// an even number (>= 2) of field and value strings; Append panics otherwise
// rather than corrupt the stream's order. It sets LastID to id and increments
// EntriesAdded. fv is copied. lim decides, as in Redis, whether the entry
// goes into the last node or starts a new one.
func (s *Stream) Append(id ID, fv [][]byte, lim NodeLimits) { s.appendEntry(id, fv, lim, false) }

// AppendRetained is Append for fv whose bytes nobody will modify, ever
// (Ctx.Retain): an entry that starts a new node and has values of
// BigValue bytes or more keeps those values by reference instead of
// copying them, so adding it costs no copy of them. The stream's
// contents, node boundaries and snapshot bytes are those Append gives.
func (s *Stream) AppendRetained(id ID, fv [][]byte, lim NodeLimits) {
	s.appendEntry(id, fv, lim, true)
}

func (s *Stream) appendEntry(id ID, fv [][]byte, lim NodeLimits, retain bool) {
	if len(fv) < 2 || len(fv)%2 != 0 {
		panic(fmt.Sprintf("engine: Stream.Append with %d fields and values", len(fv)))
	}
	tail, ok := s.tree.Max()
	if !s.last.Less(id) || ok && !tail.lastID().Less(id) {
		panic(fmt.Sprintf("engine: Stream.Append %s not above last ID %s", id, s.last))
	}
	var totelelen int64
	for _, b := range fv {
		totelelen += int64(len(b))
	}
	if ok && s.tailFull(&tail, totelelen, lim) {
		s.seal(tail)
		ok = false
	}
	if !ok {
		n := node{master: id, own: s.own}
		var ext [][]byte
		if retain {
			for i := 1; i < len(fv); i += 2 {
				if len(fv[i]) >= BigValue {
					ext = append(ext, fv[i])
				}
			}
		}
		hint := entrySizeHint(fv)
		if ext != nil {
			// The values stay where they are; the node is read-only
			// (own nil) so that no write reaches them.
			n.ext, n.own = &ext, nil
			for _, v := range ext {
				hint -= len(v) - binary.MaxVarintLen64 // its length stays
			}
		}
		data, lp := newNodeData(fv, hint)
		n.hdr = uint32(len(data))
		var elp int64
		n.data, elp = appendEntryExt(data, id, id, fv, true, ext != nil)
		n.lpRest = lp + elp
		n.live = 1
		s.tree.Load(n)
	} else {
		if tail.own != s.own {
			tail.data = tail.copyData(entrySizeHint(fv))
			tail.ext = nil
			tail.own = s.own
		}
		var elp int64
		tail.data, elp = appendEntry(tail.data, tail.master, id, fv, tail.sameFields(fv))
		tail.lpRest += elp
		tail.live++
		s.tree.SetHint(tail, &s.tailHint)
	}
	s.length++
	if s.length == 1 {
		s.first = id
	}
	s.last = id
	s.entriesAdded++
}

// tailFull applies streamAppendItem's rule for starting a new node.
func (s *Stream) tailFull(tail *node, totelelen int64, lim NodeLimits) bool {
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 || maxBytes > lpMaxSize {
		maxBytes = lpMaxSize
	}
	if tail.lpBytes()+totelelen >= maxBytes {
		return true
	}
	return lim.MaxEntries > 0 && int64(tail.live)+int64(tail.dead) >= lim.MaxEntries
}

// seal releases the spare capacity of a node that will get no more entries
// (Redis's lpShrinkToFit), if s owns its bytes.
func (s *Stream) seal(n node) {
	if n.own != s.own || cap(n.data) == len(n.data) {
		return
	}
	data := make([]byte, len(n.data))
	copy(data, n.data)
	n.data = data
	s.tree.Set(n)
}

// entrySizeHint estimates an entry's encoded size, for preallocation.
func entrySizeHint(fv [][]byte) int {
	n := 24
	for _, b := range fv {
		n += 2 + len(b)
	}
	return n
}
