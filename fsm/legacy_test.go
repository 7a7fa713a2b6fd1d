package fsm

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
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
			// The outcome noted while writing is the one the encoding
			// says, which is what a retried request is answered with.
			if got, want := res.Replies[j], ReplyOf(&dec.Commands[j], mustHex(want)); !repliesEqual(got, want) {
				t.Errorf("entry %d reply %d: %+v, from its bytes %+v", i, j, got, want)
			}
		}
	}
	if d, err := f.Digest(); err != nil || d != fx.Digest {
		t.Fatalf("digest %s, %v; want %s", d, err, fx.Digest)
	}
}

func replyBytes(res *Result, i int) []byte { return res.Replies[i].RESP }

func repliesEqual(a, b Reply) bool {
	return bytes.Equal(a.RESP, b.RESP) && a.Outcome == b.Outcome && len(a.Parts) == len(b.Parts) &&
		bytes.Equal(bytes.Join(a.Parts, nil), bytes.Join(b.Parts, nil))
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

// legacyTxnArgv tunnels a transaction in argv as the previous format did.
func legacyTxnArgv(ws []engine.Watch, cmds [][][]byte) [][]byte {
	out := [][]byte{[]byte(legacyTxnName), []byte(strconv.Itoa(len(ws)))}
	for _, w := range ws {
		out = append(out, []byte(strconv.Itoa(w.DB)), []byte(w.Key),
			strconv.AppendUint(nil, w.Ver, 10), strconv.AppendUint(nil, w.DelVer, 10))
	}
	for _, c := range cmds {
		out = append(out, []byte(strconv.Itoa(len(c))))
		out = append(out, c...)
	}
	return out
}

// TestTypedKindsApplyLikeTunnels runs the same transactions and CONFIG
// SETs as typed commands on one state machine and tunnelled in argv on
// another: replies and states must be the same. LegacyForm must give the
// tunnels.
func TestTypedKindsApplyLikeTunnels(t *testing.T) {
	typed, tunnelled := New(quietLogger()), New(quietLogger())
	var idx uint64
	both := func(cmds ...Command) {
		t.Helper()
		idx++
		old := make([]Command, len(cmds))
		for i, c := range cmds {
			old[i] = Command{DB: c.DB, Proto: c.Proto, Argv: c.Argv}
			switch c.Kind {
			case KindTxn:
				old[i].Argv = legacyTxnArgv(c.Txn.Watches, c.Txn.Cmds)
			case KindConfigSet:
				old[i].Argv = argv("CONFIG", "SET")
				for _, kv := range c.Config {
					old[i].Argv = append(old[i].Argv, []byte(kv.Name), kv.Value)
				}
			}
			// LegacyForm writes exactly the tunnel the previous version
			// wrote, so what it produces runs as tested here.
			if lf := LegacyForm(c); lf.Kind != KindArgv || lf.DB != c.DB || lf.Proto != c.Proto || !argvEqual(lf.Argv, old[i].Argv) {
				t.Fatalf("LegacyForm(%+v) = %+v, want argv %q", c, lf, old[i].Argv)
			}
		}
		a := typed.Apply(logOf(t, idx, Entry{Type: EntryCommands, Now: int64(idx), Commands: cmds})).(*Result)
		b := tunnelled.Apply(logOf(t, idx, Entry{Type: EntryCommands, Now: int64(idx), Commands: old})).(*Result)
		for i := range cmds {
			if x, y := a.Replies[i], b.Replies[i]; !repliesEqual(x, y) {
				t.Fatalf("entry %d command %d: typed %+v, tunnelled %+v", idx, i, x, y)
			}
		}
	}
	watch := func(db int, key string) engine.Watch {
		var w engine.Watch
		typed.Read(func(st *engine.State) { w = st.WatchKey(db, key, int64(idx)) })
		return w
	}
	txn := func(proto uint8, ws []engine.Watch, cmds ...[][]byte) Command {
		return Command{Kind: KindTxn, Proto: proto, Txn: &Txn{Watches: ws, Cmds: cmds}}
	}
	config := func(kv ...string) Command {
		c := Command{Kind: KindConfigSet, Proto: 2}
		for i := 0; i < len(kv); i += 2 {
			c.Config = append(c.Config, engine.ConfigSetting{Name: kv[i], Value: []byte(kv[i+1])})
		}
		return c
	}
	both(cmd(0, 2, "XADD", "s", "1-1", "f", "v"))
	ws := []engine.Watch{watch(0, "s"), watch(3, "nope")}
	both(txn(2, ws, argv("XADD", "s", "*", "a", "b"), argv("SELECT", "3"), argv("XADD", "s", "*", "a", "b"), argv("XLEN", "s"), argv("XADD", "s", "0-0", "a", "b")),
		txn(3, ws, argv("PING")), txn(3, nil), txn(2, []engine.Watch{watch(3, "s")}))
	both(config("stream-node-max-entries", "3"), config("STREAM-NODE-MAX-BYTES", "2kb", "stream-node-max-entries", "4"),
		config("stream-node-max-entries", "x"), config("nope", "1", "stream-node-max-entries", "1"),
		config("stream-node-max-entries", "1", "Stream-Node-Max-Entries", "2"))
	da, _ := typed.Digest()
	db, _ := tunnelled.Digest()
	if da != db {
		t.Fatalf("digests differ: typed %s, tunnelled %s", da, db)
	}
}
