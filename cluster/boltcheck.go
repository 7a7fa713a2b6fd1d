package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"syscall"
)

// checkBoltFile verifies the structure of a bbolt file (stable.db,
// wal/wal-meta.db, raft.db) before bbolt opens it, reading it with bounds
// checks instead of through a memory map.
//
// bbolt trusts its file: a file truncated into used pages makes it touch
// the memory map past the end of the file (SIGBUS, a crash no recover can
// catch), and a damaged branch or leaf page makes it panic, with
// NoFreelistSync inside Open itself, in a goroutine of its own (the
// freelist rebuild) where no caller can recover either. Either way the
// process dies with a goroutine dump that names no file. So the node
// walks every page reachable from the meta page bbolt would use, the way
// that rebuild does, and refuses a file whose walk fails with an error
// naming it. A file that passes opens without those crashes; values are not
// checksummed by bbolt, so a flipped byte inside a stored value (a term, a
// vote) cannot be told from a real one.
//
// A file another process holds locked (a running node) is not checked:
// bbolt's open reports the lock.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		// Missing: bbolt creates it. Unreadable (permissions, ...): that
		// is not damage, and bbolt's open reports it.
		return nil
	}
	defer f.Close()
	// bbolt takes an exclusive flock on the files it opens read-write; a
	// shared one here fails while a running node holds the file, whose
	// pages may then be mid-write.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return nil
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	st, err := f.Stat()
	if err != nil {
		return nil // as for open
	}
	if st.Size() == 0 {
		return nil // bbolt initialises an empty file
	}
	c := boltChecker{r: f, size: st.Size()}
	if err := c.check(); err != nil {
		return fmt.Errorf("%s is damaged: %w", path, err)
	}
	return nil
}

// bbolt's on-disk format (go.etcd.io/bbolt internal/common), little-endian.
const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltPageHeader     = 16 // id u64, flags u16, count u16, overflow u32
	boltElementSize    = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	boltBucketHeader   = 16 // root pgid u64, sequence u64
	boltBranchPage     = 0x01
	boltLeafPage       = 0x02
	boltMetaPage       = 0x04
	boltFreelistPage   = 0x10
	boltBucketLeafFlag = 0x01
	boltNoFreelist     = ^uint64(0)
	boltMaxDepth       = 64 // far beyond any real tree; stops a cycle
)

type boltMeta struct {
	pageSize         uint32
	root, freelist   uint64
	pgid, txid, hash uint64
}

type boltChecker struct {
	r        io.ReaderAt
	size     int64
	pageSize int64
	hw       uint64 // high-water mark: pages [0, hw) are in use
	seen     map[uint64]bool
}

// readMeta reads and validates the meta page at off.
func (c *boltChecker) readMeta(off int64) (boltMeta, error) {
	var b [boltPageHeader + 64]byte
	if _, err := c.r.ReadAt(b[:], off); err != nil {
		return boltMeta{}, fmt.Errorf("meta page at offset %d: %w", off, err)
	}
	if flags := binary.LittleEndian.Uint16(b[8:]); flags != boltMetaPage {
		return boltMeta{}, fmt.Errorf("meta page at offset %d: flags %#x", off, flags)
	}
	m := b[boltPageHeader:]
	if binary.LittleEndian.Uint32(m[0:]) != boltMagic || binary.LittleEndian.Uint32(m[4:]) != boltVersion {
		return boltMeta{}, fmt.Errorf("meta page at offset %d: not a bbolt v2 meta page", off)
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	meta := boltMeta{
		pageSize: binary.LittleEndian.Uint32(m[8:]),
		root:     binary.LittleEndian.Uint64(m[16:]),
		freelist: binary.LittleEndian.Uint64(m[32:]),
		pgid:     binary.LittleEndian.Uint64(m[40:]),
		txid:     binary.LittleEndian.Uint64(m[48:]),
		hash:     binary.LittleEndian.Uint64(m[56:]),
	}
	if meta.hash != h.Sum64() {
		return boltMeta{}, fmt.Errorf("meta page at offset %d: checksum mismatch", off)
	}
	if meta.pageSize < 512 || meta.pageSize > 1<<20 || meta.pageSize&(meta.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("meta page at offset %d: page size %d", off, meta.pageSize)
	}
	return meta, nil
}

func (c *boltChecker) check() error {
	// Meta page 0 says the page size; bbolt falls back to the OS page size
	// to find meta page 1 when page 0 is unreadable, and so does this.
	m0, err0 := c.readMeta(0)
	ps := int64(os.Getpagesize())
	if err0 == nil {
		ps = int64(m0.pageSize)
	}
	m1, err1 := c.readMeta(ps)
	var m boltMeta
	switch {
	case err0 != nil && err1 != nil:
		return fmt.Errorf("both meta pages are unreadable (%v; %v)", err0, err1)
	case err0 != nil:
		m = m1
	case err1 != nil || m0.txid >= m1.txid:
		m = m0
	default:
		m = m1
	}
	c.pageSize, c.hw = int64(m.pageSize), m.pgid
	if c.hw < 2 || m.root < 2 || m.root >= c.hw {
		return fmt.Errorf("meta page (txid %d) names root page %d of %d pages", m.txid, m.root, c.hw)
	}
	if need := int64(c.hw) * c.pageSize; c.size < need {
		return fmt.Errorf("the file is %d bytes, but its meta page (txid %d) uses %d pages of %d bytes (%d bytes): it was truncated", c.size, m.txid, c.hw, c.pageSize, need)
	}
	c.seen = map[uint64]bool{}
	if m.freelist != boltNoFreelist {
		p, err := c.page(m.freelist, 0)
		if err != nil {
			return fmt.Errorf("freelist: %w", err)
		}
		if flags := binary.LittleEndian.Uint16(p[8:]); flags != boltFreelistPage {
			return fmt.Errorf("freelist page %d: flags %#x", m.freelist, flags)
		}
		// The page IDs follow the header; a count of 0xFFFF means the
		// real count is the first u64 (common.Page.FreelistPageCount).
		n, at := uint64(binary.LittleEndian.Uint16(p[10:])), uint64(boltPageHeader)
		if n == 0xFFFF {
			if len(p) < boltPageHeader+8 {
				return fmt.Errorf("freelist page %d: no count", m.freelist)
			}
			n, at = binary.LittleEndian.Uint64(p[boltPageHeader:]), boltPageHeader+8
		}
		if n > (uint64(len(p))-at)/8 {
			return fmt.Errorf("freelist page %d: %d page IDs do not fit in it", m.freelist, n)
		}
		for i := uint64(0); i < n; i++ {
			if id := binary.LittleEndian.Uint64(p[at+8*i:]); id < 2 || id >= c.hw {
				return fmt.Errorf("freelist page %d: free page %d out of bounds (%d pages in use)", m.freelist, id, c.hw)
			}
		}
	}
	_, err := c.tree(m.root, 0, nil, nil)
	return err
}

// page reads page id with its overflow pages, checking it lies inside the
// used part of the file and is reached once.
func (c *boltChecker) page(id uint64, depth int) ([]byte, error) {
	if id < 2 || id >= c.hw {
		return nil, fmt.Errorf("page %d: out of bounds (%d pages in use)", id, c.hw)
	}
	if c.seen[id] {
		return nil, fmt.Errorf("page %d: reached twice", id)
	}
	if depth > boltMaxDepth {
		return nil, fmt.Errorf("page %d: tree deeper than %d", id, boltMaxDepth)
	}
	c.seen[id] = true
	hdr := make([]byte, boltPageHeader)
	if _, err := c.r.ReadAt(hdr, int64(id)*c.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if got := binary.LittleEndian.Uint64(hdr); got != id {
		return nil, fmt.Errorf("page %d: header says page %d", id, got)
	}
	overflow := uint64(binary.LittleEndian.Uint32(hdr[12:]))
	if id+overflow >= c.hw {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the %d pages in use", id, overflow, c.hw)
	}
	for i := id + 1; i <= id+overflow; i++ {
		c.seen[i] = true
	}
	p := make([]byte, int64(overflow+1)*c.pageSize)
	if _, err := c.r.ReadAt(p, int64(id)*c.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return p, nil
}

// tree walks the B+tree rooted at page id, whose keys must lie in [lo, hi)
// (nil: unbounded), and returns its largest key.
func (c *boltChecker) tree(id uint64, depth int, lo, hi []byte) ([]byte, error) {
	p, err := c.page(id, depth)
	if err != nil {
		return nil, err
	}
	return c.nodePage(id, p, depth, lo, hi, true)
}

// nodePage checks a branch or leaf page p (id 0 for a bucket inlined in
// its parent's value) and everything below it, and returns its largest
// key. With ordered, keys must be sorted and lie in [lo, hi), as bbolt's
// own check (tx_check.go) demands of page trees; it skips inline buckets.
func (c *boltChecker) nodePage(id uint64, p []byte, depth int, lo, hi []byte, ordered bool) ([]byte, error) {
	if len(p) < boltPageHeader {
		return nil, fmt.Errorf("page %d: %d bytes", id, len(p))
	}
	flags := binary.LittleEndian.Uint16(p[8:])
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if boltPageHeader+count*boltElementSize > len(p) {
		return nil, fmt.Errorf("page %d: %d elements do not fit in it", id, count)
	}
	// kv returns element i's key and value, bounds-checked: pos is
	// relative to the element's own header.
	kv := func(i int, pos, ksize, vsize uint32) ([]byte, []byte, error) {
		start := uint64(boltPageHeader+i*boltElementSize) + uint64(pos)
		end := start + uint64(ksize) + uint64(vsize)
		if end > uint64(len(p)) {
			return nil, nil, fmt.Errorf("page %d: element %d runs past the page", id, i)
		}
		return p[start : start+uint64(ksize)], p[start+uint64(ksize) : end], nil
	}
	// inOrder checks key i against the previous key (or the lower bound)
	// and the upper bound.
	inOrder := func(i int, key, prev []byte) error {
		if !ordered {
			return nil
		}
		switch {
		case i == 0 && prev != nil && bytes.Compare(prev, key) > 0,
			i > 0 && bytes.Compare(prev, key) >= 0,
			hi != nil && bytes.Compare(key, hi) >= 0:
			return fmt.Errorf("page %d: key %d out of order", id, i)
		}
		return nil
	}
	var last []byte
	switch flags {
	case boltBranchPage:
		if id == 0 {
			return nil, errors.New("an inline bucket holds a branch page")
		}
		prev := lo
		for i := 0; i < count; i++ {
			e := p[boltPageHeader+i*boltElementSize:]
			k, _, err := kv(i, binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:]), 0)
			if err != nil {
				return nil, err
			}
			if err := inOrder(i, k, prev); err != nil {
				return nil, err
			}
			next := hi
			if i < count-1 {
				n := p[boltPageHeader+(i+1)*boltElementSize:]
				if next, _, err = kv(i+1, binary.LittleEndian.Uint32(n), binary.LittleEndian.Uint32(n[4:]), 0); err != nil {
					return nil, err
				}
			}
			if last, err = c.tree(binary.LittleEndian.Uint64(e[8:]), depth+1, k, next); err != nil {
				return nil, err
			}
			prev = last
		}
	case boltLeafPage:
		prev := lo
		for i := 0; i < count; i++ {
			e := p[boltPageHeader+i*boltElementSize:]
			eflags, pos := binary.LittleEndian.Uint32(e), binary.LittleEndian.Uint32(e[4:])
			k, v, err := kv(i, pos, binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:]))
			if err != nil {
				return nil, err
			}
			if err := inOrder(i, k, prev); err != nil {
				return nil, err
			}
			prev, last = k, k
			if eflags&boltBucketLeafFlag == 0 {
				continue
			}
			if len(v) < boltBucketHeader {
				return nil, fmt.Errorf("page %d: bucket value of %d bytes", id, len(v))
			}
			if root := binary.LittleEndian.Uint64(v); root != 0 {
				_, err = c.tree(root, depth+1, nil, nil)
			} else {
				_, err = c.nodePage(0, v[boltBucketHeader:], depth+1, nil, nil, false)
			}
			if err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("page %d: flags %#x, not a branch or leaf page", id, flags)
	}
	return last, nil
}
