package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestHTTPListenServesConsole runs a node with --http-listen and
// --requirepass: the console's JSON shows the node and a dead-letter
// group, and only with the password.
func TestHTTPListenServesConsole(t *testing.T) {
	web := freePorts(t, 1)[0]
	addr, stop := startNode(t, t.TempDir(), "--http-listen", web, "--requirepass", "pw")
	defer stop()
	c := dial(t, addr)
	if got := c.do(t, "AUTH", "pw"); got != "+OK\r\n" {
		t.Fatalf("AUTH = %q", got)
	}
	c.untilOK(t, "XGROUP", "CREATE", "jobs", "g", "$", "MKSTREAM")
	if got := c.do(t, "RS.SETDLQ", "jobs", "g", "MAXDELIVERIES", "2", "DEADLETTER", "jobs:dead"); got != "+OK\r\n" {
		t.Fatalf("RS.SETDLQ = %q", got)
	}
	get := func(pass string) *http.Response {
		req, err := http.NewRequest("GET", "http://"+web+"/api/status", nil)
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
	if res := get(""); res.StatusCode != http.StatusUnauthorized {
		res.Body.Close()
		t.Fatalf("without the password: %d", res.StatusCode)
	}
	res := get("pw")
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
