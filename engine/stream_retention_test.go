package engine

import (
	"bytes"
	"strconv"
	"testing"
)

// retentionState is a stream "s" of entries at testNow-3000, -2000, -1000
// and testNow (IDs <ms>-0), with group g having read and not acknowledged
// the first two, and "other" without retention.
func retentionState(t *testing.T) *State {
	t.Helper()
	s := NewState()
	for _, d := range []int64{3000, 2000, 1000, 0} {
		id := strconv.FormatInt(testNow-d, 10) + "-0"
		mustRun(t, s, testNow, "XADD s "+id+" f v", bs(id))
		mustRun(t, s, testNow, "XADD other "+id+" f v", bs(id))
	}
	mustRun(t, s, testNow, "XGROUP CREATE s g 0", ok())
	run(s, testNow, "XREADGROUP GROUP g c COUNT 2 STREAMS s >")
	return s
}

func idAt(d int64) string { return strconv.FormatInt(testNow-d, 10) + "-0" }

func TestRetentionPolicies(t *testing.T) {
	cases := []struct {
		name, cfg string
		// len after setting MAXAGE 1500 at testNow, pending after it.
		length, pending int64
	}{
		{"keepref", "XCFGSET s MAXAGE 1500", 2, 2},
		{"keepref explicit", "XCFGSET s MAXAGE 1500 KEEPREF", 2, 2},
		{"delref", "XCFGSET s MAXAGE 1500 DELREF", 2, 0},
		{"acked", "XCFGSET s MAXAGE 1500 ACKED", 4, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := retentionState(t)
			mustRun(t, s, testNow, tc.cfg, ok())
			mustRun(t, s, testNow, "XLEN s", in(tc.length))
			mustRun(t, s, testNow, "XLEN other", in(4))
			if got := run(s, testNow, "XPENDING s g"); got[:4] != "*4\r\n" || got[4:4+len(in(tc.pending))] != in(tc.pending) {
				t.Fatalf("XPENDING = %q, want %d pending", got, tc.pending)
			}
			// Time passes without writes: the expire cycle trims.
			if due, _ := s.RetentionDue(testNow + 1001); !due && tc.name != "acked" {
				t.Fatal("retention not due after the next entry aged")
			}
			s.RetainStreams(testNow + 1001)
			want := max(tc.length-1, 1)
			if tc.name == "acked" {
				want = 4 // pending or not yet read by g: all referenced
			}
			mustRun(t, s, testNow+1001, "XLEN s", in(want))
		})
	}
}

func TestRetentionAckedReleasesOnAck(t *testing.T) {
	s := retentionState(t)
	mustRun(t, s, testNow, "XCFGSET s MAXAGE 500 ACKED", ok())
	mustRun(t, s, testNow, "XLEN s", in(4)) // pending, or not read yet
	if due, _ := s.RetentionDue(testNow); due {
		t.Fatal("due while every old entry is referenced")
	}
	mustRun(t, s, testNow, "XACK s g "+idAt(3000), in(1))
	if due, _ := s.RetentionDue(testNow); !due {
		t.Fatal("not due after the ack")
	}
	if n := s.RetainStreams(testNow); n != 1 {
		t.Fatalf("RetainStreams removed %d, want 1", n)
	}
	mustRun(t, s, testNow, "XRANGE s - + COUNT 1", ar(ent(idAt(2000), "f", "v")))
}

func TestRetentionXAddTrimsInline(t *testing.T) {
	s := NewState()
	mustRun(t, s, testNow, "XADD s 1-0 f v", bs("1-0"))
	mustRun(t, s, testNow, "XCFGSET s MAXAGE 100", ok())
	mustRun(t, s, testNow, "XLEN s", in(0))
	mustRun(t, s, testNow, "XADD s * f v", bs(idAt(0)))
	mustRun(t, s, testNow+100, "XADD s * f w", bs(idAt(-100)))
	mustRun(t, s, testNow+100, "XLEN s", in(2))
	mustRun(t, s, testNow+101, "XADD s * f x", bs(idAt(-101)))
	mustRun(t, s, testNow+101, "XRANGE s - +", ar(ent(idAt(-100), "f", "w"), ent(idAt(-101), "f", "x")))
}

func TestRetentionDueWait(t *testing.T) {
	s := NewState()
	if due, wait := s.RetentionDue(testNow); due || wait != 0 {
		t.Fatalf("empty state: due %v wait %d", due, wait)
	}
	mustRun(t, s, testNow, "XADD s * f v", bs(idAt(0)))
	mustRun(t, s, testNow, "XCFGSET s MAXAGE 1000", ok())
	if due, wait := s.RetentionDue(testNow + 400); due || wait != 601 {
		t.Fatalf("due %v wait %d, want false 601", due, wait)
	}
	if due, _ := s.RetentionDue(testNow + 1001); !due {
		t.Fatal("not due past the age")
	}
	mustRun(t, s, testNow, "XCFGSET s MAXAGE 0", ok())
	if due, wait := s.RetentionDue(testNow + 5000); due || wait != 0 {
		t.Fatalf("after MAXAGE 0: due %v wait %d", due, wait)
	}
}

// TestRetentionIndexFollowsKeys checks the index of streams with retention
// through RENAME, COPY, DEL, FLUSHDB and a snapshot.
func TestRetentionIndexFollowsKeys(t *testing.T) {
	s := NewState()
	mustRun(t, s, testNow, "XADD s 1-0 f v", bs("1-0"))
	mustRun(t, s, testNow, "XADD s * f v", bs(idAt(0)))
	mustRun(t, s, testNow, "XCFGSET s MAXAGE 1000", ok())
	mustRun(t, s, testNow, "RENAME s t", ok())
	mustRun(t, s, testNow, "COPY t u", in(1))
	aged := func() int { return s.dbs[0].aged.Len() }
	if aged() != 2 {
		t.Fatalf("%d streams indexed, want 2", aged())
	}
	if n := s.RetainStreams(testNow + 1001); n != 2 {
		t.Fatalf("RetainStreams removed %d, want 2", n)
	}
	r, err := ReadSnapshot(bytes.NewReader(snapshotBytes(t, s)))
	if err != nil {
		t.Fatal(err)
	}
	if r.dbs[0].aged.Len() != 2 {
		t.Fatal("snapshot lost the index")
	}
	mustRun(t, s, testNow, "DEL t", in(1))
	if aged() != 1 {
		t.Fatalf("%d streams indexed after DEL, want 1", aged())
	}
	mustRun(t, s, testNow, "FLUSHDB", ok())
	if aged() != 0 {
		t.Fatalf("%d streams indexed after FLUSHDB, want 0", aged())
	}
}

func TestXCfgSetMaxAgeErrors(t *testing.T) {
	s := NewState()
	mustRun(t, s, testNow, "XCFGSET s MAXAGE 10", er(errNoSuchKey))
	mustRun(t, s, testNow, "XADD s 1-0 f v", bs("1-0"))
	for _, tc := range []struct{ line, want string }{
		{"XCFGSET s MAXAGE 10 MAXAGE 20", er(errCfgMaxAgeTwice)},
		{"XCFGSET s MAXAGE -1", er(errCfgMaxAgeRange)},
		{"XCFGSET s MAXAGE x", er(errNotInt)},
		{"XCFGSET s MAXAGE", er(errSyntax)},
		{"XCFGSET s ACKED", er(errCfgPolicyNoAge)},
		{"XCFGSET s IDMP-DURATION 100 ACKED", er(errCfgPolicyNoAge)},
		{"XCFGSET s MAXAGE 10 ACKED DELREF", er(errSyntax)},
		{"XCFGSET s IDMP-DURATION 100 MAXAGE 99999999999999 DELREF", ok()},
	} {
		mustRun(t, s, testNow, tc.line, tc.want)
	}
	// XINFO STREAM appends the two fields after Redis's own.
	got := run(s, testNow, "XINFO STREAM s")
	if want := "*36\r\n"; got[:len(want)] != want {
		t.Fatalf("XINFO STREAM header %q, want %q", got[:8], want)
	}
	tail := bs("max-age") + in(99999999999999) + bs("retention-policy") + bs("delref")
	if got[len(got)-len(tail):] != tail {
		t.Fatalf("XINFO STREAM ends %q, want %q", got[len(got)-len(tail):], tail)
	}
	full := run(s, testNow, "XINFO STREAM s FULL")
	if full[:5] != "*34\r\n" || full[len(full)-len(tail):] != tail {
		t.Fatalf("XINFO STREAM FULL = %q", full)
	}
}

// TestRetentionAckedBacklog: entries a group has not read are referenced,
// so with ACKED nothing is due, and no future time is foreseeable either
// (the leader must not spin on a stream it cannot trim).
func TestRetentionAckedBacklog(t *testing.T) {
	s := NewState()
	for _, d := range []int64{3000, 2000, 1000} {
		mustRun(t, s, testNow, "XADD s "+idAt(d)+" f v", bs(idAt(d)))
	}
	mustRun(t, s, testNow, "XGROUP CREATE s g 0", ok())
	mustRun(t, s, testNow, "XCFGSET s MAXAGE 100 ACKED", ok())
	if due, wait := s.RetentionDue(testNow); due || wait != 0 {
		t.Fatalf("due %v wait %d, want false 0", due, wait)
	}
	mustRun(t, s, testNow, "XREADGROUP GROUP g c COUNT 2 NOACK STREAMS s >", ar(ar(bs("s"),
		ar(ent(idAt(3000), "f", "v"), ent(idAt(2000), "f", "v")))))
	if due, _ := s.RetentionDue(testNow); !due {
		t.Fatal("read entries not due")
	}
	if n := s.RetainStreams(testNow); n != 2 {
		t.Fatalf("RetainStreams removed %d, want the 2 read entries", n)
	}
}
