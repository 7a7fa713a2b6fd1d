package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

func TestApplyEnv(t *testing.T) {
	env := map[string]string{
		"RAFTSTREAM_NODE_ID":     "from-env",
		"RAFTSTREAM_LEADER_WAIT": "7s",
		"RAFTSTREAM_LISTEN":      "0.0.0.0:6400",
		"RAFTSTREAM_E2E_RACE":    "1", // no such flag: ignored
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	o, err := parseFlagsEnv([]string{"--listen", "127.0.0.1:6500"}, io.Discard, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if o.node.NodeID != "from-env" || o.node.LeaderWait != 7*time.Second {
		t.Errorf("env not applied: node %+v", o.node)
	}
	if o.server.Addr != "127.0.0.1:6500" {
		t.Errorf("--listen %q: the command line must win over RAFTSTREAM_LISTEN", o.server.Addr)
	}
	env["RAFTSTREAM_LEADER_WAIT"] = "soon"
	var stderr bytes.Buffer
	if _, err := parseFlagsEnv(nil, &stderr, lookup); !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), "RAFTSTREAM_LEADER_WAIT") {
		t.Errorf("bad env value: err %v, stderr %q", err, stderr.String())
	}
	env["RAFTSTREAM_LEADER_WAIT"] = "0s" // validated like the flag
	if _, err := parseFlagsEnv(nil, io.Discard, lookup); !errors.Is(err, errUsage) {
		t.Errorf("RAFTSTREAM_LEADER_WAIT=0s: err %v, want usage error", err)
	}
}

func TestLocalAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:6379":   "127.0.0.1:6379",
		":6380":          "127.0.0.1:6380",
		"[::]:6379":      "[::1]:6379",
		"10.1.2.3:6379":  "10.1.2.3:6379",
		"rs-0.svc:6379":  "rs-0.svc:6379",
		"not-an-address": "not-an-address",
	} {
		if got := localAddr(in); got != want {
			t.Errorf("localAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRaftInfoReady(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ri      raftInfo
		wantErr string
	}{
		{"leader", raftInfo{state: "leader", leaderID: "a", suffrage: "voter", commitIndex: 9, applied: 9, haveIndexes: true}, ""},
		{"follower", raftInfo{state: "follower", leaderID: "a", suffrage: "voter", commitIndex: 1009, applied: 9, haveIndexes: true}, ""},
		{"old server", raftInfo{state: "follower", leaderID: "a", suffrage: "?"}, ""},
		{"candidate", raftInfo{state: "candidate", suffrage: "voter"}, "no leader"},
		{"no leader", raftInfo{state: "follower", suffrage: "voter"}, "no known leader"},
		{"joining", raftInfo{state: "follower", leaderID: "a", suffrage: "nonvoter"}, "still a nonvoter"},
		{"not member", raftInfo{state: "follower", leaderID: "a", suffrage: ""}, "not a member"},
		{"lagging", raftInfo{state: "follower", leaderID: "a", suffrage: "voter", commitIndex: 1010, applied: 9, haveIndexes: true}, "behind"},
	} {
		_, err := tc.ri.ready(1000)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: ready() = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

func TestHealthAgainstNode(t *testing.T) {
	addr, stop := startNode(t, t.TempDir(), "--requirepass", "pw")
	defer stop()
	env := func(k string) (string, bool) {
		if k == "RAFTSTREAM_REQUIREPASS" {
			return "pw", true
		}
		return "", false
	}
	// The node may still be electing itself: --require-leader fails
	// until then, so poll it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out bytes.Buffer
		err := dispatch(context.Background(), []string{"health", "--addr", addr, "--require-leader"}, &out, io.Discard, env)
		if err == nil {
			if !strings.Contains(out.String(), "healthy") || !strings.Contains(out.String(), "leader") {
				t.Fatalf("health output %q", out.String())
			}
			break
		}
		if !errors.Is(err, errUnhealthy) || time.Now().After(deadline) {
			t.Fatalf("health --require-leader: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // single-node election in progress
	}
	// An ACL user allowed PING and INFO is enough; one without INFO passes
	// only the liveness check (--require-leader reads INFO).
	admin := dial(t, addr)
	for _, cmd := range [][]string{
		{"AUTH", "pw"},
		{"ACL", "SETUSER", "monitor", "on", ">m", "+ping", "+info"},
		{"ACL", "SETUSER", "pinger", "on", ">p", "+ping"},
	} {
		if got := admin.do(t, cmd...); got != "+OK\r\n" {
			t.Fatalf("%q = %q", cmd, got)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		env  func(string) (string, bool)
		want error
	}{
		{"ok", []string{"--addr", addr, "--quiet"}, env, nil},
		{"ACL user", []string{"--addr", addr, "--user", "monitor", "--password", "m", "--quiet"}, noEnv, nil},
		{"ACL user without INFO", []string{"--addr", addr, "--user", "pinger", "--password", "p", "--require-leader"}, noEnv, errUnhealthy},
		{"ACL user, PING only", []string{"--addr", addr, "--user", "pinger", "--password", "p", "--quiet"}, noEnv, nil},
		{"no password", []string{"--addr", addr}, noEnv, errUnhealthy},
		{"wrong password", []string{"--addr", addr, "--password", "nope"}, env, errUnhealthy},
		{"nobody listening", []string{"--addr", freePorts(t, 1)[0], "--timeout", "1s"}, noEnv, errUnhealthy},
		{"bad flag", []string{"--nope"}, noEnv, errUsage},
		{"extra argument", []string{"x"}, noEnv, errUsage},
		{"help", []string{"--help"}, noEnv, errHelp},
	} {
		var out, stderr bytes.Buffer
		err := dispatch(context.Background(), append([]string{"health"}, tc.args...), &out, &stderr, tc.env)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: health %q = %v, want %v (stderr %q)", tc.name, tc.args, err, tc.want, stderr.String())
		}
		if tc.name == "ok" && out.Len() != 0 {
			t.Errorf("--quiet printed %q", out.String())
		}
	}
}

func TestProbeDefaultsFromEnv(t *testing.T) {
	env := map[string]string{"RAFTSTREAM_LISTEN": "0.0.0.0:6390", "RAFTSTREAM_REQUIREPASS": "s3"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct {
		args     []string
		env      func(string) (string, bool)
		addr, pw string
	}{
		{nil, lookup, "127.0.0.1:6390", "s3"},
		{[]string{"--addr", "h:1", "--password", ""}, lookup, "h:1", ""},
		{nil, noEnv, "127.0.0.1:6379", ""},
	} {
		fs := flag.NewFlagSet("health", flag.ContinueOnError)
		var po probeOptions
		addProbeFlags(fs, &po, time.Second)
		if err := parseSubFlags(fs, &po, tc.args, io.Discard, tc.env); err != nil {
			t.Fatal(err)
		}
		if po.addr != tc.addr || po.password != tc.pw || po.timeout != time.Second {
			t.Errorf("args %q: %+v, want addr %q password %q", tc.args, po, tc.addr, tc.pw)
		}
	}
	// --help must not print the password from the environment.
	var help bytes.Buffer
	if err := dispatch(context.Background(), []string{"health", "--help"}, io.Discard, &help, lookup); !errors.Is(err, errHelp) {
		t.Fatal(err)
	}
	if strings.Contains(help.String(), "s3") {
		t.Errorf("health --help shows the password:\n%s", help.String())
	}
}

func TestTransferSingleNode(t *testing.T) {
	addr, stop := startNode(t, t.TempDir())
	defer stop()
	c := dial(t, addr)
	c.untilOK(t, "XADD", "s", "*", "f", "v") // a leader exists
	var out bytes.Buffer
	if err := dispatch(context.Background(), []string{"transfer-leadership", "--addr", addr}, &out, io.Discard, noEnv); err != nil {
		t.Fatalf("transfer-leadership: %v", err)
	}
	if !strings.Contains(out.String(), "only member") {
		t.Errorf("output %q, want the only-member message", out.String())
	}
}

// fakeServer answers RESP commands from a script: reply maps a command
// line (arguments joined by spaces) to a raw reply, called in order.
type fakeServer struct {
	ln    net.Listener
	mu    sync.Mutex
	seen  []string
	reply func(cmd string, n int) string
	wg    sync.WaitGroup
}

func newFakeServer(t *testing.T, reply func(cmd string, n int) string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, reply: reply}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *fakeServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			r := respclient.New(c, 0, 0)
			for {
				v, err := r.Read()
				if err != nil {
					return
				}
				args := make([]string, len(v.Elems))
				for i, a := range v.Elems {
					args[i] = a.Str
				}
				cmd := strings.Join(args, " ")
				s.mu.Lock()
				s.seen = append(s.seen, cmd)
				n := len(s.seen)
				s.mu.Unlock()
				if _, err := io.WriteString(c, s.reply(cmd, n)); err != nil {
					return
				}
			}
		}()
	}
}

func (s *fakeServer) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func raftSection(state, leader string) string {
	return bulk(fmt.Sprintf("# Raft\r\nraft_node_id:n1\r\nraft_state:%s\r\nraft_leader_id:%s\r\nraft_suffrage:voter\r\nraft_members:3\r\nraft_commit_index:5\r\nraft_applied_index:5\r\n", state, leader))
}

func TestTransferScripted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reply   func(cmd string, n int) string
		wantOut string
		wantErr string
		want    []string // commands sent
	}{
		{
			name: "follower does nothing",
			reply: func(cmd string, n int) string {
				return raftSection("follower", "n2")
			},
			wantOut: "nothing to do",
			want:    []string{"INFO raft"},
		},
		{
			name: "leader hands over",
			reply: func(cmd string, n int) string {
				switch {
				case cmd == "RAFT TRANSFER":
					return "+OK\r\n"
				case n <= 3: // still leader on the first check after the transfer
					return raftSection("leader", "n1")
				}
				return raftSection("follower", "n3")
			},
			wantOut: "transferred to n3",
			want:    []string{"INFO raft", "RAFT TRANSFER", "INFO raft", "INFO raft"},
		},
		{
			name: "new leader not known yet",
			reply: func(cmd string, n int) string {
				switch {
				case cmd == "RAFT TRANSFER":
					return "+OK\r\n"
				case n == 1:
					return raftSection("leader", "n1")
				}
				return raftSection("follower", "")
			},
			wantOut: "new leader not known here yet",
		},
		{
			name: "no RAFT command",
			reply: func(cmd string, n int) string {
				if cmd == "RAFT TRANSFER" {
					return "-ERR unknown command 'RAFT', with args beginning with: 'TRANSFER' \r\n"
				}
				return raftSection("leader", "n1")
			},
			wantOut: "does not support RAFT TRANSFER",
			want:    []string{"INFO raft", "RAFT TRANSFER"},
		},
		{
			name: "transfer refused",
			reply: func(cmd string, n int) string {
				if cmd == "RAFT TRANSFER" {
					return "-ERR no voter to transfer to\r\n"
				}
				return raftSection("leader", "n1")
			},
			wantErr: "no voter",
			want:    []string{"INFO raft", "RAFT TRANSFER"},
		},
		{
			name: "never steps down",
			reply: func(cmd string, n int) string {
				if cmd == "RAFT TRANSFER" {
					return "+OK\r\n"
				}
				return raftSection("leader", "n1")
			},
			wantErr: "transfer leadership",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFakeServer(t, tc.reply)
			var out bytes.Buffer
			err := dispatch(context.Background(), []string{"transfer-leadership", "--addr", s.ln.Addr().String(), "--timeout", "1s"}, &out, io.Discard, noEnv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q, want %q", out.String(), tc.wantOut)
			}
			if tc.want != nil && fmt.Sprint(s.commands()) != fmt.Sprint(tc.want) {
				t.Errorf("commands %q, want %q", s.commands(), tc.want)
			}
		})
	}
}

func TestHealthFallsBackToInfoReplication(t *testing.T) {
	s := newFakeServer(t, func(cmd string, n int) string {
		switch cmd {
		case "PING":
			return "+PONG\r\n"
		case "INFO raft":
			return bulk("")
		}
		return bulk("# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nraft_leader_id:n2\r\n")
	})
	var out bytes.Buffer
	if err := dispatch(context.Background(), []string{"health", "--addr", s.ln.Addr().String(), "--require-leader"}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "follower of n2") {
		t.Errorf("output %q", out.String())
	}
}

func TestVersionSubcommand(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		var out bytes.Buffer
		err := dispatch(context.Background(), []string{arg}, &out, io.Discard, noEnv)
		if err != nil || !strings.HasPrefix(out.String(), "raftstream ") || !strings.Contains(out.String(), "\ncommit: ") ||
			!strings.Contains(out.String(), "\ngo: go1.") {
			t.Fatalf("%s: %v %q", arg, err, out.String())
		}
	}
}

// With --raft-advertise naming a host, the Raft configuration must hold
// that name, not the address it resolved to when the node started: IPs
// of pods and containers change on restart (see raftlisten.go).
func TestRaftAdvertiseKeepsNames(t *testing.T) {
	ports := freePorts(t, 3)
	var names []string
	for _, p := range ports {
		_, port, _ := net.SplitHostPort(p)
		names = append(names, "localhost:"+port)
	}
	peers := fmt.Sprintf("n1=%s,n2=%s,n3=%s", names[0], names[1], names[2])
	var clients []*respClient
	for i := range ports {
		addr, stop := startNode(t, t.TempDir(), "--node-id", fmt.Sprintf("n%d", i+1),
			"--raft-listen", ports[i], "--raft-advertise", names[i], "--peers", peers,
			"--raft-heartbeat-timeout", "300ms", "--raft-election-timeout", "300ms", "--raft-leader-lease-timeout", "300ms")
		defer stop()
		clients = append(clients, dial(t, addr))
	}
	clients[2].untilOK(t, "XADD", "s", "*", "f", "v") // replicated over the named addresses
	for _, c := range clients {
		if reply := c.untilOK(t, "XLEN", "s"); reply != ":1\r\n" {
			t.Fatalf("XLEN = %q", reply)
		}
	}
	rc, err := respclient.Dial(context.Background(), clients[1].conn.RemoteAddr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	text, err := rc.DoString("INFO", "raft")
	if err != nil {
		t.Fatal(err)
	}
	if addr := parseInfo(text)["raft_leader_addr"]; !slices.Contains(names, addr) {
		t.Errorf("raft_leader_addr %q, want one of the advertised names %v", addr, names)
	}
}

// TestHealthWhileLoading: a node answering -LOADING is alive (a liveness
// probe must not restart a node that replays its log) but not ready.
func TestHealthWhileLoading(t *testing.T) {
	s := newFakeServer(t, func(string, int) string { return "-LOADING Redis is loading the dataset in memory\r\n" })
	var out bytes.Buffer
	if err := dispatch(context.Background(), []string{"health", "--addr", s.ln.Addr().String()}, &out, io.Discard, noEnv); err != nil {
		t.Fatalf("liveness: %v", err)
	}
	if !strings.Contains(out.String(), "LOADING") {
		t.Errorf("output %q", out.String())
	}
	err := dispatch(context.Background(), []string{"health", "--addr", s.ln.Addr().String(), "--require-leader"}, io.Discard, io.Discard, noEnv)
	if err == nil || !strings.Contains(err.Error(), "loading") {
		t.Fatalf("readiness while loading: %v", err)
	}
}
