package cluster

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

// Backups. A backup is the replicated state of a live cluster at one log
// index, taken on any node after a read barrier (so it holds every write
// acknowledged before the backup began), in a file of its own:
//
//	offset  size  field
//	0       8     magic "RSBACKUP"
//	8       1     format version (1)
//	9       8     applied index: the last log entry the state includes
//	17      8     Raft term of the serving node when it took the backup
//	25      8     creation time, Unix milliseconds
//	33      8     body length in bytes
//	41      4     CRC-32C (Castagnoli) of the body
//	45      4     CRC-32C of bytes 0..44, so a damaged header is told apart
//	              from a damaged body
//	49      ...   body: the FSM snapshot encoding (fsm.Backup) — streams,
//	              consumer groups, consumers, PELs, stream configuration,
//	              the write-dedupe table — without the member metadata
//
// All integers are big endian. The cluster's membership (the Raft
// configuration and the members' client addresses) is deliberately not in
// it: a backup seeds a new cluster (RestoreBackup), whose only member is
// the node it is restored on.
//
// The serving node streams the backup without holding it in memory: it
// clones the state copy-on-write (O(keys), as for a Raft snapshot) and
// encodes the clone twice, once to learn its length and CRC for the
// header, once onto the connection. That costs a second encoding pass of
// CPU instead of a second copy of the state in memory or on the node's
// disk; and since the clone is immutable and the encoding deterministic,
// both passes produce the same bytes (the client checks the CRC anyway).
// What the clone costs is the usual copy-on-write price: while the backup
// streams, keys written meanwhile keep their old nodes alive.

const (
	backupMagic   = "RSBACKUP"
	backupVersion = 1
	// BackupHeaderLen is the size of a backup file's header.
	BackupHeaderLen = 49
)

// ErrBadBackup is wrapped by every error about a backup file that is not
// a complete, intact raftstream backup.
var ErrBadBackup = errors.New("not an intact raftstream backup")

// BackupHeader describes a backup file.
type BackupHeader struct {
	// Version is the file format version.
	Version uint8
	// Index is the last Raft log index the state includes.
	Index uint64
	// Term is the Raft term of the node that served the backup, when it
	// took it (at least the term of entry Index).
	Term uint64
	// Created is when the backup was taken (the serving node's clock).
	Created time.Time
	// Length is the body length in bytes.
	Length uint64
	// CRC is the CRC-32C of the body.
	CRC uint32
}

func (h BackupHeader) encode() []byte {
	b := make([]byte, 0, BackupHeaderLen)
	b = append(b, backupMagic...)
	b = append(b, h.Version)
	b = binary.BigEndian.AppendUint64(b, h.Index)
	b = binary.BigEndian.AppendUint64(b, h.Term)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Created.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, h.Length)
	b = binary.BigEndian.AppendUint32(b, h.CRC)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// ParseBackupHeader decodes and checks the first BackupHeaderLen bytes of
// a backup.
func ParseBackupHeader(b []byte) (BackupHeader, error) {
	if len(b) < BackupHeaderLen {
		return BackupHeader{}, fmt.Errorf("%w: the file is %d bytes, shorter than a backup header (%d)", ErrBadBackup, len(b), BackupHeaderLen)
	}
	b = b[:BackupHeaderLen]
	if string(b[:8]) != backupMagic {
		return BackupHeader{}, fmt.Errorf("%w: it does not start with %q (made by `raftstream backup`?)", ErrBadBackup, backupMagic)
	}
	if want, got := binary.BigEndian.Uint32(b[45:]), crc32.Checksum(b[:45], castagnoli); want != got {
		return BackupHeader{}, fmt.Errorf("%w: the header is damaged (checksum %08x, computed %08x)", ErrBadBackup, want, got)
	}
	h := BackupHeader{
		Version: b[8],
		Index:   binary.BigEndian.Uint64(b[9:]),
		Term:    binary.BigEndian.Uint64(b[17:]),
		Created: time.UnixMilli(int64(binary.BigEndian.Uint64(b[25:]))),
		Length:  binary.BigEndian.Uint64(b[33:]),
		CRC:     binary.BigEndian.Uint32(b[41:]),
	}
	if h.Version != backupVersion {
		return BackupHeader{}, fmt.Errorf("%w: format version %d, this build reads version %d", ErrBadBackup, h.Version, backupVersion)
	}
	if h.Index == 0 || h.Term == 0 {
		return BackupHeader{}, fmt.Errorf("%w: applied index %d, term %d: a backup of a live cluster has both", ErrBadBackup, h.Index, h.Term)
	}
	return h, nil
}

// Size is the size of the whole backup file.
func (h BackupHeader) Size() int64 { return BackupHeaderLen + int64(h.Length) }

// BackupStream is a consistent backup of the node's state being served:
// Header describes it, WriteTo writes the whole file. Release it when
// done: it holds a copy-on-write clone of the state.
type BackupStream struct {
	hdr BackupHeader
	b   *fsm.Backup
}

// Backup takes a backup of the replicated state that reflects every write
// committed before the call (it waits for a read barrier first, so any
// node serves it, not only the leader), and computes its length and
// checksum by encoding it once. The state is cloned, not copied: writes
// go on while the backup is streamed.
func (n *Node) Backup(ctx context.Context) (*BackupStream, error) {
	if err := n.ReadBarrier(ctx); err != nil {
		return nil, err
	}
	b := n.fsm.Backup()
	h := BackupHeader{Version: backupVersion, Index: b.AppliedIndex(), Term: max(n.raft.CurrentTerm(), 1), Created: time.UnixMilli(time.Now().UnixMilli())}
	crc := crc32.New(castagnoli)
	length, err := b.WriteTo(crc)
	if err != nil {
		b.Release()
		return nil, fmt.Errorf("encode backup: %w", err)
	}
	h.Length, h.CRC = uint64(length), crc.Sum32()
	n.log.Info("backup started", "applied_index", h.Index, "term", h.Term, "bytes", h.Size())
	return &BackupStream{hdr: h, b: b}, nil
}

// Header describes the backup.
func (s *BackupStream) Header() BackupHeader { return s.hdr }

// WriteTo writes the backup file (header and body) to w. It fails if the
// second encoding differs in length or checksum from the first, which
// would be a bug; the bytes already written are then not a valid backup,
// which the reader detects by the checksum in the header.
func (s *BackupStream) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(s.hdr.encode())
	if err != nil {
		return int64(n), err
	}
	crc := crc32.New(castagnoli)
	m, err := s.b.WriteTo(io.MultiWriter(w, crc))
	total := int64(n) + m
	if err != nil {
		return total, err
	}
	if uint64(m) != s.hdr.Length || crc.Sum32() != s.hdr.CRC {
		return total, fmt.Errorf("backup encoding changed between passes (%d bytes, CRC %08x; first pass %d, %08x)", m, crc.Sum32(), s.hdr.Length, s.hdr.CRC)
	}
	return total, nil
}

// Release drops the state clone.
func (s *BackupStream) Release() { s.b.Release() }

// VerifyBackupFile checks that path is a complete, intact backup: header
// checksum, body length and body checksum. It reads the file once,
// without decoding the state.
func VerifyBackupFile(path string) (BackupHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return BackupHeader{}, fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	h, body, err := openBackup(f, path)
	if err != nil {
		return h, err
	}
	crc := crc32.New(castagnoli)
	if err := copyBody(crc, body, h, path); err != nil {
		return h, err
	}
	return h, checkBodyCRC(h, crc, path)
}

// openBackup reads and checks the header of the backup in r and returns
// a reader of exactly its body.
func openBackup(r io.Reader, path string) (BackupHeader, io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var hb [BackupHeaderLen]byte
	n, err := io.ReadFull(br, hb[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return BackupHeader{}, nil, fmt.Errorf("read backup %s: %w", path, err)
	}
	h, err := ParseBackupHeader(hb[:n])
	if err != nil {
		return h, nil, fmt.Errorf("backup %s: %w", path, err)
	}
	return h, br, nil
}

// copyBody copies the body of h from body to w, failing with a clear
// message when the file is shorter or longer than its header says.
func copyBody(w io.Writer, body io.Reader, h BackupHeader, path string) error {
	n, err := io.Copy(w, io.LimitReader(body, int64(h.Length)))
	if err != nil {
		return fmt.Errorf("read backup %s: %w", path, err)
	}
	if uint64(n) != h.Length {
		return fmt.Errorf("backup %s: %w: the file is truncated: its body has %d of %d bytes", path, ErrBadBackup, n, h.Length)
	}
	var one [1]byte
	if m, _ := body.Read(one[:]); m > 0 {
		return fmt.Errorf("backup %s: %w: the file is longer than its header says (%d bytes)", path, ErrBadBackup, h.Size())
	}
	return nil
}

func checkBodyCRC(h BackupHeader, crc hash.Hash32, path string) error {
	if got := crc.Sum32(); got != h.CRC {
		return fmt.Errorf("backup %s: %w: the body is damaged (CRC-32C %08x, computed %08x)", path, ErrBadBackup, h.CRC, got)
	}
	return nil
}
