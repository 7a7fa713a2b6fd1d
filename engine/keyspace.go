package engine

import (
	"unsafe"

	"github.com/tidwall/btree"
)

// entry is one key of a keyspace. The value is always a stream: raftstream
// stores no other Redis type, so WRONGTYPE cannot occur.
type entry struct {
	key string
	val *Stream
	// expireAt is the key's deadline in Unix ms; meaningful only if volatile.
	expireAt int64
	volatile bool
	// ver is the keyspace's version counter at the key's last write, for
	// WATCH (watch.go). Replicated: it is in the snapshot.
	ver uint64
}

// slot is a key's place in the key tree. Keys are ordered by (hash, key):
// deterministic like a plain key order, and it lets SCAN use the hash as a
// numeric cursor that stays valid while keys come and go.
type slot struct {
	hash uint64
	key  string
	e    *entry
}

func slotLess(a, b slot) bool {
	if a.hash != b.hash {
		return a.hash < b.hash
	}
	return a.key < b.key
}

// expItem orders volatile keys by deadline for active expiry.
type expItem struct {
	at   int64
	hash uint64
	key  string
}

func expLess(a, b expItem) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.hash != b.hash {
		return a.hash < b.hash
	}
	return a.key < b.key
}

// keyspace is one logical database. The trees run without their internal
// locks: the FSM serialises writers, and reads (which never modify a tree,
// not even for lazy expiry) may then run concurrently.
type keyspace struct {
	keys    *btree.BTreeG[slot]
	expires *btree.BTreeG[expItem]
	// aged names the streams with age retention (stream_retention.go).
	aged *btree.BTreeG[string]
	// ver counts writes to the keyspace: each write stamps its keys with
	// a new value. delVer is ver at the last key deletion (WATCH of a
	// missing key). Both are in the snapshot.
	ver, delVer uint64
}

var treeOpts = btree.Options{NoLocks: true}

func newKeyspace() *keyspace {
	return &keyspace{
		keys:    btree.NewBTreeGOptions(slotLess, treeOpts),
		expires: btree.NewBTreeGOptions(expLess, treeOpts),
		aged:    newAgedIndex(),
	}
}

// hashKey is 64-bit FNV-1a, never 0 so that cursor 0 can mean "start/done".
// It is part of the snapshot order and the SCAN cursor format: changing it
// changes snapshot bytes (not their meaning) and invalidates live cursors.
func hashKey(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}

// keyView is a command's key argument as a string, without a copy, to
// look the key up or signal it: a copy per write was one of the apply
// path's few remaining allocations. Nothing may keep the view (the tree's
// Get keeps nothing of its probe); a key to be stored is copied first.
func keyView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// get returns the entry for key regardless of its TTL.
func (ks *keyspace) get(key string) *entry {
	sl, ok := ks.keys.Get(slot{hash: hashKey(key), key: key})
	if !ok {
		return nil
	}
	return sl.e
}

// expired reports whether e's deadline has passed at now.
func (e *entry) expired(now int64) bool { return e.volatile && e.expireAt < now }

// lookupRead returns the live entry for key at now. It never modifies the
// keyspace: an expired key is only hidden, so reads may run concurrently.
func (ks *keyspace) lookupRead(key string, now int64) *entry {
	e := ks.get(key)
	if e == nil || e.expired(now) {
		return nil
	}
	return e
}

// add inserts a new key; the caller made sure it does not exist.
func (ks *keyspace) add(key string, val *Stream) *entry {
	ks.ver++
	e := &entry{key: key, val: val, ver: ks.ver}
	ks.keys.Set(slot{hash: hashKey(key), key: key, e: e})
	if val.maxAge > 0 {
		ks.aged.Set(key)
	}
	return e
}

// remove deletes e and its TTL.
func (ks *keyspace) remove(e *entry) {
	h := hashKey(e.key)
	if e.volatile {
		ks.expires.Delete(expItem{at: e.expireAt, hash: h, key: e.key})
	}
	ks.keys.Delete(slot{hash: h, key: e.key})
	if e.val.maxAge > 0 {
		ks.aged.Delete(e.key)
	}
	ks.ver++
	ks.delVer = ks.ver
}

// setExpire gives e the deadline at (Unix ms), replacing any previous one.
func (ks *keyspace) setExpire(e *entry, at int64) {
	h := hashKey(e.key)
	if e.volatile {
		ks.expires.Delete(expItem{at: e.expireAt, hash: h, key: e.key})
	}
	e.volatile, e.expireAt = true, at
	ks.expires.Set(expItem{at: at, hash: h, key: e.key})
}

// persist removes e's deadline and reports whether it had one.
func (ks *keyspace) persist(e *entry) bool {
	if !e.volatile {
		return false
	}
	ks.expires.Delete(expItem{at: e.expireAt, hash: hashKey(e.key), key: e.key})
	e.volatile, e.expireAt = false, 0
	return true
}

// countExpired returns how many keys are logically expired at now but not
// yet deleted.
func (ks *keyspace) countExpired(now int64) int {
	n := 0
	ks.expires.Scan(func(it expItem) bool {
		if it.at >= now {
			return false
		}
		n++
		return true
	})
	return n
}

// clone copies the keyspace: O(keys), sharing stream data copy-on-write.
// The expiry index holds plain values, so its O(1) shadow copy suffices.
func (ks *keyspace) clone() *keyspace {
	keys := btree.NewBTreeGOptions(slotLess, treeOpts)
	ks.keys.Scan(func(sl slot) bool {
		ne := *sl.e
		ne.val = sl.e.val.Clone()
		sl.e = &ne
		keys.Load(sl)
		return true
	})
	return &keyspace{keys: keys, expires: ks.expires.Copy(), aged: ks.aged.Copy(), ver: ks.ver, delVer: ks.delVer}
}

// flush deletes every key, calling fn (if set) for each first.
func (ks *keyspace) flush(fn func(key string)) int {
	n := ks.keys.Len()
	if fn != nil {
		ks.keys.Scan(func(sl slot) bool {
			fn(sl.key)
			return true
		})
	}
	ks.keys.Clear()
	ks.expires.Clear()
	ks.aged.Clear()
	if n > 0 {
		ks.ver++
		ks.delVer = ks.ver
	}
	return n
}
