package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ErrDiskFull: the data dir's disk has less free space than
// Config.MinFreeDisk (counting what is already queued), so the command was
// not appended. Nothing was written: safe to retry once space is freed.
var ErrDiskFull = errors.New("cluster: not enough free disk space for the Raft log")

// DefaultMinFreeDisk is Config.MinFreeDisk's default.
const DefaultMinFreeDisk = 64 << 20

// diskCheckInterval is how often free space is measured.
const diskCheckInterval = 250 * time.Millisecond

// diskGuard refuses writes before the disk holding the Raft log fills up.
// hashicorp/raft steps a leader down whenever its log store fails to
// write, so a full disk would mean an election every few seconds and
// reads failing with it; refusing writes while free space is under a
// reserve keeps the leader, and reads, in place. Free space is measured
// every diskCheckInterval; the bytes proposed since are counted against
// it, so a burst between two measurements cannot overrun the reserve.
type diskGuard struct {
	dir     string
	reserve int64
	log     *slog.Logger

	free     atomic.Int64 // at the last measurement; -1 if unknown
	proposed atomic.Int64 // bytes admitted since that measurement
	low      atomic.Bool
}

func newDiskGuard(dir string, reserve int64, log *slog.Logger) *diskGuard {
	g := &diskGuard{dir: dir, reserve: reserve, log: log}
	g.free.Store(-1)
	g.measure()
	return g
}

// measure samples the free space.
func (g *diskGuard) measure() {
	var st unix.Statfs_t
	if err := unix.Statfs(g.dir, &st); err != nil {
		if g.free.Swap(-1) != -1 {
			g.log.Warn("cannot measure free disk space; not guarding writes", "dir", g.dir, "err", err)
		}
		g.low.Store(false)
		return
	}
	free := int64(st.Bavail) * int64(st.Bsize) // field types differ by platform
	g.free.Store(free)
	g.proposed.Store(0)
	low := free < g.reserve
	if g.low.Swap(low) != low {
		if low {
			g.log.Error("free disk space under the reserve: refusing writes until space is freed",
				"dir", g.dir, "free_bytes", free, "min_free_disk", g.reserve)
		} else {
			g.log.Info("free disk space back over the reserve: accepting writes", "dir", g.dir, "free_bytes", free)
		}
	}
}

// admit reserves room for size more bytes of log, or returns ErrDiskFull.
func (g *diskGuard) admit(size int64) error {
	free := g.free.Load()
	if free < 0 || g.reserve <= 0 {
		return nil
	}
	if g.low.Load() || free-g.proposed.Add(size) < g.reserve {
		return fmt.Errorf("%w: under %d bytes free in %s", ErrDiskFull, g.reserve, g.dir)
	}
	return nil
}

// diskLoop measures free space until the node closes.
func (n *Node) diskLoop() {
	t := time.NewTicker(diskCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
			n.disk.measure()
		}
	}
}
