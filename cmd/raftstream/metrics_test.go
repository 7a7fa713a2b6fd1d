package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestMetricsListenServesPrometheus runs a node with --metrics-listen and
// --requirepass (a scrape needs the password, as the console does),
// writes to a stream with a consumer group and scrapes /metrics: the
// stream, group, command and raft series carry the values Redis reports
// for the same commands (XLEN 3, XINFO GROUPS pending 1, lag 2, consumers
// 1; one failed XADD).
func TestMetricsListenServesPrometheus(t *testing.T) {
	web := freePorts(t, 1)[0]
	c, stop := startWithPassword(t, "pw", "--metrics-listen", web)
	defer stop()
	c.untilOK(t, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	for _, id := range []string{"1-1", "2-1", "3-1"} {
		if got := c.do(t, "XADD", "s", id, "f", "v"); got != "$3\r\n"+id+"\r\n" {
			t.Fatalf("XADD %s = %q", id, got)
		}
	}
	if got := c.do(t, "XADD", "s", "1-1", "f", "v"); !strings.HasPrefix(got, "-ERR The ID specified in XADD") {
		t.Fatalf("XADD 1-1 = %q", got)
	}
	if got := c.do(t, "RAFT", "SNAPSHOT"); got != "+OK\r\n" {
		t.Fatalf("RAFT SNAPSHOT = %q", got)
	}
	// Last on this connection: do reads only the first line of the array.
	if got := c.do(t, "XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"); got != "*1\r\n" {
		t.Fatalf("XREADGROUP = %q", got)
	}

	res := httpGetAuthed(t, "http://"+web+"/metrics", "pw")
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(map[string]bool)
	for _, l := range strings.Split(string(body), "\n") {
		lines[l] = true
	}
	for _, want := range []string{
		`raftstream_stream_length{db="0",key="s"} 3`,
		`raftstream_stream_last_id_ms{db="0",key="s"} 3`,
		`raftstream_stream_entries_added_total{db="0",key="s"} 3`,
		`raftstream_group_pending{db="0",group="g",key="s"} 1`,
		`raftstream_group_lag{db="0",group="g",key="s"} 2`,
		`raftstream_group_consumers{db="0",group="g",key="s"} 1`,
		`raftstream_streams_truncated 0`,
		`raftstream_command_calls_total{command="xadd"} 4`,
		`raftstream_command_failed_calls_total{command="xadd"} 1`,
		`raftstream_command_calls_total{command="xreadgroup"} 1`,
		`raftstream_command_calls_total{command="auth"} 1`,
		`raftstream_errors_total{code="ERR"} 1`,
		`raftstream_raft_is_leader 1`,
		`raftstream_raft_members 1`,
		`# TYPE raftstream_command_calls_total counter`,
		`# TYPE raftstream_group_pending gauge`,
	} {
		if !lines[want] {
			t.Errorf("no line %q", want)
		}
	}
	for _, prefix := range []string{"raftstream_raft_commit_index ", "raftstream_raft_applied_index ", "raftstream_raft_leader_changes_total ", "go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(string(body), "\n"+prefix) {
			t.Errorf("no %s series", prefix)
		}
	}
	// The write path and snapshot histograms: the three XADDs that
	// succeeded and the XREADGROUP were timed, the log writes and wal
	// flushes too, and RAFT SNAPSHOT was measured.
	value := func(name string) float64 {
		for l := range lines {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", l, err)
				}
				return f
			}
		}
		t.Errorf("no %s series", name)
		return 0
	}
	for name, least := range map[string]float64{
		"raftstream_commit_seconds_count":           4,
		"raftstream_batch_commands_count":           1,
		"raftstream_batch_commands_sum":             4,
		"raftstream_raft_log_store_seconds_count":   1,
		"raftstream_raft_log_fsync_seconds_count":   1,
		"raftstream_snapshot_seconds_count":         1,
		"raftstream_snapshot_bytes_count":           1,
		"raftstream_last_snapshot_size_bytes":       1,
		"raftstream_snapshot_restore_seconds_count": 0,
	} {
		if v := value(name); v < least {
			t.Errorf("%s = %v, want at least %v", name, v, least)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}
