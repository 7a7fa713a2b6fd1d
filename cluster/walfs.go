package cluster

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/types"
	"golang.org/x/sys/unix"
)

// dataSyncFS is raft-wal's file system with the segment files' flushes made
// with fdatasync instead of fsync, and new segment files written full of
// zeros before use.
//
// Why: raft-wal preallocates each segment with fallocate, which on ext4 and
// xfs leaves "unwritten" extents. Every append then converts part of an
// extent to written, a metadata change, so each commit's flush also
// commits the file system journal: two device flushes again, which is what
// raftstream left raft-boltdb to avoid. Zeroing the file once makes its
// extents written; appends after that change only data blocks, and
// fdatasync (unlike fsync, which would also flush the modification time)
// writes just those: one flush per commit, as Redis's AOF fdatasync.
//
// The zeroing writes each segment (64 MiB) once when raft-wal creates it,
// under its write lock: a pause of the order of 100 ms every 64 MiB of log,
// against a saving on every commit. A new file's first flush is still a
// full fsync with its directory, as raft-wal's own file does.
type dataSyncFS struct {
	*fs.FS
	flush *Histogram  // nil: flushes not timed
	fl    *logFlusher // nil: every flush when raft-wal asks
}

func newDataSyncFS() dataSyncFS { return dataSyncFS{FS: fs.New()} }

// Create creates a segment file, zero-filled to size.
func (d dataSyncFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	w, err := d.FS.Create(dir, name, size)
	if err != nil {
		return nil, err
	}
	f := w.(*fs.File)
	if err := zeroFill(f, size); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("zero-fill %s: %w", name, err)
	}
	return &dataSyncFile{WritableFile: f, flush: d.flush, fl: d.fl}, nil
}

// OpenWriter opens an existing segment (the tail, when recovering) for
// appends. Its extents were written when it was created.
func (d dataSyncFS) OpenWriter(dir, name string) (types.WritableFile, error) {
	w, err := d.FS.OpenWriter(dir, name)
	if err != nil {
		return nil, err
	}
	if fd, ok := w.(fder); ok && d.fl != nil {
		// A process killed while its flushes were deferred left entries
		// in the page cache only: make them durable before any of them
		// is served again.
		if err := unix.Fdatasync(int(fd.Fd())); err != nil {
			_ = w.Close()
			return nil, fmt.Errorf("flush %s: %w", name, err)
		}
	}
	return &dataSyncFile{WritableFile: w, synced: 1, flush: d.flush, fl: d.fl}, nil
}

func zeroFill(f types.WritableFile, size uint64) error {
	buf := make([]byte, 1<<20)
	for off := uint64(0); off < size; off += uint64(len(buf)) {
		n := min(uint64(len(buf)), size-off)
		if _, err := f.WriteAt(buf[:n], int64(off)); err != nil {
			return err
		}
	}
	return nil
}

// dataSyncFile flushes with fdatasync after its first flush.
type dataSyncFile struct {
	types.WritableFile
	synced uint32 // 1 once the first, full flush is done
	flush  *Histogram
	fl     *logFlusher
}

type fder interface{ Fd() uintptr }

// Sync flushes the file's data: the first time with raft-wal's own Sync
// (fsync of the file, its size and zeroed extents, and of the directory
// entry), afterwards with fdatasync.
//
// During an append whose flush the log flusher defers, it only marks the
// file dirty; flushData flushes it later.
func (f *dataSyncFile) Sync() error {
	if atomic.LoadUint32(&f.synced) == 1 && f.fl.deferSync(f) {
		return nil
	}
	return f.flushData()
}

// flushData is Sync without deferral.
func (f *dataSyncFile) flushData() error {
	defer f.flush.observeSince(time.Now())
	if atomic.LoadUint32(&f.synced) == 0 {
		if err := f.WritableFile.Sync(); err != nil {
			return err
		}
		atomic.StoreUint32(&f.synced, 1)
		return nil
	}
	fd, ok := f.WritableFile.(fder)
	if !ok {
		return f.WritableFile.Sync()
	}
	return unix.Fdatasync(int(fd.Fd()))
}
