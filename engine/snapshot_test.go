package engine

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// buildWorkload runs a mixed command sequence that touches every part of
// the state: several dbs, TTLs, deletes, trims, config and the clock.
func buildWorkload(t *testing.T, s *State) {
	t.Helper()
	now := testNow
	run := func(db int, line string) {
		w := respWriter(2)
		ctx := &Ctx{DB: db, Now: now, W: w}
		s.AdvanceClock(now)
		if strings.HasPrefix(line, "CONFIG ") {
			set, _ := ParseConfigSet(argvOf(line))
			s.ExecConfigSet(ctx, set)
		} else {
			s.Exec(ctx, argvOf(line))
		}
		if bytes.HasPrefix(w.Buf, []byte("-")) {
			t.Fatalf("%s: %s", line, w.Buf)
		}
		now += 3
	}
	run(0, "CONFIG SET stream-node-max-entries 5")
	for i := 0; i < 40; i++ {
		run(i%3, fmt.Sprintf("XADD stream:%d * field %d other value-%d", i%7, i, i*i))
	}
	run(0, "XADD big MAXLEN ~ 10 * a b")
	for i := 0; i < 30; i++ {
		run(0, "XADD big MAXLEN ~ 10 * a b")
	}
	run(1, "EXPIRE stream:1 1000")
	run(2, "PEXPIREAT stream:2 99999999999999")
	run(0, "XDEL stream:0 0-1")
	run(0, "XTRIM stream:3 MAXLEN 1")
	run(0, "XSETID stream:3 99999999999999-5 ENTRIESADDED 500 MAXDELETEDID 5-5")
	run(0, "RENAME stream:4 renamed")
	run(5, "XADD other 1-1 x y")
	run(5, "COPY other copied DB 6")
	run(0, "ACL SETUSER app on >pw ~app:* %R~ro:* +@stream -xdel")
	run(0, "ACL SETUSER gone on nopass +@all")
	run(0, "ACL SETUSER default -flushall")
	run(0, "ACL DELUSER gone")
	buildGroups(run)
}

// buildGroups adds consumer-group and IDMP state to the workload: several
// groups and consumers, acknowledged, claimed, released (XNACK) and
// deleted-while-pending entries, and IDMP producers.
func buildGroups(run func(db int, line string)) {
	run(0, "XGROUP CREATE big g1 0")
	run(0, "XGROUP CREATE big g2 $")
	run(0, "XGROUP CREATE stream:5 g0 0 ENTRIESREAD 1")
	run(0, "XREADGROUP GROUP g1 alice COUNT 4 STREAMS big >")
	run(0, "XREADGROUP GROUP g1 bob COUNT 3 STREAMS big >")
	run(0, "XADD big * a b")
	run(0, "XREADGROUP GROUP g2 carol STREAMS big >")
	run(0, "XGROUP CREATECONSUMER big g1 idle")
	run(0, "XAUTOCLAIM big g1 bob 0 0 COUNT 2")
	run(0, "XREADGROUP GROUP g1 bob NOACK COUNT 1 STREAMS big >")
	run(0, "XREADGROUP GROUP g1 bob CLAIM 0 COUNT 2 STREAMS big >")
	run(0, "XREADGROUP GROUP g0 x STREAMS stream:5 >")
	run(0, "XDEL stream:5 0-1")
	run(0, "XADD big IDMP p1 i1 * a b")
	run(0, "XADD big IDMPAUTO p2 * a c")
	run(0, "XADD big IDMP p1 i1 * a b")
	run(0, "XCFGSET stream:6 IDMP-DURATION 50")
	run(0, "XADD stream:6 IDMP p i * k v")
}

func snapshotBytes(t *testing.T, s *State) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteSnapshot(&b); err != nil {
		t.Fatalf("WriteSnapshot: %v", err)
	}
	return b.Bytes()
}

func TestSnapshotDeterministic(t *testing.T) {
	a, b := NewState(), NewState()
	buildWorkload(t, a)
	buildWorkload(t, b)
	sa, sb := snapshotBytes(t, a), snapshotBytes(t, b)
	if !bytes.Equal(sa, sb) {
		t.Fatal("two states built by the same commands give different snapshots")
	}
	r, err := ReadSnapshot(bytes.NewReader(sa))
	if err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	if got := snapshotBytes(t, r); !bytes.Equal(got, sa) {
		t.Fatal("ReadSnapshot then WriteSnapshot changed the bytes")
	}
	if r.Clock() != a.Clock() {
		t.Fatalf("clock %d, want %d", r.Clock(), a.Clock())
	}
	if v, _ := r.ConfigGet("stream-node-max-entries"); v != "5" {
		t.Fatalf("config after restore = %q, want 5", v)
	}
	// Bytes is approximate (it may count spare capacity), so it is left out.
	ri, ai := r.Info(), a.Info()
	if ri.Keys != ai.Keys || ri.Expires != ai.Expires || ri.Entries != ai.Entries {
		t.Fatalf("info after restore %+v, want %+v", ri, ai)
	}
	// The restored state answers like the original.
	for _, line := range []string{"XRANGE big - +", "XLEN stream:0", "KEYS *", "SCAN 0 COUNT 3", "TTL renamed",
		"XINFO STREAM big FULL COUNT 0", "XPENDING big g1 - + 100", "XINFO CONSUMERS big g1",
		"XINFO GROUPS stream:5", "XINFO STREAM stream:6"} {
		if x, y := runOwn(a, 3, testNow, strings.Fields(line)), runOwn(r, 3, testNow, strings.Fields(line)); x != y {
			t.Fatalf("%s: original %q, restored %q", line, x, y)
		}
	}
	// The workload left real group state behind.
	if got := runOwn(r, 2, testNow, strings.Fields("XPENDING big g1")); !strings.HasPrefix(got, "*4\r\n:") || strings.HasPrefix(got, "*4\r\n:0") {
		t.Fatalf("XPENDING big g1 = %q, want pending entries", got)
	}
	// And the restored state evolves exactly like the original, including
	// the delivery order that XREADGROUP CLAIM follows.
	for _, x := range []*State{a, r} {
		for i, line := range []string{
			"XREADGROUP GROUP g1 zed CLAIM 0 STREAMS big >", "XNACK big g1 FAIL IDS 1 " + firstPending(t, x),
			"XREADGROUP GROUP g1 zed CLAIM 0 COUNT 3 STREAMS big >", "XADD big IDMP p1 i1 * x y",
		} {
			runOwn(x, 2, testNow+int64(100000+i), strings.Fields(line))
		}
	}
	if !bytes.Equal(snapshotBytes(t, a), snapshotBytes(t, r)) {
		t.Fatal("restored state diverged from the original under identical commands")
	}
}

// firstPending returns the first pending ID of big's group g1.
func firstPending(t *testing.T, s *State) string {
	t.Helper()
	g := s.dbs[0].get("big").val.group("g1")
	e, ok := g.pel.Min()
	if !ok {
		t.Fatal("no pending entry in big/g1")
	}
	return e.id.String()
}

func TestSnapshotEmpty(t *testing.T) {
	b := snapshotBytes(t, NewState())
	s, err := ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshotBytes(t, s); !bytes.Equal(got, b) {
		t.Fatal("empty snapshot does not round-trip")
	}
	if v, _ := s.ConfigGet("STREAM-NODE-MAX-BYTES"); v != "4096" {
		t.Fatalf("default stream-node-max-bytes = %q", v)
	}
}

func TestSnapshotCorrupt(t *testing.T) {
	s := NewState()
	buildWorkload(t, s)
	good := snapshotBytes(t, s)
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXXXXXX"), good[8:]...),
		"truncated": good[:len(good)/2],
		"flipped":   flip(good, len(good)/3),
		"trailing":  append(append([]byte{}, good...), 0),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadSnapshot(bytes.NewReader(b)); err == nil {
				t.Fatal("corrupt snapshot accepted")
			} else if !errors.Is(err, errSnapshot) {
				t.Fatalf("error %v does not wrap errSnapshot", err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 0x40
	return c
}

// TestCloneIsolation checks that a clone keeps the state it was taken at
// while the original changes, and that reading the clone concurrently with
// writes to the original is race-free (run with -race).
func TestCloneIsolation(t *testing.T) {
	s := NewState()
	buildWorkload(t, s)
	before := snapshotBytes(t, s)
	cl := s.Clone()

	var wg sync.WaitGroup
	var cloneSnap []byte
	var cloneErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		var b bytes.Buffer
		cloneErr = cl.WriteSnapshot(&b)
		cloneSnap = b.Bytes()
	}()
	for i := 0; i < 200; i++ {
		for _, line := range []string{
			"XADD big * k v", "XADD stream:5 * k v", "XDEL stream:6 0-1",
			"XREADGROUP GROUP g1 dave COUNT 2 STREAMS big >",
			"XAUTOCLAIM big g1 erin 0 0 COUNT 3", "XACK big g1 0-1 0-2",
			"XREADGROUP GROUP g1 bob CLAIM 0 COUNT 1 STREAMS big >",
			"XCLAIM big g2 frank 0 0-1 FORCE", "XGROUP CREATECONSUMER big g2 new",
			"XREADGROUP GROUP g0 y STREAMS stream:5 0",
			"XADD big IDMP p1 i1 * x y", "XADD stream:6 IDMPAUTO q * k v",
			"XTRIM big MAXLEN 3", "EXPIRE stream:0 5", "DEL renamed",
		} {
			runOwn(s, 2, testNow+int64(1000+i), strings.Fields(line))
		}
	}
	runOwn(s, 2, testNow+5000, []string{"XGROUP", "DESTROY", "big", "g1"})
	runOwn(s, 2, testNow+5000, []string{"XCFGSET", "stream:6", "IDMP-MAXSIZE", "7"})
	runOwn(s, 2, testNow+5000, []string{"FLUSHALL"})
	wg.Wait()
	if cloneErr != nil {
		t.Fatal(cloneErr)
	}
	if !bytes.Equal(cloneSnap, before) {
		t.Fatal("clone changed when the original was written to")
	}
	if again := snapshotBytes(t, cl); !bytes.Equal(again, before) {
		t.Fatal("clone snapshot differs after the original was flushed")
	}
	// Writes to the clone do not leak back either.
	runOwn(cl, 2, testNow, []string{"XADD", "fresh", "1-1", "a", "b"})
	if got := runOwn(s, 2, testNow+6000, []string{"EXISTS", "fresh"}); got != in(0) {
		t.Fatalf("write to clone visible in original: %q", got)
	}
}

// TestCloneThenExecSame checks that a clone and the original evolve
// identically under the same commands (determinism of Exec).
func TestCloneThenExecSame(t *testing.T) {
	s := NewState()
	buildWorkload(t, s)
	cl := s.Clone()
	for _, x := range []*State{s, cl} {
		for i := 0; i < 50; i++ {
			runOwn(x, 2, testNow+int64(100000+i), []string{"XADD", "big", "MAXLEN", "~", "7", "*", "n", fmt.Sprint(i)})
		}
		x.ExpireKeys(testNow + 100000)
	}
	if !bytes.Equal(snapshotBytes(t, s), snapshotBytes(t, cl)) {
		t.Fatal("clone and original diverged under identical commands")
	}
}

// writeSizes records the size of every Write.
type writeSizes struct {
	bytes.Buffer
	max int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.max = max(w.max, len(p))
	return w.Buffer.Write(p)
}

// A stream much larger than the flush threshold is written in pieces of
// about snapFlushAt, not built whole first (a backup or Raft snapshot of
// one big stream would otherwise hold its encoding in memory), with the
// same bytes: the stream's AppendSnapshot encoding, contiguous, and a
// state that reads back equal.
func TestWriteSnapshotStreamsLargeStream(t *testing.T) {
	s := NewState()
	w := respWriter(2)
	val := strings.Repeat("v", 200)
	for i := 0; i < 20000; i++ {
		w.Buf = w.Buf[:0]
		s.Exec(&Ctx{Now: testNow + int64(i), W: w}, argvOf(fmt.Sprintf("XADD big * f %d g %s", i, val)))
	}
	var out writeSizes
	if err := s.WriteSnapshot(&out); err != nil {
		t.Fatal(err)
	}
	if out.Len() < 4_000_000 || out.max > 2*snapFlushAt {
		t.Fatalf("%d bytes written, largest write %d (flush threshold %d)", out.Len(), out.max, snapFlushAt)
	}
	enc := s.dbs[0].get("big").val.AppendSnapshot(nil)
	if !bytes.Contains(out.Bytes(), enc) {
		t.Fatal("the written snapshot does not hold the stream's encoding")
	}
	back, err := ReadSnapshot(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := back.WriteSnapshot(&again); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) {
		t.Fatalf("read back and written again: %d bytes, %v; want the same %d", again.Len(), err, out.Len())
	}
}
