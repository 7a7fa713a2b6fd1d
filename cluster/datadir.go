package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/hashicorp/raft-wal/migrate"
)

// MigrateLog moves the Raft log of a stopped node's boltdb data dir
// (raft.db) to a wal log, offline. It is crash-safe at every step, because
// the new files are written under temporary names and the wal directory's
// final rename is the commit point (a wal directory takes precedence over
// raft.db when a data dir is opened):
//
//  1. copy every entry into wal.tmp and the stable keys (term, vote,
//     incarnation) into stable.db.tmp;
//  2. read every entry back from wal.tmp and compare it with the original,
//     field by field;
//  3. rename stable.db.tmp to stable.db, then wal.tmp to wal;
//  4. rename raft.db to raft.db.migrated: kept as a backup, never read.
//
// Snapshots are untouched: both stores sit beside the same snapshots/.
func MigrateLog(ctx context.Context, dataDir string, log *slog.Logger) error {
	kind, err := detectLogStore(dataDir)
	if err != nil {
		return err
	}
	switch kind {
	case LogStoreWAL:
		return fmt.Errorf("data dir %s already uses the %s log store", dataDir, LogStoreWAL)
	case "":
		return fmt.Errorf("data dir %s holds no Raft log (%s not found)", dataDir, boltLogFile)
	}
	walTmp := filepath.Join(dataDir, walDir+".tmp")
	stableTmp := filepath.Join(dataDir, walStableFile+".tmp")
	// Leftovers of an interrupted migration were never committed.
	for _, p := range []string{walTmp, stableTmp} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove leftover %s: %w", p, err)
		}
	}

	src, err := openBolt(filepath.Join(dataDir, boltLogFile), false)
	if err != nil {
		return fmt.Errorf("open the old log (is the node still running?): %w", err)
	}
	defer src.Close()
	first, _ := src.FirstIndex()
	last, err := src.LastIndex()
	if err != nil {
		return fmt.Errorf("read %s: %w", boltLogFile, err)
	}

	dstLog, err := openWAL(walTmp, 0, nil, log)
	if err != nil {
		return err
	}
	// Both sides through the checksum layer: the old entries are verified
	// where they carry a checksum, and every new one gets one.
	dst, old := checkedLog{LogStore: dstLog, required: true}, checkedLog{LogStore: src}
	if err := migrate.CopyLogs(ctx, dst, old, 1<<20, nil); err != nil {
		_ = dstLog.Close()
		return fmt.Errorf("copy log entries: %w", err)
	}
	if err := verifyCopy(dst, old, first, last); err != nil {
		_ = dstLog.Close()
		return err
	}
	if err := dstLog.Close(); err != nil {
		return fmt.Errorf("close %s: %w", walTmp, err)
	}

	dstStable, err := openBolt(stableTmp, false)
	if err != nil {
		return fmt.Errorf("create the stable store: %w", err)
	}
	err = migrate.CopyStable(ctx, dstStable, src, [][]byte{incarnationKey}, nil, nil)
	if cerr := dstStable.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy stable store: %w", err)
	}

	steps := [][2]string{
		{stableTmp, filepath.Join(dataDir, walStableFile)},
		{walTmp, filepath.Join(dataDir, walDir)},
	}
	for _, s := range steps {
		if err := os.Rename(s[0], s[1]); err != nil {
			return fmt.Errorf("rename %s: %w", s[0], err)
		}
	}
	if err := syncDir(dataDir); err != nil {
		return err
	}
	_ = src.Close()
	backup := filepath.Join(dataDir, boltLogFile+".migrated")
	if err := os.Rename(filepath.Join(dataDir, boltLogFile), backup); err != nil {
		// The wal is committed; the old file is only in the way of a tidy dir.
		log.Warn("migrated, but could not rename the old log out of the way", "err", err)
	} else if err := syncDir(dataDir); err != nil {
		return err
	}
	log.Info("raft log migrated to wal", "data_dir", dataDir, "entries", entryCount(first, last), "first", first, "last", last, "old_log_kept_as", backup)
	return nil
}

func entryCount(first, last uint64) uint64 {
	if last == 0 {
		return 0
	}
	return last - first + 1
}

// verifyCopy reads every entry of [first, last] from both stores and
// compares them.
func verifyCopy(dst, src raft.LogStore, first, last uint64) error {
	dfirst, _ := dst.FirstIndex()
	dlast, _ := dst.LastIndex()
	if last != 0 && (dfirst != first || dlast != last) {
		return fmt.Errorf("verify: the new log holds %d..%d, the old one %d..%d", dfirst, dlast, first, last)
	}
	var a, b raft.Log
	for i := first; last != 0 && i <= last; i++ {
		if err := src.GetLog(i, &a); err != nil {
			return fmt.Errorf("verify: read old entry %d: %w", i, err)
		}
		if err := dst.GetLog(i, &b); err != nil {
			return fmt.Errorf("verify: read new entry %d: %w", i, err)
		}
		if a.Index != b.Index || a.Term != b.Term || a.Type != b.Type ||
			!bytes.Equal(a.Data, b.Data) || !bytes.Equal(a.Extensions, b.Extensions) || !a.AppendedAt.Equal(b.AppendedAt) {
			return fmt.Errorf("verify: entry %d differs after the copy", i)
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// CheckDataDir verifies a stopped node's data dir offline, as a start
// would: every Raft log entry must read back intact, and the snapshot a
// start would restore (the newest intact one that the log continues) must
// match its CRC. It returns what it checked.
func CheckDataDir(dataDir string, log *slog.Logger) (string, error) {
	kind, err := detectLogStore(dataDir)
	if err != nil {
		return "", err
	}
	if kind == "" {
		return "", fmt.Errorf("data dir %s holds no Raft log", dataDir)
	}
	store, err := openLogStores(dataDir, kind, false, 0, nil, log)
	if err != nil {
		return "", err
	}
	defer store.close()
	sized := newSizedLog(store.log, 0)
	if err := verifyLog(sized, kind, store.path); err != nil {
		return "", err
	}
	first, _ := store.log.FirstIndex()
	last, _ := store.log.LastIndex()
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dataDir, snapshotsRetained, newHclog(log, "snapshot", hclog.Warn))
	if err != nil {
		return "", fmt.Errorf("open snapshot store: %w", err)
	}
	if err := checkSnapshotFallback(dataDir, snaps, store.log, log); err != nil {
		return "", err
	}
	snapNote := "no snapshot"
	if metas, _ := snaps.List(); len(metas) > 0 {
		snapNote = fmt.Sprintf("%d snapshot(s), the one a start would use intact", len(metas))
	}
	return fmt.Sprintf("%s log %s: %d entries (%d..%d), %d bytes, all readable; %s",
		kind, store.path, entryCount(first, last), first, last, sized.bytes(), snapNote), nil
}

// checkSnapshotFallback makes sure raft will start from an intact snapshot
// that the log continues. raft tries the retained snapshots newest first
// and falls back past one it cannot read; but the older snapshot is only
// useful if the log still holds every entry after it, which it does not
// once the log was compacted past it (with a small --trailing-logs), and
// raft then panics with "log not found" while applying. So the node checks
// the snapshots' CRCs first and refuses to start, naming the damaged file,
// when no usable one remains.
func checkSnapshotFallback(dataDir string, snaps *raft.FileSnapshotStore, logs raft.LogStore, log *slog.Logger) error {
	metas, err := snaps.List()
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	first, err := logs.FirstIndex()
	if err != nil {
		return fmt.Errorf("read log first index: %w", err)
	}
	var damaged []string
	for _, m := range metas { // newest first
		path := filepath.Join(dataDir, "snapshots", m.ID)
		_, rc, err := snaps.Open(m.ID) // reads the file through, checking its CRC-64
		if err != nil {
			damaged = append(damaged, fmt.Sprintf("%s (%v)", path, err))
			continue
		}
		_ = rc.Close()
		if len(damaged) == 0 {
			return nil
		}
		if first != 0 && first <= m.Index+1 {
			log.Warn("damaged snapshots: starting from an older one, which the log continues", "damaged", damaged, "using", path)
			return nil
		}
		return fmt.Errorf("snapshot damaged: %s; the next intact snapshot, %s, ends at entry %d but the log starts at %d, so it cannot be used "+
			"(--trailing-logs kept too few entries to bridge the gap). On a follower, wipe the data dir and rejoin the cluster (docs/operations.md); "+
			"on the only copy, keep the files and restore from a backup", strings.Join(damaged, "; "), path, m.Index, first)
	}
	if len(damaged) > 0 && first != 1 {
		return fmt.Errorf("every snapshot is damaged: %s; and the log starts at entry %d, so the state cannot be rebuilt. "+
			"On a follower, wipe the data dir and rejoin the cluster (docs/operations.md); on the only copy, keep the files and restore from a backup",
			strings.Join(damaged, "; "), first)
	}
	return nil
}
