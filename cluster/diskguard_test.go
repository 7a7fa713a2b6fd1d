package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

// tmpfs mounts a 20 MB tmpfs for the test, or skips where that is not
// allowed (not root, no mount).
func tmpfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestDiskFull: on a 20 MB disk, writes are refused with ErrDiskFull once
// free space falls under the reserve, before the log store fails; the
// leader keeps its leadership (same term), reads keep being served, and
// writes are accepted again once space is freed, with every acknowledged
// write kept.
func TestDiskFull(t *testing.T) {
	dir := tmpfs(t)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 6<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "n1", filepath.Join(dir, "data"))
	cfg.MinFreeDisk = 2 << 20
	cfg.SnapshotThreshold = 1 << 20 // no snapshot during the test
	// raft-wal preallocates each segment (64 MiB by default, more than
	// this disk); the reserve must hold one, as the default reserve holds
	// a default segment.
	cfg.walSegmentSize = 1 << 20
	n := openNode(t, cfg)
	defer n.Close()
	waitLeader(t, n)
	term := n.raft.CurrentTerm()

	value := strings.Repeat("v", 256<<10)
	acked := 0
	var refused error
	for i := 0; i < 200 && refused == nil; i++ {
		p := n.Propose(fsm.Command{Proto: 2, Argv: args("XADD", "s", "*", "f", value)})
		if _, err := p.Wait(t.Context()); err != nil {
			refused = err
			break
		}
		acked++
	}
	if !errors.Is(refused, ErrDiskFull) {
		t.Fatalf("after %d writes: %v, want ErrDiskFull", acked, refused)
	}
	if acked == 0 {
		t.Fatal("no write fitted")
	}
	// Refused at once, again and again; the leader stays.
	for range 5 {
		start := time.Now()
		if _, err := n.Propose(fsm.Command{Proto: 2, Argv: args("XADD", "s", "*", "f", "v")}).Wait(t.Context()); !errors.Is(err, ErrDiskFull) {
			t.Fatalf("small write on a full disk: %v", err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("refusal took %v", d)
		}
	}
	time.Sleep(3 * cfg.ElectionTimeout) // room for an election, if one were coming
	if !n.IsLeader() || n.raft.CurrentTerm() != term {
		t.Fatalf("leadership moved: leader %v, term %d -> %d", n.IsLeader(), term, n.raft.CurrentTerm())
	}
	if got := linearRead(t, n, "XLEN", "s"); got != ":"+strconv.Itoa(acked)+"\r\n" {
		t.Fatalf("XLEN on a full disk = %q, want %d", got, acked)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "writes to be accepted again", func() bool {
		_, err := n.Propose(fsm.Command{Proto: 2, Argv: args("XADD", "s", "*", "f", "v")}).Wait(t.Context())
		if err == nil {
			acked++
		}
		return err == nil
	})
	if got := linearRead(t, n, "XLEN", "s"); got != ":"+strconv.Itoa(acked)+"\r\n" {
		t.Fatalf("XLEN after recovery = %q, want %d", got, acked)
	}
}

// TestDiskFullOverTheWire: a leader's refusal reaches a forwarding
// follower as ErrDiskFull, never as an unknown outcome.
func TestDiskFullOverTheWire(t *testing.T) {
	st, body := errorStatus(fmt.Errorf("%w: under 5 bytes free in /d", ErrDiskFull))
	err := statusError(st, body)
	if !errors.Is(err, ErrDiskFull) || errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("round trip: %v", err)
	}
	if !strings.Contains(err.Error(), "under 5 bytes free in /d") {
		t.Errorf("message lost: %v", err)
	}
}
