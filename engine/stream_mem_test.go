package engine

import (
	"runtime"
	"strconv"
	"testing"
)

// memEntry builds entry i of the memory workload: fields "a", "b", "c" with
// values of 1 to 8 bytes.
func memEntry(i int, buf [][]byte) [][]byte {
	v := strconv.Itoa(i * 7919)
	buf[1] = []byte(v[:1+i%len(v)])
	buf[3] = []byte("xyzxyzxy"[:1+i%8])
	buf[5] = []byte(strconv.Itoa(i % 1000))
	return buf
}

var defaultLimits = NodeLimits{MaxBytes: 4096, MaxEntries: 100}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryPerEntry measures Go heap per entry for 1M entries of three
// short fields with Redis's default node limits. The target is <= 40 bytes;
// it fails only above 60.
func TestMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("1M entries")
	}
	const n = 1_000_000
	before := heapAlloc()
	s := NewStream()
	fv := [][]byte{[]byte("a"), nil, []byte("b"), nil, []byte("c"), nil}
	for i := 0; i < n; i++ {
		s.Append(ID{1_700_000_000_000 + uint64(i/8), uint64(i % 8)}, memEntry(i, fv), defaultLimits)
	}
	after := heapAlloc()
	per := float64(after-before) / n
	t.Logf("%d entries, %d nodes: %.1f bytes/entry of Go heap (HeapAlloc delta); MemoryUsage %.1f bytes/entry",
		n, s.NodeCount(), per, float64(s.MemoryUsage())/n)
	if per > 60 {
		t.Fatalf("%.1f bytes per entry, limit 60", per)
	}
	runtime.KeepAlive(s)
}

func BenchmarkStreamAppend(b *testing.B) {
	fv := [][]byte{[]byte("a"), nil, []byte("b"), nil, []byte("c"), nil}
	before := heapAlloc()
	s := NewStream()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Append(ID{1_700_000_000_000 + uint64(i/8), uint64(i % 8)}, memEntry(i, fv), defaultLimits)
	}
	b.StopTimer()
	b.ReportMetric(float64(heapAlloc()-before)/float64(b.N), "heap-B/entry")
	runtime.KeepAlive(s)
}

func BenchmarkStreamRange(b *testing.B) {
	fv := [][]byte{[]byte("a"), nil, []byte("b"), nil, []byte("c"), nil}
	s := NewStream()
	for i := 0; i < 100_000; i++ {
		s.Append(ID{uint64(i + 1), 0}, memEntry(i, fv), defaultLimits)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// XRANGE start COUNT 10 from a random-ish point.
		start := ID{uint64(i*7919%100_000 + 1), 0}
		n := 0
		s.Range(start, MaxID, i%2 == 1, func(ID, [][]byte) bool { n++; return n < 10 })
	}
}
