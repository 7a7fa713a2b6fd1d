package fsm

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/raftstream/raftstream/engine"
)

// digestKeys returns, for each key of database db, a hash (40 hex digits)
// of its value's encoding, or engine.ZeroDigest if it does not exist or has
// expired (DEBUG DIGEST-VALUE). The value encoding is the engine's
// deterministic per-stream snapshot encoding, so equal digests on two
// replicas mean equal streams; the TTL is not part of it, as in Redis.
//
// It walks a full state encoding: an independent derivation that the
// tests hold engine.State.DigestValue (DEBUG DIGEST-VALUE) against.
func digestKeys(f *FSM, db int, keys []string) ([]string, error) {
	if db < 0 || db >= engine.NumDBs {
		return nil, fmt.Errorf("digest: db %d out of range", db)
	}
	out := make([]string, len(keys))
	for i := range out {
		out[i] = engine.ZeroDigest
	}
	if len(keys) == 0 {
		return out, nil
	}
	want := make(map[string][]int, len(keys))
	for i, k := range keys {
		want[k] = append(want[k], i)
	}
	snap := f.clone()
	defer snap.Release()
	var buf bytes.Buffer
	if err := snap.st.WriteSnapshot(&buf); err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	err := walkKeys(buf.Bytes(), db, func(key string, expireAt int64, hasTTL bool, value []byte) {
		idx, ok := want[key]
		if !ok || (hasTTL && snap.st.Clock() > expireAt) { // expired: Redis's now > when
			return
		}
		sum := sha1.Sum(value)
		for _, i := range idx {
			out[i] = hex.EncodeToString(sum[:])
		}
	})
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	return out, nil
}

// walkKeys calls fn for every key of database db in an engine snapshot
// encoding (layout documented in engine/snapshot.go: magic, version,
// clock, config, then per database the keys with their flags, TTL and
// Stream.AppendSnapshot bytes). It stops after db.
func walkKeys(b []byte, db int, fn func(key string, expireAt int64, hasTTL bool, value []byte)) error {
	const magic = "RSTRSNAP"
	const flagTTL = 1
	if !bytes.HasPrefix(b, []byte(magic)) {
		return fmt.Errorf("%w: magic", errWalk)
	}
	d := decoder{b: b[len(magic):]}
	d.uvarint() // version
	d.varint()  // clock
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		d.bytes(d.uvarint())
		d.varint()
	}
	if n := d.uvarint(); d.err == nil && n != engine.NumDBs {
		return fmt.Errorf("%w: %d databases", errWalk, n)
	}
	for i := 0; i <= db && d.err == nil; i++ {
		for n := d.uvarint(); n > 0 && d.err == nil; n-- {
			key := d.bytes(d.uvarint())
			flags := d.byte()
			var at int64
			if flags&flagTTL != 0 {
				at = d.varint()
			}
			if d.err != nil {
				break
			}
			_, rest, err := engine.DecodeStream(d.b)
			if err != nil {
				return fmt.Errorf("%w: key %q: %w", errWalk, key, err)
			}
			value := d.b[:len(d.b)-len(rest)]
			d.b = rest
			if i == db {
				fn(string(key), at, flags&flagTTL != 0, value)
			}
		}
	}
	if d.err != nil {
		return fmt.Errorf("%w: %w", errWalk, d.err)
	}
	return nil
}

var errWalk = errors.New("cannot parse state encoding")
