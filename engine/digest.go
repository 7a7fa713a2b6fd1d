package engine

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// ZeroDigest is the digest of a missing key (and of an empty dataset), 40
// zeros as Redis's DEBUG DIGEST-VALUE and DEBUG DIGEST report it.
var ZeroDigest = strings.Repeat("0", 2*sha1.Size)

// DigestValue returns a hash (40 hex digits) of key's value in database db
// for DEBUG DIGEST-VALUE, or ZeroDigest if the key does not exist or has
// expired at the state clock. The hash covers the stream's deterministic
// snapshot encoding (Stream.AppendSnapshot: entries, IDs, groups, IDMP
// state), not its TTL, so two replicas that applied the same log agree.
// fsm's tests check it against a walk of a whole snapshot encoding.
func (s *State) DigestValue(db int, key string) string {
	if db < 0 || db >= NumDBs {
		return ZeroDigest
	}
	e := s.dbs[db].lookupRead(key, s.clock)
	if e == nil {
		return ZeroDigest
	}
	sum := sha1.Sum(e.val.AppendSnapshot(nil))
	return hex.EncodeToString(sum[:])
}
