package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"

	"github.com/tidwall/btree"
)

// IDMP (Redis 8.6 idempotent XADD): per stream, per producer ID, the
// idempotent IDs of recent XADDs and the entry ID each produced, so that a
// retried XADD returns the original ID instead of adding a duplicate.
//
// Redis keeps a dict plus an insertion-ordered list per producer and
// forgets entries from a timer (serverCron). Here a producer holds two
// B-trees, by idempotent ID and by entry ID; IDMP only accepts "*" IDs, so
// entry-ID order is insertion order and the oldest entry is the first. A
// stream-wide index by entry ID finds expired entries without visiting
// every producer; it is derived from the producers and not snapshotted.
// Expiry is driven by the state clock instead of a timer: every IDMP XADD
// first drops the stream's entries whose entry ID's time is duration
// seconds or more before ctx.Now (Redis's cron rule, applied exactly at the
// deadline), and reads count only unexpired entries, so replicas agree and
// a snapshot holds exactly what the log implies. The price is that the
// memory of an idle stream's expired entries is only reclaimed by its next
// IDMP XADD or XCFGSET.

// IDMP limits and defaults (Redis CONFIG_STREAM_IDMP_*).
const (
	idmpDefaultDuration = 100
	idmpDefaultMaxSize  = 100
	idmpMinDuration     = 1
	idmpMaxDuration     = 86400
	idmpMinMaxSize      = 1
	idmpMaxMaxSize      = 10000
)

// idmpTreeOpts are the options of the IDMP entry trees. Every IDMP XADD
// inserts into all three and, at the size limit, deletes from all three,
// one of them at its front; with the default degree (up to 255 items a
// node) each of those shifts a whole node of pointer-holding items, write
// barriers included. Small nodes keep the shifts short.
var idmpTreeOpts = btree.Options{NoLocks: true, Degree: 8}

type idmpState struct {
	duration int64 // seconds
	maxSize  int64 // entries per producer
	// added and dups count IDMP XADDs that added an entry or returned an
	// earlier one (XINFO iids-added, iids-duplicates).
	added, dups int64
	producers   *btree.BTreeG[*idmpProducer]
	// expiry holds every entry of every producer by entry ID.
	expiry *btree.BTreeG[idmpRef]
	own    *cowToken
}

// idmpRef is an IDMP entry in the stream-wide expiry index.
type idmpRef struct {
	id  ID
	pid string
}

func idmpRefLess(a, b idmpRef) bool { return a.id.Less(b.id) }

type idmpProducer struct {
	pid   string
	byIID *btree.BTreeG[idmpEntry]
	byID  *btree.BTreeG[idmpEntry]
	own   *cowToken
}

type idmpEntry struct {
	iid string
	id  ID
}

func idmpByIID(a, b idmpEntry) bool        { return a.iid < b.iid }
func idmpByID(a, b idmpEntry) bool         { return a.id.Less(b.id) }
func producerLess(a, b *idmpProducer) bool { return a.pid < b.pid }

// idmpSettings returns the stream's IDMP duration (seconds) and size limit.
func (s *Stream) idmpSettings() (duration, maxSize int64) {
	if s.idmp == nil {
		return idmpDefaultDuration, idmpDefaultMaxSize
	}
	return s.idmp.duration, s.idmp.maxSize
}

// mutIDMP returns the IDMP state s may modify, creating or copying it.
func (s *Stream) mutIDMP() *idmpState {
	switch {
	case s.idmp == nil:
		s.idmp = &idmpState{duration: idmpDefaultDuration, maxSize: idmpDefaultMaxSize, own: s.own}
	case s.idmp.own != s.own:
		c := *s.idmp
		if c.producers != nil {
			c.producers = c.producers.Copy()
			c.expiry = c.expiry.Copy()
		}
		c.own = s.own
		s.idmp = &c
	}
	return s.idmp
}

// mutProducer returns the producer pid that st (owned by s) may modify,
// creating it if create is set; nil if absent and not created.
func (st *idmpState) mutProducer(pid string, create bool) *idmpProducer {
	if st.producers == nil {
		if !create {
			return nil
		}
		st.producers = btree.NewBTreeGOptions(producerLess, treeOpts)
		st.expiry = btree.NewBTreeGOptions(idmpRefLess, idmpTreeOpts)
	}
	p, ok := st.producers.Get(&idmpProducer{pid: pid})
	switch {
	case !ok && !create:
		return nil
	case !ok:
		p = &idmpProducer{pid: pid, own: st.own,
			byIID: btree.NewBTreeGOptions(idmpByIID, idmpTreeOpts),
			byID:  btree.NewBTreeGOptions(idmpByID, idmpTreeOpts)}
		st.producers.Set(p)
	case p.own != st.own:
		c := *p
		c.byIID, c.byID, c.own = p.byIID.Copy(), p.byID.Copy(), st.own
		p = &c
		st.producers.Set(p)
	}
	return p
}

// idmpExpiredBefore is the entry-ID time at or below which IDMP entries
// have expired at now, computed in unsigned arithmetic as Redis's cron does.
func idmpExpiredBefore(now, duration int64) uint64 {
	return uint64(now) - uint64(duration)*1000
}

// idmpExpire drops expired IDMP entries and producers left empty.
func (s *Stream) idmpExpire(now int64) {
	if s.idmp == nil || s.idmp.producers == nil {
		return
	}
	limit := idmpExpiredBefore(now, s.idmp.duration)
	if r, ok := s.idmp.expiry.Min(); !ok || r.id.Ms > limit {
		return
	}
	st := s.mutIDMP()
	for {
		r, ok := st.expiry.Min()
		if !ok || r.id.Ms > limit {
			break
		}
		st.expiry.Delete(r)
		p := st.mutProducer(r.pid, false)
		e, _ := p.byID.Get(idmpEntry{id: r.id})
		p.byID.Delete(e)
		p.byIID.Delete(e)
		if p.byID.Len() == 0 {
			st.producers.Delete(p)
		}
	}
}

// idmpLookup returns the entry ID recorded for (pid, iid). Call idmpExpire
// first: it does not check expiry.
func (s *Stream) idmpLookup(pid, iid string) (ID, bool) {
	if s.idmp == nil || s.idmp.producers == nil {
		return ID{}, false
	}
	p, ok := s.idmp.producers.Get(&idmpProducer{pid: pid})
	if !ok {
		return ID{}, false
	}
	e, ok := p.byIID.Get(idmpEntry{iid: iid})
	return e.id, ok
}

// idmpRecord records that (pid, iid) produced id, evicting the producer's
// oldest entry beyond the size limit, as Redis's idmpInsertEntry.
func (s *Stream) idmpRecord(pid, iid string, id ID) {
	st := s.mutIDMP()
	p := st.mutProducer(pid, true)
	e := idmpEntry{iid: iid, id: id}
	p.byIID.Set(e)
	p.byID.Set(e)
	st.expiry.Set(idmpRef{id: id, pid: pid})
	st.added++
	if int64(p.byIID.Len()) > st.maxSize {
		old, _ := p.byID.Min()
		p.byID.Delete(old)
		p.byIID.Delete(old)
		st.expiry.Delete(idmpRef{id: old.id})
	}
}

// idmpDuplicate counts an XADD answered from the IDMP table.
func (s *Stream) idmpDuplicate() { s.mutIDMP().dups++ }

// idmpConfigure applies XCFGSET: a value that changes clears every
// producer's entries (not the counters). -1 leaves a setting alone.
func (s *Stream) idmpConfigure(duration, maxSize int64) {
	curDur, curMax := s.idmpSettings()
	if (duration == -1 || duration == curDur) && (maxSize == -1 || maxSize == curMax) {
		return
	}
	st := s.mutIDMP()
	if duration != -1 {
		st.duration = duration
	}
	if maxSize != -1 {
		st.maxSize = maxSize
	}
	st.producers, st.expiry = nil, nil
}

// idmpStats returns XINFO STREAM's pids-tracked, iids-tracked, iids-added
// and iids-duplicates at now, counting only unexpired entries.
func (s *Stream) idmpStats(now int64) (pids, iids, added, dups int64) {
	if s.idmp == nil {
		return 0, 0, 0, 0
	}
	if s.idmp.producers != nil {
		limit := idmpExpiredBefore(now, s.idmp.duration)
		s.idmp.producers.Scan(func(p *idmpProducer) bool {
			live := int64(p.byID.Len())
			p.byID.Scan(func(e idmpEntry) bool {
				if e.id.Ms > limit {
					return false
				}
				live--
				return true
			})
			if live > 0 {
				pids++
				iids += live
			}
			return true
		})
	}
	return pids, iids, s.idmp.added, s.idmp.dups
}

// memory approximates the bytes held by the IDMP state.
func (st *idmpState) memory() int64 {
	if st == nil {
		return 0
	}
	total := int64(96)
	if st.producers != nil {
		st.producers.Scan(func(p *idmpProducer) bool {
			total += 160 + int64(len(p.pid))
			p.byIID.Scan(func(e idmpEntry) bool {
				total += 2*(32+int64(len(e.iid))) + 48
				return true
			})
			return true
		})
	}
	return total
}

// idmpAutoIID derives IDMPAUTO's idempotent ID from an entry's fields and
// values: a 128-bit digest of each field/value pair (field, its length as
// 8 little-endian bytes, value), combined order-independently with Redis's
// sum/xor/rotate scheme. Redis hashes pairs with XXH3-128; the digest here
// is SHA-256 truncated to 128 bits, which is equally deterministic. The
// value never leaves the stream, so only equality matters.
func idmpAutoIID(fv [][]byte) string {
	var sumLo, sumHi, xorLo, xorHi uint64
	var lenBuf [8]byte
	for i := 0; i+1 < len(fv); i += 2 {
		h := sha256.New()
		h.Write(fv[i])
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(fv[i])))
		h.Write(lenBuf[:])
		h.Write(fv[i+1])
		var sum [sha256.Size]byte
		h.Sum(sum[:0])
		lo := binary.LittleEndian.Uint64(sum[0:8])
		hi := binary.LittleEndian.Uint64(sum[8:16])
		sumLo += lo
		sumHi += hi
		xorLo ^= lo
		xorHi ^= hi
	}
	var out [16]byte
	binary.LittleEndian.PutUint64(out[0:8], sumLo^bits.RotateLeft64(xorHi, 1))
	binary.LittleEndian.PutUint64(out[8:16], sumHi^bits.RotateLeft64(xorLo, 1))
	return string(out[:])
}
