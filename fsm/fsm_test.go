package fsm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// logOf encodes e as the data of a command log at index.
func logOf(t testing.TB, index uint64, e Entry) *raft.Log {
	t.Helper()
	b, err := AppendEntry(nil, &e)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: b}
}

func cmd(db uint8, proto uint8, args ...string) Command {
	return Command{DB: db, Proto: proto, Argv: argv(args...)}
}

// workload is a fixed sequence of entries mixing many stream commands
// (whatever the engine does with each, it must do it identically), clock
// steps forwards and backwards, expiry cycles and a configuration entry.
func workload(t testing.TB) []*raft.Log {
	t.Helper()
	var logs []*raft.Log
	idx := uint64(0)
	add := func(e Entry) {
		idx++
		logs = append(logs, logOf(t, idx, e))
	}
	now := int64(1_700_000_000_000)
	for i := 0; i < 40; i++ {
		now += int64(i % 3) // several entries share a millisecond
		if i == 20 {
			now -= 5000 // a new leader with a slower clock
		}
		k := "s" + strconv.Itoa(i%4)
		cmds := []Command{
			cmd(0, 2, "XADD", k, "*", "n", strconv.Itoa(i)),
			cmd(uint8(i%3), 3, "XADD", k, "MAXLEN", "~", "10", "*", "a", "b", "c", "d"),
			cmd(0, 2, "XLEN", k),
		}
		switch i % 10 {
		case 1:
			cmds = append(cmds, cmd(0, 2, "XGROUP", "CREATE", k, "g", "0", "MKSTREAM"))
		case 2:
			cmds = append(cmds, cmd(0, 3, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", k, ">"))
		case 3:
			cmds = append(cmds, cmd(0, 2, "XAUTOCLAIM", k, "g", "bob", "0", "0-0"))
		case 4:
			cmds = append(cmds, cmd(0, 2, "XTRIM", k, "MAXLEN", "5"))
		case 5:
			cmds = append(cmds, cmd(0, 2, "XDEL", k, "1-1"), cmd(0, 2, "XADD", k, "99999999999999-5", "x", "y"))
		case 6:
			cmds = append(cmds, cmd(1, 2, "PEXPIREAT", k, strconv.FormatInt(now+3, 10)))
		case 7:
			cmds = append(cmds, cmd(2, 2, "DEL", k))
		case 8:
			cmds = append(cmds, cmd(0, 2, "XADD", k, "bad-id", "f", "v"))
		case 9:
			// ACL users are replicated state too.
			cmds = append(cmds, cmd(0, 2, "ACL", "SETUSER", "u"+strconv.Itoa(i), "on", "~"+k, "+@read"),
				cmd(0, 2, "ACL", "DELUSER", "u"+strconv.Itoa(i-20)))
		}
		e := Entry{Type: EntryCommands, Now: now, Commands: cmds}
		if i%5 == 4 {
			// A forwarded request, and every other time a retried copy of
			// the previous one next to it.
			seq := uint64(i/5 + 1)
			e.Requests = []Request{{Origin: "f1/x", Seq: seq, Ack: seq - 1, Start: 1, Count: 2}}
			if seq%2 == 0 {
				e.Commands = append(e.Commands, cmd(0, 2, "XADD", k, "*", "retry", "1"))
				e.Requests = append(e.Requests, Request{Origin: "f1/x", Seq: seq - 1, Ack: seq - 1, Start: len(cmds), Count: 1})
			}
		}
		add(e)
		if i == 10 || i == 25 {
			add(Entry{Type: EntryMember, Now: now, Member: &MemberChange{Op: MemberSet, Meta: NodeMeta{ID: "n" + strconv.Itoa(i), RaftAddr: "r", ClientAddr: "c"}}})
		}
		if i == 33 {
			add(Entry{Type: EntryMember, Now: now, Member: &MemberChange{Op: MemberRemove, Meta: NodeMeta{ID: "n10"}}})
		}
		if i%7 == 6 {
			add(Entry{Type: EntryExpire, Now: now + 10})
		}
		if i == 30 {
			idx++
			logs = append(logs, &raft.Log{Index: idx, Term: 1, Type: raft.LogConfiguration})
		}
	}
	add(Entry{Type: EntryNoop, Now: now})
	return logs
}

func snapshotBytes(t testing.TB, f *FSM) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// replies flattens the Results of an apply into one comparable list.
func replies(t testing.TB, results []interface{}) []string {
	t.Helper()
	var out []string
	for _, r := range results {
		if r == nil {
			out = append(out, "<nil>")
			continue
		}
		res := r.(*Result)
		if res.Err != nil {
			out = append(out, "err:"+res.Err.Error())
		}
		for _, rep := range res.Replies {
			out = append(out, string(rep.RESP))
		}
	}
	return out
}

func applyInChunks(f *FSM, logs []*raft.Log, chunk int) []interface{} {
	var out []interface{}
	for len(logs) > 0 {
		n := min(chunk, len(logs))
		if n == 1 {
			out = append(out, f.Apply(logs[0]))
		} else {
			out = append(out, f.ApplyBatch(logs[:n])...)
		}
		logs = logs[n:]
	}
	return out
}

func TestDeterminism(t *testing.T) {
	logs := workload(t)
	a, b := New(quietLogger()), New(quietLogger())
	// The same entries in different batchings: one by one versus raft's
	// ApplyBatch in odd-sized groups.
	ra := applyInChunks(a, logs, 1)
	rb := applyInChunks(b, logs, 7)
	if got, want := replies(t, rb), replies(t, ra); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replies differ between batchings:\n%q\n%q", got, want)
	}
	snapA, snapB := snapshotBytes(t, a), snapshotBytes(t, b)
	if !bytes.Equal(snapA, snapB) {
		t.Fatal("snapshots of FSMs fed the same entries differ")
	}
	if got, want := a.AppliedIndex(), logs[len(logs)-1].Index; got != want {
		t.Fatalf("AppliedIndex = %d, want %d", got, want)
	}

	// Restore then re-snapshot gives the same bytes.
	c := New(quietLogger())
	if err := c.Restore(io.NopCloser(bytes.NewReader(snapA))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, c), snapA) {
		t.Fatal("re-snapshot after Restore differs")
	}
	if got, want := c.AppliedIndex(), a.AppliedIndex(); got != want {
		t.Fatalf("AppliedIndex after Restore = %d, want %d", got, want)
	}

	// Replies after the restore equal replies without it.
	more := workload(t)
	for _, l := range more {
		l.Index += uint64(len(logs))
	}
	ra2 := applyInChunks(a, more, 5)
	rc2 := applyInChunks(c, more, 3)
	if got, want := replies(t, rc2), replies(t, ra2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replies after restore differ:\n%q\n%q", got, want)
	}
	if !bytes.Equal(snapshotBytes(t, a), snapshotBytes(t, c)) {
		t.Fatal("snapshots differ after applying the same entries on a restored FSM")
	}
}

func TestApplyReplies(t *testing.T) {
	f := New(quietLogger())
	res := f.Apply(logOf(t, 1, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{
		cmd(0, 2, "XADD", "s", "*", "f", "v"),
		cmd(0, 3, "XADD", "s", "*", "f", "v"),
		cmd(0, 2, "XLEN", "s"),
	}})).(*Result)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	// Both XADDs run at the entry's clock: the second gets the next
	// sequence number in the same millisecond (Redis's ID rule).
	want := []string{"$6\r\n1000-0\r\n", "$6\r\n1000-1\r\n", ":2\r\n"}
	if got := replies(t, []interface{}{res}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replies = %q, want %q", got, want)
	}
	var clock int64
	f.Read(func(st *engine.State) { clock = st.Clock() })
	if clock != 1000 {
		t.Fatalf("clock = %d, want 1000", clock)
	}
	// An older leader stamp must not move the clock back.
	f.Apply(logOf(t, 2, Entry{Type: EntryNoop, Now: 10}))
	f.Read(func(st *engine.State) { clock = st.Clock() })
	if clock != 1000 {
		t.Fatalf("clock after older stamp = %d, want 1000", clock)
	}
}

func TestApplyUndecodableEntry(t *testing.T) {
	f := New(quietLogger())
	before := snapshotBytes(t, f)
	out := f.ApplyBatch([]*raft.Log{
		{Index: 1, Type: raft.LogCommand, Data: []byte("garbage")},
		{Index: 2, Type: raft.LogConfiguration, Data: []byte{1, 2, 3}},
	})
	if len(out) != 2 {
		t.Fatalf("got %d results for 2 logs", len(out))
	}
	res, ok := out[0].(*Result)
	if !ok || !errors.Is(res.Err, ErrBadEntry) {
		t.Fatalf("result for garbage = %#v, want Result with ErrBadEntry", out[0])
	}
	if out[1] != nil {
		t.Fatalf("result for configuration entry = %#v, want nil", out[1])
	}
	if got := f.AppliedIndex(); got != 2 {
		t.Fatalf("AppliedIndex = %d, want 2", got)
	}
	// The snapshot header carries the applied index; compare the state.
	if after := snapshotBytes(t, f); !bytes.Equal(after[snapshotHeaderLen:], before[snapshotHeaderLen:]) {
		t.Fatal("state changed after an undecodable entry")
	}
}

func TestRestoreRejectsForeignSnapshot(t *testing.T) {
	f := New(quietLogger())
	for _, b := range [][]byte{nil, []byte("short"), []byte("NOTOURSxxxxxxxxxxxxxxxx")} {
		if err := f.Restore(io.NopCloser(bytes.NewReader(b))); !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("Restore(%q) = %v, want ErrBadSnapshot", b, err)
		}
	}
}

// memSink is an in-memory raft.SnapshotSink.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { s.closed = true; return nil }

func TestSnapshotIsPointInTime(t *testing.T) {
	logs := workload(t)
	f := New(quietLogger())
	half := len(logs) / 2
	f.ApplyBatch(logs[:half])
	want := snapshotBytes(t, f)

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	// Apply the rest while the snapshot is persisted concurrently, as raft
	// does; the snapshot must still show the state at Snapshot time.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		applyInChunks(f, logs[half:], 3)
	}()
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !sink.closed || sink.cancelled {
		t.Fatalf("sink closed=%v cancelled=%v, want closed only", sink.closed, sink.cancelled)
	}
	if !bytes.Equal(sink.Bytes(), want) {
		t.Fatal("persisted snapshot does not match the state at Snapshot time")
	}
}

func TestSignal(t *testing.T) {
	f := New(quietLogger())
	type sig struct {
		db  int
		key string
	}
	var got []sig
	f.SetSignal(func(db int, key string) { got = append(got, sig{db, key}) })
	f.Apply(logOf(t, 1, Entry{Type: EntryCommands, Now: 5, Commands: []Command{
		cmd(3, 2, "XADD", "k", "*", "f", "v"),
	}}))
	if len(got) == 0 || got[0] != (sig{3, "k"}) {
		t.Fatalf("signals = %v, want [{3 k}]", got)
	}
	f.SetSignal(nil)
	got = nil
	f.Apply(logOf(t, 2, Entry{Type: EntryCommands, Now: 5, Commands: []Command{
		cmd(3, 2, "XADD", "k", "*", "f", "v"),
	}}))
	if len(got) != 0 {
		t.Fatalf("signals after SetSignal(nil) = %v", got)
	}
}

func TestWaitApplied(t *testing.T) {
	f := New(quietLogger())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.WaitApplied(ctx, 3) }()
	for i := uint64(1); i <= 3; i++ {
		f.Apply(logOf(t, i, Entry{Type: EntryNoop, Now: 1}))
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitApplied = %v", err)
	}
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := f.WaitApplied(short, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitApplied on cancelled ctx = %v", err)
	}
}

func BenchmarkApplyBatch(b *testing.B) {
	const perEntry = 64
	f := New(quietLogger())
	cmds := make([]Command, perEntry)
	for i := range cmds {
		cmds[i] = cmd(0, 2, "XADD", "bench", "*", "field", "value")
	}
	data, err := AppendEntry(nil, &Entry{Type: EntryCommands, Now: 1, Commands: cmds})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: data})
	}
	b.ReportMetric(float64(b.N*perEntry)/b.Elapsed().Seconds(), "cmds/s")
}

func TestExpireEntry(t *testing.T) {
	f := New(quietLogger())
	var signalled []string
	f.SetSignal(func(db int, key string) { signalled = append(signalled, strconv.Itoa(db)+"/"+key) })
	f.Apply(logOf(t, 1, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{
		cmd(2, 2, "XADD", "k", "*", "f", "v"),
		cmd(2, 2, "PEXPIREAT", "k", "1005"),
	}}))
	exists := func() string {
		var out string
		f.Read(func(st *engine.State) {
			w := resp.NewWriter(2)
			st.Exec(&engine.Ctx{DB: 2, Now: st.Clock(), W: w}, argv("EXISTS", "k"))
			out = string(w.Buf)
		})
		return out
	}
	// An expiry cycle stamped at or before the deadline deletes nothing:
	// as in Redis, a key expires once the clock is past its deadline.
	signalled = nil
	f.Apply(logOf(t, 2, Entry{Type: EntryExpire, Now: 1005}))
	if got := exists(); got != ":1\r\n" || len(signalled) != 0 {
		t.Fatalf("at deadline: EXISTS = %q, signals %v", got, signalled)
	}
	f.Apply(logOf(t, 3, Entry{Type: EntryExpire, Now: 1006}))
	if got := exists(); got != ":0\r\n" {
		t.Fatalf("after deadline: EXISTS = %q, want :0", got)
	}
	if len(signalled) != 1 || signalled[0] != "2/k" {
		t.Fatalf("signals = %v, want [2/k]", signalled)
	}
}

func TestChangesSinceSnapshot(t *testing.T) {
	f := New(quietLogger())
	f.Apply(logOf(t, 1, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{
		cmd(0, 2, "XADD", "s", "*", "f", "v"),
		cmd(0, 2, "XADD", "s", "1-1", "f", "v"), // error: ID not above the top item
		cmd(0, 2, "XGROUP", "CREATE", "s", "g", "0"),
	}}))
	if n := f.ChangesSinceSnapshot(); n != 2 {
		t.Fatalf("after two successful writes and a failed one: %d changes, want 2", n)
	}
	if _, err := f.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if n := f.ChangesSinceSnapshot(); n != 0 {
		t.Fatalf("after a snapshot: %d changes, want 0", n)
	}
	f.Apply(logOf(t, 2, Entry{Type: EntryCommands, Now: 1001, Commands: []Command{cmd(0, 2, "XDEL", "s", "1-1")}}))
	if n := f.ChangesSinceSnapshot(); n != 1 {
		t.Fatalf("after one more write: %d changes, want 1", n)
	}
}

// TestReplyOutcomes: each reply says what it is, and a transaction's
// reply its parts, as the encoding does.
func TestReplyOutcomes(t *testing.T) {
	f := New(quietLogger())
	f.Apply(logOf(t, 1, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{
		cmd(0, 2, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
	}}))
	var w engine.Watch
	f.Read(func(st *engine.State) { w = st.WatchKey(0, "s", 1000) })
	txn := func(proto uint8, cmds ...[][]byte) Command {
		return Command{Kind: KindTxn, Proto: proto, Txn: &Txn{Watches: []engine.Watch{w}, Cmds: cmds}}
	}
	res := f.Apply(logOf(t, 2, Entry{Type: EntryCommands, Now: 2000, Commands: []Command{
		txn(3, argv("XLEN", "s"), argv("XADD", "s", "bad", "f", "v"), argv("PING")),
		cmd(0, 2, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
		cmd(0, 3, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
		cmd(0, 2, "XADD", "s", "bad", "f", "v"),
		txn(2, argv("XLEN", "s")), // the key changed: aborted
		{Kind: KindConfigSet, Proto: 2, Config: []engine.ConfigSetting{{Name: "stream-node-max-entries", Value: []byte("x")}}},
		{Kind: KindConfigSet, Proto: 2, Config: []engine.ConfigSetting{{Name: "stream-node-max-entries", Value: []byte("100")}}},
		txn(2),
	}})).(*Result)
	want := []struct {
		o     Outcome
		parts []string
	}{
		{OutcomeValue, []string{":0\r\n", "-ERR Invalid stream ID specified as stream command argument\r\n", "+PONG\r\n"}},
		{OutcomeNull, nil}, {OutcomeNull, nil}, {OutcomeError, nil}, {OutcomeNull, nil}, {OutcomeError, nil}, {OutcomeValue, nil}, {OutcomeNull, nil},
	}
	for i, r := range res.Replies {
		var parts []string
		for _, p := range r.Parts {
			parts = append(parts, string(p))
		}
		if r.Outcome != want[i].o || fmt.Sprint(parts) != fmt.Sprint(want[i].parts) {
			t.Errorf("command %d %q: %s %q, want %s %q", i, r.RESP, r.Outcome, parts, want[i].o, want[i].parts)
		}
	}
}

// BenchmarkApplyBigXADD applies one entry holding a single XADD of a 60 MiB
// value, as a leader or follower applies it after commit (issue 12: the
// commands queued behind it wait for this apply).
func BenchmarkApplyBigXADD(b *testing.B) {
	val := bytes.Repeat([]byte("v"), 60<<20)
	data, err := AppendEntry(nil, &Entry{Type: EntryCommands, Now: 1,
		Commands: []Command{{Proto: 2, Argv: [][]byte{[]byte("XADD"), []byte("big"), []byte("*"), []byte("f"), val}}}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(val)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := New(quietLogger())
		f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: logOf(b, 1, Entry{Type: EntryCommands, Now: 1, Commands: []Command{cmd(0, 2, "XADD", "warm", "*", "f", "v")}}).Data})
		b.StartTimer()
		f.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: data})
	}
}
