package e2e

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestInfoStreamsSection runs the binary and reads raftstream's INFO
// section through go-redis, as a monitoring client would: INFO streams
// alone, and bare INFO with the section after Keyspace.
func TestInfoStreamsSection(t *testing.T) {
	if targetIsRedis() {
		t.Skip("INFO streams is raftstream's own section")
	}
	p := StartNode(t)
	ctx := testCtx(t, time.Minute)
	c := newClient(t, p.Addr, 3, 0)
	must(t, c.XGroupCreateMkStream(ctx, "orders", "billing", "$").Err())
	for range 5 {
		must(t, c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []string{"item", "book"}}).Err())
	}
	must(t, c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "billing", Consumer: "w1", Streams: []string{"orders", ">"}, Count: 2}).Err())

	m, err := c.InfoMap(ctx, "streams").Result()
	must(t, err)
	want := map[string]string{
		"streams": "1", "stream_entries": "5", "stream_groups": "1", "stream_consumers": "1",
		"stream_pending": "2", "stream_max_lag": "3", "stream_groups_lag_unknown": "0", "stream_dead_lettered": "0",
	}
	got := m["Streams"]
	for k, v := range want {
		if got[k] != v {
			t.Errorf("INFO streams %s = %q, want %q (section %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("INFO streams has %d fields, want %d: %v", len(got), len(want), got)
	}
	all, err := c.InfoMap(ctx).Result()
	must(t, err)
	if all["Streams"]["stream_pending"] != "2" || all["Keyspace"]["db0"] == "" {
		t.Errorf("bare INFO: Streams %v, Keyspace %v", all["Streams"], all["Keyspace"])
	}
}
