package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The load of the mode tests: this many connections each send this many
// XADDs, one at a time.
const clients, each = 4, 25

// Every file mode answers each XADD with the next sequence number once its
// bytes are in the file, also with several clients at once.
func TestServerModes(t *testing.T) {
	for _, name := range []string{"inline", "handoff", "chain", "chain-behind", "direct", "direct-chain", "loop", "loop-handoff", "loop-chain"} {
		t.Run(name, func(t *testing.T) {
			m, err := parseMode(name)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "log")
			l, err := openLog(path, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer l.close()
			srv, err := newServer(l, m, path+".raft")
			if err != nil {
				t.Fatal(err)
			}
			seen := load(t, srv)
			for i := 1; i <= clients*each; i++ {
				if want := fmt.Sprintf("$%d\r\n1-%d\r\n", len(fmt.Sprint(i))+2, i); !seen[want] {
					t.Errorf("no reply %q among %d", want, len(seen))
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(data), "XADD"); n != clients*each {
				t.Errorf("log holds %d XADDs, want %d", n, clients*each)
			}
			if l.behind && l.durable < uint64(clients*each) {
				t.Errorf("chain-behind answered every XADD with %d of %d flushed", l.durable, clients*each)
			}
		})
	}
}

// The raft modes answer every XADD with a distinct stream ID from the
// node's state machine, also with several clients at once.
func TestRaftModes(t *testing.T) {
	for _, name := range []string{"raft", "loop-raft"} {
		t.Run(name, func(t *testing.T) {
			m, err := parseMode(name)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := newServer(nil, m, filepath.Join(t.TempDir(), "raft"))
			if err != nil {
				t.Fatal(err)
			}
			seen := load(t, srv)
			if len(seen) != clients*each {
				t.Errorf("%d distinct replies, want %d", len(seen), clients*each)
			}
			for r := range seen {
				if !strings.HasPrefix(r, "$") || !strings.Contains(r, "-") {
					t.Errorf("reply %q is not a stream ID", r)
				}
			}
		})
	}
}

func TestParseModeRejectsUnknown(t *testing.T) {
	if _, err := parseMode("fast"); err == nil {
		t.Error("mode fast accepted")
	}
}

// load serves srv on a loopback port, runs the tests' load against it,
// closes it and returns the distinct replies.
func load(t *testing.T, srv *server) map[string]bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.serve(ln) }()
	seen := make(map[string]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range roundTrips(t, ln.Addr().String(), each, fmt.Sprintf("c%d", c)) {
				mu.Lock()
				seen[r] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := srv.close(); err != nil {
		t.Error(err)
	}
	<-served
	return seen
}

// roundTrips sends n XADDs one at a time and returns the replies.
func roundTrips(t *testing.T, addr string, n int, field string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer c.Close()
	br := bufio.NewReader(c)
	var out []string
	for range n {
		if _, err := fmt.Fprintf(c, "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$%d\r\n%s\r\n$1\r\nv\r\n", len(field), field); err != nil {
			t.Error(err)
			return out
		}
		head, err := br.ReadString('\n')
		if err != nil {
			t.Error(err)
			return out
		}
		body, err := br.ReadString('\n')
		if err != nil {
			t.Error(err)
			return out
		}
		out = append(out, head+body)
	}
	return out
}
