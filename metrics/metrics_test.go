package metrics

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// described returns the names of the series the collector exports.
func described(t *testing.T) []string {
	t.Helper()
	ch := make(chan *prometheus.Desc)
	go func() {
		newCollector(nil, Options{}).Describe(ch)
		close(ch)
	}()
	re := regexp.MustCompile(`fqName: "([^"]+)"`)
	var names []string
	for d := range ch {
		m := re.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		names = append(names, m[1])
	}
	return names
}

// TestDocsAndDashboardMatchTheCollector keeps docs/operations.md's table
// and the Grafana dashboard in step with the series the collector
// exports: every series is documented, and the dashboard queries none
// that does not exist.
func TestDocsAndDashboardMatchTheCollector(t *testing.T) {
	names := described(t)
	if len(names) < 20 {
		t.Fatalf("described %d series: %v", len(names), names)
	}
	docs, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !regexp.MustCompile("(?m)^\\| `" + n + "` \\|").Match(docs) {
			t.Errorf("docs/operations.md has no row for %s", n)
		}
	}
	dash, err := os.ReadFile("../deploy/grafana/raftstream-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`raftstream_\w+`).FindAllString(string(dash), -1) {
		if !slices.Contains(names, m) {
			t.Errorf("the dashboard queries %s, which is not exported", m)
		}
	}
}
