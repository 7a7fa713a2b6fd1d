package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteMetricsRoundTrip(t *testing.T) {
	var b bytes.Buffer
	writeMetrics(&b, "redis", "xadd c=1 P=1", metric{"ops/s", 3608.25}, metric{"p50 ms", 0.251})
	if want := "redis\txadd c=1 P=1\tops/s\t3608.25\nredis\txadd c=1 P=1\tp50 ms\t0.251\n"; b.String() != want {
		t.Fatalf("writeMetrics = %q, want %q", b.String(), want)
	}
	tb, err := parseMetrics(&b)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := tb.median(cell{"xadd c=1 P=1", "ops/s", "redis"}); !ok || v != 3608.25 {
		t.Errorf("median = %v %v", v, ok)
	}
}

func TestRunReport(t *testing.T) {
	in := strings.Join([]string{
		"# comment lines and blank lines are skipped",
		"",
		"raftstream\tc=1\tops/s\t1000",
		"redis\tc=1\tops/s\t2000",
		"raftstream\tc=1\tp50 ms\t0.5",
		"redis\tc=1\tp50 ms\t0.25",
		"raftstream\tc=1\tops/s\t3000",
		"redis\tc=1\tops/s\t4000",
		"raftstream\tc=1\tops/s\t2000",
		"redis\tc=1\tops/s\t3000",
		"raftstream\tqueue\tmsgs/s\t50",
	}, "\n")
	tests := []struct {
		name, baseline, want string
	}{
		{name: "ratios", baseline: "redis", want: "" +
			"| workload | metric | redis | raftstream | raftstream / redis |\n" +
			"| --- | --- | ---: | ---: | ---: |\n" +
			"| c=1 | ops/s | 3000 | 2000 | 0.67 |\n" +
			"| c=1 | p50 ms | 0.250 | 0.500 | 2.00 |\n" +
			"| queue | msgs/s | - | 50.0 | - |\n"},
		{name: "no baseline", baseline: "", want: "" +
			"| workload | metric | raftstream | redis |\n" +
			"| --- | --- | ---: | ---: |\n" +
			"| c=1 | ops/s | 2000 | 3000 |\n" +
			"| c=1 | p50 ms | 0.500 | 0.250 |\n" +
			"| queue | msgs/s | 50.0 | - |\n"},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		if err := runReport(strings.NewReader(in), &out, tc.baseline); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if out.String() != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, out.String(), tc.want)
		}
	}
}

func TestRunReportErrors(t *testing.T) {
	tests := []struct{ name, in, baseline, want string }{
		{"too few fields", "redis\tc=1\t5\n", "", "line 1: want label"},
		{"bad value", "redis\tc=1\tops/s\tfast\n", "", "line 1: value"},
		{"unknown baseline", "redis\tc=1\tops/s\t5\n", "nats", `baseline "nats" is none of the labels`},
		{"empty", "\n", "", "no metrics lines"},
	}
	for _, tc := range tests {
		err := runReport(strings.NewReader(tc.in), &bytes.Buffer{}, tc.baseline)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestParseFlagsModesAndFormats(t *testing.T) {
	tests := []struct {
		args []string
		err  string
	}{
		{args: []string{"-mode", "report", "-baseline", "redis"}},
		{args: []string{"-mode", "xlen", "-key", "k", "-readonly", "-format", "metrics"}},
		{args: []string{"-mix", "xaddwait", "-wait-replicas", "2", "-workload", "c=50 P=1"}},
		{args: []string{"-mode", "xlen"}, err: "-mode xlen needs -key"},
		{args: []string{"-format", "csv"}, err: "-format must be"},
		{args: []string{"-mode", "bulk"}, err: "-mode must be"},
		{args: []string{"-wait-replicas", "-1"}, err: "-wait-replicas must be >= 0"},
		{args: []string{"-label", "a\tb"}, err: "must not contain tabs"},
	}
	for _, tc := range tests {
		_, err := parseFlags(tc.args, &bytes.Buffer{})
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
		}
	}
}
