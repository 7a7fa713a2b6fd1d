package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Snapshot format (all integers little-endian or varint):
//
//	magic      8 bytes "RSTRSNAP"
//	version    uvarint (snapshotVersion)
//	clock      varint
//	config     uvarint n, then n x (uvarint len, name, varint value)
//	dbs        uvarint NumDBs, then per db:
//	             uvarint nkeys, then per key in keyspace order:
//	               uvarint len, key, flags byte (bit 0: has TTL),
//	               [varint expireAt], Stream.AppendSnapshot bytes
//	versions   (v3) per db: uvarint ver, uvarint delVer, then per key in
//	             keyspace order uvarint ver (WATCH versions, watch.go)
//	acl        (v4) uvarint n, then n users in name order (acl.go, appendACL)
//	checksum   4 bytes CRC-32C of everything before
//
// Config is stored by name so that a parameter added later reads back as
// its default from older snapshots. The key order is the tree order, so
// equal states give equal bytes. Version 2 streams carry consumer groups
// and IDMP state (stream_snapshot_groups.go); version 1 snapshots, whose
// streams have none, still load. Version 3 appends the WATCH versions
// (watch.go) after the databases, leaving the layout before them as it
// was for readers that walk the keys; older snapshots load with all
// versions 0. Version 4 appends the ACL users; older snapshots load
// without users (every node then uses its requirepass default user).
const (
	snapshotMagic   = "RSTRSNAP"
	snapshotVersion = 4
	snapFlagTTL     = 1
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// snapFlushAt is how much encoded data WriteSnapshot buffers before writing.
const snapFlushAt = 64 << 10

// WriteSnapshot writes the whole state to w in a deterministic binary form:
// two states reached by the same commands give identical bytes.
func (s *State) WriteSnapshot(w io.Writer) error {
	sw := snapWriter{w: w}
	b := append(make([]byte, 0, snapFlushAt+4096), snapshotMagic...)
	b = binary.AppendUvarint(b, snapshotVersion)
	b = binary.AppendVarint(b, s.clock)
	b = binary.AppendUvarint(b, uint64(len(configParamList)))
	for _, p := range configParamList {
		b = appendBytes(b, []byte(p.name))
		b = binary.AppendVarint(b, p.get(&s.cfg))
	}
	b = binary.AppendUvarint(b, NumDBs)
	for _, ks := range s.dbs {
		b = binary.AppendUvarint(b, uint64(ks.keys.Len()))
		ks.keys.Scan(func(sl slot) bool {
			b = appendBytes(b, []byte(sl.key))
			if sl.e.volatile {
				b = append(b, snapFlagTTL)
				b = binary.AppendVarint(b, sl.e.expireAt)
			} else {
				b = append(b, 0)
			}
			b = sl.e.val.appendSnapshot(b, sw.write)
			if len(b) >= snapFlushAt {
				b = sw.write(b)
			}
			return sw.err == nil
		})
		if sw.err != nil {
			return sw.err
		}
	}
	b = appendVersions(b, s)
	b = appendACL(b, s.acl)
	b = sw.write(b)
	b = binary.LittleEndian.AppendUint32(b, sw.crc)
	sw.write(b)
	return sw.err
}

// snapWriter writes snapshot chunks and checksums them.
type snapWriter struct {
	w   io.Writer
	crc uint32
	err error
}

// write flushes b and returns it emptied for reuse.
func (sw *snapWriter) write(b []byte) []byte {
	if sw.err == nil && len(b) > 0 {
		sw.crc = crc32.Update(sw.crc, crcTable, b)
		if _, err := sw.w.Write(b); err != nil {
			sw.err = fmt.Errorf("write snapshot: %w", err)
		}
	}
	return b[:0]
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// errSnapshot marks a snapshot that cannot be decoded.
var errSnapshot = errors.New("corrupt snapshot")

// ReadSnapshot rebuilds a state written by WriteSnapshot.
func ReadSnapshot(r io.Reader) (*State, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if len(data) < len(snapshotMagic)+4 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: bad magic", errSnapshot)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errSnapshot)
	}
	d := stateDecoder{b: body[len(snapshotMagic):]}
	v := d.uvarint()
	if d.err == nil && (v < 1 || v > snapshotVersion) {
		return nil, fmt.Errorf("%w: unsupported version %d", errSnapshot, v)
	}
	s := NewState()
	s.clock = d.varint()
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		name, v := string(d.bytes()), d.varint()
		if p := configParamByName(name); p != nil {
			p.set(&s.cfg, v)
		}
	}
	if n := d.uvarint(); d.err == nil && n != NumDBs {
		return nil, fmt.Errorf("%w: %d databases, want %d", errSnapshot, n, NumDBs)
	}
	for db := 0; db < NumDBs && d.err == nil; db++ {
		if err := d.readKeyspace(s.dbs[db]); err != nil {
			return nil, fmt.Errorf("%w: db %d: %w", errSnapshot, db, err)
		}
	}
	if v >= 3 && d.err == nil {
		d.readVersions(s)
	}
	if v >= 4 && d.err == nil {
		a, err := d.readACL()
		if err != nil {
			return nil, fmt.Errorf("%w: acl: %w", errSnapshot, err)
		}
		s.acl = a
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %w", errSnapshot, d.err)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errSnapshot, len(d.b))
	}
	return s, nil
}

// stateDecoder decodes snapshot fields, remembering the first error.
type stateDecoder struct {
	b   []byte
	err error
}

var errStateTruncated = errors.New("truncated")

func (d *stateDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errStateTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errStateTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errStateTruncated
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errStateTruncated
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// readKeyspace decodes one database into ks.
func (d *stateDecoder) readKeyspace(ks *keyspace) error {
	n := d.uvarint()
	var prev slot
	for i := uint64(0); i < n && d.err == nil; i++ {
		key := string(d.bytes())
		flags := d.byte()
		if flags&^snapFlagTTL != 0 {
			return fmt.Errorf("key %q: unknown flags %#x", key, flags)
		}
		var at int64
		if flags&snapFlagTTL != 0 {
			at = d.varint()
		}
		if d.err != nil {
			break
		}
		st, rest, err := DecodeStream(d.b)
		if err != nil {
			return fmt.Errorf("key %q: %w", key, err)
		}
		d.b = rest
		sl := slot{hash: hashKey(key), key: key}
		if i > 0 && !slotLess(prev, sl) {
			return fmt.Errorf("key %q out of order", key)
		}
		prev = sl
		sl.e = &entry{key: key, val: st}
		ks.keys.Load(sl) // keys arrive in tree order
		if st.maxAge > 0 {
			ks.aged.Set(key)
		}
		e := sl.e
		if flags&snapFlagTTL != 0 {
			ks.setExpire(e, at)
		}
	}
	return d.err
}

// appendVersions encodes the WATCH versions (watch.go).
func appendVersions(b []byte, s *State) []byte {
	for _, ks := range s.dbs {
		b = binary.AppendUvarint(b, ks.ver)
		b = binary.AppendUvarint(b, ks.delVer)
		ks.keys.Scan(func(sl slot) bool {
			b = binary.AppendUvarint(b, sl.e.ver)
			return true
		})
	}
	return b
}

// readVersions decodes what appendVersions wrote, into a state whose
// keys were already read.
func (d *stateDecoder) readVersions(s *State) {
	for _, ks := range s.dbs {
		ks.ver, ks.delVer = d.uvarint(), d.uvarint()
		ks.keys.Scan(func(sl slot) bool {
			sl.e.ver = d.uvarint()
			return d.err == nil
		})
	}
}
