package main

import (
	"math/bits"
	"time"
)

// subBits sets the histogram precision: 2^subBits linear buckets per power
// of two of nanoseconds, i.e. at most 1/128 relative error.
const subBits = 7

const subCount = 1 << subBits

// hist is a log-linear latency histogram over nanoseconds.
type hist struct {
	counts []uint64
	total  uint64
	max    time.Duration
}

func bucketOf(ns uint64) int {
	if ns < subCount {
		return int(ns)
	}
	shift := bits.Len64(ns) - subBits - 1
	return (shift+1)<<subBits + int(ns>>uint(shift)) - subCount
}

// bucketLow returns the smallest value that falls into bucket i.
func bucketLow(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i>>subBits - 1
	return uint64(i%subCount+subCount) << uint(shift)
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i>>subBits - 1
	return bucketLow(i) + (uint64(1) << uint(shift)) - 1
}

// Record adds n samples of duration d.
func (h *hist) Record(d time.Duration, n int) {
	if d < 0 {
		d = 0
	}
	b := bucketOf(uint64(d))
	if b >= len(h.counts) {
		grown := make([]uint64, b+1)
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[b] += uint64(n)
	h.total += uint64(n)
	if d > h.max {
		h.max = d
	}
}

// Merge adds o's samples to h.
func (h *hist) Merge(o *hist) {
	if len(o.counts) > len(h.counts) {
		grown := make([]uint64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	if o.max > h.max {
		h.max = o.max
	}
}

// Quantile returns the q-quantile (0 < q <= 1), reported as the midpoint
// of the bucket it falls in.
func (h *hist) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q * float64(h.total))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			mid := (bucketLow(i) + bucketHigh(i)) / 2
			if d := time.Duration(mid); d < h.max {
				return d
			}
			return h.max
		}
	}
	return h.max
}
