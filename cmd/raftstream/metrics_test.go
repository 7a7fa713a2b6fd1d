package main

import (
	"io"
	"net/http"
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
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}
