package server

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// Replies are written to the socket by the connection's goroutine as they
// are produced, not gathered for the whole batch as redcon's writer would:
// small replies are gathered up to outGather bytes, larger ones are
// written from the buffer they were built in, in outPiece pieces so that
// omem falls as the client reads. A client that does not read its replies
// therefore blocks its own goroutine (it stops reading requests) instead
// of growing server memory: it holds at most one reply plus outGather.
// Redis, single-threaded, must keep going and buffers instead; its limits
// apply here to the same quantity, the reply bytes not yet accepted by the
// socket.
const (
	outGather = 16 * 1024
	outPiece  = 256 * 1024
)

// bufferLimit is one class of client-output-buffer-limit.
type bufferLimit struct {
	hard, soft  int64
	softSeconds int64
}

// bufferLimits is the client-output-buffer-limit setting. Only the normal
// class applies (raftstream has no replica or pub/sub clients); the other
// two are kept so CONFIG GET shows what was set.
type bufferLimits struct {
	normal, replica, pubsub bufferLimit
}

// defaultBufferLimits are Redis's defaults.
var defaultBufferLimits = bufferLimits{
	replica: bufferLimit{hard: 256 << 20, soft: 64 << 20, softSeconds: 60},
	pubsub:  bufferLimit{hard: 32 << 20, soft: 8 << 20, softSeconds: 60},
}

func (l bufferLimits) String() string {
	f := func(class string, c bufferLimit) string {
		return class + " " + strconv.FormatInt(c.hard, 10) + " " + strconv.FormatInt(c.soft, 10) + " " + strconv.FormatInt(c.softSeconds, 10)
	}
	return f("normal", l.normal) + " " + f("slave", l.replica) + " " + f("pubsub", l.pubsub)
}

// Redis's error texts for a bad client-output-buffer-limit value.
const (
	errBufLimitArgs  = "Wrong number of arguments in buffer limit configuration."
	errBufLimitClass = "Invalid client class specified in buffer limit configuration."
	errBufLimitValue = "Error in hard, soft or soft_seconds setting in buffer limit configuration."
)

// parseBufferLimits applies a "<class> <hard> <soft> <soft-seconds> ..."
// value to base, as Redis's CONFIG SET client-output-buffer-limit does:
// classes not named keep their limits. A bad value returns Redis's error
// text.
func parseBufferLimits(base bufferLimits, v string) (bufferLimits, string) {
	f := strings.Fields(v)
	if len(f)%4 != 0 {
		return base, errBufLimitArgs
	}
	out := base
	for i := 0; i < len(f); i += 4 {
		var c *bufferLimit
		switch strings.ToLower(f[i]) {
		case "normal":
			c = &out.normal
		case "slave", "replica":
			c = &out.replica
		case "pubsub":
			c = &out.pubsub
		default:
			return base, errBufLimitClass
		}
		hard, ok1 := ParseMemory(f[i+1])
		soft, ok2 := ParseMemory(f[i+2])
		secs, ok3 := redisutil.ParseLL([]byte(f[i+3]))
		if !ok1 || !ok2 || !ok3 || secs < 0 {
			return base, errBufLimitValue
		}
		*c = bufferLimit{hard: hard, soft: soft, softSeconds: secs}
	}
	return out, ""
}

// ParseClientOutputBufferLimit checks a client-output-buffer-limit value
// (Redis syntax, e.g. "normal 64mb 16mb 60") for Config.
func ParseClientOutputBufferLimit(v string) error {
	if _, msg := parseBufferLimits(defaultBufferLimits, v); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// errOutputLimit closes a client whose unsent replies broke
// client-output-buffer-limit; errEvicted one dropped by maxmemory-clients.
var (
	errOutputLimit = errors.New("client reached the output buffer limit")
	errEvicted     = errors.New("client evicted (maxmemory-clients)")
)

// write sends a reply, or queues it with other small ones, applying the
// output limits first.
func (s *Server) write(cl *client, reply []byte) { s.writeShowing(cl, reply, 0) }

// writeShowing is write of a reply that shows the state as of log entry
// index; 0: as of now (the applied index).
func (s *Server) writeShowing(cl *client, reply []byte, index uint64) {
	if cl.outErr != nil || len(reply) == 0 {
		return
	}
	s.show(cl, index)
	if err := s.admitOutput(cl, int64(len(cl.out)+len(reply))); err != nil {
		s.dropClient(cl, err)
		return
	}
	if len(cl.out)+len(reply) <= outGather {
		cl.out = append(cl.out, reply...)
		s.setOmem(cl, int64(len(cl.out)))
		return
	}
	// Large reply: send what is gathered, then the reply from its own
	// buffer; nothing is copied.
	s.setOmem(cl, int64(len(cl.out)+len(reply)))
	if s.writeOut(cl, cl.out, int64(len(reply))) {
		s.writeOut(cl, reply, 0)
	}
	cl.out = cl.out[:0]
}

// flush writes the gathered replies.
func (s *Server) flush(cl *client) {
	if len(cl.out) > 0 && cl.outErr == nil {
		s.writeOut(cl, cl.out, 0)
	}
	cl.out = cl.out[:0]
	if cap(cl.out) > 4*outGather {
		cl.out = nil
	}
}

// writeOut writes b to the socket in pieces, keeping omem (len(b) plus
// after, the bytes queued behind b) up to date. While omem is at or above
// the soft limit, the write may block only until the soft limit has been
// exceeded for soft-seconds; then the client is dropped. It reports
// whether b was written.
func (s *Server) writeOut(cl *client, b []byte, after int64) bool {
	if cl.shows > 0 {
		if err := s.durable.SyncThrough(cl.shows); err != nil {
			s.dropClient(cl, fmt.Errorf("replies wait for the Raft log flush: %w", err))
			return false
		}
		cl.shows = 0
	}
	for len(b) > 0 {
		n := min(len(b), outPiece)
		deadline, err := s.softDeadline(cl, int64(len(b))+after)
		if err != nil {
			s.dropClient(cl, err)
			return false
		}
		_ = cl.pc.Conn.SetWriteDeadline(deadline)
		m, werr := cl.pc.Write(b[:n])
		b = b[m:]
		s.setOmem(cl, int64(len(b))+after)
		if werr != nil {
			if isTimeout(werr) && !deadline.IsZero() && !cl.evicted.Load() {
				continue // softDeadline decides whether time is up
			}
			if cl.evicted.Load() {
				werr = errEvicted
			}
			s.dropClient(cl, fmt.Errorf("writing a reply: %w", werr))
			return false
		}
	}
	return true
}

// show records that cl's unsent replies show the state as of log entry
// index (0: as of now), which must be durable before they are sent.
func (s *Server) show(cl *client, index uint64) {
	if s.durable == nil {
		return
	}
	if index == 0 {
		index = s.durable.AppliedIndex()
	}
	cl.shows = max(cl.shows, index)
}

// admitOutput checks the unsent output omem a new reply brings against
// the normal class's limits, as Redis's checkClientOutputBufferLimits does.
func (s *Server) admitOutput(cl *client, omem int64) error {
	lim := s.outLimits.Load().normal
	if lim.hard > 0 && omem >= lim.hard {
		return errOutputLimit
	}
	_, err := s.softDeadline(cl, omem)
	return err
}

// softDeadline tracks how long omem has been at or above the soft limit
// and returns the time a blocked write may wait until (zero: no bound),
// or errOutputLimit once soft-seconds have passed.
func (s *Server) softDeadline(cl *client, omem int64) (time.Time, error) {
	lim := s.outLimits.Load().normal
	if lim.soft <= 0 || omem < lim.soft {
		cl.softOver = time.Time{}
		return time.Time{}, nil
	}
	now := time.Now()
	if cl.softOver.IsZero() {
		cl.softOver = now
	}
	end := cl.softOver.Add(time.Duration(lim.softSeconds) * time.Second)
	if now.After(end) {
		return time.Time{}, errOutputLimit
	}
	// Just past end, so a write still blocked then is refused above.
	return end.Add(time.Millisecond), nil
}

// setOmem records cl's unsent output and, when it grew, enforces
// maxmemory-clients.
func (s *Server) setOmem(cl *client, n int64) {
	delta := n - cl.omem.Swap(n)
	total := s.clientMem.Add(delta)
	if delta > 0 {
		if limit := s.maxClientMem.Load(); limit > 0 && total > limit {
			s.evictClients(limit)
		}
	}
}

// dropClient closes cl at once, as Redis does with a client over its
// output limit: unsent replies are discarded.
func (s *Server) dropClient(cl *client, err error) {
	cl.outErr = err
	cl.out = nil
	s.setOmem(cl, 0)
	cl.softOver = time.Time{}
	switch {
	case errors.Is(err, errOutputLimit):
		s.stats.outputLimitDrops.Add(1)
		lim := s.outLimits.Load().normal
		s.logger.Warn("client scheduled to be closed ASAP for overcoming of output buffer limits",
			"client", cl.id, "addr", cl.addr, "hard", lim.hard, "soft", lim.soft, "soft_seconds", lim.softSeconds)
	case errors.Is(err, errEvicted):
	default:
		s.logger.Debug("closing client", "client", cl.id, "addr", cl.addr, "error", err)
	}
	_ = cl.pc.Conn.Close()
}

// evictClients closes the clients holding the most output memory until
// the total is at most limit, sparing CLIENT NO-EVICT clients, as Redis's
// maxmemory-clients does. A client closed here notices on its own
// goroutine (its socket operations fail).
func (s *Server) evictClients(limit int64) {
	s.evictMu.Lock()
	defer s.evictMu.Unlock()
	total := s.clientMem.Load()
	if total <= limit {
		return
	}
	cands := s.clients.list()
	slices.SortFunc(cands, func(a, b *client) int { return cmp.Compare(b.omem.Load(), a.omem.Load()) })
	for _, c := range cands {
		if total <= limit {
			return
		}
		m := c.omem.Load()
		if m == 0 {
			return
		}
		if c.noEvict.Load() || c.evicted.Swap(true) {
			continue
		}
		total -= m
		s.stats.evictedClients.Add(1)
		s.logger.Info("evicting client (maxmemory-clients)", "client", c.id, "addr", c.addr, "omem", m, "limit", limit)
		_ = c.pc.Conn.Close()
	}
}

// maxOmem is the largest unsent output of a client now
// (client_recent_max_output_buffer).
func (s *Server) maxOmem() int64 {
	var m int64
	for _, c := range s.clients.list() {
		m = max(m, c.omem.Load())
	}
	return m
}
