package fsm

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// Digest is a hash (40 hex digits) of the whole replicated state: the
// snapshot encoding minus the applied index, i.e. every key, the state
// clock and configuration, member metadata and the dedupe table. Replicas
// that applied the same entries have the same digest. Like Redis, an
// empty keyspace (in every database) gives engine.ZeroDigest.
//
// It encodes the whole state (on a copy-on-write clone, so applies are
// not held up), so it costs O(data): a debugging and testing aid.
func (f *FSM) Digest() (string, error) {
	snap := f.clone()
	defer snap.Release()
	if snap.empty() {
		return engine.ZeroDigest, nil
	}
	h := sha1.New()
	if err := snap.writeBody(h); err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// clone takes a point-in-time copy of the replicated state.
func (f *FSM) clone() *snapshot {
	s, _ := f.Snapshot()
	return s.(*snapshot)
}

// empty reports whether no database holds a live key.
func (s *snapshot) empty() bool {
	w := resp.NewWriter(2)
	for db := 0; db < engine.NumDBs; db++ {
		w.Buf = w.Buf[:0]
		s.st.Exec(&engine.Ctx{DB: db, Now: s.st.Clock(), W: w}, [][]byte{[]byte("DBSIZE")})
		if string(w.Buf) != ":0\r\n" {
			return false
		}
	}
	return true
}
