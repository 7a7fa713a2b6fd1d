package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
	"go.etcd.io/bbolt"
)

// The Raft log lives in one of two stores, chosen when a data dir is created
// and kept for its life:
//
//   - wal (the default): github.com/hashicorp/raft-wal segment files under
//     <data-dir>/wal, plus a small raft-boltdb file <data-dir>/stable.db for
//     Raft's term and vote (and our incarnation). Appending a batch is one
//     write and one fdatasync, which is what lets a commit cost one device
//     flush (docs/benchmarks.md measured the difference).
//   - boltdb: the log and the stable store together in one raft-boltdb file,
//     <data-dir>/raft.db, as data dirs made before the move to raft-wal have
//     it. A bbolt commit flushes twice (pages, then the meta page), so every
//     entry costs two flushes.
//
// The files say which store a data dir uses, so a restart never needs the
// flag; an explicit flag that contradicts them is an error rather than a
// silent second, empty log. `raftstream migrate-log` moves a boltdb data dir
// to wal offline (datadir.go).

// Log store kinds, as the --log-store flag spells them.
const (
	LogStoreWAL    = "wal"
	LogStoreBoltDB = "boltdb"
)

// File names inside a data dir.
const (
	boltLogFile   = "raft.db"   // boltdb: log and stable store
	walDir        = "wal"       // wal: segment files and wal-meta.db
	walStableFile = "stable.db" // wal: term, vote, incarnation
)

// detectLogStore names the log store of dataDir from its files, or "" for a
// data dir that holds neither. A wal dir or its stable file wins over a
// raft.db: migrate-log leaves the old raft.db behind only after the wal has
// been written and verified.
func detectLogStore(dataDir string) (string, error) {
	for _, name := range []string{walDir, walStableFile} {
		if _, err := os.Stat(filepath.Join(dataDir, name)); err == nil {
			return LogStoreWAL, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("inspect data dir: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, boltLogFile)); err == nil {
		return LogStoreBoltDB, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("inspect data dir: %w", err)
	}
	return "", nil
}

// chooseLogStore reconciles the requested kind ("" for no preference) with
// what dataDir already holds.
func chooseLogStore(dataDir, requested string) (kind string, fresh bool, err error) {
	switch requested {
	case "", LogStoreWAL, LogStoreBoltDB:
	default:
		return "", false, fmt.Errorf("unknown log store %q (want %s or %s)", requested, LogStoreWAL, LogStoreBoltDB)
	}
	found, err := detectLogStore(dataDir)
	if err != nil {
		return "", false, err
	}
	switch {
	case found == "" && requested == "":
		return LogStoreWAL, true, nil
	case found == "":
		return requested, true, nil
	case requested == "" || requested == found:
		return found, false, nil
	case found == LogStoreBoltDB:
		return "", false, fmt.Errorf("data dir %s holds a %s log (%s) but --log-store %s was given: run `raftstream migrate-log --data-dir %s` to move it to %s, or drop the flag",
			dataDir, found, boltLogFile, requested, dataDir, LogStoreWAL)
	default:
		return "", false, fmt.Errorf("data dir %s holds a %s log (%s/) but --log-store %s was given: drop the flag (a wal data dir cannot go back to %s)",
			dataDir, found, walDir, requested, LogStoreBoltDB)
	}
}

// logStores is the opened log and stable store of a data dir.
type logStores struct {
	kind   string
	log    raft.LogStore
	stable raft.StableStore
	// path names the log's file or directory in errors.
	path  string
	close func() error
	// flusher defers a lone voter's log flushes to its replies (wal
	// only; nil for boltdb, whose every store flushes).
	flusher *logFlusher
}

// openLogStores opens (creating if fresh) the stores of dataDir.
// segmentSize sets raft-wal's segment file size (0: its default, 64 MiB).
// flush, if set, records the time of each raft-wal segment flush.
func openLogStores(dataDir, requested string, noSync bool, segmentSize int, flush *Histogram, log *slog.Logger) (*logStores, error) {
	kind, fresh, err := chooseLogStore(dataDir, requested)
	if err != nil {
		return nil, err
	}
	how := "detected from the data dir"
	if fresh {
		how = "new data dir"
	}
	var s *logStores
	switch kind {
	case LogStoreBoltDB:
		s, err = openBoltLog(dataDir, noSync)
	default:
		if noSync {
			return nil, errors.New("NoSync is only supported with the boltdb log store")
		}
		s, err = openWALLog(dataDir, segmentSize, flush, log)
	}
	if err != nil {
		return nil, err
	}
	log.Info("raft log store", "kind", kind, "path", s.path, "how", how)
	if kind == LogStoreWAL {
		if _, err := os.Stat(filepath.Join(dataDir, boltLogFile)); err == nil {
			log.Info("the data dir still holds the raft-boltdb log it was migrated from; it is not used and may be deleted", "path", filepath.Join(dataDir, boltLogFile))
		}
	}
	return s, nil
}

func openBoltLog(dataDir string, noSync bool) (*logStores, error) {
	path := filepath.Join(dataDir, boltLogFile)
	b, err := openBolt(path, noSync)
	if err != nil {
		return nil, fmt.Errorf("open raft log store: %w", err)
	}
	return &logStores{kind: LogStoreBoltDB, log: checkedLog{LogStore: b}, stable: b, path: path, close: b.Close}, nil
}

func openWALLog(dataDir string, segmentSize int, flush *Histogram, log *slog.Logger) (*logStores, error) {
	// The stable store first: its file lock keeps a second process off the
	// data dir before anything touches the wal.
	stablePath := filepath.Join(dataDir, walStableFile)
	stable, err := openBolt(stablePath, false)
	if err != nil {
		return nil, fmt.Errorf("open raft stable store: %w", err)
	}
	dir := filepath.Join(dataDir, walDir)
	w, err := openWAL(dir, segmentSize, flush, log)
	if err != nil {
		_ = stable.Close()
		return nil, err
	}
	return &logStores{
		kind: LogStoreWAL, log: checkedLog{LogStore: w, required: true}, stable: stable, path: dir, flusher: w.fl,
		close: func() error { return errors.Join(w.Close(), stable.Close()) },
	}, nil
}

// walLog is a raft-wal log that also closes its metadata file: WAL.Close
// leaves it open (and locked), so reopening a data dir in the same process
// (migrate-log, check, tests) would wait on the lock forever.
type walLog struct {
	*wal.WAL
	meta *metadb.BoltMetaDB
	fl   *logFlusher
}

// Close flushes what a deferred flush left, then closes the log and its
// metadata file.
func (w walLog) Close() error {
	return errors.Join(w.fl.close(), w.WAL.Close(), w.meta.Close())
}

// IsMonotonic is false, although raft-wal cannot store a gap or overwrite
// a suffix, because raft's answer for monotonic stores is wrong once: after
// installing a snapshot it deletes the whole log, even entries newer than
// the snapshot when a leader sends the same snapshot twice (its replication
// to a member re-added under the same ID briefly runs twice). The follower
// then applies from an index it no longer has and panics ("log not found";
// TestWipedNodeRejoinsFromSnapshot, 1 run in 2). So raft treats the log as
// it treats raft-boltdb, compacting only up to the snapshot, and StoreLogs
// bridges a gap or an overlap the way raft-wal can.
func (w walLog) IsMonotonic() bool { return false }

// StoreLogs appends entries. raft-wal takes only the next index: entries
// past a gap (the first ones after an installed snapshot, which covers
// everything the log held) start a fresh log, and entries at or below the
// last index replace the suffix from there (raft has decided they are
// new; raft-boltdb would overwrite them in place).
func (w walLog) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	first := logs[0].Index
	last, err := w.WAL.LastIndex()
	if err != nil {
		return err
	}
	deferred, err := w.fl.beginStore(logs, last == 0 || first == last+1)
	if err != nil {
		return err
	}
	err = w.store(logs, first, last)
	w.fl.endStore(logs[len(logs)-1].Index, deferred, err)
	return err
}

func (w walLog) store(logs []*raft.Log, first, last uint64) error {
	switch {
	case last == 0 || first == last+1:
	case first > last+1:
		head, err := w.WAL.FirstIndex()
		if err != nil {
			return err
		}
		if err := w.WAL.DeleteRange(head, last); err != nil {
			return fmt.Errorf("clear the log before entry %d: %w", first, err)
		}
	default:
		if err := w.WAL.DeleteRange(first, last); err != nil {
			return fmt.Errorf("replace the log from entry %d: %w", first, err)
		}
	}
	return w.WAL.StoreLogs(logs)
}

// StoreLog appends one entry (StoreLogs).
func (w walLog) StoreLog(l *raft.Log) error { return w.StoreLogs([]*raft.Log{l}) }

// GetLog reads an entry. An entry before the first index is gone, as raft
// expects after compaction: raft-wal frees only whole segments and still
// reads compacted entries that share the open segment, so a leader would
// send a lagging follower entries it compacted instead of its snapshot.
func (w walLog) GetLog(index uint64, l *raft.Log) error {
	if first, err := w.WAL.FirstIndex(); err == nil && index < first {
		return raft.ErrLogNotFound
	}
	return w.WAL.GetLog(index, l)
}

// openWAL opens (or creates) a raft-wal log in dir; flush, if set, records
// the time of each segment flush.
func openWAL(dir string, segmentSize int, flush *Histogram, log *slog.Logger) (walLog, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return walLog{}, fmt.Errorf("create wal dir: %w", err)
	}
	if err := checkBoltFile(filepath.Join(dir, metadb.FileName)); err != nil {
		return walLog{}, fmt.Errorf("raft log metadata %w. %s", err, repairAdvice)
	}
	meta := &metadb.BoltMetaDB{}
	if err := checkSegmentSizes(dir, meta); err != nil {
		_ = meta.Close()
		return walLog{}, err
	}
	fl := newLogFlusher(log)
	w, err := openRawWAL(dir, segmentSize, dataSyncFS{FS: fs.New(), flush: flush, fl: fl}, flushingMeta{MetaStore: meta, fl: fl}, log)
	if err != nil {
		_ = meta.Close()
		return walLog{}, fmt.Errorf("open raft log %s: %w (if the files were damaged, see `raftstream check`; a follower can be wiped and rejoined)", dir, err)
	}
	last, err := w.LastIndex()
	if err != nil {
		_ = errors.Join(w.Close(), meta.Close())
		return walLog{}, fmt.Errorf("open raft log %s: %w", dir, err)
	}
	fl.written.Store(last)
	fl.durable.Store(last)
	return walLog{WAL: w, meta: meta, fl: fl}, nil
}

// checkSegmentSizes refuses a wal whose segment files are shorter than
// raft-wal made them. Every segment file is preallocated to its size limit
// when it is created and never shrinks, so a shorter one was cut by
// something other than raft-wal. raft-wal itself would take a cut tail
// segment for a crash during its last write and silently drop every entry
// past the cut: entries that were fsynced and acknowledged.
func checkSegmentSizes(dir string, meta *metadb.BoltMetaDB) error {
	state, err := loadWALMeta(dir, meta) // wal.Open loads it again from the open file
	if err != nil {
		return err
	}
	for _, si := range state.Segments {
		path := filepath.Join(dir, segment.FileName(si))
		st, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // raft-wal handles a segment created in the metadata only
		}
		if err != nil {
			return fmt.Errorf("open raft log: %w", err)
		}
		if st.Size() < int64(si.SizeLimit) {
			return fmt.Errorf("raft log segment %s is %d bytes, shorter than the %d it was created with: it was truncated and entries past the cut are lost. "+
				"The data dir is damaged: on a follower, wipe the data dir and rejoin the cluster (docs/operations.md); "+
				"on the only copy, keep the files and restore from a backup", path, st.Size(), si.SizeLimit)
		}
	}
	return nil
}

// loadWALMeta reads raft-wal's metadata file. raft-wal dereferences a
// missing bucket (a damaged file whose bucket name changed), so a panic
// here is reported as damage to that file, like an error.
func loadWALMeta(dir string, meta *metadb.BoltMetaDB) (state types.PersistentState, err error) {
	path := filepath.Join(dir, metadb.FileName)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("open raft log %s: %s is damaged (%v). %s", dir, path, p, repairAdvice)
		}
	}()
	state, err = meta.Load(dir)
	if err != nil {
		return state, fmt.Errorf("open raft log %s: read %s: %w. %s", dir, path, err, repairAdvice)
	}
	return state, nil
}

// openRawWAL is wal.Open with raftstream's options.
func openRawWAL(dir string, segmentSize int, vfs types.VFS, meta types.MetaStore, log *slog.Logger) (*wal.WAL, error) {
	hlog, metaOpt := wal.WithLogger(newHclog(log, "wal", hclog.Warn)), wal.WithMetaStore(meta)
	filer := wal.WithSegmentFiler(indexlessFiler{segment.NewFiler(dir, vfs)})
	// The option type is unexported, so no slice of options can be built.
	if segmentSize > 0 {
		return wal.Open(dir, hlog, metaOpt, filer, wal.WithSegmentSize(segmentSize))
	}
	return wal.Open(dir, hlog, metaOpt, filer)
}

// indexlessFiler works around a raft-wal v0.4.0 bug (hashicorp/raft-wal#31,
// fixed upstream after the newest release the module proxy serves): a tail
// truncation, which raft does on a follower whose log conflicts with a new
// leader's, seals the open segment in the metadata without writing the
// index block a sealed segment is read through. The running process still
// reads it through the writer's in-memory index, but after a restart every
// read of it fails ("sealed segment has no index block") and the node
// cannot start: the fault suite hit it after kill -9 in four schedules.
// Such a segment is opened the way raft-wal opens an unsealed tail after a
// crash instead: by scanning its frames, which rebuilds the same index in
// memory (entries past the recorded MaxIndex are never asked of it).
type indexlessFiler struct {
	*segment.Filer
}

// Open opens a segment for reading.
func (f indexlessFiler) Open(info types.SegmentInfo) (types.SegmentReader, error) {
	if !info.SealTime.IsZero() && info.IndexStart == 0 {
		return f.Filer.RecoverTail(info)
	}
	return f.Filer.Open(info)
}

// repairAdvice is what a message about a damaged data dir tells the operator.
const repairAdvice = "The data dir is damaged: on a follower, wipe the data dir and rejoin the cluster (docs/operations.md); " +
	"on the only copy, keep the files and restore from a backup"

// openBolt opens a raft-boltdb store at path, refusing a damaged file with
// an error naming it (checkBoltFile) instead of letting bbolt crash on it.
func openBolt(path string, noSync bool) (s *raftboltdb.BoltStore, err error) {
	if err := checkBoltFile(path); err != nil {
		return nil, fmt.Errorf("%w. %s", err, repairAdvice)
	}
	// What the walk cannot foresee still must not take the process down
	// with a goroutine dump: a panic in this goroutine, or a fault reading
	// the memory map, becomes an error naming the file.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("%s is damaged (bbolt: %v). %s", path, p, repairAdvice)
		}
	}()
	s, err = raftboltdb.New(raftboltdb.Options{
		Path:   path,
		NoSync: noSync,
		BoltOptions: &bbolt.Options{
			// Without a timeout a second process on the same dir hangs
			// forever on the file lock.
			Timeout:        time.Second,
			NoFreelistSync: true,
			FreelistType:   bbolt.FreelistMapType,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
