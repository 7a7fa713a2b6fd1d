package fsm

import (
	"slices"
	"sort"
	"time"
)

// Dedupe of forwarded requests (the Raft dissertation's client sessions,
// §6.3). A follower forwards each batch of client commands to the leader
// as a request (Origin, Seq); if the forward fails before an answer comes
// back, the follower sends the same request again, possibly to a new
// leader, and both copies may end up in the log. The first copy applied
// executes and its replies are saved; a later copy gets the saved replies
// and executes nothing.
//
// Everything here is replicated state: it changes only when entries are
// applied, it is driven by the log clock alone, and it is in the snapshot,
// so every replica makes the same decision for the same entry.
//
// Bounds: a session keeps the replies of requests its origin has not yet
// acknowledged (Request.Ack), which the origin caps at its in-flight
// window; at most maxSavedPerSession in any case. Sessions idle for
// SessionTTL of log time are dropped, and at most maxSessions are kept.
// A copy arriving after its session was dropped would execute again: the
// TTL is far longer than any forwarder keeps retrying.
const (
	// SessionTTL is how long (log time) a forwarding session is kept after
	// its last request.
	SessionTTL = 10 * time.Minute
	// sessionSweepEvery is how often (log time) expired sessions are
	// swept: whenever the clock enters a new period of this length.
	sessionSweepEvery   = 10 * time.Second
	maxSessions         = 4096
	maxSavedPerSession  = 1024
	staleRequestMessage = "ERR forwarded request already answered or expired; not applied again"
)

// session is one origin's dedupe state.
type session struct {
	// floor: requests below it were acknowledged (or evicted); a copy of
	// one is refused, never executed.
	floor uint64
	// touched is the log time of the session's last request.
	touched int64
	// saved holds the replies of applied requests >= floor, by Seq.
	saved []savedRequest
}

// savedRequest is the outcome of one applied request. Replies are
// immutable once saved: results and snapshots share them.
type savedRequest struct {
	seq     uint64
	replies [][]byte
}

// sessions is the dedupe table. Map order never shows: lookups are by
// key, sweeps delete a set, and the snapshot sorts.
type sessions map[string]*session

// requestState is the verdict for one request of an entry.
type requestState int

const (
	requestNew requestState = iota
	requestDuplicate
	requestStale
)

// begin records r at log time now and says whether to execute it; for a
// duplicate it also returns the saved replies.
func (ss sessions) begin(r *Request, now int64) (requestState, [][]byte) {
	s := ss[r.Origin]
	if s == nil {
		s = &session{}
		ss[r.Origin] = s
		ss.evictOverflow(r.Origin)
	}
	s.touched = now
	if r.Ack > s.floor {
		s.floor = r.Ack
		i := sort.Search(len(s.saved), func(i int) bool { return s.saved[i].seq >= r.Ack })
		clear(s.saved[:i])
		s.saved = s.saved[i:]
	}
	if r.Seq < s.floor {
		return requestStale, nil
	}
	if i, ok := s.find(r.Seq); ok {
		return requestDuplicate, s.saved[i].replies
	}
	return requestNew, nil
}

// save records the replies of a request begin accepted as new.
func (ss sessions) save(r *Request, replies [][]byte) {
	s := ss[r.Origin]
	i, _ := s.find(r.Seq)
	s.saved = slices.Insert(s.saved, i, savedRequest{seq: r.Seq, replies: replies})
	if len(s.saved) > maxSavedPerSession {
		// The origin is not acknowledging; forget the oldest and refuse
		// any copy of it from now on rather than run it twice.
		s.floor = s.saved[0].seq + 1
		s.saved[0] = savedRequest{}
		s.saved = s.saved[1:]
	}
}

func (s *session) find(seq uint64) (int, bool) {
	return sort.Find(len(s.saved), func(i int) int {
		switch {
		case seq < s.saved[i].seq:
			return -1
		case seq > s.saved[i].seq:
			return 1
		}
		return 0
	})
}

// evictOverflow drops the least recently used session (ties: smallest
// origin) while there are too many, never keep.
func (ss sessions) evictOverflow(keep string) {
	for len(ss) > maxSessions {
		victim, found := "", false
		var at int64
		for o, s := range ss {
			if o == keep {
				continue
			}
			if !found || s.touched < at || (s.touched == at && o < victim) {
				victim, at, found = o, s.touched, true
			}
		}
		if !found {
			return
		}
		delete(ss, victim)
	}
}

// sweep drops sessions idle for SessionTTL at log time now. It runs when
// the clock moves from prev into a new sweep period, a rule that depends
// on replicated values only.
func (ss sessions) sweep(prev, now int64) {
	period := sessionSweepEvery.Milliseconds()
	if len(ss) == 0 || floorDiv(prev, period) == floorDiv(now, period) {
		return
	}
	limit := now - SessionTTL.Milliseconds()
	for o, s := range ss {
		if s.touched < limit {
			delete(ss, o)
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// clone copies the table for a snapshot. Saved replies are immutable and
// shared.
func (ss sessions) clone() sessions {
	c := make(sessions, len(ss))
	for o, s := range ss {
		cs := *s
		cs.saved = slices.Clone(s.saved)
		c[o] = &cs
	}
	return c
}

// copyReplies packs replies into one allocation detached from the apply
// buffer, so a saved request does not pin a whole batch's replies.
func copyReplies(replies [][]byte) [][]byte {
	n := 0
	for _, r := range replies {
		n += len(r)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(replies))
	for i, r := range replies {
		start := len(buf)
		buf = append(buf, r...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}
