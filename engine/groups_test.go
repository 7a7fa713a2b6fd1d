package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// groupHarness runs commands on a state at a controllable clock.
type groupHarness struct {
	t   *testing.T
	s   *State
	now int64
}

func (h *groupHarness) run(args ...string) string {
	h.t.Helper()
	h.s.AdvanceClock(h.now)
	return runOwn(h.s, 2, h.now, args)
}

func (h *groupHarness) mustOK(args ...string) string {
	h.t.Helper()
	r := h.run(args...)
	if strings.HasPrefix(r, "-") {
		h.t.Fatalf("%v: %s", args, r)
	}
	return r
}

// replyIDs extracts entry IDs from a RESP2 XREADGROUP/XAUTOCLAIM reply by
// scanning for bulk strings that parse as IDs of the form <n>-<n>.
func replyIDs(reply string) []string {
	var ids []string
	for _, line := range strings.Split(reply, "\r\n") {
		if i := strings.IndexByte(line, '-'); i > 0 && !strings.ContainsAny(line, "$*:+") {
			if _, err := strconv.ParseUint(line[:i], 10, 64); err == nil {
				if _, err := strconv.ParseUint(line[i+1:], 10, 64); err == nil {
					ids = append(ids, line)
				}
			}
		}
	}
	return ids
}

// TestTaskQueue runs a work queue: producers add jobs, consumers take them
// with XREADGROUP and acknowledge most, some consumers "crash" holding
// jobs, and XAUTOCLAIM hands jobs idle for too long to others. Every job
// must be acknowledged exactly once and none may be lost.
func TestTaskQueue(t *testing.T) {
	h := &groupHarness{t: t, s: NewState(), now: testNow}
	rng := rand.New(rand.NewPCG(7, 8))
	h.mustOK("XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM")
	const jobs = 600
	const idleLimit = 5000
	produced := map[string]bool{}
	acked := map[string]int{}
	held := map[string][]string{} // jobs a consumer holds without acking
	consumers := []string{"w1", "w2", "w3", "w4"}
	next := 0
	for step := 0; len(acked) < jobs; step++ {
		if step > 20000 {
			t.Fatalf("stuck: %d of %d jobs acknowledged", len(acked), jobs)
		}
		h.now += int64(rng.IntN(300))
		if next < jobs && rng.IntN(3) != 0 {
			id := strings.TrimPrefix(strings.Split(h.mustOK("XADD", "jobs", "*", "job", strconv.Itoa(next)), "\r\n")[1], "")
			produced[id] = true
			next++
			continue
		}
		c := consumers[rng.IntN(len(consumers))]
		var got []string
		if rng.IntN(4) == 0 {
			r := h.mustOK("XAUTOCLAIM", "jobs", "workers", c, strconv.Itoa(idleLimit), "0", "COUNT", "5", "JUSTID")
			got = replyIDs(r)
			if len(got) > 0 && !strings.HasPrefix(r, "*3\r\n") {
				t.Fatalf("XAUTOCLAIM reply %q", r)
			}
			// The first ID of the reply is the cursor.
			got = got[1:]
		} else {
			got = replyIDs(h.mustOK("XREADGROUP", "GROUP", "workers", c, "COUNT", "3", "STREAMS", "jobs", ">"))
		}
		for _, id := range got {
			if !produced[id] {
				t.Fatalf("%s got unknown job %s", c, id)
			}
			if rng.IntN(8) == 0 {
				held[c] = append(held[c], id) // crashes with it: never acked by c
				continue
			}
			r := h.mustOK("XACK", "jobs", "workers", id)
			switch r {
			case ":1\r\n":
				acked[id]++
			case ":0\r\n":
				t.Fatalf("%s: XACK %s acknowledged nothing (claimed and acked elsewhere?)", c, id)
			}
		}
		if rng.IntN(50) == 0 {
			h.now += idleLimit // let held jobs become claimable
		}
		if len(acked) >= jobs-40 && next == jobs {
			h.now += idleLimit
		}
	}
	for id, n := range acked {
		if n != 1 {
			t.Fatalf("job %s acknowledged %d times", id, n)
		}
	}
	if len(acked) != len(produced) {
		t.Fatalf("%d jobs acknowledged, %d produced", len(acked), len(produced))
	}
	if r := h.run("XPENDING", "jobs", "workers"); r != ar(in(0), nullBulk(), nullBulk(), nullArr()) {
		t.Fatalf("PEL not empty at the end: %q", r)
	}
	// Acknowledged jobs cannot be acknowledged again.
	for id := range acked {
		if r := h.run("XACK", "jobs", "workers", id); r != in(0) {
			t.Fatalf("second XACK %s: %q", id, r)
		}
		break
	}
}

// wouldServe is what the server asks for a blocked XREADGROUP: a command
// that does not parse is never blocked on, and its error goes through the
// log like a delivery.
func wouldServe(s *State, ctx *Ctx, line string) bool {
	a, err := ParseXReadGroup(argvOf(line))
	if err != "" {
		return true
	}
	return s.XReadGroupWouldServe(ctx, &a)
}

func mustParseXRG(t *testing.T, line string) *XReadGroupArgs {
	t.Helper()
	a, err := ParseXReadGroup(argvOf(line))
	if err != "" {
		t.Fatalf("%s: %s", line, err)
	}
	return &a
}

func TestXReadGroupWouldServe(t *testing.T) {
	setup := []string{
		"XADD s 1-1 f v", "XADD s 2-1 f v",
		"XGROUP CREATE s g 0", "XGROUP CREATE s late $",
		"XGROUP CREATECONSUMER s late known",
		"XREADGROUP GROUP g known STREAMS s >",
	}
	tests := []struct {
		line string
		want bool
	}{
		{"XREADGROUP GROUP late known STREAMS s >", false},
		{"XREADGROUP GROUP late known BLOCK 0 COUNT 5 STREAMS s >", false},
		{"XREADGROUP GROUP late unknown STREAMS s >", true}, // creates the consumer
		{"XREADGROUP GROUP g known STREAMS s >", false},
		{"XREADGROUP GROUP g known STREAMS s 0", true},         // history replies
		{"XREADGROUP GROUP g known CLAIM 0 STREAMS s >", true}, // idle for 0 ms
		{"XREADGROUP GROUP g known CLAIM 1000 STREAMS s >", false},
		{"XREADGROUP GROUP nog known STREAMS s >", true}, // NOGROUP error
		{"XREADGROUP GROUP g known STREAMS nokey >", true},
		{"XREADGROUP GROUP g known STREAMS s $", true},
		{"XREADGROUP GROUP g known STREAMS s", true}, // arity error
		{"XREADGROUP GROUP g known STREAMS s s > >", false},
		{"XREADGROUP GROUP late known STREAMS s s > 0", true},
	}
	h := &groupHarness{t: t, s: NewState(), now: testNow}
	for _, l := range setup {
		h.mustOK(strings.Fields(l)...)
	}
	for _, tc := range tests {
		before := snapshotBytes(t, h.s)
		ctx := &Ctx{Now: h.now, W: respWriter(2)}
		if got := wouldServe(h.s, ctx, tc.line); got != tc.want {
			t.Errorf("%s: WouldServe %v, want %v", tc.line, got, tc.want)
		}
		if !bytes.Equal(before, snapshotBytes(t, h.s)) {
			t.Fatalf("%s: WouldServe changed the state", tc.line)
		}
		// When it says false, Exec indeed replies null and changes nothing
		// but seen-times.
		if !tc.want {
			st := h.s.Clone()
			if r := runOwn(st, 2, h.now, strings.Fields(tc.line)); r != nullArr() {
				t.Errorf("%s: WouldServe false but Exec replied %q", tc.line, r)
			}
		}
	}
	// The claim deadline: the oldest pending delivery plus min-idle-time.
	ctx := &Ctx{Now: h.now + 10, W: respWriter(2)}
	if at, ok := h.s.XReadGroupClaimDeadline(ctx, mustParseXRG(t, "XREADGROUP GROUP g x CLAIM 500 STREAMS s >")); !ok || at != testNow+500 {
		t.Errorf("claim deadline %d %v, want %d", at, ok, testNow+500)
	}
	if at, ok := h.s.XReadGroupClaimDeadline(ctx, mustParseXRG(t, "XREADGROUP GROUP late x CLAIM 500 STREAMS s >")); !ok || at != ctx.Now+500 {
		t.Errorf("claim deadline without pending entries %d %v, want %d", at, ok, ctx.Now+500)
	}
	if _, ok := h.s.XReadGroupClaimDeadline(ctx, mustParseXRG(t, "XREADGROUP GROUP g x STREAMS s >")); ok {
		t.Error("claim deadline without CLAIM")
	}
	// XReadGroup serves a parsed command and says whether it served.
	rg, _ := ParseXReadGroup(argvOf("XREADGROUP GROUP late known BLOCK 10 STREAMS s >"))
	w := respWriter(3)
	if h.s.XReadGroup(&Ctx{Now: h.now, W: w}, &rg) || string(w.Buf) != null3() {
		t.Fatalf("XReadGroup with nothing new: %q", w.Buf)
	}
	h.mustOK("XADD", "s", "3-1", "f", "v")
	w.Reset()
	if !h.s.XReadGroup(&Ctx{Now: h.now, W: w}, &rg) || string(w.Buf) != mp(bs("s"), ar(ent("3-1", "f", "v"))) {
		t.Fatalf("XReadGroup after XADD: %q", w.Buf)
	}
	if a, err := ParseXReadGroup(argvOf("XREADGROUP GROUP g c COUNT 2 BLOCK 50 NOACK CLAIM 7 STREAMS a b > 0")); err != "" ||
		string(a.Group) != "g" || string(a.Consumer) != "c" || a.Count != 2 || !a.Block || a.Timeout != 50 ||
		!a.NoAck || !a.Claim || a.MinIdle != 7 || len(a.Keys) != 2 || string(a.IDs[1]) != "0" {
		t.Fatalf("ParseXReadGroup = %+v, %q", a, err)
	}
}

func TestGroupSignals(t *testing.T) {
	base := []string{"XADD s 1-1 f v", "XGROUP CREATE s g 0"}
	tests := []struct {
		name  string
		setup []string
		line  string
		want  []string
	}{
		{"create", []string{"XADD s 1-1 f v"}, "XGROUP CREATE s g $", []string{"0:s"}},
		{"create-mkstream", nil, "XGROUP CREATE s g $ MKSTREAM", []string{"0:s"}},
		{"create-busy", base, "XGROUP CREATE s g $", nil},
		{"setid", base, "XGROUP SETID s g 0", []string{"0:s"}},
		{"destroy", base, "XGROUP DESTROY s g", []string{"0:s"}},
		{"destroy-missing", base, "XGROUP DESTROY s nog", nil},
		{"createconsumer", base, "XGROUP CREATECONSUMER s g c", nil},
		{"xreadgroup", base, "XREADGROUP GROUP g c STREAMS s >", nil},
		{"xack", append(base, "XREADGROUP GROUP g c STREAMS s >"), "XACK s g 1-1", nil},
		{"xnack", append(base, "XREADGROUP GROUP g c STREAMS s >"), "XNACK s g FAIL IDS 1 1-1", []string{"0:s"}},
		{"xnack-none", base, "XNACK s g FAIL IDS 1 1-1", nil},
		{"xadd-idmp-dup", []string{"XADD s IDMP p i * f v"}, "XADD s IDMP p i * f v", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &signalLog{s: NewState(), now: testNow}
			for _, s := range tc.setup {
				l.run(s)
			}
			l.got = nil
			l.run(tc.line)
			sort.Strings(l.got)
			if !reflect.DeepEqual(l.got, tc.want) {
				t.Fatalf("signals %v, want %v (reply %q)", l.got, tc.want, l.last)
			}
		})
	}
}

// groupStream builds a stream with two groups, consumers and pending,
// released and claimed entries, plus IDMP state.
func groupStream(t *testing.T) *State {
	t.Helper()
	h := &groupHarness{t: t, s: NewState(), now: testNow}
	for i := 1; i <= 30; i++ {
		h.mustOK("XADD", "s", fmt.Sprintf("%d-1", i), "f", strconv.Itoa(i))
	}
	h.mustOK("XGROUP", "CREATE", "s", "g", "0")
	h.mustOK("XGROUP", "CREATE", "s", "h", "10")
	h.mustOK("XREADGROUP", "GROUP", "g", "a", "COUNT", "10", "STREAMS", "s", ">")
	h.mustOK("XREADGROUP", "GROUP", "g", "b", "COUNT", "10", "STREAMS", "s", ">")
	h.mustOK("XREADGROUP", "GROUP", "h", "a", "STREAMS", "s", ">")
	h.mustOK("XNACK", "s", "g", "FAIL", "IDS", "2", "3-1", "15-1")
	h.mustOK("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
	return h.s
}

// TestGroupsCloneConcurrent reads a clone's groups (replies, snapshot)
// while the original's groups are changed in every way; run with -race.
func TestGroupsCloneConcurrent(t *testing.T) {
	s := groupStream(t)
	reads := []string{"XINFO STREAM s FULL COUNT 0", "XPENDING s g - + 100", "XPENDING s h",
		"XINFO CONSUMERS s g", "XINFO GROUPS s", "XINFO STREAM s"}
	for round := 0; round < 5; round++ {
		cl := s.Clone()
		want := snapshotBytes(t, cl)
		var wantReplies []string
		for _, r := range reads {
			wantReplies = append(wantReplies, runOwn(cl, 3, testNow, strings.Fields(r)))
		}
		var wg sync.WaitGroup
		errs := make(chan string, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				for j, r := range reads {
					if got := runOwn(cl, 3, testNow, strings.Fields(r)); got != wantReplies[j] {
						errs <- fmt.Sprintf("%s changed in the clone", r)
						return
					}
				}
				var b bytes.Buffer
				if err := cl.WriteSnapshot(&b); err != nil || !bytes.Equal(b.Bytes(), want) {
					errs <- "clone snapshot changed"
					return
				}
			}
		}()
		now := testNow + int64(1000*(round+1))
		for i, line := range []string{
			"XREADGROUP GROUP g c COUNT 3 STREAMS s >", "XACK s g 1-1 2-1 3-1",
			"XCLAIM s g d 0 4-1 5-1", "XAUTOCLAIM s g e 0 0 COUNT 4",
			"XREADGROUP GROUP h a CLAIM 0 COUNT 2 STREAMS s >", "XNACK s h FATAL IDS 1 12-1",
			"XGROUP DELCONSUMER s g b", "XGROUP SETID s g 0", "XGROUP CREATECONSUMER s h z",
			"XDELEX s DELREF IDS 1 20-1", "XACKDEL s g ACKED IDS 1 6-1",
			"XADD s IDMP p j * f v", "XADD s IDMPAUTO q * f v", "XCFGSET s IDMP-MAXSIZE 3",
			"XTRIM s MINID 8 DELREF", "XGROUP DESTROY s h", "XGROUP CREATE s h2 $",
		} {
			runOwn(s, 2, now+int64(i), strings.Fields(line))
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatal(e)
		}
		if !bytes.Equal(snapshotBytes(t, cl), want) {
			t.Fatal("clone changed after the original was written")
		}
		// Writes to the clone do not reach the original either.
		orig := snapshotBytes(t, s)
		runOwn(cl, 2, now, strings.Fields("XREADGROUP GROUP g zz STREAMS s 0"))
		runOwn(cl, 2, now, strings.Fields("XGROUP DESTROY s g"))
		if !bytes.Equal(snapshotBytes(t, s), orig) {
			t.Fatal("original changed after the clone was written")
		}
		s = s.Clone() // next round starts from a clone of a clone
	}
}

// TestGroupsDeterminism replays random group commands on two states and
// compares snapshots and replies, then round-trips the snapshot.
func TestGroupsDeterminism(t *testing.T) {
	vocab := []func(r *rand.Rand) string{
		func(r *rand.Rand) string { return "XADD s * f " + strconv.Itoa(r.IntN(9)) },
		func(r *rand.Rand) string {
			return "XADD s IDMP p" + strconv.Itoa(r.IntN(3)) + " i" + strconv.Itoa(r.IntN(5)) + " * f v"
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("XREADGROUP GROUP g%d c%d COUNT %d STREAMS s >", r.IntN(2), r.IntN(3), r.IntN(4))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("XREADGROUP GROUP g%d c%d CLAIM %d COUNT 2 STREAMS s >", r.IntN(2), r.IntN(3), r.IntN(50))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("XREADGROUP GROUP g%d c%d STREAMS s 0", r.IntN(2), r.IntN(3))
		},
		func(r *rand.Rand) string {
			return fmt.Sprintf("XAUTOCLAIM s g%d c%d %d 0 COUNT 3", r.IntN(2), r.IntN(3), r.IntN(40))
		},
		func(r *rand.Rand) string { return fmt.Sprintf("XGROUP SETID s g%d 0", r.IntN(2)) },
		func(r *rand.Rand) string { return fmt.Sprintf("XGROUP DELCONSUMER s g%d c%d", r.IntN(2), r.IntN(3)) },
		func(r *rand.Rand) string { return "XTRIM s MAXLEN ~ 5 ACKED" },
		func(r *rand.Rand) string { return "XCFGSET s IDMP-MAXSIZE " + strconv.Itoa(1+r.IntN(3)) },
	}
	var lines []string
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 400; i++ {
		lines = append(lines, vocab[rng.IntN(len(vocab))](rng))
	}
	build := func() (*State, []string) {
		s := NewState()
		runOwn(s, 2, testNow, strings.Fields("XGROUP CREATE s g0 $ MKSTREAM"))
		runOwn(s, 2, testNow, strings.Fields("XGROUP CREATE s g1 $"))
		var replies []string
		for i, l := range lines {
			pending := ""
			if e := s.dbs[0].get("s"); e != nil {
				if g := e.val.group("g0"); g != nil {
					if pe, ok := g.pel.Min(); ok {
						pending = pe.id.String()
					}
				}
			}
			if pending != "" && i%17 == 0 {
				l = "XNACK s g0 SILENT IDS 1 " + pending
			}
			replies = append(replies, runOwn(s, 2+i%2, testNow+int64(i*7), strings.Fields(l)))
		}
		return s, replies
	}
	a, ra := build()
	b, rb := build()
	if !reflect.DeepEqual(ra, rb) {
		t.Fatal("same commands gave different replies")
	}
	sa := snapshotBytes(t, a)
	if !bytes.Equal(sa, snapshotBytes(t, b)) {
		t.Fatal("same commands gave different snapshots")
	}
	r, err := ReadSnapshot(bytes.NewReader(sa))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, r), sa) {
		t.Fatal("snapshot round trip changed the bytes")
	}
}

// TestStreamSnapshotV1 decodes a version 1 stream encoding (no groups).
func TestStreamSnapshotV1(t *testing.T) {
	s := NewStream()
	s.Append(ID{1, 1}, [][]byte{[]byte("f"), []byte("v")}, NodeLimits{})
	enc := s.AppendSnapshot(nil)
	// A stream without groups, IDMP state or retention ends with four
	// zero bytes.
	if enc[0] != streamSnapshotVersion || !bytes.HasSuffix(enc, []byte{0, 0, 0, 0}) {
		t.Fatalf("unexpected encoding %x", enc)
	}
	v1 := append([]byte{1}, enc[1:len(enc)-4]...)
	d, rest, err := DecodeStream(v1)
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode v1: %v, %d trailing", err, len(rest))
	}
	if !bytes.Equal(d.AppendSnapshot(nil), enc) {
		t.Fatal("v1 stream re-encodes differently")
	}
}

// TestGroupSnapshotCorrupt flips bytes of an encoding with groups: decoding
// must fail or give a stream that works.
func TestGroupSnapshotCorrupt(t *testing.T) {
	s := groupStream(t)
	enc := s.dbs[0].get("s").val.AppendSnapshot(nil)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 3000; i++ {
		bad := append([]byte(nil), enc...)
		bad[len(bad)-1-rng.IntN(min(len(bad), 600))] ^= byte(1 + rng.IntN(255))
		d, _, err := DecodeStream(bad)
		if err != nil {
			continue
		}
		st := NewState()
		st.dbs[0].add("s", d)
		for _, l := range []string{"XINFO STREAM s FULL", "XPENDING s g - + 100",
			"XREADGROUP GROUP g a CLAIM 0 STREAMS s >", "XAUTOCLAIM s g x 0 0", "XGROUP DESTROY s g"} {
			runOwn(st, 3, testNow, strings.Fields(l))
		}
	}
	for i := range enc {
		if _, _, err := DecodeStream(enc[:i]); err == nil {
			t.Fatalf("truncated to %d of %d bytes decoded", i, len(enc))
		}
	}
}

func TestIDMPExpiry(t *testing.T) {
	h := &groupHarness{t: t, s: NewState(), now: testNow}
	first := h.mustOK("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
	h.mustOK("XCFGSET", "s", "IDMP-DURATION", "100")
	h.now += 99_999
	if got := h.mustOK("XADD", "s", "IDMP", "p", "i", "*", "f", "v"); got != first {
		t.Fatalf("duplicate before the deadline added %q", got)
	}
	stats := func() [4]int64 {
		p, i, a, d := h.s.dbs[0].get("s").val.idmpStats(h.now)
		return [4]int64{p, i, a, d}
	}
	if got := stats(); got != [4]int64{1, 1, 1, 1} {
		t.Fatalf("stats %v", got)
	}
	h.now++ // exactly duration seconds after the entry's ID time
	if got := stats(); got != [4]int64{0, 0, 1, 1} {
		t.Fatalf("expired entry still counted: %v", got)
	}
	if got := h.mustOK("XADD", "s", "IDMP", "p", "i", "*", "f", "v"); got == first {
		t.Fatal("expired idempotent ID still deduplicated")
	}
	// Expiry only forgets IDMP entries: the stream keeps both entries.
	if got := h.run("XLEN", "s"); got != in(2) {
		t.Fatalf("XLEN %q", got)
	}
	// The size limit evicts the oldest entry of the producer.
	h.mustOK("XCFGSET", "s", "IDMP-MAXSIZE", "2")
	a := h.mustOK("XADD", "s", "IDMP", "p", "a", "*", "f", "v")
	h.mustOK("XADD", "s", "IDMP", "p", "b", "*", "f", "v")
	h.mustOK("XADD", "s", "IDMP", "p", "c", "*", "f", "v")
	if got := h.mustOK("XADD", "s", "IDMP", "p", "a", "*", "f", "v"); got == a {
		t.Fatal("evicted idempotent ID still deduplicated")
	}
}

func TestContainerSpecs(t *testing.T) {
	for _, name := range []string{"xgroup", "xinfo"} {
		c := lookupCommand([]byte(name))
		if c == nil || len(c.Subcommands()) == 0 || c.Spec().Write || len(c.Spec().Flags) != 0 {
			t.Fatalf("%s command %+v", name, c)
		}
		subs := c.Subcommands()
		for i, sc := range subs {
			sub := sc.Spec()
			if !strings.HasPrefix(sub.Name, name+"|") || sub.Arity == 0 || sub.Summary == "" {
				t.Errorf("%s: bad subcommand %+v", name, sub)
			}
			if c.lookupSub([]byte(strings.ToUpper(sub.Name[len(name)+1:]))) != sc {
				t.Errorf("%s: lookupSub does not find it", sub.Name)
			}
			if i > 0 && subs[i-1].Spec().Name >= sub.Name {
				t.Errorf("%s: subcommands not sorted", name)
			}
			hasWrite := false
			for _, f := range sub.Flags {
				hasWrite = hasWrite || f == flagWrite
			}
			if hasWrite != sub.Write {
				t.Errorf("%s: Write=%v but flags %v", sub.Name, sub.Write, sub.Flags)
			}
			if sub.Write && sub.FirstKey != 2 {
				t.Errorf("%s: key at %d", sub.Name, sub.FirstKey)
			}
		}
	}
}

// TestPELMemoryPerEntry bounds the heap a pending entry costs.
func TestPELMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates")
	}
	const n = 100_000
	s := NewStream()
	for i := 0; i < n; i++ {
		s.Append(ID{uint64(i + 1), 0}, [][]byte{[]byte("f"), []byte("v")}, NodeLimits{MaxBytes: 4096, MaxEntries: 100})
	}
	s.createGroup("g", ID{}, 0)
	g := s.group("g")
	c, _ := s.lookupOrCreateConsumer(g, "consumer", testNow)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s.Range(MinID, MaxID, false, func(id ID, _ [][]byte) bool {
		g.pelAdd(c, id, testNow)
		return true
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.1f bytes of heap per pending entry", per)
	if per > 175 {
		t.Fatalf("%.1f bytes per pending entry", per)
	}
	// XREADGROUP CLAIM and XNACK add the delivery-order index.
	g.ensureTimes()
	runtime.GC()
	runtime.ReadMemStats(&after)
	per = float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.1f bytes with the delivery-order index", per)
	if per > 240 {
		t.Fatalf("%.1f bytes per pending entry with the index", per)
	}
	runtime.KeepAlive(s)
}
