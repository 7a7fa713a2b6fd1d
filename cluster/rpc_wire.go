package cluster

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/raftstream/raftstream/fsm"
)

// The cluster RPC (MuxForward connections) is a stream of length-prefixed
// frames in both directions:
//
//	frame:    length:4 (big endian, of what follows) code:1 id:8 body
//
// A request's code is its operation; a response carries the request's id
// and a status code. Many requests are in flight on one connection at a
// time (responses come back in any order, matched by id), so a small pool
// of long-lived connections serves every caller. Bodies are varints and
// length-prefixed strings; forwarded commands reuse the log entry codec.

// Request operations.
const (
	// opPropose: origin seq ack entry -> replies, each its RESP bytes.
	// entry is an fsm.EntryCommands encoding of the batch (its clock is
	// ignored). What nodes of the previous version send; still answered,
	// and sent to a leader that does not know opProposeResults.
	opPropose byte = 1
	// opReadIndex: -> index, a commit index the leader confirmed while
	// still leader; reads after the caller applied it are linearizable.
	opReadIndex byte = 2
	// opAddMember: id raftAddr clientAddr incarnation -> ().
	opAddMember byte = 3
	// opRemoveMember: id -> ().
	opRemoveMember byte = 4
	// opTransfer: id ("" = any) -> ().
	opTransfer byte = 5
	// opStatus: -> peerStatus (no leadership needed).
	opStatus byte = 6
	// opSetMeta: id raftAddr clientAddr incarnation -> (); a member's own
	// metadata.
	opSetMeta byte = 7
	// opTerm: -> id term, the receiver's node ID and current Raft term;
	// the leader confirms its leadership for reads with it.
	opTerm byte = 8
	// opNudge: -> (); the leader proposes a no-op so that followers learn
	// the commit index at once (WAIT on a follower). Best effort.
	opNudge byte = 9
	// opRemoved: id incarnation -> (); the leader tells a member it has
	// removed, which may never receive the entry that removes it.
	opRemoved byte = 10
	// opProposeResults: as opPropose -> results, each its RESP bytes,
	// outcome and parts (fsm.Reply), so the follower need not parse the
	// replies. A leader of the previous version answers it with
	// unknownOp; the forwarder then falls back to opPropose on that
	// connection.
	opProposeResults byte = 11
	// opCaps: -> caps, a bit set of what the receiver supports
	// (capTypedKinds). A node of the previous version answers unknownOp,
	// which the leader takes as no capabilities (caps.go).
	opCaps byte = 12
)

// unknownOp is the body of the stError answer to an operation the
// receiver does not know (nodes of every version word it so).
func unknownOp(op byte) string { return fmt.Sprintf("unknown cluster rpc operation %d", op) }

// Response status codes.
const (
	stOK byte = iota
	// stNotLeader: the receiver is not the leader; nothing was done.
	stNotLeader
	// stUnknown: the request may or may not have been applied.
	stUnknown
	// stClosed: the receiver is shutting down; nothing was done.
	stClosed
	// stError: a definite failure; the body is the message.
	stError
	// stNoSuchMember: a membership call named an unknown member.
	stNoSuchMember
	// stDiskFull: the leader refused a write for lack of disk space;
	// nothing was appended.
	stDiskFull
)

const (
	frameHeaderLen = 4 + 1 + 8
	// maxFrame bounds a frame; a forwarded batch larger than this fails.
	// Peers are authenticated, so it guards against bugs, not attacks.
	maxFrame = 1 << 30
)

// errFrameTooLarge reports an oversized frame.
var errFrameTooLarge = errors.New("cluster rpc: frame too large")

// appendFrame appends a frame with the given code, id and body.
func appendFrame(dst []byte, code byte, id uint64, body []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(1+8+len(body)))
	dst = append(dst, code)
	dst = binary.BigEndian.AppendUint64(dst, id)
	return append(dst, body...)
}

// readFrame reads one frame. The body is a fresh allocation the caller
// owns (forwarded commands alias it until applied).
func readFrame(r *bufio.Reader) (code byte, id uint64, body []byte, err error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 9 || n > maxFrame {
		return 0, 0, nil, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	body = make([]byte, n-9)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, 0, nil, err
	}
	return hdr[4], binary.BigEndian.Uint64(hdr[5:]), body, nil
}

// wbuf builds a body.
type wbuf []byte

func (b wbuf) uvarint(v uint64) wbuf { return binary.AppendUvarint(b, v) }
func (b wbuf) str(s string) wbuf {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
func (b wbuf) bytes(p []byte) wbuf {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// rbuf parses a body; the first error sticks.
type rbuf struct {
	b   []byte
	err error
}

var errBadBody = errors.New("cluster rpc: malformed message")

func (r *rbuf) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadBody
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rbuf) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errBadBody
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *rbuf) str() string { return string(r.bytes()) }

// end reports the first error, or trailing bytes.
func (r *rbuf) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errBadBody
	}
	return r.err
}

// encodeReplies is the body of a successful opPropose: count { resp }*.
func encodeReplies(replies []fsm.Reply) []byte {
	n := 0
	for _, r := range replies {
		n += len(r.RESP) + 5
	}
	b := make(wbuf, 0, n+5).uvarint(uint64(len(replies)))
	for _, r := range replies {
		b = b.bytes(r.RESP)
	}
	return b
}

// decodeReplies reads an opPropose answer to cmds; the outcomes are
// recovered from the encodings (fsm.ReplyOf), as only a leader of the
// previous version sends this answer to a node of this one.
func decodeReplies(body []byte, cmds []fsm.Command) ([]fsm.Reply, error) {
	r := rbuf{b: body}
	n := r.uvarint()
	if r.err == nil && n != uint64(len(cmds)) {
		return nil, fmt.Errorf("cluster rpc: %d replies for %d commands", n, len(cmds))
	}
	if n > math.MaxInt32 {
		return nil, errBadBody
	}
	out := make([]fsm.Reply, n)
	for i := range out {
		out[i] = fsm.ReplyOf(&cmds[i], r.bytes())
	}
	return out, r.end()
}

// encodeResults is the body of a successful opProposeResults:
// count { resp outcome nparts { partLen }* }*. A transaction's parts are
// the tail of its RESP, so their lengths place them.
func encodeResults(replies []fsm.Reply) []byte {
	n := 0
	for _, r := range replies {
		n += len(r.RESP) + 7 + 3*len(r.Parts)
	}
	b := make(wbuf, 0, n+5).uvarint(uint64(len(replies)))
	for _, r := range replies {
		b = b.bytes(r.RESP).uvarint(uint64(r.Outcome)).uvarint(uint64(len(r.Parts)))
		for _, p := range r.Parts {
			b = b.uvarint(uint64(len(p)))
		}
	}
	return b
}

func decodeResults(body []byte, want int) ([]fsm.Reply, error) {
	r := rbuf{b: body}
	n := r.uvarint()
	if r.err == nil && n != uint64(want) {
		return nil, fmt.Errorf("cluster rpc: %d replies for %d commands", n, want)
	}
	if n > math.MaxInt32 {
		return nil, errBadBody
	}
	out := make([]fsm.Reply, n)
	for i := range out {
		rep := &out[i]
		rep.RESP = r.bytes()
		outcome, nparts := r.uvarint(), r.uvarint()
		if r.err != nil || outcome > uint64(fsm.OutcomeNull) || nparts > uint64(len(rep.RESP)) {
			return nil, errBadBody
		}
		rep.Outcome = fsm.Outcome(outcome)
		if nparts == 0 {
			continue
		}
		lens := make([]uint64, nparts)
		total := uint64(0)
		for k := range lens {
			lens[k] = r.uvarint()
			total += lens[k]
			if r.err != nil || total > uint64(len(rep.RESP)) {
				return nil, errBadBody
			}
		}
		rep.Parts = make([][]byte, nparts)
		off := uint64(len(rep.RESP)) - total
		for k, l := range lens {
			rep.Parts[k] = rep.RESP[off : off+l : off+l]
			off += l
		}
	}
	return out, r.end()
}

// peerStatus is the body of an opStatus response.
type peerStatus struct {
	ID, RaftAddr, ClientAddr string
	State                    string
	LeaderID                 string
	// HasConfig: the node is part of a configuration (bootstrapped or
	// joined); a fresh node waiting to bootstrap or join has none.
	HasConfig    bool
	Term         uint64
	AppliedIndex uint64
	CommitIndex  uint64
	LastLogIndex uint64
}

func (s *peerStatus) encode() []byte {
	hc := uint64(0)
	if s.HasConfig {
		hc = 1
	}
	return wbuf(nil).str(s.ID).str(s.RaftAddr).str(s.ClientAddr).str(s.State).str(s.LeaderID).
		uvarint(hc).uvarint(s.Term).uvarint(s.AppliedIndex).uvarint(s.CommitIndex).uvarint(s.LastLogIndex)
}

func decodePeerStatus(body []byte) (peerStatus, error) {
	r := rbuf{b: body}
	s := peerStatus{ID: r.str(), RaftAddr: r.str(), ClientAddr: r.str(), State: r.str(), LeaderID: r.str()}
	s.HasConfig = r.uvarint() == 1
	s.Term, s.AppliedIndex, s.CommitIndex, s.LastLogIndex = r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()
	return s, r.end()
}

// statusError turns a non-OK response into an error of ours.
func statusError(status byte, body []byte) error {
	switch status {
	case stOK:
		return nil
	case stNotLeader:
		return fmt.Errorf("%w: the peer is not the leader", ErrNotLeader)
	case stUnknown:
		return fmt.Errorf("%w: %s", ErrUnknownOutcome, body)
	case stClosed:
		return fmt.Errorf("%w: the peer is shutting down", ErrNotLeader)
	case stNoSuchMember:
		return fmt.Errorf("%w: %s", ErrNoSuchMember, body)
	case stDiskFull:
		return fmt.Errorf("%w (on the leader): %s", ErrDiskFull, body)
	default:
		return &remoteError{msg: string(body)}
	}
}

// remoteError is a definite failure reported by the peer.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return e.msg }

// errorStatus maps an error to the status and body of a response.
func errorStatus(err error) (byte, []byte) {
	switch {
	case err == nil:
		return stOK, nil
	case errors.Is(err, ErrUnknownOutcome):
		return stUnknown, []byte(err.Error())
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrNoLeader):
		return stNotLeader, nil
	case errors.Is(err, ErrClosed):
		return stClosed, nil
	case errors.Is(err, ErrDiskFull):
		return stDiskFull, []byte(strings.TrimPrefix(err.Error(), ErrDiskFull.Error()+": "))
	case errors.Is(err, ErrNoSuchMember):
		return stNoSuchMember, []byte(strings.TrimPrefix(err.Error(), ErrNoSuchMember.Error()+": "))
	default:
		return stError, []byte(err.Error())
	}
}
