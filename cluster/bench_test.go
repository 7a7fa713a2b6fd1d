package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/types"
	"golang.org/x/sys/unix"
)

// BenchmarkProposeXADD measures group commit: 50 closed-loop clients each
// proposing one XADD and waiting for its reply, on a single fsyncing node.
// Run: go test ./cluster -run XXX -bench ProposeXADD -benchtime 100000x
func BenchmarkProposeXADD(b *testing.B) {
	for _, clients := range []int{1, 50} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			benchPropose(b, clients, func(*Config) {})
		})
	}
}

func benchPropose(b *testing.B, clients int, tune func(*Config)) {
	cfg := testConfig(b, "bench", b.TempDir())
	tune(&cfg)
	n := openNode(b, cfg)
	defer n.Close()
	waitLeader(b, n)
	// Warm up and pay the term barrier outside the measurement.
	write(b, n, xadd("warm", 0))
	startIndex := n.Status().LastLogIndex

	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			key := "s" + strconv.Itoa(c)
			ctx := context.Background()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				t0 := time.Now()
				if _, err := n.Propose(xadd(key, int(i))).Wait(ctx); err != nil {
					b.Error(err)
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	entries := n.Status().LastLogIndex - startIndex
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
	if entries > 0 {
		b.ReportMetric(float64(b.N)/float64(entries), "cmds/entry")
	}
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
}

// BenchmarkReadBarrier measures linearizable read points with 50
// concurrent readers on a single node.
func BenchmarkReadBarrier(b *testing.B) {
	n := openNode(b, testConfig(b, "bench", b.TempDir()))
	defer n.Close()
	waitLeader(b, n)
	write(b, n, xadd("warm", 0))
	b.SetParallelism(25) // 2 CPUs x 25 = 50 goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := n.ReadBarrier(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}

// BenchmarkProposeInflight compares in-flight entry caps under 50 clients.
func BenchmarkProposeInflight(b *testing.B) {
	for _, inflight := range []int{1, 2, 4, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			benchPropose(b, 50, func(c *Config) { c.MaxInflight = inflight })
		})
	}
}

// BenchmarkThreeNodeXADD compares 50 closed-loop clients writing on the
// leader with the same clients on a follower (every batch forwarded: one
// more round trip, same group commit).
// Run: go test ./cluster -run XXX -bench ThreeNodeXADD -benchtime 20000x
func BenchmarkThreeNodeXADD(b *testing.B) {
	for _, on := range []string{"leader", "follower"} {
		b.Run("on="+on, func(b *testing.B) {
			lns := loopbackListeners(b, 3)
			var peers []Peer
			for i, ln := range lns {
				peers = append(peers, Peer{ID: "n" + strconv.Itoa(i+1), Addr: ln.Addr().String()})
			}
			var nodes []*Node
			for i, ln := range lns {
				cfg := testConfig(b, peers[i].ID, b.TempDir())
				cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
				cfg.RaftAddr, cfg.Listener, cfg.Peers = "", ln, peers
				nodes = append(nodes, openNode(b, cfg))
			}
			defer func() {
				for _, n := range nodes {
					n.Close()
				}
			}()
			leader := waitLeader(b, nodes...)
			target := leader
			if on == "follower" {
				target = followersOf(leader, nodes)[0]
			}
			write(b, target, xadd("warm", 0))
			start := leader.Status().LastLogIndex
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for c := 0; c < 50; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					key := "s" + strconv.Itoa(c)
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if _, err := target.Propose(xadd(key, int(i))).Wait(context.Background()); err != nil {
							b.Error(err)
							return
						}
					}
				}(c)
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
			if entries := leader.Status().LastLogIndex - start; entries > 0 {
				b.ReportMetric(float64(b.N)/float64(entries), "cmds/entry")
			}
		})
	}
}

// BenchmarkCommitFloor measures the durable-write floor under every commit:
// one raft-boltdb StoreLogs of a 1.5 KB entry (a bbolt transaction: page
// writes, fdatasync, meta page, fdatasync), against what Redis does per
// event-loop iteration with appendfsync always (append, one fdatasync), on
// the same disk. Run from a directory on the disk to measure:
// go test ./cluster -run XXX -bench CommitFloor -benchtime 2000x
func BenchmarkCommitFloor(b *testing.B) {
	data := make([]byte, 1500)
	b.Run("raft-boltdb", func(b *testing.B) {
		store, err := openBolt(filepath.Join(b.TempDir(), "raft.db"), false)
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		lat := make([]time.Duration, 0, b.N)
		for i := 1; i <= b.N; i++ {
			t0 := time.Now()
			if err := store.StoreLogs([]*raft.Log{{Index: uint64(i), Term: 1, Type: raft.LogCommand, Data: data}}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		reportMedian(b, lat)
	})
	for _, v := range []struct {
		name string
		vfs  types.VFS
	}{{"raft-wal-fsync", fs.New()}, {"raft-wal-zeroed-fdatasync", newDataSyncFS()}} {
		b.Run(v.name, func(b *testing.B) {
			dir := b.TempDir()
			meta := &metadb.BoltMetaDB{}
			w, err := openRawWAL(dir, 0, v.vfs, meta, testLogger())
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = walLog{WAL: w, meta: meta}.Close() }()
			lat := make([]time.Duration, 0, b.N)
			for i := 1; i <= b.N; i++ {
				t0 := time.Now()
				if err := w.StoreLogs([]*raft.Log{{Index: uint64(i), Term: 1, Type: raft.LogCommand, Data: data}}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportMedian(b, lat)
		})
	}
	b.Run("append+fdatasync", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "aof"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if _, err := f.Write(data); err != nil {
				b.Fatal(err)
			}
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		reportMedian(b, lat)
	})
}

func reportMedian(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	}
}
