package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	// Every value lands in a bucket whose bounds contain it, and buckets
	// are contiguous.
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 123456, 1 << 40, 1<<63 + 12345} {
		b := bucketOf(v)
		if lo, hi := bucketLow(b), bucketHigh(b); v < lo || v > hi {
			t.Errorf("value %d in bucket %d [%d,%d]", v, b, lo, hi)
		}
	}
	for b := 0; b < 40*subCount; b++ {
		if bucketHigh(b)+1 != bucketLow(b+1) {
			t.Fatalf("gap after bucket %d: high %d, next low %d", b, bucketHigh(b), bucketLow(b+1))
		}
	}
}

func TestQuantilesMatchSortedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	var h hist
	samples := make([]time.Duration, 100_000)
	for i := range samples {
		// Log-normal-ish latencies between 10µs and 100ms.
		d := time.Duration(10_000 * (1 + rng.ExpFloat64()*rng.ExpFloat64()*50))
		samples[i] = d
		h.Record(d, 1)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := samples[int(q*float64(len(samples)))-1]
		got := h.Quantile(q)
		if diff := float64(got-exact) / float64(exact); diff > 0.01 || diff < -0.01 {
			t.Errorf("q%.3f: histogram %v, exact %v (%.2f%% off)", q, got, exact, diff*100)
		}
	}
	if h.Quantile(1) != samples[len(samples)-1] {
		t.Errorf("max: %v, want %v", h.Quantile(1), samples[len(samples)-1])
	}
}

func TestMerge(t *testing.T) {
	var a, b, all hist
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Microsecond
		all.Record(d, 2)
		if i%2 == 0 {
			a.Record(d, 2)
		} else {
			b.Record(d, 2)
		}
	}
	a.Merge(&b)
	for _, q := range []float64{0.1, 0.5, 0.99} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v: merged %v, direct %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.total != 2000 {
		t.Errorf("total %d", a.total)
	}
}
