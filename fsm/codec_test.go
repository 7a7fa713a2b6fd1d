package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/raftstream/raftstream/engine"
)

func argv(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

func TestEntryRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xff}, 300) // multi-byte length prefix
	tests := []struct {
		name string
		e    Entry
	}{
		{"expire", Entry{Type: EntryExpire, Now: 1700000000123}},
		{"noop negative clock", Entry{Type: EntryNoop, Now: -5}},
		{"noop max clock", Entry{Type: EntryNoop, Now: math.MaxInt64}},
		{"one command", Entry{Type: EntryCommands, Now: 42, Commands: []Command{
			{DB: 0, Proto: 2, Argv: argv("XADD", "s", "*", "f", "v")},
		}}},
		{"batch with requests", Entry{Type: EntryCommands, Now: 7, Requests: []Request{
			{Origin: "node1/ab12", Seq: 99, Ack: 97, Start: 0, Count: 2},
			{Origin: "node2/cd34", Seq: 1, Ack: 1, Start: 3, Count: 1},
		}, Commands: []Command{
			{DB: 15, Proto: 3, Argv: argv("XADD", "s", "*", "f", "v")},
			{DB: 3, Proto: 2, Argv: [][]byte{[]byte("SET"), {}, big}},
			{DB: 0, Proto: 2, Argv: argv("PING")},
			{DB: 0, Proto: 2, Argv: argv("PING")},
		}}},
		{"typed kinds among plain commands", Entry{Type: EntryCommands, Now: 8, Requests: []Request{
			{Origin: "n2/ef", Seq: 3, Ack: 2, Start: 1, Count: 2},
		}, Commands: []Command{
			{DB: 1, Proto: 2, Argv: argv("XLEN", "s")},
			{Kind: KindTxn, DB: 2, Proto: 3, Txn: &Txn{
				Watches: []engine.Watch{{DB: 2, Key: "s", Ver: 300}, {DB: 15, Key: "", DelVer: 1 << 40}},
				Cmds:    [][][]byte{argv("XADD", "s", "*", "f", "v"), argv("SELECT", "1"), {big}},
			}},
			{Kind: KindConfigSet, Proto: 2, Config: []engine.ConfigSetting{{Name: "stream-node-max-bytes", Value: []byte("1kb")}, {Name: "X", Value: big}}},
		}}},
		{"transaction without watches or commands", Entry{Type: EntryCommands, Now: 1, Commands: []Command{
			{Kind: KindTxn, Proto: 2, Txn: &Txn{}},
		}}},
		{"member set", Entry{Type: EntryMember, Now: 9, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "n1", RaftAddr: "10.0.0.1:7379", ClientAddr: "10.0.0.1:6379", Incarnation: "5f3a"}}}},
		{"member remove", Entry{Type: EntryMember, Now: 9, Member: &MemberChange{Op: MemberRemove, Meta: NodeMeta{ID: "n1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendEntry([]byte("prefix"), &tt.e)
			if err != nil {
				t.Fatal(err)
			}
			b = b[len("prefix"):]
			if got, want := len(b), EncodedSize(&tt.e); got != want {
				t.Fatalf("encoded %d bytes, EncodedSize says %d", got, want)
			}
			got, err := DecodeEntry(b)
			if err != nil {
				t.Fatal(err)
			}
			if !entriesEqual(got, tt.e) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tt.e)
			}
		})
	}
}

// entriesEqual treats nil and empty byte slices alike.
func entriesEqual(a, b Entry) bool {
	if a.Type != b.Type || a.Now != b.Now || len(a.Commands) != len(b.Commands) ||
		!reflect.DeepEqual(a.Member, b.Member) || len(a.Requests) != len(b.Requests) {
		return false
	}
	for i := range a.Requests {
		if a.Requests[i] != b.Requests[i] {
			return false
		}
	}
	for i := range a.Commands {
		x, y := a.Commands[i], b.Commands[i]
		if x.Kind != y.Kind || x.DB != y.DB || x.Proto != y.Proto || !argvEqual(x.Argv, y.Argv) ||
			(x.Txn == nil) != (y.Txn == nil) || len(x.Config) != len(y.Config) {
			return false
		}
		if x.Txn != nil {
			if len(x.Txn.Watches) != len(y.Txn.Watches) || len(x.Txn.Cmds) != len(y.Txn.Cmds) {
				return false
			}
			for j := range x.Txn.Watches {
				if x.Txn.Watches[j] != y.Txn.Watches[j] {
					return false
				}
			}
			for j := range x.Txn.Cmds {
				if !argvEqual(x.Txn.Cmds[j], y.Txn.Cmds[j]) {
					return false
				}
			}
		}
		for j := range x.Config {
			if x.Config[j].Name != y.Config[j].Name || !bytes.Equal(x.Config[j].Value, y.Config[j].Value) {
				return false
			}
		}
	}
	return true
}

func argvEqual(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for j := range a {
		if !bytes.Equal(a[j], b[j]) {
			return false
		}
	}
	return true
}

func TestAppendEntryRejects(t *testing.T) {
	ping := Command{Proto: 2, Argv: argv("PING")}
	tests := []struct {
		name string
		e    Entry
	}{
		{"unknown type", Entry{Type: 9}},
		{"zero type", Entry{}},
		{"requests on noop", Entry{Type: EntryNoop, Requests: []Request{{Origin: "o", Seq: 1, Count: 1}}}},
		{"long origin", Entry{Type: EntryCommands, Commands: []Command{ping}, Requests: []Request{{Origin: string(make([]byte, MaxOriginLen+1)), Seq: 1, Count: 1}}}},
		{"empty origin", Entry{Type: EntryCommands, Commands: []Command{ping}, Requests: []Request{{Seq: 1, Count: 1}}}},
		{"zero seq", Entry{Type: EntryCommands, Commands: []Command{ping}, Requests: []Request{{Origin: "o", Count: 1}}}},
		{"ack above seq", Entry{Type: EntryCommands, Commands: []Command{ping}, Requests: []Request{{Origin: "o", Seq: 1, Ack: 2, Count: 1}}}},
		{"empty request", Entry{Type: EntryCommands, Commands: []Command{ping}, Requests: []Request{{Origin: "o", Seq: 1}}}},
		{"request past batch", Entry{Type: EntryCommands, Commands: []Command{ping}, Requests: []Request{{Origin: "o", Seq: 1, Count: 2}}}},
		{"overlapping requests", Entry{Type: EntryCommands, Commands: []Command{ping, ping}, Requests: []Request{
			{Origin: "o", Seq: 1, Count: 2}, {Origin: "o", Seq: 2, Start: 1, Count: 1}}}},
		{"member missing", Entry{Type: EntryMember}},
		{"member on noop", Entry{Type: EntryNoop, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "a"}}}},
		{"member bad op", Entry{Type: EntryMember, Member: &MemberChange{Op: 7, Meta: NodeMeta{ID: "a"}}}},
		{"member no id", Entry{Type: EntryMember, Member: &MemberChange{Op: MemberSet}}},
		{"member removal with address", Entry{Type: EntryMember, Member: &MemberChange{Op: MemberRemove, Meta: NodeMeta{ID: "a", RaftAddr: "x"}}}},
		{"commands on expire", Entry{Type: EntryExpire, Commands: []Command{{Proto: 2, Argv: argv("PING")}}}},
		{"db out of range", Entry{Type: EntryCommands, Commands: []Command{{DB: 16, Proto: 2, Argv: argv("PING")}}}},
		{"bad proto", Entry{Type: EntryCommands, Commands: []Command{{Proto: 1, Argv: argv("PING")}}}},
		{"empty argv", Entry{Type: EntryCommands, Commands: []Command{{Proto: 2}}}},
		{"unknown kind", Entry{Type: EntryCommands, Commands: []Command{{Kind: 3, Proto: 2, Argv: argv("PING")}}}},
		{"transaction without body", Entry{Type: EntryCommands, Commands: []Command{{Kind: KindTxn, Proto: 2}}}},
		{"transaction with argv", Entry{Type: EntryCommands, Commands: []Command{{Kind: KindTxn, Proto: 2, Txn: &Txn{}, Argv: argv("PING")}}}},
		{"plain command with a transaction", Entry{Type: EntryCommands, Commands: []Command{{Proto: 2, Txn: &Txn{}, Argv: argv("PING")}}}},
		{"empty command in a transaction", Entry{Type: EntryCommands, Commands: []Command{{Kind: KindTxn, Proto: 2, Txn: &Txn{Cmds: [][][]byte{{}}}}}}},
		{"watch of a bad db", Entry{Type: EntryCommands, Commands: []Command{{Kind: KindTxn, Proto: 2, Txn: &Txn{Watches: []engine.Watch{{DB: 16}}}}}}},
		{"negative watch db", Entry{Type: EntryCommands, Commands: []Command{{Kind: KindTxn, Proto: 2, Txn: &Txn{Watches: []engine.Watch{{DB: -1}}}}}}},
		{"config set without settings", Entry{Type: EntryCommands, Commands: []Command{{Kind: KindConfigSet, Proto: 2}}}},
		{"config set with argv", Entry{Type: EntryCommands, Commands: []Command{{Kind: KindConfigSet, Proto: 2, Argv: argv("x"), Config: []engine.ConfigSetting{{Name: "a"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := AppendEntry(nil, &tt.e); !errors.Is(err, ErrBadEntry) {
				t.Fatalf("AppendEntry error = %v, want ErrBadEntry", err)
			}
		})
	}
}

func TestDecodeEntryRejects(t *testing.T) {
	valid, err := AppendEntry(nil, &Entry{Type: EntryCommands, Now: 1, Commands: []Command{{Proto: 2, Argv: argv("XADD", "k")}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version only", []byte{EntryVersion}},
		{"wrong version", []byte{2, byte(EntryNoop), 0, 0}},
		{"unknown type", []byte{EntryVersion, 77, 0, 0}},
		{"unknown flag", []byte{EntryVersion, byte(EntryNoop), 0x80, 0}},
		{"missing clock", []byte{EntryVersion, byte(EntryNoop), 0}},
		{"requests on noop", []byte{EntryVersion, byte(EntryNoop), flagRequests, 1, 1, 'o', 1, 0, 0, 1, 0}},
		{"empty request list", []byte{EntryVersion, byte(EntryCommands), flagRequests, 0, 0, 1, 0, 2, 1, 0}},
		{"request past end", []byte{EntryVersion, byte(EntryCommands), flagRequests, 1, 9, 'a'}},
		{"request beyond batch", []byte{EntryVersion, byte(EntryCommands), flagRequests, 1, 1, 'o', 1, 0, 0, 2, 0, 1, 0, 2, 1, 0}},
		{"member truncated", []byte{EntryVersion, byte(EntryMember), 0, 0, 1, 1, 'a', 0, 0}},
		{"member bad op", []byte{EntryVersion, byte(EntryMember), 0, 0, 3, 1, 'a', 0, 0, 0}},
		{"trailing bytes", append(append([]byte{}, valid...), 0)},
		{"truncated", valid[:len(valid)-1]},
		{"zero commands", []byte{EntryVersion, byte(EntryCommands), 0, 0, 0}},
		{"huge count", []byte{EntryVersion, byte(EntryCommands), 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 2, 1, 0}},
		{"huge argc", []byte{EntryVersion, byte(EntryCommands), 0, 0, 1, 0, 2, 0xff, 0xff, 0x03}},
		{"zero argc", []byte{EntryVersion, byte(EntryCommands), 0, 0, 1, 0, 2, 0, 0}},
		{"bad db", []byte{EntryVersion, byte(EntryCommands), 0, 0, 1, 16, 2, 1, 0}},
		{"bad proto", []byte{EntryVersion, byte(EntryCommands), 0, 0, 1, 0, 4, 1, 0}},
		{"kinds on a plain batch", []byte{EntryVersion, byte(EntryCommands), flagKinds, 0, 1, byte(KindArgv), 0, 2, 1, 0}},
		{"kinds on a noop", []byte{EntryVersion, byte(EntryNoop), flagKinds, 0}},
		{"unknown kind", []byte{EntryVersion, byte(EntryCommands), flagKinds, 0, 1, 9, 0, 2, 1, 0}},
		{"watch db out of range", []byte{EntryVersion, byte(EntryCommands), flagKinds, 0, 1, byte(KindTxn), 0, 2, 1, 16, 0, 0, 0, 0}},
		{"huge watch count", []byte{EntryVersion, byte(EntryCommands), flagKinds, 0, 1, byte(KindTxn), 0, 2, 0xff, 0xff, 0x03, 0}},
		{"transaction truncated", []byte{EntryVersion, byte(EntryCommands), flagKinds, 0, 1, byte(KindTxn), 0, 2, 0, 1}},
		{"empty config set", []byte{EntryVersion, byte(EntryCommands), flagKinds, 0, 1, byte(KindConfigSet), 0, 2, 0, 0}},
		{"overlong varint", []byte{EntryVersion, byte(EntryNoop), 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeEntry(tt.b)
			if !errors.Is(err, ErrBadEntry) {
				t.Fatalf("DecodeEntry = %+v, %v; want ErrBadEntry", e, err)
			}
		})
	}
}

func TestDecodedArgsDoNotOverlap(t *testing.T) {
	b, err := AppendEntry(nil, &Entry{Type: EntryCommands, Commands: []Command{{Proto: 2, Argv: argv("ab", "cd")}}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeEntry(b)
	if err != nil {
		t.Fatal(err)
	}
	// Appending to one argument must not clobber the next one in place.
	_ = append(e.Commands[0].Argv[0], 'X')
	if got := string(e.Commands[0].Argv[1]); got != "cd" {
		t.Fatalf("second argument = %q after append to the first", got)
	}
}

// The commands of an entry share one slab of argument lists: a list
// grown by append must not reach the next command's, and a batch costs the
// same allocations whatever its size.
func TestDecodedArgvListsDoNotOverlap(t *testing.T) {
	batch := func(n int) []byte {
		e := Entry{Type: EntryCommands}
		for i := range n {
			e.Commands = append(e.Commands, Command{Proto: 2, Argv: argv("XADD", "s", "*", "f", fmt.Sprint(i))})
		}
		b, err := AppendEntry(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	e, err := DecodeEntry(batch(3))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(e.Commands[0].Argv, []byte("X"))
	if got := string(e.Commands[1].Argv[0]); got != "XADD" {
		t.Fatalf("second command starts with %q after an append to the first's arguments", got)
	}
	small, large := batch(2), batch(200)
	a := testing.AllocsPerRun(20, func() { _, _ = DecodeEntry(small) })
	b := testing.AllocsPerRun(20, func() { _, _ = DecodeEntry(large) })
	if a != b {
		t.Errorf("decoding 2 commands: %v allocations, 200 commands: %v; want the same", a, b)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	seeds := []Entry{
		{Type: EntryExpire, Now: 1},
		{Type: EntryNoop, Now: -1},
		{Type: EntryMember, Now: 3, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "a", RaftAddr: "b", ClientAddr: "c"}}},
		{Type: EntryCommands, Now: 2, Requests: []Request{{Origin: "o", Seq: 5, Ack: 4, Start: 1, Count: 1}}, Commands: []Command{
			{Proto: 2, Argv: argv("PING")}, {Proto: 3, Argv: argv("XADD", "s", "*", "a", "b")},
		}},
		{Type: EntryCommands, Now: 1 << 40, Commands: []Command{
			{DB: 1, Proto: 3, Argv: argv("XADD", "s", "*", "a", "b")},
			{Proto: 2, Argv: [][]byte{{}}},
		}},
		{Type: EntryCommands, Now: 5, Requests: []Request{{Origin: "o", Seq: 2, Ack: 1, Start: 0, Count: 2}}, Commands: []Command{
			{Kind: KindTxn, Proto: 2, Txn: &Txn{Watches: []engine.Watch{{DB: 3, Key: "k", Ver: 9}}, Cmds: [][][]byte{argv("XLEN", "k"), argv("PING")}}},
			{Kind: KindConfigSet, DB: 1, Proto: 3, Config: []engine.ConfigSetting{{Name: "stream-node-max-entries", Value: []byte("5")}}},
			{Proto: 2, Argv: argv("XLEN", "k")},
		}},
	}
	for i := range seeds {
		b, err := AppendEntry(nil, &seeds[i])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{EntryVersion, byte(EntryCommands), 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			if !errors.Is(err, ErrBadEntry) {
				t.Fatalf("error %v does not wrap ErrBadEntry", err)
			}
			return
		}
		// Whatever decodes must re-encode to the same bytes: the format
		// has exactly one encoding per entry.
		again, err := AppendEntry(nil, &e)
		if err != nil {
			t.Fatalf("re-encode of decoded entry: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
		e2, err := DecodeEntry(again)
		if err != nil || !reflect.DeepEqual(e2.Commands != nil, e.Commands != nil) || !entriesEqual(e, e2) {
			t.Fatalf("second decode: %+v, %v", e2, err)
		}
	})
}

// TestAppendEntryInPlace: an entry encoded around an argument in place is
// byte for byte AppendEntry's, shares the argument's bytes, and is refused
// (nothing written) when the room does not suffice.
func TestAppendEntryInPlace(t *testing.T) {
	const n = 1000
	mk := func(head, tail int) (room, big []byte) {
		buf := make([]byte, head+n, head+n+tail)
		for i := head; i < head+n; i++ {
			buf[i] = byte(i)
		}
		return buf[:head], buf[head : head+n : head+n]
	}
	for _, tc := range []struct {
		name       string
		head, tail int
		entry      func(big []byte) Entry
		ok         bool
	}{
		{"last argument", 64, 0, func(a []byte) Entry {
			return Entry{Type: EntryCommands, Now: 1700000000000, Commands: []Command{{Proto: 2, Argv: [][]byte{[]byte("XADD"), []byte("s"), []byte("*"), []byte("f"), a}}}}
		}, true},
		{"arguments after it", 64, 32, func(a []byte) Entry {
			return Entry{Type: EntryCommands, Now: -5, Commands: []Command{{DB: 3, Proto: 3, Argv: [][]byte{[]byte("XADD"), []byte("s"), []byte("*"), []byte("f"), a, []byte("g"), []byte("small")}}}}
		}, true},
		{"second command, with a request", 128, 8, func(a []byte) Entry {
			return Entry{Type: EntryCommands, Now: 7, Requests: []Request{{Origin: "n2/x", Seq: 3, Ack: 1, Start: 0, Count: 2}},
				Commands: []Command{{Proto: 2, Argv: argv("PING")}, {Proto: 2, Argv: [][]byte{[]byte("XADD"), []byte("s"), []byte("*"), []byte("f"), a}}}}
		}, true},
		{"no room before", 10, 0, func(a []byte) Entry {
			return Entry{Type: EntryCommands, Now: 1, Commands: []Command{{Proto: 2, Argv: [][]byte{[]byte("XADD"), []byte("a-long-key-name"), []byte("*"), []byte("f"), a}}}}
		}, false},
		{"no room after", 64, 3, func(a []byte) Entry {
			return Entry{Type: EntryCommands, Now: 1, Commands: []Command{{Proto: 2, Argv: [][]byte{[]byte("XADD"), []byte("s"), []byte("*"), []byte("f"), a, []byte("g"), []byte("v")}}}}
		}, false},
		{"argument elsewhere", 64, 8, func(a []byte) Entry {
			return Entry{Type: EntryCommands, Now: 1, Commands: []Command{{Proto: 2, Argv: [][]byte{[]byte("XADD"), []byte("s"), []byte("*"), []byte("f"), append([]byte(nil), a...)}}}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			room, big := mk(tc.head, tc.tail)
			e := tc.entry(big)
			want, err := AppendEntry(nil, &e)
			if err != nil {
				t.Fatal(err)
			}
			before := append([]byte(nil), room[:cap(room)]...)
			got, ok, err := AppendEntryInPlace(&e, room)
			if err != nil || ok != tc.ok {
				t.Fatalf("AppendEntryInPlace: ok %v, err %v; want ok %v", ok, err, tc.ok)
			}
			if !ok {
				if !bytes.Equal(room[:cap(room)], before) {
					t.Fatal("a refused in-place encoding wrote to the buffer")
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("in place:\n%q\nAppendEntry:\n%q", got, want)
			}
			if i := bytes.Index(got, big); i < 0 || &got[i] != &big[0] {
				t.Fatal("the entry does not share the argument's bytes")
			}
			d, err := DecodeEntry(got)
			if err != nil || !entriesEqual(d, e) {
				t.Fatalf("decoded %+v, %v", d, err)
			}
		})
	}
}
