package server

import (
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
)

// TestLoading: a server created before its node answers while the node
// restores its data: commands that need the dataset get Redis's -LOADING,
// those Redis flags "loading" are served, and INFO shows the progress.
func TestLoading(t *testing.T) {
	s, err := NewLoading(Config{Addr: "127.0.0.1:0", Loading: cluster.NewLoadProgress()}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	c := dialRaw(t, s)
	const loading = "-LOADING Redis is loading the dataset in memory\r\n"
	for _, cmd := range [][]string{
		{"PING"},
		{"XADD", "s", "*", "f", "v"},
		{"XRANGE", "s", "-", "+"},
		{"XREAD", "BLOCK", "0", "STREAMS", "s", "$"},
		{"WAIT", "0", "0"},
	} {
		c.expect(loading, cmd...)
	}
	// Queued in MULTI: rejected, and EXEC aborts, as in Redis.
	c.expect("+OK\r\n", "MULTI")
	c.expect(loading, "XLEN", "s")
	c.expect("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")

	c.expect("+OK\r\n", "CLIENT", "SETNAME", "x")
	c.expect("+OK\r\n", "SELECT", "1")
	if r := c.do("CONFIG", "GET", "maxclients"); !strings.Contains(r, "10000") {
		t.Errorf("CONFIG GET while loading: %q", r)
	}
	info := bulkBody(c.do("INFO", "persistence"))
	for _, want := range []string{"loading:1\r\n", "loading_loaded_perc:0.00\r\n", "loading_total_bytes:0\r\n", "loading_eta_seconds:1\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO persistence lacks %q:\n%s", want, info)
		}
	}
	if got := infoField(t, c, "stats", "total_error_replies"); got == "0" {
		t.Errorf("LOADING replies not counted as errors")
	}
	if err := s.Attach(nil); err == nil {
		t.Error("Attach(nil) succeeded")
	}
}

// TestLoadingAuth: while loading, the replicated users are unknown, so
// credentials that do not match the node's own default user get -LOADING
// (retry) rather than WRONGPASS; the requirepass default user works.
func TestLoadingAuth(t *testing.T) {
	s, err := NewLoading(Config{Addr: "127.0.0.1:0", RequirePass: "pw", Loading: cluster.NewLoadProgress()}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	c := dialRaw(t, s)
	const loading = "-LOADING Redis is loading the dataset in memory\r\n"
	c.expect(loading, "AUTH", "app", "apppw")
	c.expect(loading, "AUTH", "wrong")
	c.expect("+OK\r\n", "AUTH", "default", "pw")
	c.expect("$7\r\ndefault\r\n", "ACL", "WHOAMI")
}

// TestLoadingUntilAttached: the load can be done inside cluster.Open,
// before the node is attached; until it is, commands that need the
// dataset still get -LOADING (not a reply from an empty state), and they
// are served once it is.
func TestLoadingUntilAttached(t *testing.T) {
	p := cluster.NewLoadProgress()
	cfg := nodeConfig(t)
	cfg.Loading = p
	n, err := cluster.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	waitFor(t, 10*time.Second, "the load to be done", p.Done)
	s, err := NewLoading(Config{Addr: "127.0.0.1:0", Loading: p}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	c := dialRaw(t, s)
	c.expect("-LOADING Redis is loading the dataset in memory\r\n", "XLEN", "s")
	// Nor is the node's identity known (CLUSTER MYID is not flagged
	// "loading" in Redis either).
	c.expect("-LOADING Redis is loading the dataset in memory\r\n", "CLUSTER", "MYID")
	if info := bulkBody(c.do("INFO", "persistence")); !strings.Contains(info, "loading:1\r\n") {
		t.Errorf("INFO persistence before Attach:\n%s", info)
	}
	if err := s.Attach(n); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "leadership", func() bool { return n.Status().State == "leader" })
	c.expect(":0\r\n", "XLEN", "s")
}
