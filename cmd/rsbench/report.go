package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Metrics lines (-format metrics) carry one figure of one run each:
//
//	label <TAB> workload <TAB> metric <TAB> value
//
// The comparison scripts run every server once per round, alternating,
// append the lines of all rounds to one file, and -mode report turns them
// into one markdown table of medians with ratio columns. Other tools'
// figures (nats bench) join the table by writing lines of the same form.

// metric is one named figure of a run.
type metric struct {
	name  string
	value float64
}

// writeMetrics prints one metrics line per figure.
func writeMetrics(w io.Writer, label, workload string, ms ...metric) {
	for _, m := range ms {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", label, workload, m.name, strconv.FormatFloat(m.value, 'g', -1, 64))
	}
}

// cell identifies the runs whose median is one table cell.
type cell struct{ workload, metric, label string }

// table holds parsed metrics lines with the order of first appearance of
// workloads, their metrics and labels, so the report follows the script.
type table struct {
	values    map[cell][]float64
	workloads []string
	metrics   map[string][]string // per workload
	labels    []string
}

func parseMetrics(r io.Reader) (*table, error) {
	t := &table{values: map[cell][]float64{}, metrics: map[string][]string{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: want label, workload, metric and value separated by tabs, got %q", n, line)
		}
		v, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: value: %w", n, err)
		}
		c := cell{workload: f[1], metric: f[2], label: f[0]}
		if !slices.Contains(t.workloads, c.workload) {
			t.workloads = append(t.workloads, c.workload)
		}
		if !slices.Contains(t.metrics[c.workload], c.metric) {
			t.metrics[c.workload] = append(t.metrics[c.workload], c.metric)
		}
		if !slices.Contains(t.labels, c.label) {
			t.labels = append(t.labels, c.label)
		}
		t.values[c] = append(t.values[c], v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	return t, nil
}

// runReport reads metrics lines and prints, per workload and metric, the
// median of each label's runs and, for every label but the baseline, its
// ratio to the baseline's median (value / baseline, whichever direction
// is better for the metric).
func runReport(r io.Reader, w io.Writer, baseline string) error {
	t, err := parseMetrics(r)
	if err != nil {
		return err
	}
	if len(t.labels) == 0 {
		return fmt.Errorf("no metrics lines on input")
	}
	labels := t.labels
	if baseline != "" {
		if !slices.Contains(labels, baseline) {
			return fmt.Errorf("baseline %q is none of the labels %q", baseline, labels)
		}
		labels = append([]string{baseline}, slices.DeleteFunc(slices.Clone(labels), func(l string) bool { return l == baseline })...)
	}

	head := []string{"workload", "metric"}
	align := []string{"---", "---"}
	for i, l := range labels {
		head = append(head, l)
		align = append(align, "---:")
		if baseline != "" && i > 0 {
			head = append(head, l+" / "+baseline)
			align = append(align, "---:")
		}
	}
	fmt.Fprintf(w, "| %s |\n| %s |\n", strings.Join(head, " | "), strings.Join(align, " | "))
	for _, wl := range t.workloads {
		for _, m := range t.metrics[wl] {
			row := []string{wl, m}
			base, hasBase := t.median(cell{wl, m, baseline})
			for i, l := range labels {
				v, ok := t.median(cell{wl, m, l})
				row = append(row, formatFigure(v, ok))
				if baseline != "" && i > 0 {
					ratio := "-"
					if ok && hasBase && base != 0 {
						ratio = fmt.Sprintf("%.2f", v/base)
					}
					row = append(row, ratio)
				}
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	}
	return nil
}

// median returns the median of a cell's runs (the lower middle for an
// even count, as for -runs) and whether it has any.
func (t *table) median(c cell) (float64, bool) {
	v := t.values[c]
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

// formatFigure prints large figures as integers and small ones (latencies
// in ms, ratios) with enough digits to compare.
func formatFigure(v float64, ok bool) string {
	switch a := math.Abs(v); {
	case !ok:
		return "-"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}
