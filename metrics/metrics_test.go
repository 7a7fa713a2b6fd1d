package metrics

import (
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
	"github.com/raftstream/raftstream/server"
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
		// A histogram's series are its name plus _bucket, _sum, _count.
		base := regexp.MustCompile(`_(bucket|sum|count)$`).ReplaceAllString(m, "")
		if !slices.Contains(names, m) && !slices.Contains(names, base) {
			t.Errorf("the dashboard queries %s, which is not exported", m)
		}
	}
}

// fakeSource is a Source over a plain engine.State and fixed counters.
type fakeSource struct {
	st *engine.State
}

func (f *fakeSource) Status() cluster.Status {
	return cluster.Status{State: "follower", Term: 3, CommitIndex: 42, AppliedIndex: 41, LastLogIndex: 43,
		LastSnapshotIndex: 40, Members: 3, LeaderChanges: 2}
}

func (f *fakeSource) Read(fn func(st *engine.State)) { fn(f.st) }

func (f *fakeSource) Stats() cluster.Stats {
	return cluster.Stats{
		CommitSeconds:       cluster.HistogramSnapshot{Bounds: []float64{0.001, 0.01}, Cumulative: []uint64{1, 3}, Count: 4, Sum: 0.5},
		SnapshotBytes:       cluster.HistogramSnapshot{Bounds: []float64{1024}, Cumulative: []uint64{0}, Count: 1, Sum: 4096},
		LastSnapshotBytes:   4096,
		LastSnapshotSeconds: 0.25,
	}
}

func (f *fakeSource) CommandStats() []server.CommandStat {
	return []server.CommandStat{{Name: "xinfo|groups", Calls: 5, Usec: 2_500_000, Rejected: 1, Failed: 2}}
}

func (f *fakeSource) ErrorStats() ([]string, []int64) {
	return []string{"ERR", "WRONGTYPE"}, []int64{2, 1}
}

// exec runs a command line on the fake's state.
func (f *fakeSource) exec(t *testing.T, line string) {
	t.Helper()
	var argv [][]byte
	for _, a := range strings.Fields(line) {
		argv = append(argv, []byte(a))
	}
	w := resp.NewWriter(2)
	f.st.Exec(&engine.Ctx{Now: 1000, W: w}, argv)
	if strings.HasPrefix(string(w.Buf), "-") {
		t.Fatalf("%s: %s", line, w.Buf)
	}
}

// scrape returns the exposition of a scrape of src.
func scrape(src Source, opts Options) string {
	rec := httptest.NewRecorder()
	Handler(src, opts).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// TestCollect scrapes a fake node: the stream cap cuts the list and says
// so, a group whose lag Redis reports as null has no lag series (XDEL
// after the group's position, checked against redis-server 7.0), the
// command and raft figures come through with their values.
func TestCollect(t *testing.T) {
	f := &fakeSource{st: engine.NewState()}
	for _, line := range []string{
		"XADD s 1-1 f v", "XADD s 2-1 f v", "XADD s 3-1 f v", "XGROUP CREATE s g 1-1", "XDEL s 2-1",
		"XADD t 5-1 f v", "XADD u 1-1 f v",
	} {
		f.exec(t, line)
	}
	body := scrape(f, Options{})
	lines := make(map[string]bool)
	for _, l := range strings.Split(body, "\n") {
		lines[l] = true
	}
	for _, want := range []string{
		`raftstream_stream_length{db="0",key="s"} 2`,
		`raftstream_stream_entries_added_total{db="0",key="s"} 3`,
		`raftstream_stream_last_id_ms{db="0",key="t"} 5`,
		`raftstream_group_pending{db="0",group="g",key="s"} 0`,
		`raftstream_group_consumers{db="0",group="g",key="s"} 0`,
		`raftstream_stream_length{db="0",key="u"} 1`,
		`raftstream_streams_truncated 0`,
		`raftstream_raft_is_leader 0`,
		`raftstream_raft_term 3`,
		`raftstream_raft_commit_index 42`,
		`raftstream_raft_applied_index 41`,
		`raftstream_raft_last_log_index 43`,
		`raftstream_raft_last_snapshot_index 40`,
		`raftstream_raft_members 3`,
		`raftstream_raft_leader_changes_total 2`,
		`raftstream_command_calls_total{command="xinfo|groups"} 5`,
		`raftstream_command_failed_calls_total{command="xinfo|groups"} 2`,
		`raftstream_command_rejected_calls_total{command="xinfo|groups"} 1`,
		`raftstream_command_seconds_total{command="xinfo|groups"} 2.5`,
		`raftstream_errors_total{code="ERR"} 2`,
		`raftstream_errors_total{code="WRONGTYPE"} 1`,
		`# TYPE raftstream_commit_seconds histogram`,
		`raftstream_commit_seconds_bucket{le="0.001"} 1`,
		`raftstream_commit_seconds_bucket{le="0.01"} 3`,
		`raftstream_commit_seconds_bucket{le="+Inf"} 4`,
		`raftstream_commit_seconds_sum 0.5`,
		`raftstream_commit_seconds_count 4`,
		`raftstream_snapshot_bytes_bucket{le="1024"} 0`,
		`raftstream_snapshot_bytes_count 1`,
		`raftstream_batch_commands_count 0`,
		`raftstream_last_snapshot_size_bytes 4096`,
		`raftstream_last_snapshot_seconds 0.25`,
		`raftstream_last_snapshot_restore_seconds 0`,
	} {
		if !lines[want] {
			t.Errorf("no line %q", want)
		}
	}
	if strings.Contains(body, "raftstream_group_lag{") {
		t.Error("a lag series for a null lag")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}

	capped := scrape(f, Options{MaxStreams: 2})
	if n := strings.Count(capped, "\nraftstream_stream_length{"); n != 2 || !strings.Contains(capped, "\nraftstream_streams_truncated 1\n") {
		t.Errorf("capped at 2: %d streams\n%s", n, capped)
	}
}
