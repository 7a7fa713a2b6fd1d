package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// httpGet GETs url, with HTTP basic authentication when pass is set (the
// console and the metrics endpoint take any user name).
func httpGet(t *testing.T, url, pass string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pass != "" {
		req.SetBasicAuth("default", pass)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// httpGetAuthed checks that url answers 401 without the password and with
// a wrong one, and returns its answer with pass.
func httpGetAuthed(t *testing.T, url, pass string) *http.Response {
	t.Helper()
	for _, wrong := range []string{"", pass + "x"} {
		res := httpGet(t, url, wrong)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET %s with password %q: %d, want 401", url, wrong, res.StatusCode)
		}
	}
	return httpGet(t, url, pass)
}

// startWithPassword starts a node with --requirepass pass and the extra
// flags, and returns a client that has authenticated.
func startWithPassword(t *testing.T, pass string, extra ...string) (*respClient, func()) {
	t.Helper()
	addr, stop := startNode(t, t.TempDir(), append(extra, "--requirepass", pass)...)
	c := dial(t, addr)
	if got := c.do(t, "AUTH", pass); got != "+OK\r\n" {
		stop()
		t.Fatalf("AUTH = %q", got)
	}
	return c, stop
}

// TestHTTPListenServesConsole runs a node with --http-listen and
// --requirepass: the console's JSON shows the node and a dead-letter
// group, and only with the password.
func TestHTTPListenServesConsole(t *testing.T) {
	web := freePorts(t, 1)[0]
	c, stop := startWithPassword(t, "pw", "--http-listen", web)
	defer stop()
	c.untilOK(t, "XGROUP", "CREATE", "jobs", "g", "$", "MKSTREAM")
	if got := c.do(t, "RS.SETDLQ", "jobs", "g", "MAXDELIVERIES", "2", "DEADLETTER", "jobs:dead"); got != "+OK\r\n" {
		t.Fatalf("RS.SETDLQ = %q", got)
	}
	res := httpGetAuthed(t, "http://"+web+"/api/status", "pw")
	defer res.Body.Close()
	var st struct {
		Node    struct{ ID, State string }
		Streams []struct {
			Key    string
			Groups []struct{ Name, DeadLetterKey string }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Node.ID != "n1" || st.Node.State != "leader" || len(st.Streams) != 1 ||
		len(st.Streams[0].Groups) != 1 || st.Streams[0].Groups[0].DeadLetterKey != "jobs:dead" {
		t.Fatalf("status = %+v", st)
	}
}

// httpGetAs GETs url as user/pass and returns the status code.
func httpGetAs(t *testing.T, url, user, pass string) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestConsoleACLUsers: the console authenticates ACL users; a user allowed
// INFO and XINFO on every key sees it, one without them gets 403, and a
// user deleted or disabled gets 401.
func TestConsoleACLUsers(t *testing.T) {
	ports := freePorts(t, 2)
	web, metricsAddr := ports[0], ports[1]
	c, stop := startWithPassword(t, "pw", "--http-listen", web, "--metrics-listen", metricsAddr)
	defer stop()
	for _, cmd := range [][]string{
		{"ACL", "SETUSER", "viewer", "on", ">v", "-@all", "+info", "+xinfo", "%R~*"},
		{"ACL", "SETUSER", "producer", "on", ">p", "-@all", "+xadd", "allkeys"},
	} {
		if got := c.do(t, cmd...); got != "+OK\r\n" {
			t.Fatalf("%q = %q", cmd, got)
		}
	}
	url := "http://" + web + "/api/status"
	for _, tc := range []struct {
		user, pass string
		want       int
	}{
		{"viewer", "v", http.StatusOK},
		{"default", "pw", http.StatusOK},
		{"producer", "p", http.StatusForbidden},
		{"viewer", "wrong", http.StatusUnauthorized},
		{"nosuch", "v", http.StatusUnauthorized},
	} {
		if got := httpGetAs(t, url, tc.user, tc.pass); got != tc.want {
			t.Errorf("console as %s/%s: %d, want %d", tc.user, tc.pass, got, tc.want)
		}
	}
	// The metrics endpoint needs INFO only.
	if got := httpGetAs(t, "http://"+metricsAddr+"/metrics", "viewer", "v"); got != http.StatusOK {
		t.Errorf("metrics as viewer: %d", got)
	}
	if got := httpGetAs(t, "http://"+metricsAddr+"/metrics", "producer", "p"); got != http.StatusForbidden {
		t.Errorf("metrics as producer: %d", got)
	}
	if got := c.do(t, "ACL", "SETUSER", "viewer", "off"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if got := httpGetAs(t, url, "viewer", "v"); got != http.StatusUnauthorized {
		t.Errorf("console as a disabled user: %d", got)
	}
}
