package cluster

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

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
func (f *dataSyncFile) flushData() error { return f.flushWith(unix.Fdatasync) }

// flushDeferred flushes what appends left unflushed (logFlusher): on a lone
// node, the goroutine about to reply. Its fdatasync is a raw system call,
// one the Go scheduler is not told about: the thread keeps its P while the
// device works, as Redis's one thread blocks in its AOF flush. With the
// ordinary call, the scheduler's monitor takes the P of a thread that
// stays in the kernel past its tick and wakes another thread to run it;
// after the flush, the flushing thread has to find a P again or sleep.
// That is two or more context switches per flush that do no work: at 50
// clients, per XADD, 37 µs of CPU and 0.52 context switches with the
// ordinary call against 32 µs and 0.36 with the raw one, and 21-25 µs and
// 0.08-0.10 (Redis: 15-17 µs, 0.15-0.18) with --gomaxprocs 1, where the
// hand-off of the only P was the most costly (docs/benchmarks.md,
// "Fourteenth session").
//
// The cost: while the device flushes, the goroutines queued on that P wait
// (another P, if any, may steal them), and a stop-the-world of the garbage
// collector waits for the flush to end. Both are bounded by one flush, the
// time every write of the group waits anyway. Stores that flush at once
// (every store of a node in a cluster) keep the ordinary call, so a
// leader's replication and heartbeats never wait behind its device.
func (f *dataSyncFile) flushDeferred() error { return f.flushWith(rawFdatasync) }

func (f *dataSyncFile) flushWith(fdatasync func(int) error) error {
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
	return fdatasync(int(fd.Fd()))
}

// WriteAt writes p at off. During an append whose flush is deferred it is
// a raw system call, for the reason flushDeferred's flush is: a write to
// the page cache does not wait for the device, and the ordinary call,
// the first of a lone request made on raft's goroutines, wakes the
// scheduler's monitor thread from its deep sleep (server/rawsock.go).
func (f *dataSyncFile) WriteAt(p []byte, off int64) (int, error) {
	fd, ok := f.WritableFile.(fder)
	if !ok || len(p) == 0 || f.fl == nil || !f.fl.rawWrites.Load() {
		return f.WritableFile.WriteAt(p, off)
	}
	n := 0
	for n < len(p) {
		rest := p[n:]
		r, _, e := unix.RawSyscall6(unix.SYS_PWRITE64, fd.Fd(), uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)), uintptr(off+int64(n)), 0, 0)
		switch e {
		case 0:
			if r == 0 {
				return n, io.ErrShortWrite
			}
			n += int(r)
		case unix.EINTR:
		default:
			name := ""
			if nf, ok := f.WritableFile.(interface{ Name() string }); ok {
				name = nf.Name()
			}
			return n, &os.PathError{Op: "write", Path: name, Err: e}
		}
	}
	return n, nil
}

// rawFdatasync is unix.Fdatasync made with RawSyscall (see flushDeferred).
func rawFdatasync(fd int) error {
	for {
		_, _, e := unix.RawSyscall(unix.SYS_FDATASYNC, uintptr(fd), 0, 0)
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		default:
			return e
		}
	}
}
