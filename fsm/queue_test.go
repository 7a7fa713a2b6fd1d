package fsm

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// queueWorkload is a log exercising dead-letter streams and age retention:
// several consumers take entries, some entries are never acknowledged
// (poison) and are redelivered through every path until they pass
// MAXDELIVERIES, and expire cycles trim a stream with MAXAGE.
func queueWorkload(t testing.TB, from uint64) []*raft.Log {
	t.Helper()
	var logs []*raft.Log
	idx := from
	now := int64(1_700_000_000_000)
	add := func(e Entry) {
		idx++
		e.Now = now
		logs = append(logs, logOf(t, idx, e))
	}
	add(Entry{Type: EntryCommands, Commands: []Command{
		cmd(0, 2, "XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"),
		cmd(0, 2, "RS.SETDLQ", "jobs", "workers", "MAXDELIVERIES", "3", "DEADLETTER", "jobs:dead"),
		cmd(0, 2, "XGROUP", "CREATE", "events", "g", "$", "MKSTREAM"),
		cmd(0, 2, "XCFGSET", "events", "MAXAGE", "50", "ACKED"),
	}})
	paths := [][]string{
		{"XAUTOCLAIM", "jobs", "workers", "c2", "0", "0", "COUNT", "5"},
		{"XREADGROUP", "GROUP", "workers", "c3", "CLAIM", "0", "COUNT", "5", "STREAMS", "jobs", ">"},
		{"XREADGROUP", "GROUP", "workers", "c1", "STREAMS", "jobs", "0"},
		{"XCLAIM", "jobs", "workers", "c1", "0", "0-1"},
	}
	for i := 0; i < 60; i++ {
		now += int64(1 + i%7)
		c := "c" + strconv.Itoa(1+i%3)
		cmds := []Command{
			cmd(0, 2, "XADD", "jobs", "*", "n", strconv.Itoa(i)),
			cmd(0, 3, "XADD", "events", "*", "n", strconv.Itoa(i)),
			cmd(0, 2, "XREADGROUP", "GROUP", "workers", c, "COUNT", "2", "STREAMS", "jobs", ">"),
			cmd(0, 2, paths[i%len(paths)]...),
		}
		// Two in three events are read with NOACK, the others stay pending
		// and so (ACKED) are kept past their age.
		read := []string{"XREADGROUP", "GROUP", "g", c, "COUNT", "1", "STREAMS", "events", ">"}
		if i%3 != 0 {
			read = append(read[:6:6], append([]string{"NOACK"}, read[6:]...)...)
		}
		cmds = append(cmds, cmd(0, 2, read...))
		add(Entry{Type: EntryCommands, Commands: cmds})
		if i%5 == 4 {
			add(Entry{Type: EntryExpire})
		}
	}
	now += 1000
	add(Entry{Type: EntryExpire})
	return logs
}

// TestQueueDeterminism applies the queue workload on two FSMs in different
// batchings and on a third restored from a snapshot halfway: all three
// must hold the same digest and snapshot bytes, with entries actually
// dead-lettered and trimmed.
func TestQueueDeterminism(t *testing.T) {
	logs := queueWorkload(t, 0)
	a, b := New(quietLogger()), New(quietLogger())
	ra := applyInChunks(a, logs, 1)
	rb := applyInChunks(b, logs, 7)
	if got, want := replies(t, rb), replies(t, ra); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replies differ between batchings:\n%q\n%q", got, want)
	}
	half := len(logs) / 2
	c := New(quietLogger())
	applyInChunks(c, logs[:half], 3)
	d := New(quietLogger())
	if err := d.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, c)))); err != nil {
		t.Fatal(err)
	}
	applyInChunks(d, logs[half:], 4)

	da, err := a.Digest()
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*FSM{"rebatched": b, "restored": d} {
		dg, err := f.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if dg != da {
			t.Fatalf("%s node: digest %s, want %s", name, dg, da)
		}
		if !bytes.Equal(snapshotBytes(t, f), snapshotBytes(t, a)) {
			t.Fatalf("%s node: snapshot differs", name)
		}
	}
	// The workload did what it is meant to exercise.
	got := func(args ...string) string { return execRead(t, a, args...) }
	if n := got("XLEN", "jobs:dead"); n == ":0\r\n" {
		t.Fatal("nothing was dead-lettered")
	}
	if n := got("XLEN", "events"); n != ":20\r\n" {
		t.Fatalf("XLEN events = %q after retention, want the 20 pending entries", n)
	}
}

// execRead runs a read command on f's state and returns its RESP2 reply.
func execRead(t testing.TB, f *FSM, args ...string) string {
	t.Helper()
	var out string
	f.Read(func(st *engine.State) {
		w := resp.NewWriter(2)
		st.Exec(&engine.Ctx{Now: st.Clock(), W: w}, argv(args...))
		out = string(w.Buf)
	})
	return out
}
