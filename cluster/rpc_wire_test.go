package cluster

import (
	"bytes"
	"testing"

	"github.com/raftstream/raftstream/fsm"
)

// TestResultsRoundTrip: an opProposeResults answer carries each reply's
// bytes, outcome and transaction parts; the previous version's answer
// carries bytes, from which the same replies are recovered.
func TestResultsRoundTrip(t *testing.T) {
	txn := []byte("*2\r\n:1\r\n-ERR x\r\n")
	replies := []fsm.Reply{
		{RESP: []byte("$3\r\n1-1\r\n")},
		{RESP: []byte("-ERR no\r\n"), Outcome: fsm.OutcomeError},
		{RESP: []byte("*-1\r\n"), Outcome: fsm.OutcomeNull},
		{RESP: txn, Parts: [][]byte{txn[4:8], txn[8:]}},
	}
	cmds := []fsm.Command{
		{Proto: 2, Argv: args("XADD", "s", "1-1", "f", "v")},
		{Proto: 2, Argv: args("XADD", "s", "bad")},
		{Proto: 2, Argv: args("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")},
		{Kind: fsm.KindTxn, Proto: 2, Txn: &fsm.Txn{Cmds: [][][]byte{args("XLEN", "s"), args("XADD", "s", "bad")}}},
	}
	same := func(got []fsm.Reply) bool {
		if len(got) != len(replies) {
			return false
		}
		for i, r := range got {
			w := replies[i]
			if !bytes.Equal(r.RESP, w.RESP) || r.Outcome != w.Outcome || len(r.Parts) != len(w.Parts) {
				return false
			}
			for k := range r.Parts {
				if !bytes.Equal(r.Parts[k], w.Parts[k]) {
					return false
				}
			}
		}
		return true
	}
	got, err := decodeResults(encodeResults(replies), len(replies))
	if err != nil || !same(got) {
		t.Fatalf("decodeResults = %+v, %v", got, err)
	}
	got, err = decodeReplies(encodeReplies(replies), cmds)
	if err != nil || !same(got) {
		t.Fatalf("decodeReplies = %+v, %v", got, err)
	}
	if _, err := decodeResults(encodeResults(replies), 3); err == nil {
		t.Fatal("decodeResults accepted a count mismatch")
	}
	for _, bad := range [][]byte{
		wbuf(nil).uvarint(1).bytes([]byte("+OK\r\n")).uvarint(3).uvarint(0),                       // unknown outcome
		wbuf(nil).uvarint(1).bytes([]byte("+OK\r\n")).uvarint(0).uvarint(1).uvarint(6),            // part longer than the reply
		wbuf(nil).uvarint(1).bytes([]byte("+OK\r\n")).uvarint(0).uvarint(2).uvarint(3).uvarint(3), // parts longer than the reply
		wbuf(nil).uvarint(1).bytes([]byte("+OK\r\n")).uvarint(0),                                  // truncated
		append(encodeResults(replies[:1]), 0),                                                     // trailing byte
	} {
		if r, err := decodeResults(bad, 1); err == nil {
			t.Errorf("decodeResults(%q) = %+v", bad, r)
		}
	}
}
