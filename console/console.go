// Package console is raftstream's read-only web console, served with
// --http-listen: the cluster's members and roles, the streams with their
// length and append rate, consumer groups with lag, pending entries,
// consumers and dead-letter counts, and a chart of each group's lag.
//
// The page (index.html, embedded) is plain HTML with a little inline
// JavaScript and SVG and no external assets; it polls the JSON endpoint
// /api/status. A background sampler reads the node's local state once per
// interval (under the FSM's read lock, no log entry, so a follower shows
// its possibly slightly stale view) and keeps a bounded lag history and
// the append rates. Nothing on the console can change state: only GET and
// HEAD are served. Requests are checked against the ACL (Options.Auth):
// while the default user has a password, every request needs HTTP basic
// authentication as an ACL user allowed INFO and XINFO and to read every
// key; others get 401 or 403.
package console

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
)

//go:embed index.html
var indexHTML []byte

// Source is what the console reads: a cluster node (NodeSource) or, in
// tests, a stand-in.
type Source interface {
	Status() cluster.Status
	Members() ([]cluster.Member, error)
	// Read runs fn on the replicated state; fn must not keep st.
	Read(fn func(st *engine.State))
}

// nodeSource adapts a *cluster.Node.
type nodeSource struct{ *cluster.Node }

// Read runs fn on the state, then waits until the log entries it saw are
// on the device, as a reply does (cluster.Node.SyncThrough): what the
// page shows survives a machine crash. A failed flush leaves the reading
// as it is; the node then refuses every client reply and store.
func (s nodeSource) Read(fn func(st *engine.State)) {
	s.FSM().Read(fn)
	_ = s.SyncThrough(s.FSM().AppliedIndex())
}

// NodeSource returns the Source of a running node.
func NodeSource(n *cluster.Node) Source { return nodeSource{n} }

// Options configure a Console. Zero values take the defaults.
type Options struct {
	// Password, if set, is required as the HTTP basic-auth password (any
	// user name). Auth, when set, decides instead.
	Password string
	// Auth checks every request's basic-auth credentials against the ACL
	// (cmd/raftstream passes the server's): see AuthFunc.
	Auth AuthFunc
	// SampleEvery is the sampling interval (default 1s).
	SampleEvery time.Duration
	// History is the number of lag samples kept per group (default 120).
	History int
	// MaxStreams caps the streams shown (default 200).
	MaxStreams int
	Logger     *slog.Logger
}

// Console serves the web console of one node.
type Console struct {
	src  Source
	opts Options

	mu     sync.Mutex
	lagHis map[groupRef][]point
	added  map[streamRef][]point
}

type streamRef struct {
	db  int
	key string
}

type groupRef struct {
	streamRef
	group string
}

// point is one sample: Unix ms and a value.
type point struct {
	T int64 `json:"t"`
	V int64 `json:"v"`
}

// sample is one reading of the state.
type sample struct {
	at        time.Time
	stats     []engine.StreamStat
	truncated bool
}

// New returns a console reading src.
func New(src Source, opts Options) *Console {
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = time.Second
	}
	if opts.History <= 0 {
		opts.History = 120
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 200
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Console{src: src, opts: opts, lagHis: map[groupRef][]point{}, added: map[streamRef][]point{}}
}

// Run samples the state every SampleEvery until ctx is done, for the lag
// history and the append rates.
func (c *Console) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.SampleEvery)
	defer t.Stop()
	for {
		c.sample(time.Now())
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// rateWindow is the number of samples an append rate is computed over.
const rateWindow = 5

// read takes a reading of the state.
func (c *Console) read(now time.Time) *sample {
	s := &sample{at: now}
	c.src.Read(func(st *engine.State) {
		s.stats, s.truncated = st.StreamStats(max(now.UnixMilli(), st.Clock()), c.opts.MaxStreams)
	})
	return s
}

// sample takes a reading and records it in the history.
func (c *Console) sample(now time.Time) {
	s := c.read(now)
	ms := now.UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	seenG := make(map[groupRef]bool)
	seenS := make(map[streamRef]bool)
	for _, st := range s.stats {
		sr := streamRef{st.DB, st.Key}
		seenS[sr] = true
		c.added[sr] = appendCapped(c.added[sr], point{ms, int64(st.EntriesAdded)}, rateWindow)
		for _, g := range st.Groups {
			gr := groupRef{sr, g.Name}
			seenG[gr] = true
			c.lagHis[gr] = appendCapped(c.lagHis[gr], point{ms, g.Lag}, c.opts.History)
		}
	}
	for k := range c.lagHis {
		if !seenG[k] {
			delete(c.lagHis, k)
		}
	}
	for k := range c.added {
		if !seenS[k] {
			delete(c.added, k)
		}
	}
}

func appendCapped(ps []point, p point, n int) []point {
	ps = append(ps, p)
	if len(ps) > n {
		ps = append(ps[:0], ps[len(ps)-n:]...)
	}
	return ps
}

// Status is the JSON document of /api/status.
type Status struct {
	Time      int64        `json:"time"`
	Node      NodeJSON     `json:"node"`
	Members   []MemberJSON `json:"members"`
	Streams   []StreamJSON `json:"streams"`
	Truncated bool         `json:"truncated"`
	Error     string       `json:"error,omitempty"`
}

// NodeJSON is the serving node.
type NodeJSON struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	Term         uint64 `json:"term"`
	Leader       string `json:"leader"`
	CommitIndex  uint64 `json:"commitIndex"`
	AppliedIndex uint64 `json:"appliedIndex"`
}

// MemberJSON is one cluster member.
type MemberJSON struct {
	ID         string `json:"id"`
	ClientAddr string `json:"clientAddr"`
	RaftAddr   string `json:"raftAddr"`
	Suffrage   string `json:"suffrage"`
	State      string `json:"state"`
	Self       bool   `json:"self"`
}

// StreamJSON is one stream.
type StreamJSON struct {
	DB     int     `json:"db"`
	Key    string  `json:"key"`
	Length int64   `json:"length"`
	LastID string  `json:"lastId"`
	Rate   float64 `json:"rate"` // entries added per second, recent
	MaxAge int64   `json:"maxAge"`
	Groups []Group `json:"groups"`
}

// Group is one consumer group with its lag history.
type Group struct {
	Name          string  `json:"name"`
	Consumers     int     `json:"consumers"`
	Pending       int     `json:"pending"`
	Lag           int64   `json:"lag"` // -1: unknown
	MaxDeliveries int64   `json:"maxDeliveries"`
	DeadLetterKey string  `json:"deadLetterKey"`
	DeadLettered  int64   `json:"deadLettered"`
	LagHistory    []point `json:"lagHistory"`
}

// status builds the JSON document from a fresh reading of the state and
// the sampler's history.
func (c *Console) status() Status {
	s := c.read(time.Now())
	ns := c.src.Status()
	out := Status{Time: s.at.UnixMilli(), Truncated: s.truncated, Members: []MemberJSON{}, Streams: []StreamJSON{},
		Node: NodeJSON{ID: ns.NodeID, State: ns.State, Term: ns.Term, Leader: ns.LeaderID,
			CommitIndex: ns.CommitIndex, AppliedIndex: ns.AppliedIndex}}
	if ms, err := c.src.Members(); err != nil {
		out.Error = err.Error()
	} else {
		for _, m := range ms {
			out.Members = append(out.Members, MemberJSON{ID: m.ID, ClientAddr: m.ClientAddr, RaftAddr: m.RaftAddr,
				Suffrage: m.Suffrage, State: m.State, Self: m.Self})
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range s.stats {
		sr := streamRef{st.DB, st.Key}
		sj := StreamJSON{DB: st.DB, Key: st.Key, Length: st.Length, LastID: st.LastID.String(), MaxAge: st.MaxAge,
			Rate: rate(c.added[sr]), Groups: []Group{}}
		for _, g := range st.Groups {
			sj.Groups = append(sj.Groups, Group{Name: g.Name, Consumers: g.Consumers, Pending: g.Pending, Lag: g.Lag,
				MaxDeliveries: g.MaxDeliveries, DeadLetterKey: g.DeadLetterKey, DeadLettered: g.DeadLettered,
				LagHistory: append([]point(nil), c.lagHis[groupRef{sr, g.Name}]...)})
		}
		out.Streams = append(out.Streams, sj)
	}
	return out
}

// rate is the entries added per second over the samples.
func rate(ps []point) float64 {
	if len(ps) < 2 {
		return 0
	}
	a, b := ps[0], ps[len(ps)-1]
	if b.T <= a.T {
		return 0
	}
	return float64(b.V-a.V) * 1000 / float64(b.T-a.T)
}

// Handler returns the console's HTTP handler.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(indexHTML)))
		_, _ = w.Write(indexHTML)
	})
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err := json.NewEncoder(w).Encode(c.status()); err != nil {
			c.opts.Logger.Debug("console: write status", "err", err)
		}
	})
	return c.guard(mux)
}

// guard adds authentication, refuses anything but reads and sets headers
// that keep the page self-contained.
func (c *Console) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
		if c.opts.Auth != nil {
			if !Guard(w, r, c.opts.Auth) {
				return
			}
		} else if !Authorized(w, r, c.opts.Password) {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "the console is read-only", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// AuthFunc decides whether an HTTP request may be served from its basic
// authentication credentials (ok is false when it has none): 0 serves it,
// 401 asks for credentials, 403 refuses a user who authenticated but lacks
// a permission.
type AuthFunc func(user, pass string, ok bool) int

// RequiredCommands are the commands whose data the console shows: a user
// must be allowed all of them (and to read every key, since every stream
// is listed) to see it, whatever ACL categories grant them.
var RequiredCommands = [][]string{{"INFO"}, {"XINFO", "STREAM"}, {"XINFO", "GROUPS"}, {"XINFO", "CONSUMERS"}}

// Guard applies auth to r; when it refuses, it has answered 401 or 403.
func Guard(w http.ResponseWriter, r *http.Request, auth AuthFunc) bool {
	user, pass, ok := r.BasicAuth()
	switch auth(user, pass, ok) {
	case 0:
		return true
	case http.StatusForbidden:
		http.Error(w, "this user may not read what the console shows (INFO, XINFO, every key)", http.StatusForbidden)
		return false
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="raftstream", charset="UTF-8"`)
	http.Error(w, "authentication required", http.StatusUnauthorized)
	return false
}

// Authorized reports whether r may be served when password is set
// (--requirepass): it needs HTTP basic authentication with that password,
// any user name. When not, it has answered 401. The metrics endpoint
// shares it, so both HTTP listeners authenticate alike.
func Authorized(w http.ResponseWriter, r *http.Request, password string) bool {
	if password == "" {
		return true
	}
	_, pass, ok := r.BasicAuth()
	if ok && subtle.ConstantTimeCompare([]byte(pass), []byte(password)) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="raftstream", charset="UTF-8"`)
	http.Error(w, "authentication required", http.StatusUnauthorized)
	return false
}
