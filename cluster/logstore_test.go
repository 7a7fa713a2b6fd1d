package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

func TestChooseLogStore(t *testing.T) {
	dirWith := func(t *testing.T, files ...string) string {
		dir := t.TempDir()
		for _, f := range files {
			if strings.HasSuffix(f, "/") {
				if err := os.Mkdir(filepath.Join(dir, f), 0o750); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o640); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cases := []struct {
		name      string
		files     []string
		requested string
		want      string
		fresh     bool
		errHas    string
	}{
		{name: "fresh, no preference", want: LogStoreWAL, fresh: true},
		{name: "fresh, wal", requested: "wal", want: LogStoreWAL, fresh: true},
		{name: "fresh, boltdb", requested: "boltdb", want: LogStoreBoltDB, fresh: true},
		{name: "bolt dir, no preference", files: []string{"raft.db"}, want: LogStoreBoltDB},
		{name: "bolt dir, boltdb", files: []string{"raft.db"}, requested: "boltdb", want: LogStoreBoltDB},
		{name: "bolt dir, wal", files: []string{"raft.db"}, requested: "wal", errHas: "raftstream migrate-log --data-dir"},
		{name: "wal dir, no preference", files: []string{"wal/", "stable.db"}, want: LogStoreWAL},
		{name: "wal dir, boltdb", files: []string{"wal/", "stable.db"}, requested: "boltdb", errHas: "cannot go back"},
		{name: "migrated dir keeps raft.db", files: []string{"wal/", "stable.db", "raft.db"}, want: LogStoreWAL},
		{name: "stable.db alone is wal", files: []string{"stable.db"}, want: LogStoreWAL},
		{name: "unknown kind", requested: "rocksdb", errHas: "unknown log store"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, fresh, err := chooseLogStore(dirWith(t, tc.files...), tc.requested)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want one containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil || got != tc.want || fresh != tc.fresh {
				t.Fatalf("got (%q, fresh %v, %v), want (%q, fresh %v)", got, fresh, err, tc.want, tc.fresh)
			}
		})
	}
}

func TestCheckedLogDetectsDamage(t *testing.T) {
	mem := raft.NewInmemStore()
	in := raft.Log{Index: 7, Term: 3, Type: raft.LogCommand, Data: []byte("payload"), AppendedAt: time.Unix(1700000000, 5).UTC()}
	c := checkedLog{LogStore: mem, required: true}
	if err := c.StoreLogs([]*raft.Log{&in}); err != nil {
		t.Fatal(err)
	}
	if in.Extensions != nil {
		t.Fatal("StoreLogs changed the caller's entry")
	}
	var out raft.Log
	if err := c.GetLog(7, &out); err != nil {
		t.Fatalf("read intact entry: %v", err)
	}
	if out.Term != 3 || string(out.Data) != "payload" || out.Extensions != nil || !out.AppendedAt.Equal(in.AppendedAt) {
		t.Fatalf("round trip: got %+v", out)
	}
	damage := []struct {
		name string
		bad  func(l *raft.Log)
	}{
		{"data", func(l *raft.Log) { l.Data = []byte("paYload") }},
		{"term", func(l *raft.Log) { l.Term = 4 }},
		{"type", func(l *raft.Log) { l.Type = raft.LogNoop }},
		{"time", func(l *raft.Log) { l.AppendedAt = l.AppendedAt.Add(1) }},
		{"checksum", func(l *raft.Log) { l.Extensions = []byte{checksumTag, 1, 2, 3, 4} }},
		{"no checksum", func(l *raft.Log) { l.Extensions = nil }},
	}
	for _, d := range damage {
		var raw raft.Log
		if err := mem.GetLog(7, &raw); err != nil {
			t.Fatal(err)
		}
		d.bad(&raw)
		bad := raft.NewInmemStore()
		if err := bad.StoreLog(&raw); err != nil {
			t.Fatal(err)
		}
		if err := (checkedLog{LogStore: bad, required: true}).GetLog(7, &out); !errors.Is(err, errChecksum) {
			t.Errorf("%s damaged: err = %v, want a checksum error", d.name, err)
		}
	}
	// A raft.db entry written before checksums is accepted where they are
	// optional.
	legacy := raft.NewInmemStore()
	if err := legacy.StoreLog(&in); err != nil {
		t.Fatal(err)
	}
	if err := (checkedLog{LogStore: legacy}).GetLog(7, &out); err != nil {
		t.Errorf("legacy entry: %v", err)
	}
}

// fillNode writes n XADDs of about size bytes each to a single node and
// closes it, returning the config to reopen it.
func fillNode(t *testing.T, cfg Config, n, size int) Config {
	t.Helper()
	node := openNode(t, cfg)
	waitLeader(t, node)
	val := strings.Repeat("v", size)
	for i := range n {
		write(t, node, fsm.Command{Proto: 2, Argv: args("XADD", "s", "*", "n", strconv.Itoa(i), "v", val)})
	}
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// segments lists a wal dir's segment files in order.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no wal segments in %s (%v)", dir, err)
	}
	return m
}

func TestWALRestartAfterTornTail(t *testing.T) {
	cfg := fillNode(t, testConfig(t, "n1", t.TempDir()), 50, 100)
	segs := segments(t, cfg.DataDir)
	tail := segs[len(segs)-1]
	st, err := os.Stat(tail)
	if err != nil {
		t.Fatal(err)
	}
	// The file is preallocated; its written part ends at the last commit
	// frame. Tear the last write: zero the bytes of its final frames, as
	// a crash between write and fsync can leave them.
	data, err := os.ReadFile(tail)
	if err != nil {
		t.Fatal(err)
	}
	end := len(data)
	for end > 0 && data[end-1] == 0 {
		end--
	}
	if end < 64 {
		t.Fatalf("tail segment %s (%d bytes) has no data", tail, st.Size())
	}
	for i := end - 40; i < end; i++ {
		data[i] = 0
	}
	if err := os.WriteFile(tail, data, 0o640); err != nil {
		t.Fatal(err)
	}

	node := openNode(t, cfg)
	defer node.Close()
	waitLeader(t, node)
	// Only the torn write may be gone: that is the last entry (the no-op
	// of the close, or the last XADD), which was never acknowledged.
	got, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(linearRead(t, node, "XLEN", "s")), ":"))
	if got < 49 {
		t.Fatalf("after a torn tail the stream holds %d entries, want at least 49 (all acknowledged but the torn write)", got)
	}
	write(t, node, xadd("s", 1000)) // and the log takes new writes
}

func TestWALDamageStopsStartupNamingTheFile(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, seg string)
		errHas string
	}{
		{"flipped byte in a sealed segment", func(t *testing.T, seg string) {
			data, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			// Past the 32-byte header, inside the first entries' data.
			for i := 200; i < 216; i++ {
				data[i] ^= 0xff
			}
			if err := os.WriteFile(seg, data, 0o640); err != nil {
				t.Fatal(err)
			}
		}, "checksum"},
		{"truncated sealed segment", func(t *testing.T, seg string) {
			st, err := os.Stat(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(seg, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, "truncated"},
	}
	tail := struct {
		name   string
		damage func(t *testing.T, seg string)
		errHas string
	}{"truncated tail segment", func(t *testing.T, seg string) {
		if err := os.Truncate(seg, 4096); err != nil {
			t.Fatal(err)
		}
	}, "truncated"}
	cases = append(cases, tail)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "n1", t.TempDir())
			cfg.walSegmentSize = 16 << 10
			// Nothing may be snapshotted away: the damaged entries must
			// still be in the log.
			cfg.SnapshotThreshold = 1 << 20
			cfg.TrailingLogs = 1 << 20
			fillNode(t, cfg, 300, 200)
			segs := segments(t, cfg.DataDir)
			if len(segs) < 3 {
				t.Fatalf("want several segments, got %d", len(segs))
			}
			first := segs[0]
			if strings.Contains(tc.name, "tail") {
				first = segs[len(segs)-1]
			}
			tc.damage(t, first)
			_, err := Open(cfg)
			if err == nil {
				t.Fatal("Open succeeded on a damaged log")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.errHas) || !strings.Contains(msg, filepath.Base(first)) || !strings.Contains(msg, "wipe the data dir") {
				t.Fatalf("error %q should name the damage (%q), the file %s and what to do", msg, tc.errHas, filepath.Base(first))
			}
			if _, err := CheckDataDir(cfg.DataDir, testLogger()); err == nil || !strings.Contains(err.Error(), filepath.Base(first)) {
				t.Fatalf("CheckDataDir: %v, want an error naming %s", err, filepath.Base(first))
			}
		})
	}
}

func TestMigrateBoltLogToWAL(t *testing.T) {
	cfg := testConfig(t, "n1", t.TempDir())
	cfg.LogStore = LogStoreBoltDB
	node := openNode(t, cfg)
	waitLeader(t, node)
	for i := range 200 {
		write(t, node, xadd("s", i))
	}
	write(t, node, fsm.Command{Proto: 2, Argv: args("XGROUP", "CREATE", "s", "g", "0")})
	write(t, node, fsm.Command{Proto: 2, Argv: args("XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s", ">")})
	if err := node.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 200; i < 300; i++ { // and entries after the snapshot
		write(t, node, xadd("s", i))
	}
	// What clients see: entries, group state and the pending list.
	state := func(n *Node) string {
		return linearRead(t, n, "XRANGE", "s", "-", "+") + read(n, 0, "XINFO", "GROUPS", "s") +
			read(n, 0, "XPENDING", "s", "g")
	}
	want := state(node)
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}

	// A wal flag on the bolt dir is refused, naming the migration.
	walCfg := cfg
	walCfg.LogStore = LogStoreWAL
	if _, err := Open(walCfg); err == nil || !strings.Contains(err.Error(), "migrate-log") {
		t.Fatalf("Open(--log-store wal) on a bolt dir: %v", err)
	}

	if err := MigrateLog(context.Background(), cfg.DataDir, testLogger()); err != nil {
		t.Fatalf("MigrateLog: %v", err)
	}
	for _, f := range []string{"wal", "stable.db", "raft.db.migrated"} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, f)); err != nil {
			t.Errorf("after migration: %v", err)
		}
	}
	if err := MigrateLog(context.Background(), cfg.DataDir, testLogger()); err == nil {
		t.Error("a second migration succeeded")
	}
	if sum, err := CheckDataDir(cfg.DataDir, testLogger()); err != nil || !strings.Contains(sum, "wal log") {
		t.Fatalf("CheckDataDir after migration: %q, %v", sum, err)
	}

	cfg.LogStore = "" // the data dir says wal now
	node = openNode(t, cfg)
	defer node.Close()
	waitLeader(t, node)
	if node.store.kind != LogStoreWAL {
		t.Fatalf("reopened with %s, want wal", node.store.kind)
	}
	// The FSM restores the snapshot and replays the migrated entries.
	if got := state(node); got != want {
		t.Fatalf("after migration:\n%q\nbefore:\n%q", got, want)
	}
	write(t, node, xadd("s", 300))
}

func TestSnapshotByLogBytes(t *testing.T) {
	cfg := testConfig(t, "n1", t.TempDir())
	cfg.walSegmentSize = 64 << 10
	cfg.SnapshotLogBytes = 512 << 10
	cfg.SnapshotThreshold = 1 << 20 // the entry count never triggers
	node := openNode(t, cfg)
	defer node.Close()
	waitLeader(t, node)
	val := strings.Repeat("x", 8<<10)
	// 4 MiB of writes: eight times the byte limit.
	for i := range 512 {
		write(t, node, fsm.Command{Proto: 2, Argv: args("XADD", "s", "*", "v", val, "i", strconv.Itoa(i))})
	}
	limit := cfg.SnapshotLogBytes
	waitFor(t, 20*time.Second, "the log to shrink below its byte limit", func() bool {
		return node.logs.bytes() < limit
	})
	// On disk: the kept entries plus at most the open segment and one
	// partly compacted one.
	var disk int64
	for _, seg := range segments(t, cfg.DataDir) {
		st, err := os.Stat(seg)
		if err != nil {
			t.Fatal(err)
		}
		disk += st.Size()
	}
	if maxDisk := limit*5/4 + 2*int64(cfg.walSegmentSize); disk > maxDisk {
		t.Fatalf("wal holds %d bytes on disk after writing 4 MiB, want at most %d", disk, maxDisk)
	}
	if got := read(node, 0, "XLEN", "s"); !strings.Contains(got, "512") {
		t.Fatalf("XLEN = %q", got)
	}
}

func TestProposeRefusesOversizedCommand(t *testing.T) {
	node := openNode(t, testConfig(t, "n1", t.TempDir()))
	defer node.Close()
	waitLeader(t, node)
	big := strings.Repeat("x", MaxCommandBytes)
	_, err := node.Propose(fsm.Command{Proto: 2, Argv: args("XADD", "s", "*", "v", big)}).Wait(context.Background())
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	write(t, node, xadd("s", 1)) // the node is still the leader and writes
	if !node.IsLeader() {
		t.Fatal("the node lost leadership")
	}
}

// A damaged newest snapshot: with enough trailing entries raft falls back
// to the older snapshot plus the log; with too few the node refuses to
// start, naming the file, instead of panicking in raft.
func TestDamagedSnapshotFallback(t *testing.T) {
	for _, tc := range []struct {
		name     string
		trailing uint64
		errHas   string
	}{
		{"log bridges the gap", 1 << 20, ""},
		{"log compacted past the older snapshot", 4, "cannot be used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "n1", t.TempDir())
			cfg.TrailingLogs = tc.trailing
			cfg.SnapshotThreshold = 1 << 20
			node := openNode(t, cfg)
			waitLeader(t, node)
			for round := range 2 {
				for i := range 50 {
					write(t, node, xadd("s", round*50+i))
				}
				if err := node.Snapshot(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			want := linearRead(t, node, "XRANGE", "s", "-", "+")
			if err := node.Close(); err != nil {
				t.Fatal(err)
			}
			snaps, err := filepath.Glob(filepath.Join(cfg.DataDir, "snapshots", "*", "state.bin"))
			if err != nil || len(snaps) != 2 {
				t.Fatalf("want 2 snapshots, got %v (%v)", snaps, err)
			}
			// Directory names are term-index-time; the newer has the higher index.
			index := func(p string) int {
				n, _ := strconv.Atoi(strings.Split(filepath.Base(filepath.Dir(p)), "-")[1])
				return n
			}
			newest := snaps[0]
			if index(snaps[1]) > index(newest) {
				newest = snaps[1]
			}
			data, err := os.ReadFile(newest)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0xff
			if err := os.WriteFile(newest, data, 0o640); err != nil {
				t.Fatal(err)
			}

			node, err = Open(cfg)
			if tc.errHas != "" {
				if err == nil {
					node.Close()
					t.Fatal("Open succeeded with an unusable snapshot fallback")
				}
				if !strings.Contains(err.Error(), tc.errHas) || !strings.Contains(err.Error(), filepath.Dir(newest)) {
					t.Fatalf("error %q should say why and name %s", err, filepath.Dir(newest))
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer node.Close()
			waitLeader(t, node)
			if got := linearRead(t, node, "XRANGE", "s", "-", "+"); got != want {
				t.Fatalf("after falling back XRANGE =\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// A follower's conflicting suffix is truncated and rewritten; after a
// restart the log must still read (raft-wal v0.4.0 sealed the truncated
// segment without an index block, so every read failed: indexlessFiler).
func TestWALTailTruncationSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() walLog {
		w, err := openWAL(dir, 0, nil, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	store := func(w walLog, term uint64, from, to int) {
		for i := from; i <= to; i++ {
			l := &raft.Log{Index: uint64(i), Term: term, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("t%d-%d", term, i))}
			if err := w.StoreLogs([]*raft.Log{l}); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := open()
	store(w, 1, 1, 10)
	if err := w.DeleteRange(8, 10); err != nil { // raft's conflict truncation
		t.Fatal(err)
	}
	store(w, 2, 8, 12)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // and once more after writing to the new tail
		w = open()
		for i := 1; i <= 12+round; i++ {
			var l raft.Log
			if err := w.GetLog(uint64(i), &l); err != nil {
				t.Fatalf("round %d: entry %d: %v", round, i, err)
			}
			term := uint64(1)
			if i >= 8 {
				term = 2
			}
			if want := fmt.Sprintf("t%d-%d", term, i); string(l.Data) != want {
				t.Fatalf("round %d: entry %d = %q, want %q", round, i, l.Data, want)
			}
		}
		store(w, 2, 13+round, 13+round)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// raft stores past a gap after installing a snapshot, and over the
// suffix when it takes entries it had as new; raft-wal takes neither,
// so walLog bridges both.
func TestWALStoreAcrossGapAndOverlap(t *testing.T) {
	dir := t.TempDir()
	w, err := openWAL(dir, 0, nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	put := func(term uint64, from, to int) {
		t.Helper()
		var logs []*raft.Log
		for i := from; i <= to; i++ {
			logs = append(logs, &raft.Log{Index: uint64(i), Term: term, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("t%d-%d", term, i))})
		}
		if err := w.StoreLogs(logs); err != nil {
			t.Fatalf("store %d..%d: %v", from, to, err)
		}
	}
	check := func(first, last uint64, want map[uint64]string) {
		t.Helper()
		if f, _ := w.FirstIndex(); f != first {
			t.Fatalf("first index %d, want %d", f, first)
		}
		if l, _ := w.LastIndex(); l != last {
			t.Fatalf("last index %d, want %d", l, last)
		}
		for i, v := range want {
			var l raft.Log
			if err := w.GetLog(i, &l); err != nil || string(l.Data) != v {
				t.Fatalf("entry %d = %q (%v), want %q", i, l.Data, err, v)
			}
		}
	}
	put(1, 1, 10)
	put(2, 15, 16) // after a snapshot at 14
	check(15, 16, map[uint64]string{15: "t2-15", 16: "t2-16"})
	var l raft.Log
	if err := w.GetLog(5, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("entry 5 after the gap: %v", err)
	}
	put(3, 16, 18) // 16 taken again as new
	check(15, 18, map[uint64]string{15: "t2-15", 16: "t3-16", 18: "t3-18"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w, err = openWAL(dir, 0, nil, testLogger()); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	check(15, 18, map[uint64]string{15: "t2-15", 16: "t3-16", 17: "t3-17"})
}
