package engine

import (
	"crypto/sha256"
	"encoding/binary"
)

// Automatic idempotency (raftstream's --auto-idempotent and
// RS.IDEMPOTENT, a server feature rather than a Redis one): the server
// rewrites a client's XADD into an IDMP XADD before proposing it, so that
// the same XADD sent again after a reconnect — which go-redis and
// redis-py do on their own when a connection breaks — is answered with
// the first entry's ID instead of storing a second entry.
//
// The rewrite happens before the command enters the log, so everything
// after it is the ordinary IDMP machinery: deterministic, replicated and
// in snapshots. What the rewrite adds is only the choice of the pair:
//
//   - the producer ID is an identity the client gives and keeps across
//     reconnects (its client name, or what it passed to RS.IDEMPOTENT):
//     the server cannot recognise a reconnecting client by itself;
//   - the idempotent ID is a digest of every argument after the key, so a
//     resent XADD maps to the same ID. The price: two XADDs with the same
//     arguments from the same producer within the stream's IDMP window are
//     one entry, even when the client meant two.

// autoIIDTag separates the digest's input from anything else hashed with
// SHA-256 here (IDMPAUTO's field digests).
const autoIIDTag = "raftstream auto-idempotent xadd v1\x00"

// AutoIdempotentXAdd returns argv as an IDMP XADD with the given producer
// ID: "IDMP <producer> <iid>" inserted after the key, iid a 128-bit digest
// of the arguments after the key (each preceded by its length). ok is
// false, and argv is returned unchanged, when the rewrite does not apply:
// argv is not a valid XADD (the unchanged command gets its error as
// usual), its ID is not "*" (IDMP requires auto-generated IDs; an explicit
// ID is idempotent on its own, a retry being refused as not greater than
// the top item), it already carries IDMP or IDMPAUTO (the client's own
// choice wins), or producer is empty.
func AutoIdempotentXAdd(argv [][]byte, producer string) (out [][]byte, ok bool) {
	if producer == "" || len(argv) < 5 || !argIs(argv[0], "xadd") {
		return argv, false
	}
	a, msg := parseXAdd(argv)
	if msg != "" {
		return argv, false
	}
	return autoIdempotent(argv, &a, producer)
}

// AutoIdempotentXAdd is the package's AutoIdempotentXAdd for a parsed
// XADD, without parsing anything again: the server's check has parsed the
// XADD already. q is the rewritten command (q.Argv()) as Parse would
// parse it. Any value that is not a parsed XADD, or one the rewrite does
// not apply to, is returned as q, with ok false.
func (p *Parsed) AutoIdempotentXAdd(producer string) (q *Parsed, ok bool) {
	w, isXAdd := p.wargs.(*xaddParsed)
	if !isXAdd || p.exec || p.err != "" || producer == "" {
		return p, false
	}
	out, ok := autoIdempotent(p.argv, &w.a, producer)
	if !ok {
		return p, false
	}
	// What parsing out finds: IDMP's producer and idempotent ID, and the
	// fields three arguments further on.
	a := w.a
	a.idmpPID, a.idmpIID = out[3], out[4]
	a.fieldPos += 3
	return &Parsed{cmd: p.cmd, argv: out, kind: p.kind, wargs: &xaddParsed{a}}, true
}

// autoIdempotent is AutoIdempotentXAdd for a valid XADD parsed into a.
func autoIdempotent(argv [][]byte, a *addTrimArgs, producer string) (out [][]byte, ok bool) {
	if a.idmpPID != nil || !a.idAuto {
		return argv, false
	}
	h := sha256.New()
	h.Write([]byte(autoIIDTag))
	var n [8]byte
	for _, arg := range argv[2:] {
		binary.LittleEndian.PutUint64(n[:], uint64(len(arg)))
		h.Write(n[:])
		h.Write(arg)
	}
	var sum [sha256.Size]byte
	iid := h.Sum(sum[:0])[:16]
	out = make([][]byte, 0, len(argv)+3)
	out = append(out, argv[0], argv[1], []byte("IDMP"), []byte(producer), iid)
	return append(out, argv[2:]...), true
}
