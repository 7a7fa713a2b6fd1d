package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/hashicorp/raft"
)

// checkedLog stores a CRC-32C with every log entry and verifies it on
// every read.
//
// raft-wal checks a CRC over each batch only when it recovers the tail
// segment after a crash; a sealed segment, or an entry read later, is
// trusted as it lies on disk, and a bbolt page is not checksummed at all.
// A flipped bit in a stored entry would then be applied, served and sent to
// followers. With a checksum per entry every read verifies it, so a damaged
// entry surfaces as an error naming its index instead of as wrong data.
//
// The checksum travels in the entry's Extensions, which raft leaves to the
// application and raftstream does not otherwise use; it is added to a copy
// of the entry (raft keeps the caller's entry for the FSM and replication)
// and stripped on read, so it never leaves the node: each node checksums
// what it stores. raft-wal's own hook for this, a custom codec, cannot be
// used: v0.4.0 records the built-in codec's ID in every segment it creates
// and then refuses to reopen a segment whose ID differs from the codec's.
type checkedLog struct {
	raft.LogStore
	// required: every entry must carry a checksum (a wal log, which only
	// this code has written); otherwise entries without one are accepted,
	// as raft.db logs made before checksums hold them.
	required bool
}

// checksumTag starts a checksum extension: version 1, then the CRC.
const checksumTag = 0xc1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errChecksum reports a stored entry whose contents do not match its
// checksum.
var errChecksum = errors.New("log entry checksum mismatch")

func entryChecksum(l *raft.Log) uint32 {
	var hdr [3*binary.MaxVarintLen64 + 8]byte
	n := binary.PutUvarint(hdr[:], l.Index)
	n += binary.PutUvarint(hdr[n:], l.Term)
	n += binary.PutUvarint(hdr[n:], uint64(l.Type))
	binary.LittleEndian.PutUint64(hdr[n:], uint64(l.AppendedAt.UnixNano()))
	n += 8
	c := crc32.Update(0, castagnoli, hdr[:n])
	return crc32.Update(c, castagnoli, l.Data)
}

// StoreLog stores one entry with its checksum.
func (c checkedLog) StoreLog(l *raft.Log) error { return c.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries with their checksums.
func (c checkedLog) StoreLogs(logs []*raft.Log) error {
	copies := make([]raft.Log, len(logs))
	ptrs := make([]*raft.Log, len(logs))
	for i, l := range logs {
		if len(l.Extensions) != 0 {
			return fmt.Errorf("log entry %d carries extensions; raftstream keeps its checksum there", l.Index)
		}
		copies[i] = *l
		ext := make([]byte, 5)
		ext[0] = checksumTag
		binary.LittleEndian.PutUint32(ext[1:], entryChecksum(l))
		copies[i].Extensions = ext
		ptrs[i] = &copies[i]
	}
	return c.LogStore.StoreLogs(ptrs)
}

// GetLog reads an entry and verifies its checksum.
func (c checkedLog) GetLog(index uint64, l *raft.Log) error {
	if err := c.LogStore.GetLog(index, l); err != nil {
		return err
	}
	ext := l.Extensions
	l.Extensions = nil
	switch {
	case len(ext) == 5 && ext[0] == checksumTag:
		if want, got := binary.LittleEndian.Uint32(ext[1:]), entryChecksum(l); want != got {
			return fmt.Errorf("%w: entry %d stored %08x, computed %08x", errChecksum, index, want, got)
		}
	case len(ext) == 0 && !c.required:
	default:
		return fmt.Errorf("%w: entry %d has no valid checksum", errChecksum, index)
	}
	if l.Index != index {
		return fmt.Errorf("%w: entry %d is stored as index %d", errChecksum, index, l.Index)
	}
	return nil
}
