package cluster

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/raftstream/raftstream/fsm"
)

// Seeding and recovering clusters offline: RestoreBackup makes a new
// single-node cluster from a backup file, ForceNewCluster turns a
// surviving member's data dir into a single-voter cluster of itself.
// Both write what a running node would have written after a snapshot: a
// snapshot in the FileSnapshotStore (whose metadata carries the Raft
// configuration, so the new membership comes from there) and a stable
// store whose term is at least the snapshot's, and leave the log empty.

// restoredKey is set in the stable store of a data dir made by
// RestoreBackup, holding the node ID it was made for: until that node has
// run as a member, starting the data dir under another ID or Raft address
// is refused (it would wait forever for a leader that is itself).
var restoredKey = []byte("raftstream/restored-for")

// currentTermKey is hashicorp/raft's stable-store key for the current
// term (unexported there; part of its on-disk format).
var currentTermKey = []byte("CurrentTerm")

// RestoreBackup verifies the backup at path and seeds dataDir (which must
// be empty or not exist) with a new cluster: one voter, nodeID at
// raftAddr, holding the backup's state at the backup's log index. Start
// the node on dataDir with the same --node-id and Raft address; other
// nodes join it as usual. The backup is decoded once while it is copied,
// so a backup this build cannot load is refused here, not at the start.
// On failure dataDir is left as it was found.
func RestoreBackup(path, dataDir, nodeID, raftAddr string, log *slog.Logger) (BackupHeader, error) {
	if nodeID == "" || raftAddr == "" {
		return BackupHeader{}, errors.New("restore: the node ID and Raft address are required")
	}
	if err := checkAdvertisable(raftAddr); err != nil {
		return BackupHeader{}, err
	}
	h, err := VerifyBackupFile(path)
	if err != nil {
		return h, err
	}
	existed, err := requireEmptyDir(dataDir)
	if err != nil {
		return h, err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return h, fmt.Errorf("create data dir: %w", err)
	}
	if err := seedFromBackup(path, dataDir, nodeID, raftAddr, log); err != nil {
		// Leave nothing half-made behind: the dir was empty.
		if rmErr := os.RemoveAll(dataDir); rmErr == nil && existed {
			_ = os.Mkdir(dataDir, 0o750)
		}
		return h, err
	}
	return h, nil
}

func checkAdvertisable(addr string) error {
	if _, err := advertiseAddr(addr, nil); err != nil {
		return err
	}
	host := addr[:strings.LastIndexByte(addr, ':')]
	if host == "" || host == "0.0.0.0" || host == "[::]" || host == "::" {
		return fmt.Errorf("raft address %q is not one peers can dial; give the node's advertised Raft address (--raft-advertise, or --raft-listen when it names a host)", addr)
	}
	return nil
}

// requireEmptyDir refuses a data dir that holds anything: a restore never
// overwrites or mixes with existing state.
func requireEmptyDir(dir string) (existed bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("inspect data dir: %w", err)
	case len(entries) > 0:
		return true, fmt.Errorf("data dir %s is not empty: restore only seeds a new data dir (move the old one away, or give another --data-dir)", dir)
	}
	return true, nil
}

func seedFromBackup(path, dataDir, nodeID, raftAddr string, log *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	h, body, err := openBackup(f, path)
	if err != nil {
		return err
	}

	store, err := openLogStores(dataDir, LogStoreWAL, false, 0, nil, log)
	if err != nil {
		return err
	}
	defer store.close()
	if err := store.stable.SetUint64(currentTermKey, h.Term); err != nil {
		return fmt.Errorf("store the current term: %w", err)
	}
	if err := store.stable.Set(restoredKey, []byte(nodeID)); err != nil {
		return fmt.Errorf("store the restore marker: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dataDir, snapshotsRetained, newHclog(log, "snapshot", hclog.Warn))
	if err != nil {
		return fmt.Errorf("open snapshot store: %w", err)
	}
	conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(nodeID), Address: raft.ServerAddress(raftAddr)}}}
	// The transport only encodes the peers' addresses into the metadata
	// (protocol version 3 keeps them as given).
	_, trans := raft.NewInmemTransport(raft.ServerAddress(raftAddr))
	defer trans.Close()
	sink, err := snaps.Create(raft.SnapshotVersionMax, h.Index, h.Term, conf, h.Index, trans)
	if err != nil {
		return fmt.Errorf("create snapshot: %w", err)
	}
	// One pass over the body: into the snapshot, through the checksum
	// again (the file may have changed since it was verified) and through
	// the FSM's decoder, which proves the state loads.
	crc := crc32.New(castagnoli)
	var copied countingWriter
	tee := io.TeeReader(io.LimitReader(body, int64(h.Length)), io.MultiWriter(sink, crc, &copied))
	decoded := fsm.New(slog.New(slog.DiscardHandler))
	if err := decoded.Restore(io.NopCloser(tee)); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("backup %s: %w: its state does not decode: %w", path, ErrBadBackup, err)
	}
	// Whatever the decoder's buffering left unread still belongs in the
	// snapshot.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("read backup %s: %w", path, err)
	}
	if uint64(copied) != h.Length {
		_ = sink.Cancel()
		return fmt.Errorf("backup %s: %w: the file is truncated: its body has %d of %d bytes", path, ErrBadBackup, copied, h.Length)
	}
	if err := checkBodyCRC(h, crc, path); err != nil {
		_ = sink.Cancel()
		return err
	}
	if decoded.AppliedIndex() != h.Index {
		_ = sink.Cancel()
		return fmt.Errorf("backup %s: %w: the header says index %d, the state %d", path, ErrBadBackup, h.Index, decoded.AppliedIndex())
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := store.close(); err != nil {
		return fmt.Errorf("close log store: %w", err)
	}
	store.close = func() error { return nil }
	if err := syncDir(dataDir); err != nil {
		return err
	}
	log.Info("restored backup", "data_dir", dataDir, "node_id", nodeID, "raft_addr", raftAddr, "applied_index", h.Index, "term", h.Term, "bytes", h.Size())
	return nil
}

// refuseCopiedSnapshots stops a node from starting on a data dir that
// holds snapshots but no log or stable store: snapshots copied over from
// another node. raft would restore their state and, with it, the old
// cluster's configuration, and the node would wait for those members
// forever (TRYAGAIN on every command) or, worse, join their elections.
func refuseCopiedSnapshots(dataDir string) error {
	kind, err := detectLogStore(dataDir)
	if err != nil || kind != "" {
		return err
	}
	dir := filepath.Join(dataDir, "snapshots")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // no snapshots: a fresh data dir
	}
	for _, e := range entries {
		if !e.IsDir() || filepath.Ext(e.Name()) == ".tmp" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "meta.json")); err == nil {
			return fmt.Errorf("data dir %s holds Raft snapshots (%s) but no Raft log or stable store: they look copied from another node's data dir, "+
				"and would bring back that cluster's membership, so this node would wait for its old members forever. "+
				"To seed a new cluster from another one, use `raftstream backup` and `raftstream restore` (docs/operations.md, Backup and restore); "+
				"to move a node, copy its whole data dir; otherwise remove %s",
				dataDir, filepath.Join(dir, e.Name()), dir)
		}
	}
	return nil
}

// checkRestored refuses to start a data dir made by RestoreBackup under
// another node ID or Raft address than it was made for, until the node
// has run as a member: the configuration names only that node, so any
// other would wait forever for a leader.
func checkRestored(cfg Config, conf raft.Configuration, self raft.ServerAddress, store raft.StableStore) error {
	want, err := store.Get(restoredKey)
	if err != nil && !errors.Is(err, raftboltdb.ErrKeyNotFound) {
		return fmt.Errorf("read restore marker: %w", err)
	}
	if len(want) == 0 {
		return nil
	}
	if was, err := wasMember(store); err != nil || was {
		return err
	}
	s, ok := findServer(conf, cfg.NodeID)
	switch {
	case !ok:
		return fmt.Errorf("data dir %s was restored for node ID %q (raftstream restore --node-id), not %q: start it with --node-id %s",
			cfg.DataDir, want, cfg.NodeID, want)
	case s.Address != self:
		return fmt.Errorf("data dir %s was restored for Raft address %s (raftstream restore --raft-advertise), but this node advertises %s: "+
			"start it with --raft-listen %s (or --raft-advertise %s), or restore again with the address it will use", cfg.DataDir, s.Address, self, s.Address, s.Address)
	}
	return nil
}

// ForceNewCluster rewrites the Raft configuration of a stopped node's
// data dir to a single-voter cluster of that node (nodeID, at raftAddr,
// or at its address in the old configuration when raftAddr is empty),
// keeping every log entry the data dir holds: they are applied into a
// snapshot that carries the new configuration, and the log is emptied.
// It is the recovery for a cluster that lost its majority for good; see
// docs/operations.md for its risks (entries only the lost members had
// are gone; two survivors forced each into their own cluster diverge).
func ForceNewCluster(dataDir, nodeID, raftAddr string, log *slog.Logger) (string, error) {
	kind, err := detectLogStore(dataDir)
	if err != nil {
		return "", err
	}
	if kind == "" {
		return "", fmt.Errorf("data dir %s holds no Raft log: nothing to recover", dataDir)
	}
	store, err := openLogStores(dataDir, kind, false, 0, nil, log)
	if err != nil {
		return "", err
	}
	defer store.close()
	if err := verifyLog(newSizedLog(store.log, 0), kind, store.path); err != nil {
		return "", err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dataDir, snapshotsRetained, newHclog(log, "snapshot", hclog.Warn))
	if err != nil {
		return "", fmt.Errorf("open snapshot store: %w", err)
	}
	if err := checkSnapshotFallback(dataDir, snaps, store.log, log); err != nil {
		return "", err
	}
	if told, _ := store.stable.Get(removedKey); len(told) > 0 {
		return "", fmt.Errorf("data dir %s belongs to a node that was removed from its cluster; recover from a member's data dir", dataDir)
	}
	old, err := latestConfiguration(store.log, snaps)
	if err != nil {
		return "", err
	}
	self, ok := findServer(old, nodeID)
	if !ok {
		ids := make([]string, 0, len(old.Servers))
		for _, s := range old.Servers {
			ids = append(ids, string(s.ID))
		}
		return "", fmt.Errorf("node ID %q is not in the data dir's Raft configuration (members: %s): give the ID this node ran with (--node-id)", nodeID, strings.Join(ids, ", "))
	}
	if raftAddr == "" {
		raftAddr = string(self.Address)
	} else if err := checkAdvertisable(raftAddr); err != nil {
		return "", err
	}
	conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(nodeID), Address: raft.ServerAddress(raftAddr)}}}
	var lost []string
	for _, s := range old.Servers {
		if s.ID != self.ID {
			lost = append(lost, string(s.ID))
		}
	}
	first, _ := store.log.FirstIndex()
	last, _ := store.log.LastIndex()

	hlog := newHclog(log, "raft", hclog.Warn)
	base, err := Config{NodeID: nodeID, DataDir: dataDir, RaftAddr: raftAddr, Logger: log}.withDefaults()
	if err != nil {
		return "", err
	}
	rc := base.raftConfig(hlog)
	f := fsm.New(slog.New(slog.DiscardHandler))
	_, trans := raft.NewInmemTransport(raft.ServerAddress(raftAddr))
	logs := &snapshotTermLogs{LogStore: store.log, snaps: snaps}
	if err := raft.RecoverCluster(rc, retainFSM{FSM: f, keep: nodeID}, logs, store.stable, snaps, trans, conf); err != nil {
		return "", fmt.Errorf("recover cluster: %w", err)
	}
	if err := store.close(); err != nil {
		return "", fmt.Errorf("close log store: %w", err)
	}
	store.close = func() error { return nil }
	if err := syncDir(dataDir); err != nil {
		return "", err
	}
	log.Info("forced a new cluster", "data_dir", dataDir, "node_id", nodeID, "raft_addr", raftAddr, "applied_index", f.AppliedIndex(), "dropped_members", lost)
	slices.Sort(lost)
	return fmt.Sprintf("data dir %s is now a single-voter cluster of %q at %s, holding the state up to log index %d (its log held entries %d..%d); members dropped: %s",
		dataDir, nodeID, raftAddr, f.AppliedIndex(), first, last, strings.Join(lost, ", ")), nil
}

// retainFSM drops the member metadata of everyone but keep before raft's
// RecoverCluster snapshots the state: the lost members are no longer part
// of the cluster, and their old client addresses must not linger.
type retainFSM struct {
	*fsm.FSM
	keep string
}

func (r retainFSM) Snapshot() (raft.FSMSnapshot, error) {
	r.RetainMembers(r.keep)
	return r.FSM.Snapshot()
}

// latestConfiguration finds the newest Raft configuration of a data dir,
// as raft would on start: the last configuration entry of the log, or the
// newest snapshot's.
func latestConfiguration(logs raft.LogStore, snaps raft.SnapshotStore) (raft.Configuration, error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return raft.Configuration{}, fmt.Errorf("read log first index: %w", err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		return raft.Configuration{}, fmt.Errorf("read log last index: %w", err)
	}
	for i := last; i >= first && i > 0; i-- {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			return raft.Configuration{}, fmt.Errorf("read log entry %d: %w", i, err)
		}
		if l.Type == raft.LogConfiguration {
			return raft.DecodeConfiguration(l.Data), nil
		}
	}
	metas, err := snaps.List()
	if err != nil {
		return raft.Configuration{}, fmt.Errorf("list snapshots: %w", err)
	}
	if len(metas) == 0 {
		return raft.Configuration{}, errors.New("the data dir holds no Raft configuration")
	}
	return metas[0].Configuration, nil
}

// countingWriter counts the bytes written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
