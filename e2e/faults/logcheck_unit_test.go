package faults

import (
	"testing"
	"time"
)

// TestCheckLogModel checks the checker on hand-written histories: it must
// accept legal ones and flag each kind of anomaly.
func TestCheckLogModel(t *testing.T) {
	add := func(c int, val, id string, out outcome, call, ret int64) op {
		return op{Client: c, Kind: "add", Key: "k", Value: val, ID: id, Out: out, Call: call, Return: ret}
	}
	read := func(c int, call, ret int64, pairs ...string) op {
		o := op{Client: c, Kind: "read", Key: "k", Call: call, Return: ret}
		for i := 0; i+1 < len(pairs); i += 2 {
			o.Vals, o.IDs = append(o.Vals, pairs[i]), append(o.IDs, pairs[i+1])
		}
		return o
	}
	const end = 1000
	tests := []struct {
		name    string
		ops     []op
		illegal bool // porcupine must say Illegal
		anomaly bool // some anomaly must be reported
	}{
		{"sequential", []op{add(0, "a", "1-0", outOK, 0, 10), add(1, "b", "2-0", outOK, 20, 30), read(2, 40, 50, "a", "1-0", "b", "2-0")}, false, false},
		{"concurrent adds either order", []op{add(0, "a", "2-0", outOK, 0, 30), add(1, "b", "1-0", outOK, 0, 30), read(2, 40, 50, "b", "1-0", "a", "2-0")}, false, false},
		{"unknown applied", []op{add(0, "a", "", outUnknown, 0, end), read(2, 40, 50, "a", "1-0")}, false, false},
		{"unknown not applied", []op{add(0, "a", "", outUnknown, 0, end), read(2, 40, 50)}, false, false},
		{"lost write", []op{add(0, "a", "1-0", outOK, 0, 10), read(2, 40, 50)}, true, true},
		{"stale read", []op{add(0, "a", "1-0", outOK, 0, 10), read(1, 20, 30, "a", "1-0"), add(0, "b", "2-0", outOK, 40, 50), read(1, 60, 70, "a", "1-0")}, true, true},
		{"reordered", []op{add(0, "a", "1-0", outOK, 0, 10), add(0, "b", "2-0", outOK, 20, 30), read(2, 40, 50, "b", "1-0", "a", "2-0")}, true, true},
		{"unknown flickers", []op{add(0, "a", "", outUnknown, 0, end), read(1, 20, 30, "a", "1-0"), read(1, 40, 50)}, true, true},
		{"failed add visible", []op{add(0, "a", "", outFail, 0, 10), read(1, 20, 30, "a", "1-0")}, true, true},
		{"ID mismatch", []op{add(0, "a", "5-0", outOK, 0, 10), read(1, 20, 30, "a", "1-0")}, false, true},
		{"IDs not increasing", []op{add(0, "a", "2-0", outOK, 0, 10), add(0, "b", "1-0", outOK, 20, 30), read(1, 40, 50, "a", "2-0", "b", "1-0")}, false, true},
		{"ID changes", []op{add(0, "a", "", outUnknown, 0, end), read(1, 20, 30, "a", "1-0"), read(1, 40, 50, "a", "1-1")}, false, true},
		{"phantom value", []op{read(1, 20, 30, "zz", "1-0")}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := checkLog(tc.ops, 10*time.Second)
			if got := v.Linearizable == "Illegal"; got != tc.illegal {
				t.Errorf("linearizable = %s, want illegal=%v", v.Linearizable, tc.illegal)
			}
			if got := len(v.Anomalies) > 0; got != tc.anomaly {
				t.Errorf("anomalies = %q, want some=%v", v.Anomalies, tc.anomaly)
			}
		})
	}
}

// TestStaleReadsNamed: an Illegal verdict names the read that missed a
// write, so a CI log explains the failure without the report dir.
func TestStaleReadsNamed(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
		want int
	}{
		{"missed ack", []op{
			{Kind: "add", Key: "k", Value: "a", Out: outOK, Call: 0, Return: 10},
			{Kind: "read", Key: "k", Call: 20, Return: 30},
		}, 1},
		{"went back", []op{
			{Kind: "read", Key: "k", Vals: []string{"a"}, Call: 0, Return: 10},
			{Kind: "read", Key: "k", Call: 20, Return: 30},
		}, 1},
		{"concurrent is fine", []op{
			{Kind: "add", Key: "k", Value: "a", Out: outOK, Call: 0, Return: 25},
			{Kind: "read", Key: "k", Call: 20, Return: 30},
		}, 0},
		{"unknown add is no proof", []op{
			{Kind: "add", Key: "k", Value: "a", Out: outUnknown, Call: 0, Return: 10},
			{Kind: "read", Key: "k", Call: 20, Return: 30},
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := staleReads(tc.ops, 5); len(got) != tc.want {
				t.Errorf("staleReads = %q, want %d", got, tc.want)
			}
		})
	}
}
