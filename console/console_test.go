package console

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// fakeSource is a Source over a plain engine.State.
type fakeSource struct {
	mu      sync.RWMutex
	st      *engine.State
	members []cluster.Member
	err     error
}

func (f *fakeSource) Status() cluster.Status {
	return cluster.Status{NodeID: "n1", State: "leader", Term: 3, LeaderID: "n1", CommitIndex: 42, AppliedIndex: 42}
}

func (f *fakeSource) Members() ([]cluster.Member, error) { return f.members, f.err }

func (f *fakeSource) Read(fn func(st *engine.State)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.st)
}

// exec runs a command line on the fake's state at now.
func (f *fakeSource) exec(t testing.TB, now int64, line string) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var argv [][]byte
	for _, a := range strings.Fields(line) {
		argv = append(argv, []byte(a))
	}
	w := resp.NewWriter(2)
	f.st.Exec(&engine.Ctx{Now: now, W: w}, argv)
	if strings.HasPrefix(string(w.Buf), "-") {
		t.Fatalf("%s: %s", line, w.Buf)
	}
	return string(w.Buf)
}

// demoSource is a three-node cluster view with a work queue whose
// consumers fall behind, poison messages in a dead-letter stream and a
// stream with age retention, sampled over a minute.
func demoSource(t testing.TB) (*fakeSource, *Console) {
	t.Helper()
	f := &fakeSource{st: engine.NewState(), members: []cluster.Member{
		{ID: "n1", RaftAddr: "10.0.0.1:7000", ClientAddr: "10.0.0.1:6379", Suffrage: "voter", State: "leader", Self: true},
		{ID: "n2", RaftAddr: "10.0.0.2:7000", ClientAddr: "10.0.0.2:6379", Suffrage: "voter", State: "follower"},
		{ID: "n3", RaftAddr: "10.0.0.3:7000", ClientAddr: "10.0.0.3:6379", Suffrage: "voter", State: "follower"},
	}}
	start := time.Now().Add(-time.Minute)
	now := start.UnixMilli()
	f.exec(t, now, "XGROUP CREATE jobs workers $ MKSTREAM")
	f.exec(t, now, "XGROUP CREATE jobs audit $")
	f.exec(t, now, "RS.SETDLQ jobs workers MAXDELIVERIES 3 DEADLETTER jobs:dead")
	f.exec(t, now, "XGROUP CREATE events analytics $ MKSTREAM")
	f.exec(t, now, "XCFGSET events MAXAGE 3600000")
	// Samples are taken by hand below, standing in for Run.
	c := New(f, Options{})
	for i := 0; i < 60; i++ {
		now = start.Add(time.Duration(i) * time.Second).UnixMilli()
		for j := 0; j < 20+i/2; j++ {
			f.exec(t, now, "XADD jobs * n "+strconv.Itoa(j))
		}
		for j := 0; j < 8; j++ {
			f.exec(t, now, "XADD events * n "+strconv.Itoa(j))
		}
		f.exec(t, now, "XREADGROUP GROUP workers w"+strconv.Itoa(i%3)+" COUNT 24 STREAMS jobs >")
		f.exec(t, now, "XREADGROUP GROUP audit a1 COUNT 30 NOACK STREAMS jobs >")
		f.exec(t, now, "XREADGROUP GROUP analytics x COUNT 9 NOACK STREAMS events >")
		if i%10 == 9 {
			// Poison jobs: reclaimed until they pass MAXDELIVERIES.
			for k := 0; k < 3; k++ {
				f.exec(t, now, "XAUTOCLAIM jobs workers w9 0 0 COUNT 2")
			}
		}
		c.sample(time.UnixMilli(now))
	}
	return f, c
}

func getStatus(t *testing.T, h http.Handler, password string) Status {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/status", nil)
	if password != "" {
		req.SetBasicAuth("admin", password)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/status: %d %s", rec.Code, rec.Body)
	}
	var s Status
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStatusJSON(t *testing.T) {
	_, c := demoSource(t)
	s := getStatus(t, c.Handler(), "")
	if s.Node.ID != "n1" || s.Node.State != "leader" || len(s.Members) != 3 || s.Members[1].State != "follower" {
		t.Fatalf("node/members = %+v %+v", s.Node, s.Members)
	}
	byKey := map[string]StreamJSON{}
	for _, st := range s.Streams {
		byKey[st.Key] = st
	}
	jobs, events, dead := byKey["jobs"], byKey["events"], byKey["jobs:dead"]
	if jobs.Length == 0 || events.MaxAge != 3600000 || dead.Length == 0 {
		t.Fatalf("streams = %+v", s.Streams)
	}
	if jobs.Rate < 20 || jobs.Rate > 60 {
		t.Fatalf("jobs rate %.1f/s, want about 50", jobs.Rate)
	}
	var workers Group
	for _, g := range jobs.Groups {
		if g.Name == "workers" {
			workers = g
		}
	}
	if workers.DeadLetterKey != "jobs:dead" || workers.MaxDeliveries != 3 || workers.DeadLettered != dead.Length ||
		workers.Consumers != 4 || workers.Pending == 0 || workers.Lag <= 0 {
		t.Fatalf("workers group = %+v (dead-letter stream length %d)", workers, dead.Length)
	}
	if n := len(workers.LagHistory); n != 60 {
		t.Fatalf("%d lag samples, want 60", n)
	}
	if h := workers.LagHistory; h[len(h)-1].V <= h[0].V {
		t.Fatalf("lag history %v does not show the growing backlog", h)
	}
}

func TestStatusMembersError(t *testing.T) {
	f := &fakeSource{st: engine.NewState(), err: errors.New("no configuration yet")}
	s := getStatus(t, New(f, Options{}).Handler(), "")
	if s.Error != "no configuration yet" || s.Members == nil || s.Streams == nil {
		t.Fatalf("status = %+v", s)
	}
}

func TestHandlerGuards(t *testing.T) {
	f := &fakeSource{st: engine.NewState()}
	h := New(f, Options{Password: "s3cret"}).Handler()
	cases := []struct {
		name, method, path, pass string
		code                     int
	}{
		{"no auth", "GET", "/api/status", "", http.StatusUnauthorized},
		{"wrong password", "GET", "/", "nope", http.StatusUnauthorized},
		{"page", "GET", "/", "s3cret", http.StatusOK},
		{"json", "GET", "/api/status", "s3cret", http.StatusOK},
		{"head", "HEAD", "/", "s3cret", http.StatusOK},
		{"post", "POST", "/api/status", "s3cret", http.StatusMethodNotAllowed},
		{"delete", "DELETE", "/", "s3cret", http.StatusMethodNotAllowed},
		{"unknown path", "GET", "/admin", "s3cret", http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.pass != "" {
				req.SetBasicAuth("any", tc.pass)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.code)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Fatalf("CSP %q", csp)
			}
		})
	}
}

// TestServedOverHTTP reads the page and JSON through a real listener.
func TestServedOverHTTP(t *testing.T) {
	_, c := demoSource(t)
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "<svg id=\"chart\"") ||
		strings.Contains(string(body), "src=\"http") || strings.Contains(string(body), "href=\"http") {
		t.Fatalf("page: %d, %d bytes, or it references external assets", res.StatusCode, len(body))
	}
	res, err = http.Get(srv.URL + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var s Status
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil || len(s.Streams) != 3 {
		t.Fatalf("status: %v, %d streams", err, len(s.Streams))
	}
}

// TestHandlerACLAuth: with Options.Auth the console asks it (the server's
// ACL check in the binary): 0 serves, 401 asks for credentials, 403 refuses
// an authenticated user lacking permissions.
func TestHandlerACLAuth(t *testing.T) {
	f := &fakeSource{st: engine.NewState()}
	auth := func(user, pass string, ok bool) int {
		switch {
		case !ok:
			return http.StatusUnauthorized
		case user == "viewer" && pass == "v":
			return 0
		case user == "producer" && pass == "p":
			return http.StatusForbidden
		}
		return http.StatusUnauthorized
	}
	h := New(f, Options{Auth: auth, Password: "ignored"}).Handler()
	for _, tc := range []struct {
		user, pass string
		code       int
	}{
		{"viewer", "v", http.StatusOK},
		{"producer", "p", http.StatusForbidden},
		{"viewer", "x", http.StatusUnauthorized},
		{"", "", http.StatusUnauthorized},
	} {
		req := httptest.NewRequest("GET", "/api/status", nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Errorf("%s/%s: %d, want %d", tc.user, tc.pass, rec.Code, tc.code)
		}
		if tc.code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s/%s: 401 without WWW-Authenticate", tc.user, tc.pass)
		}
	}
}
