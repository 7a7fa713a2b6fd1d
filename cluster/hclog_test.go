package cluster

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for concurrent log writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// jsonKeys returns the top-level keys of one JSON object, in order and
// with repeats, and the decoded object.
func jsonKeys(t *testing.T, line string) ([]string, map[string]any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %q (%v)", line, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(line), &obj); err != nil {
		t.Fatal(err)
	}
	return keys, obj
}

// A node logging JSON (raft's records included) writes every key once,
// and raft's own objects as their String form, not as their exported
// fields.
func TestJSONLogFields(t *testing.T) {
	var buf syncBuffer
	cfg := testConfig(t, "n1", t.TempDir())
	cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := openNode(t, cfg)
	waitLeader(t, n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	sawRaftNode := false
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		keys, obj := jsonKeys(t, line)
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("key %q twice in %s", k, line)
			}
			seen[k] = true
		}
		if obj["node"] != "n1" {
			t.Errorf("node = %v in %s", obj["node"], line)
		}
		for k, v := range obj {
			if _, isObject := v.(map[string]any); isObject {
				t.Errorf("%s is a JSON object (a Go value printed field by field) in %s", k, line)
			}
		}
		if v, ok := obj["raft_node"].(string); ok {
			sawRaftNode = true
			if !strings.HasPrefix(v, "Node at ") {
				t.Errorf("raft_node = %q, want raft's String form", v)
			}
		}
	}
	if !sawRaftNode {
		t.Errorf("no raft record with its node (entering candidate state) in:\n%s", buf.String())
	}
}
