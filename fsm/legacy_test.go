package fsm

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/hashicorp/raft"
)

// v1Fixture is fsm/testdata/v1_entries.json: log entries written by the
// encoder and server of commit 4da616e (MULTI/EXEC and CONFIG SET
// tunnelled in argv), with the replies and final state digest that
// version's state machine produced (gen_v1_fixture_test.go there).
type v1Fixture struct {
	Digest  string `json:"digest"`
	Entries []struct {
		Data    string   `json:"data"`
		Replies []string `json:"replies"`
		Err     bool     `json:"err"`
	} `json:"entries"`
}

// TestV1EntriesApplyIdentically replays entries of the previous format:
// they must still decode, re-encode to the same bytes, and apply to the
// same replies and state.
func TestV1EntriesApplyIdentically(t *testing.T) {
	raw, err := os.ReadFile("testdata/v1_entries.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx v1Fixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	f := New(quietLogger())
	for i, e := range fx.Entries {
		data, err := hex.DecodeString(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := DecodeEntry(data)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		again, err := AppendEntry(nil, &dec)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("entry %d re-encodes to %x, %v", i, again, err)
		}
		res := f.Apply(&raft.Log{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: data}).(*Result)
		if (res.Err != nil) != e.Err {
			t.Fatalf("entry %d: error %v, want error %v", i, res.Err, e.Err)
		}
		if len(res.Replies) != len(e.Replies) {
			t.Fatalf("entry %d: %d replies, want %d", i, len(res.Replies), len(e.Replies))
		}
		for j, want := range e.Replies {
			if got := hex.EncodeToString(replyBytes(res, j)); got != want {
				t.Errorf("entry %d reply %d:\n got %q\nwant %q", i, j, mustHex(got), mustHex(want))
			}
		}
	}
	if d, err := f.Digest(); err != nil || d != fx.Digest {
		t.Fatalf("digest %s, %v; want %s", d, err, fx.Digest)
	}
}

func replyBytes(res *Result, i int) []byte { return res.Replies[i] }

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}
