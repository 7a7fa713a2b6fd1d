package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lastLogLine is the last non-empty line of p's newest log, which for a
// process that refused to start is its error.
func lastLogLine(t *testing.T, p *Proc) string {
	t.Helper()
	p.mu.Lock()
	logs := append([]string(nil), p.logs...)
	p.mu.Unlock()
	data, err := os.ReadFile(logs[len(logs)-1])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if strings.Contains(string(data), "goroutine ") || strings.Contains(string(data), "panic") {
		t.Errorf("the refused start dumped a panic:\n%s", data)
	}
	return lines[len(lines)-1]
}

// wantRefusedStart starts p expecting it to exit at once with one line
// naming file, and `raftstream check` on its data dir to fail naming it too.
func wantRefusedStart(t *testing.T, p *Proc, file string) {
	t.Helper()
	err := p.tryStart()
	var early *exitedEarlyError
	if !errors.As(err, &early) {
		t.Fatalf("start on a damaged data dir: %v, want an exit\n%s", err, p.logTail(4096))
	}
	line := lastLogLine(t, p)
	if !strings.HasPrefix(line, "raftstream: ") || !strings.Contains(line, file) || !strings.Contains(line, "wipe the data dir") {
		t.Fatalf("last line of the refused start: %q; want the error naming %s and the repair", line, file)
	}
	t.Logf("refused start: %s", line)
	out, err := exec.Command(raftstreamBinary(t), "check", "--data-dir", p.Dir).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err == nil || !strings.Contains(lines[len(lines)-1], file) || bytes.Contains(out, []byte("goroutine ")) {
		t.Fatalf("raftstream check on the damaged data dir: %v\n%s", err, out)
	}
}

// TestDamagedStableStoreRefusesStart truncates a stopped node's stable.db
// (raft-boltdb: term, vote) into its used pages, which crashed bbolt with
// SIGBUS, and flips its meta pages: the node must refuse to start with one
// line naming the file, and `raftstream check` must fail the same way.
func TestDamagedStableStoreRefusesStart(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream data dirs only")
	}
	for _, tc := range []struct {
		name   string
		damage func(path string) error
	}{
		{"truncated", func(path string) error {
			// bbolt files hold at least 4 pages in use (2 meta pages, the
			// freelist, the root); bbolt grows the file past them, so a
			// cut from the end may miss them.
			return os.Truncate(path, 3*4096+100)
		}},
		{"meta pages flipped", func(path string) error {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, off := range []int{16 + 40, 4096 + 16 + 40} {
				for i := off; i < off+8; i++ {
					data[i] ^= 0xff
				}
			}
			return os.WriteFile(path, data, 0o640)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := StartNode(t)
			if r := do(p.Addr, "XADD", "s", "*", "f", "v"); !strings.HasPrefix(r, "$") {
				t.Fatalf("XADD: %q", r)
			}
			must(t, p.Stop(syscall.SIGTERM))
			must(t, tc.damage(filepath.Join(p.Dir, "stable.db")))
			wantRefusedStart(t, p, "stable.db")
		})
	}
}

// TestDamagedFollowerRepair follows docs/operations.md ("Integrity") on a
// 3-node cluster: a follower whose log is damaged refuses to start, naming
// the segment; its data dir is moved away and it starts empty with the
// same --node-id and --join; it catches up from the leader and serves every
// acknowledged entry to linearizable reads.
func TestDamagedFollowerRepair(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream data dirs only")
	}
	nodes := startCluster3(t, 3)
	leader := waitNewLeader(t, nodes)
	var victim *c3node
	var seeds []string
	for _, n := range nodes {
		if n != leader && victim == nil {
			victim = n
		} else {
			seeds = append(seeds, n.RaftAddr)
		}
	}
	// Unique values, so one entry's bytes can be found in the segment file.
	value := func(i int) string { return fmt.Sprintf("value-%05d-%s", i, strings.Repeat("x", 100)) }
	var acked []string
	add := func(from, to int, via *c3node) {
		for i := from; i < to; i++ {
			r := do(via.Addr, "XADD", "s", "*", "v", value(i))
			if !strings.HasPrefix(r, "$") {
				t.Fatalf("XADD %d via %s: %q", i, via.id, r)
			}
			acked = append(acked, value(i))
		}
	}
	add(0, 300, leader)
	waitConverged(t, nodes)

	must(t, victim.Stop(syscall.SIGTERM))
	// Damage an entry the follower still holds in its log (not the last
	// batch, which raft-wal would take for a torn write): the newest ones
	// are past every snapshot (--trailing-logs 64).
	segs, err := filepath.Glob(filepath.Join(victim.Dir, "wal", "*.wal"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no wal segments in %s: %v", victim.Dir, err)
	}
	seg := segs[len(segs)-1]
	data, err := os.ReadFile(seg)
	must(t, err)
	at := bytes.Index(data, []byte(value(290)))
	if at < 0 {
		t.Fatalf("entry 290 not found in %s", seg)
	}
	for i := at; i < at+16; i++ {
		data[i] ^= 0xff
	}
	must(t, os.WriteFile(seg, data, 0o640))

	// Writes go on while the follower is down.
	add(300, 400, leader)

	wantRefusedStart(t, victim.Proc, filepath.Base(seg))

	// The repair, as documented: move the data dir away, start empty with
	// the same node ID and --join.
	must(t, os.Rename(victim.Dir, victim.Dir+".damaged"))
	must(t, os.MkdirAll(victim.Dir, 0o755))
	victim.setJoin(strings.Join(seeds, ","))
	victim.Start()
	waitFor(t, 2*time.Minute, victim.id+" to be a voter again", func() bool {
		return members(t, leader.Addr)[victim.id] == "voter"
	})
	add(400, 420, victim) // forwarded by the repaired node
	waitConverged(t, nodes)

	// A linearizable read on the repaired node holds every acknowledged
	// entry, in order, once.
	got := do(victim.Addr, "XRANGE", "s", "-", "+")
	pos := 0
	for i, v := range acked {
		j := strings.Index(got[pos:], v)
		if j < 0 {
			t.Fatalf("acknowledged entry %d (%s...) missing or out of order on the repaired %s", i, v[:11], victim.id)
		}
		pos += j + len(v)
	}
	if n := strings.Count(got, "value-"); n != len(acked) {
		t.Fatalf("the repaired %s holds %d entries, want %d", victim.id, n, len(acked))
	}
	if r := do(victim.Addr, "XLEN", "s"); r != fmt.Sprintf(":%d\r\n", len(acked)) {
		t.Fatalf("XLEN on the repaired node: %q", r)
	}
}

// TestBigEntriesReplicateAndSurviveKill: XADDs of 1-5 MiB values through
// the leader (the entry built around the argument in place) and through a
// follower (forwarded), on a 3-node cluster whose wal logs write such
// entries straight from raft's buffers (third_party/raft-wal): every node
// holds them byte for byte, also a follower killed with SIGKILL and
// restarted on its log.
func TestBigEntriesReplicateAndSurviveKill(t *testing.T) {
	if targetIsRedis() {
		t.Skip("raftstream log stores only")
	}
	nodes := startCluster3(t, 3)
	leader := waitNewLeader(t, nodes)
	var fol *c3node
	for _, n := range nodes {
		if n != leader {
			fol = n
			break
		}
	}
	value := func(i, size int) string {
		return fmt.Sprintf("%04d", i) + strings.Repeat(string(rune('a'+i%26)), size-4)
	}
	sizes := []int{1 << 20, 3<<20 + 7, 5 << 20, 200 << 10, 2<<20 + 1}
	var ids []string
	for i, size := range sizes {
		via := leader
		if i%2 == 1 {
			via = fol
		}
		r := do(via.Addr, "XADD", "big", "*", "v", value(i, size), "n", fmt.Sprint(i))
		if !strings.HasPrefix(r, "$") {
			t.Fatalf("XADD %d (%d bytes) via %s: %.80q", i, size, via.id, r)
		}
		ids = append(ids, strings.Split(r, "\r\n")[1])
	}
	check := func(n *c3node) {
		t.Helper()
		for i, size := range sizes {
			got := do(n.Addr, "XRANGE", "big", ids[i], ids[i])
			if !strings.Contains(got, value(i, size)) {
				t.Fatalf("%s: entry %d (%d bytes) differs: %d bytes of reply", n.id, i, size, len(got))
			}
		}
	}
	waitConverged(t, nodes)
	for _, n := range nodes {
		check(n)
	}
	fol.Kill()
	if r := do(leader.Addr, "XADD", "big", "*", "v", value(9, 4<<20)); !strings.HasPrefix(r, "$") {
		t.Fatalf("XADD while a follower is down: %.80q", r)
	}
	fol.Start()
	waitConverged(t, nodes)
	check(fol)
}
