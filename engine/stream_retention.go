package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/tidwall/btree"
)

// Age retention, a raftstream extension: XCFGSET key MAXAGE ms
// [KEEPREF|DELREF|ACKED] makes a stream drop the entries whose ID time is
// more than ms before the state clock, as XTRIM MINID would with the
// cutoff now-ms and the same reference policy. MAXAGE 0 turns it off.
//
// The trim happens in two places, both inside the log and so identical on
// every node: XADD on such a stream trims right after appending, at the
// entry's stamp, and the leader's expiry loop proposes an expire cycle
// (which also runs RetainStreams) when some stream has an entry past its
// age, so streams nobody writes to are trimmed too. Until that entry is
// applied a read may still see an entry slightly past its age, as a Redis
// read may see a key whose TTL has just passed before active expiry runs.
//
// Each keyspace indexes the names of its streams with a MAXAGE, so the
// leader's check and the cycle cost O(streams with retention), not
// O(keys).

// errCfgMaxAgeTwice and friends are XCFGSET's MAXAGE errors, worded like
// its IDMP ones.
const (
	errCfgMaxAgeTwice = "ERR MAXAGE specified multiple times"
	errCfgPolicyNoAge = "ERR syntax error, KEEPREF/DELREF/ACKED require MAXAGE"
	errCfgMaxAgeRange = "ERR MAXAGE must be between 0 and 9223372036854775807 milliseconds"
)

// policyName is the XINFO STREAM name of a reference policy.
func policyName(p int) string {
	switch p {
	case refDelete:
		return "delref"
	case refAcked:
		return "acked"
	}
	return "keepref"
}

// setRetention sets the stream's age retention (maxAge 0: none).
func (ks *keyspace) setRetention(e *entry, maxAge int64, policy int) {
	e.val.maxAge, e.val.agePolicy = maxAge, policy
	if maxAge > 0 {
		ks.aged.Set(e.key)
	} else {
		ks.aged.Delete(e.key)
	}
}

// retentionCutoff is the ID below which entries are past the age at now,
// false if no entry can be.
func (s *Stream) retentionCutoff(now int64) (ID, bool) {
	if s.maxAge <= 0 || now <= s.maxAge {
		return ID{}, false
	}
	return ID{Ms: uint64(now - s.maxAge)}, true
}

// trimBound is the MINID retain trims to: the cutoff, and with ACKED no
// further than the oldest entry some group has not read. Those entries
// are all referenced, so stopping there keeps a lagging group's backlog
// from being walked again by every XADD and every expire cycle.
func (s *Stream) trimBound(cut ID) ID {
	if s.agePolicy != refAcked {
		return cut
	}
	s.eachGroup(func(g *group) bool {
		if next, ok := g.lastID.Incr(); ok && next.Less(cut) {
			cut = next
		}
		return true
	})
	return cut
}

// retain trims the entries past the stream's age at now and returns how
// many it removed.
func (s *Stream) retain(now int64) int64 {
	cut, ok := s.retentionCutoff(now)
	if !ok {
		return 0
	}
	t := TrimArgs{By: TrimByMinID, MinID: s.trimBound(cut)}
	s.setRefPolicy(&t, s.agePolicy)
	return s.Trim(t)
}

// retentionDue reports whether retain would remove something at now, or
// else the earliest time it may (0 if not foreseeable: with ACKED an old
// entry can only go once a write acknowledges it, and the leader checks
// again at its next expiry tick).
func (s *Stream) retentionDue(now int64) (bool, int64) {
	first, ok := s.FirstID()
	if !ok || s.maxAge <= 0 {
		return false, 0
	}
	cut, ok := s.retentionCutoff(now)
	if !ok || !first.Less(cut) {
		if first.Ms > math.MaxInt64-uint64(s.maxAge)-1 {
			return false, 0
		}
		return false, int64(first.Ms) + s.maxAge + 1
	}
	if s.agePolicy != refAcked {
		return true, 0
	}
	due := false
	bound := s.trimBound(cut)
	s.Range(first, bound, false, func(id ID, _ [][]byte) bool {
		due = id != bound && !s.entryReferenced(id)
		return !due && id.Less(bound)
	})
	return due, 0
}

// RetainStreams trims every stream with age retention to its age at now
// (the leader's clock, carried by an expire-cycle log entry) and returns
// the number of entries removed.
func (s *State) RetainStreams(now int64) int64 {
	var n int64
	for _, ks := range s.dbs {
		ks.aged.Scan(func(key string) bool {
			e := ks.get(key)
			if e == nil || e.expired(now) {
				return true
			}
			if removed := e.val.retain(now); removed > 0 {
				n += removed
				ks.ver++ // a WATCH of the key sees the trim
				e.ver = ks.ver
			}
			return true
		})
	}
	return n
}

// RetentionDue reports whether some stream has entries past its age at
// now, or else how long until one may (0: not foreseeable).
func (s *State) RetentionDue(now int64) (due bool, wait int64) {
	for _, ks := range s.dbs {
		ks.aged.Scan(func(key string) bool {
			e := ks.lookupRead(key, now)
			if e == nil {
				return true
			}
			d, at := e.val.retentionDue(now)
			if d {
				due = true
				return false
			}
			if at > 0 && (wait == 0 || at-now < wait) {
				wait = at - now
			}
			return true
		})
		if due {
			return true, 0
		}
	}
	return false, wait
}

// MaxAge returns the stream's age retention in ms (0: none) and its
// reference policy name.
func (s *Stream) MaxAge() (int64, string) { return s.maxAge, policyName(s.agePolicy) }

// xcfgRetention is XCFGSET's MAXAGE part: maxAge -1 when not given.
type xcfgRetention struct {
	maxAge int64
	policy int
}

// parse consumes argv[i] if it is a MAXAGE option or reference policy and
// returns the index of the last argument it used, or i-1 if argv[i] is not
// one of its options.
func (r *xcfgRetention) parse(argv [][]byte, i int) (int, string) {
	more := len(argv) - 1 - i
	switch {
	case argIs(argv[i], "maxage") && more > 0:
		if e := setCfgOnce(&r.maxAge, argv[i+1], 0, math.MaxInt64, errCfgMaxAgeTwice, errCfgMaxAgeRange); e != "" {
			return i, e
		}
		return i + 1, ""
	case argIs(argv[i], "keepref") && r.policy == refDefault:
		r.policy = refKeep
	case argIs(argv[i], "delref") && r.policy == refDefault:
		r.policy = refDelete
	case argIs(argv[i], "acked") && r.policy == refDefault:
		r.policy = refAcked
	default:
		return i - 1, ""
	}
	return i, ""
}

func (s *Stream) appendRetention(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(s.maxAge))
	return append(b, byte(s.agePolicy))
}

// readRetention decodes what appendRetention wrote.
func (r *snapReader) readRetention(s *Stream) error {
	age, policy := r.uvarint(), r.byte()
	if r.err != nil {
		return r.err
	}
	if age > math.MaxInt64 || policy > refAcked {
		return fmt.Errorf("max age %d, policy %d", age, policy)
	}
	s.maxAge, s.agePolicy = int64(age), int(policy)
	return nil
}

// newAgedIndex returns an empty index of stream names with retention.
func newAgedIndex() *btree.BTreeG[string] {
	return btree.NewBTreeGOptions(func(a, b string) bool { return strings.Compare(a, b) < 0 }, treeOpts)
}
