package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runBinary runs the raftstream binary to completion (or timeout) and
// returns its exit code and combined output.
func runBinary(t *testing.T, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, raftstreamBinary(t), args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("raftstream %s did not exit within %v:\n%s", strings.Join(args, " "), timeout, out)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("raftstream %s: %v", strings.Join(args, " "), err)
	return 0, ""
}

// freshNodeArgs are the flags of a node on a new data dir and free ports.
func freshNodeArgs(t *testing.T, id string) []string {
	t.Helper()
	ports, err := freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"--node-id", id, "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		"--raft-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))}
}

// waitExited waits for p to exit by itself and returns its exit error.
func waitExited(t *testing.T, p *Proc, timeout time.Duration) error {
	t.Helper()
	waitFor(t, timeout, p.Name+" to exit", func() bool { return !p.Alive() })
	return p.Stop(syscall.SIGTERM) // collects the status of the exited process
}

// TestMembershipSafety checks the operator-facing side of safe
// membership with real processes: refused joins exit with the reason and
// change nothing; a removed node exits saying so, fails health, and its
// data dir will not start again.
func TestMembershipSafety(t *testing.T) {
	nodes := startCluster3(t, 3)
	leader := waitNewLeader(t, nodes)
	var follower *c3node
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}
	before := members(t, leader.Addr)

	refusals := []struct {
		name  string
		flags []string
		want  string
	}{
		{"live node id", freshNodeArgs(t, follower.id), `join refused: node id "` + follower.id + `" belongs to live member`},
		// Through the leader: this node leaves its own address out of --join.
		{"live raft address", append(freshNodeArgs(t, "intruder"), "--raft-advertise", follower.RaftAddr, "--join", leader.RaftAddr+","+follower.RaftAddr), "join refused: raft address " + follower.RaftAddr + " belongs to live member"},
		{"wrong cluster secret", append(freshNodeArgs(t, "stranger"), "--cluster-secret", "not-the-clusters"), "join refused: its Raft port did not accept this node's --cluster-secret"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			flags := tc.flags
			if !slices.Contains(flags, "--join") {
				flags = append(flags, "--join", follower.RaftAddr)
			}
			code, out := runBinary(t, time.Minute, flags...)
			if code != 1 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want 1 and %q in the output:\n%s", code, tc.want, out)
			}
			t.Logf("exited %d after %v; last line: %s", code, time.Since(start).Round(time.Millisecond), lastLine(out))
			if got := members(t, leader.Addr); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Fatalf("RAFT NODES changed: %v, was %v", got, before)
			}
		})
	}

	// A node removed from the cluster exits with the reason. It joins
	// the deprecated way, through the leader's client address (RAFT ADD
	// over RESP), which still works with one warning in its log.
	n4 := startJoiner(t, "n4", leader.Addr)
	waitFor(t, time.Minute, "n4 to be a voter", func() bool { return members(t, leader.Addr)["n4"] == "voter" })
	if log := n4.logTail(64 << 10); strings.Count(log, "deprecated: --join seed is a client (RESP) address") != 1 {
		t.Errorf("n4 joined through a client address without one deprecation warning in its log:\n%s", log)
	}
	waitFor(t, time.Minute, "n4 to know itself a voter", func() bool { return raftInfo(n4.Addr)["raft_suffrage"] == "voter" })
	if r := do(follower.Addr, "RAFT", "REMOVE", "n4"); r != "+OK\r\n" {
		t.Fatalf("RAFT REMOVE n4: %q", r)
	}
	err := waitExited(t, n4.Proc, 30*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("removed n4 exited with %v, want exit status 1", err)
	}
	if log := n4.logTail(8 << 10); !strings.Contains(log, "this node was removed from the cluster") {
		t.Fatalf("n4's log does not say it was removed:\n%s", log)
	}
	if code, out := runBinary(t, 30*time.Second, "health", "--addr", n4.Addr); code != 1 {
		t.Fatalf("health on the removed node: exit %d, want 1:\n%s", code, out)
	}
	// Its data dir refuses to start, with or without --join.
	code, out := runBinary(t, time.Minute, n4.args("")(n4.Proc)...)
	if code != 1 || !strings.Contains(out, "this node was removed from the cluster") || !strings.Contains(out, "empty data dir") {
		t.Fatalf("restarting the removed node: exit %d:\n%s", code, out)
	}
	t.Logf("restart of the removed node: %s", lastLine(out))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// stallWriter writes XADDs on one connection and records when each was
// acknowledged.
type stallWriter struct {
	mu   sync.Mutex
	acks []time.Time
	errs int
}

func (w *stallWriter) run(ctx context.Context, addr string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var c net.Conn
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for ctx.Err() == nil {
			if c == nil {
				var err error
				if c, err = net.DialTimeout("tcp", addr, time.Second); err != nil {
					c = nil
					continue
				}
			}
			r, err := newRawConn(c).Do("XADD", "stall", "*", "f", "v")
			w.mu.Lock()
			if err == nil && len(r) > 0 && r[0] == '$' {
				w.acks = append(w.acks, time.Now())
			} else {
				w.errs++
			}
			w.mu.Unlock()
			if err != nil {
				c.Close()
				c = nil
			}
		}
	}()
	return done
}

// maxGap is the longest time without an acknowledgement between from and
// the last acknowledgement.
func (w *stallWriter) maxGap(from time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var gap time.Duration
	prev := from
	for _, a := range w.acks {
		if a.Before(from) {
			continue
		}
		gap = max(gap, a.Sub(prev))
		prev = a
	}
	return gap
}

func (w *stallWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acks)
}

// TestShutdownHandsOffLeadership stops the leader of a three-node cluster
// (default Raft timings) with SIGTERM, then the next one with SHUTDOWN,
// while a client writes through another node, and logs the longest time
// that client went without an acknowledged write. The leader hands
// leadership over first, so it is one hand-over, not an election timeout.
func TestShutdownHandsOffLeadership(t *testing.T) {
	nodes := StartCluster(t, 3)
	for _, stop := range []string{"SIGTERM", "SHUTDOWN"} {
		leader := waitLeader(t, nodes)
		var writeVia *Proc
		for _, p := range nodes {
			if p != leader && p.Alive() {
				writeVia = p
				break
			}
		}
		w := &stallWriter{}
		ctx, cancel := context.WithCancel(context.Background())
		done := w.run(ctx, writeVia.Addr)
		waitFor(t, 30*time.Second, "writes through "+writeVia.Name, func() bool { return w.count() >= 50 })
		from := time.Now()
		if stop == "SIGTERM" {
			if err := leader.Stop(syscall.SIGTERM); err != nil {
				t.Fatalf("stopping %s: %v", leader.Name, err)
			}
		} else {
			do(leader.Addr, "SHUTDOWN")
			if err := waitExited(t, leader, 30*time.Second); err != nil {
				t.Fatalf("%s after SHUTDOWN: %v", leader.Name, err)
			}
		}
		n := w.count()
		waitFor(t, 30*time.Second, "writes after the leader stopped", func() bool { return w.count() >= n+50 })
		cancel()
		<-done
		t.Logf("%s on leader %s: longest write stall seen by a client of %s: %v (%d acks, %d errors)",
			stop, leader.Name, writeVia.Name, w.maxGap(from).Round(time.Millisecond), w.count(), w.errs)
		if log := leader.logTail(16 << 10); !strings.Contains(log, "handed leadership over before stopping") {
			t.Errorf("%s did not log a hand-off:\n%s", leader.Name, log)
		}
		leader.Start()
	}
}
