package cluster

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// seedSnapshot writes a MockFSM snapshot of entries 1..index (taken at
// term) into a new snapshot store in dir.
func seedSnapshot(t *testing.T, dir string, index, term uint64, conf raft.Configuration, trans raft.Transport) raft.SnapshotStore {
	t.Helper()
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 1, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	fsm := &raft.MockFSM{}
	for i := uint64(1); i <= index; i++ {
		fsm.Apply(&raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: []byte(fmt.Sprint("c", i))})
	}
	snap, err := fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink, err := snaps.Create(raft.SnapshotVersionMax, index, term, conf, 1, trans)
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	return snaps
}

func TestSnapshotTermLogs(t *testing.T) {
	_, trans := raft.NewInmemTransport("x")
	conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: "x", Address: "x"}}}
	snaps := seedSnapshot(t, t.TempDir(), 338, 4, conf, trans)
	store := raft.NewInmemStore()
	if err := store.StoreLogs([]*raft.Log{{Index: 339, Term: 5, Type: raft.LogCommand, Data: []byte("d")}}); err != nil {
		t.Fatal(err)
	}
	logs := &snapshotTermLogs{LogStore: store, snaps: snaps}
	for _, tc := range []struct {
		index uint64
		want  *raft.Log // nil: ErrLogNotFound
	}{
		{338, &raft.Log{Index: 338, Term: 4, Type: raft.LogNoop}}, // the snapshot's last entry, before the log
		{339, &raft.Log{Index: 339, Term: 5, Type: raft.LogCommand, Data: []byte("d")}},
		{337, nil}, // covered by the snapshot, but its term is not recorded
		{340, nil}, // beyond the log
		{1, nil},
	} {
		var got raft.Log
		err := logs.GetLog(tc.index, &got)
		switch {
		case tc.want == nil && err != raft.ErrLogNotFound:
			t.Errorf("GetLog(%d) = %+v, %v; want ErrLogNotFound", tc.index, got, err)
		case tc.want != nil && (err != nil || got.Index != tc.want.Index || got.Term != tc.want.Term || got.Type != tc.want.Type || !bytes.Equal(got.Data, tc.want.Data)):
			t.Errorf("GetLog(%d) = %+v, %v; want %+v", tc.index, got, err, *tc.want)
		}
	}
	// An entry that is in the log is read from it, whatever the snapshot.
	if err := store.StoreLogs([]*raft.Log{{Index: 338, Term: 4, Type: raft.LogCommand, Data: []byte("real")}}); err != nil {
		t.Fatal(err)
	}
	var got raft.Log
	if err := logs.GetLog(338, &got); err != nil || string(got.Data) != "real" {
		t.Errorf("GetLog(338) with the entry stored = %+v, %v; want the stored entry", got, err)
	}
}

// TestRejoinAfterSnapshotLivelock builds the state behind a livelock seen
// in the wipe-rejoin e2e test and checks that the follower catches up: F
// holds a snapshot at 338 and, after it, a stale entry 339 from an older
// term; L holds the same snapshot and entries 339..400 of the newer term,
// its log compacted before 339. L probes F back to 338; without
// snapshotTermLogs F cannot read entry 338 (its log starts at 339) and
// rejects, L sends the snapshot again, probes 338 again, and so on forever.
func TestRejoinAfterSnapshotLivelock(t *testing.T) {
	addrL, transL := raft.NewInmemTransport("L")
	addrF, transF := raft.NewInmemTransport("F")
	transL.Connect(addrF, transF)
	transF.Connect(addrL, transL)
	conf := raft.Configuration{Servers: []raft.Server{
		{Suffrage: raft.Voter, ID: "L", Address: addrL},
		{Suffrage: raft.Voter, ID: "F", Address: addrF},
	}}
	const snapAt, last = 338, 400

	start := func(id raft.ServerID, trans raft.Transport, term uint64, entries []*raft.Log) (*raft.Raft, *raft.MockFSM) {
		snaps := seedSnapshot(t, t.TempDir(), snapAt, 2, conf, trans)
		store := raft.NewInmemStore()
		if err := store.StoreLogs(entries); err != nil {
			t.Fatal(err)
		}
		if err := store.SetUint64([]byte("CurrentTerm"), term); err != nil {
			t.Fatal(err)
		}
		cfg := raft.DefaultConfig()
		cfg.LocalID = id
		cfg.Logger = hclog.NewNullLogger()
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
		cfg.CommitTimeout = 5 * time.Millisecond
		cfg.SnapshotThreshold = 1 << 30
		fsm := &raft.MockFSM{}
		r, err := raft.NewRaft(cfg, fsm, &snapshotTermLogs{LogStore: store, snaps: snaps}, store, snaps, trans)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Shutdown().Error() })
		return r, fsm
	}
	var newer []*raft.Log
	for i := uint64(snapAt + 1); i <= last; i++ {
		newer = append(newer, &raft.Log{Index: i, Term: 3, Type: raft.LogCommand, Data: []byte(fmt.Sprint("c", i))})
	}
	leader, _ := start("L", transL, 3, newer)
	_, fsmF := start("F", transF, 2, []*raft.Log{{Index: snapAt + 1, Term: 2, Type: raft.LogCommand, Data: []byte("stale")}})

	deadline := time.Now().Add(20 * time.Second)
	for {
		got := fsmF.Logs()
		if len(got) >= last {
			if string(got[snapAt]) != fmt.Sprint("c", snapAt+1) {
				t.Fatalf("F applied %q at %d, want the leader's entry", got[snapAt], snapAt+1)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("F applied %d entries after 20s, want %d (leader state %v): the snapshot-install livelock", len(got), last, leader.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
