package cluster

import (
	"bufio"
	"bytes"
	"runtime"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/fsm"
)

// TestMsgpackDecodesBigEntryLinearly decodes an AppendEntries request
// carrying a 20 MiB entry the way raft's network transport does (a fresh
// MsgpackHandle over a bufio.Reader): with third_party/go-msgpack it
// allocates the entry once (up to 64 MiB; twice the entry with the
// doubling steps of the first patch); upstream v2.1.5 grew the byte slice
// 256 KiB at a time, 40 times the entry here (7 GB for a 60 MiB one).
func TestMsgpackDecodesBigEntryLinearly(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 20<<20/16)
	req := raft.AppendEntriesRequest{Term: 3, Entries: []*raft.Log{{Index: 7, Term: 3, Type: raft.LogCommand, Data: data}}}
	var wire bytes.Buffer
	if err := codec.NewEncoder(&wire, &codec.MsgpackHandle{}).Encode(&req); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var got raft.AppendEntriesRequest
	if err := codec.NewDecoder(bufio.NewReader(&wire), &codec.MsgpackHandle{}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(got.Entries) != 1 || !bytes.Equal(got.Entries[0].Data, data) {
		t.Fatal("the entry did not decode intact")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(data))*5/4 {
		t.Fatalf("decoding a %d MiB entry allocated %d MiB", len(data)>>20, alloc>>20)
	}
}

// A leader's entry holds its parsed commands in raft.Log.Local (a patch of
// third_party/raft): it must never reach the wire or a log store that
// encodes entries with msgpack (raft's transport, raft-boltdb).
func TestLogLocalIsNotEncoded(t *testing.T) {
	l := raft.Log{Index: 7, Term: 3, Type: raft.LogCommand, Data: []byte("entry")}
	encode := func(l *raft.Log) []byte {
		var b bytes.Buffer
		if err := codec.NewEncoder(&b, &codec.MsgpackHandle{}).Encode(&raft.AppendEntriesRequest{Entries: []*raft.Log{l}}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	plain := encode(&l)
	l.Local = fsm.NewCarried(3)
	if got := encode(&l); !bytes.Equal(got, plain) {
		t.Fatalf("Local changed the encoding: %q, want %q", got, plain)
	}
}
