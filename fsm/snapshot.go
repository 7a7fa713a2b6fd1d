package fsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
)

// snapshotMagic starts every snapshot; the byte after it is the format
// version, then the applied index (8 bytes, big endian), then (version 2)
// the cluster tables (uvarint length, then encodeTables), then the
// engine's own encoding. Version 1 had no cluster tables.
var snapshotMagic = []byte("RSFSMSNP")

const (
	snapshotVersion   = 2
	snapshotHeaderLen = 8 + 1 + 8
	// maxTablesLen bounds the cluster tables section read by Restore.
	maxTablesLen = 1 << 30
	// snapshotBufSize batches the small writes of the engine encoder into
	// large sink writes (the file snapshot sink also buffers, but the
	// network sink of InstallSnapshot does not).
	snapshotBufSize = 256 << 10
)

// ErrBadSnapshot is wrapped by Restore when the snapshot is not ours.
var ErrBadSnapshot = errors.New("fsm: not a raftstream snapshot")

// snapshot is a copy-on-write clone of the state, written out by Persist
// while later entries are applied to the live state.
type snapshot struct {
	st       *engine.State
	members  map[string]NodeMeta
	sessions sessions
	applied  uint64
}

// Snapshot captures the state for raft. It runs on the apply goroutine, so
// it only clones (cheap: O(keys)); the encoding happens in Persist.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	// The write lock, although raft guarantees no concurrent Apply: Clone
	// may mark shared nodes, which must not race with readers.
	f.mu.Lock()
	s := &snapshot{
		st:       f.st.Clone(),
		members:  maps.Clone(f.members),
		sessions: f.sessions.clone(),
		applied:  f.applied.Load(),
	}
	f.changes.Store(0)
	f.mu.Unlock()
	return s, nil
}

// Persist writes the snapshot to sink without holding any FSM lock.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.writeTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("close snapshot sink: %w", err)
	}
	return nil
}

func (s *snapshot) writeTo(w io.Writer) error {
	bw := bufio.NewWriterSize(w, snapshotBufSize)
	var hdr [snapshotHeaderLen]byte
	copy(hdr[:], snapshotMagic)
	hdr[8] = snapshotVersion
	binary.BigEndian.PutUint64(hdr[9:], s.applied)
	if _, err := bw.Write(hdr[:]); err != nil {
		return err
	}
	return s.writeBody(bw)
}

// writeBody writes everything after the header: the replicated state
// without the applied index, identical on replicas that agree.
func (s *snapshot) writeBody(w io.Writer) error {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, snapshotBufSize)
	}
	tables := encodeTables(s.members, s.sessions)
	if _, err := bw.Write(binary.AppendUvarint(nil, uint64(len(tables)))); err != nil {
		return err
	}
	if _, err := bw.Write(tables); err != nil {
		return err
	}
	if err := s.st.WriteSnapshot(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// Release drops the clone.
func (s *snapshot) Release() { s.st, s.members, s.sessions = nil, nil, nil }

// WriteSnapshot writes the current state in the snapshot format to w. Two
// FSMs that applied the same entries write identical bytes, which makes it
// a replica digest for tests and tooling.
func (f *FSM) WriteSnapshot(w io.Writer) error {
	snap, err := f.Snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	return snap.(*snapshot).writeTo(w)
}

// Restore replaces the whole state with the snapshot read from rc.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	br := bufio.NewReaderSize(rc, snapshotBufSize)
	var hdr [snapshotHeaderLen]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return fmt.Errorf("%w: reading header: %w", ErrBadSnapshot, err)
	}
	if !bytes.Equal(hdr[:8], snapshotMagic) {
		return fmt.Errorf("%w: bad magic %q", ErrBadSnapshot, hdr[:8])
	}
	if hdr[8] != 1 && hdr[8] != snapshotVersion {
		return fmt.Errorf("%w: version %d", ErrBadSnapshot, hdr[8])
	}
	applied := binary.BigEndian.Uint64(hdr[9:])
	members, sess := map[string]NodeMeta{}, sessions{}
	if hdr[8] >= 2 {
		n, err := binary.ReadUvarint(br)
		if err != nil || n > maxTablesLen {
			return fmt.Errorf("%w: cluster tables length %d: %v", ErrBadSnapshot, n, err)
		}
		tables := make([]byte, n)
		if _, err := io.ReadFull(br, tables); err != nil {
			return fmt.Errorf("%w: reading cluster tables: %w", ErrBadSnapshot, err)
		}
		if members, sess, err = decodeTables(tables); err != nil {
			return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
		}
	}
	st, err := engine.ReadSnapshot(br)
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	f.mu.Lock()
	f.st, f.members, f.sessions = st, members, sess
	f.changes.Store(0)
	aclChanged := f.publishACL()
	f.applied.Store(applied)
	f.mu.Unlock()
	f.wakeApplied()
	if aclChanged {
		f.aclChanged()
	}
	f.log.Info("restored snapshot", "applied_index", applied)
	return nil
}

// Backup is a point-in-time copy of the replicated state for a backup:
// the snapshot encoding without the member metadata, which describes the
// cluster the backup came from and not the one it will seed.
type Backup struct{ s *snapshot }

// Backup clones the state (copy-on-write, O(keys), as for a Raft
// snapshot) without touching the snapshot bookkeeping (INFO's
// rdb_changes_since_last_save counts from raft's snapshots only).
func (f *FSM) Backup() *Backup {
	f.mu.Lock()
	s := &snapshot{
		st:       f.st.Clone(),
		members:  map[string]NodeMeta{},
		sessions: f.sessions.clone(),
		applied:  f.applied.Load(),
	}
	f.mu.Unlock()
	return &Backup{s: s}
}

// AppliedIndex is the index of the last log entry the backup includes.
func (b *Backup) AppliedIndex() uint64 { return b.s.applied }

// WriteTo writes the backup in the FSM snapshot format, which Restore
// reads. The clone is immutable, so every call writes the same bytes.
func (b *Backup) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := b.s.writeTo(cw)
	return cw.n, err
}

// Release drops the clone.
func (b *Backup) Release() { b.s.Release() }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// RetainMembers forgets the member metadata of every node not in keep.
// Forcing a new cluster from a survivor uses it so that lost members do
// not linger in the replicated metadata.
func (f *FSM) RetainMembers(keep ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.members {
		if !slices.Contains(keep, id) {
			delete(f.members, id)
		}
	}
}
