package fsm

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
)

func TestGenV1Fixture(t *testing.T) {
	out := os.Getenv("GEN_V1_FIXTURE")
	if out == "" {
		t.Skip()
	}
	f := New(quietLogger())
	type rec struct {
		Data    string   `json:"data"`
		Replies []string `json:"replies,omitempty"`
		Err     bool     `json:"err,omitempty"`
	}
	var recs []rec
	idx := uint64(0)
	now := int64(1_700_000_000_000)
	apply := func(e Entry) {
		idx++
		now += 7
		e.Now = now
		b, err := AppendEntry(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		res := f.Apply(&raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: b}).(*Result)
		r := rec{Data: hex.EncodeToString(b), Err: res.Err != nil}
		for _, x := range res.Replies {
			r.Replies = append(r.Replies, hex.EncodeToString(x))
		}
		recs = append(recs, r)
	}
	cmds := func(c ...Command) Entry { return Entry{Type: EntryCommands, Commands: c} }
	watch := func(db int, key string) engine.Watch {
		var w engine.Watch
		f.Read(func(st *engine.State) { w = st.WatchKey(db, key, now) })
		return w
	}
	apply(Entry{Type: EntryMember, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "n1", RaftAddr: "a:1", ClientAddr: "a:2", Incarnation: "x"}}})
	apply(cmds(cmd(0, 2, "XADD", "s", "1-1", "f", "v"), cmd(0, 3, "XADD", "t", "*", "a", "b"), cmd(1, 2, "XADD", "s", "5-1", "x", "y"), cmd(0, 2, "PING")))
	ws := []engine.Watch{watch(0, "s"), watch(0, "missing"), watch(1, "s")}
	// A transaction whose watches hold: SELECT switches the database, an
	// error inside is an element, reads see the writes.
	txn := engine.EncodeTxn(ws, [][][]byte{
		argv("XADD", "s", "2-1", "f", "v"), argv("XLEN", "s"), argv("PING"), argv("ECHO", "hi"),
		argv("SELECT", "1"), argv("XLEN", "s"), argv("XADD", "s", "bad", "f", "v"), argv("UNWATCH"), argv("SELECT", "99"), argv("XRANGE", "s", "-", "+"),
	})
	apply(cmds(Command{DB: 0, Proto: 2, Argv: txn}, Command{DB: 0, Proto: 3, Argv: txn}))
	// The same watches are stale now: a null reply, in both protocols.
	apply(cmds(Command{DB: 0, Proto: 2, Argv: txn}, Command{DB: 2, Proto: 3, Argv: engine.EncodeTxn(ws[:1], [][][]byte{argv("XADD", "s", "*", "f", "v")})}))
	// Watches only, no commands; an empty transaction.
	apply(cmds(Command{DB: 0, Proto: 2, Argv: engine.EncodeTxn([]engine.Watch{watch(0, "t")}, nil)}, Command{DB: 0, Proto: 3, Argv: engine.EncodeTxn(nil, nil)}))
	// Replicated CONFIG SET as the server proposed it, and malformed ones.
	apply(cmds(
		cmd(0, 2, "CONFIG", "SET", "stream-node-max-entries", "7"),
		cmd(0, 3, "config", "set", "STREAM-NODE-MAX-BYTES", "1kb", "stream-node-max-entries", "9"),
		cmd(0, 2, "CONFIG", "SET", "stream-node-max-bytes", "lots"),
		cmd(0, 2, "CONFIG", "SET", "nope", "1"),
		cmd(0, 2, "CONFIG", "SET", "stream-node-max-bytes", "1", "stream-node-max-bytes", "2"),
		cmd(0, 2, "CONFIG", "SET", "stream-node-max-bytes"),
		cmd(0, 2, "CONFIG", "GET", "x"),
		cmd(0, 2, "CONFIG"),
	))
	// Malformed and nested transactions (hand-made; the server never
	// proposed them) and a well-formed one among them.
	apply(cmds(
		Command{Proto: 2, Argv: argv(engine.TxnName)},
		Command{Proto: 2, Argv: argv(engine.TxnName, "x")},
		Command{Proto: 2, Argv: argv(engine.TxnName, "0", "2", "PING")},
		Command{Proto: 2, Argv: append(argv(engine.TxnName, "0", "2"), txn[:2]...)},
		Command{Proto: 2, Argv: engine.EncodeTxn(nil, [][][]byte{argv("XADD", "u", "*", "a", "b")})},
		Command{Proto: 2, Argv: argv(engine.TxnName, "1", "0", "s", "+1", "0", "1", "PING")},
	))
	// A forwarded request holding a transaction, then a copy of it (a
	// retry): the copy is answered from the dedupe table.
	req := Entry{Type: EntryCommands, Requests: []Request{{Origin: "n2/ab", Seq: 1, Ack: 1, Start: 1, Count: 2}}, Commands: []Command{
		cmd(0, 2, "XLEN", "s"),
		{Proto: 3, Argv: engine.EncodeTxn([]engine.Watch{watch(0, "s")}, [][][]byte{argv("XADD", "s", "*", "f", "v"), argv("XADD", "s", "0-1", "f", "v")})},
		cmd(0, 2, "CONFIG", "SET", "stream-node-max-entries", "13"),
	}}
	apply(req)
	req.Requests[0].Start = 0
	req.Commands = req.Commands[1:]
	apply(req)
	apply(Entry{Type: EntryExpire})
	apply(Entry{Type: EntryNoop})
	apply(cmds(cmd(0, 2, "CONFIG", "SET", "stream-node-max-entries", "100"), cmd(0, 2, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")))
	digest, err := f.Digest()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(map[string]any{"entries": recs, "digest": digest}, "", " ")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
