package server

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// Redis's PROTO_INLINE_MAX_SIZE: the longest inline request, and the
// longest "*N" / "$N" header line, a client may send without a newline.
const protoInlineMaxSize = 64 * 1024

// Redis's limits for a client that has not authenticated yet
// (processMultibulkBuffer): at most 10 arguments of at most 16 KiB each.
const (
	unauthMaxArgs    = 10
	unauthMaxBulkLen = 16384
)

// errQueryBufferLimit is returned when a single request grows beyond the
// client-query-buffer-limit; like Redis, the connection is then closed
// without a reply.
var errQueryBufferLimit = errors.New("client reached max query buffer length")

// protoError is a protocol violation: Redis replies "-ERR <msg>" and closes
// the connection.
type protoError struct{ msg string }

func (e *protoError) Error() string { return "Protocol error: " + e.msg }

// scanLimits are the request limits a scanner enforces.
type scanLimits struct {
	maxBulk       int64 // proto-max-bulk-len
	maxMultibulk  int64 // largest accepted "*N"
	maxQueryBytes int64 // client-query-buffer-limit, for one request
}

// scanner states.
const (
	stStart      = iota // between requests
	stBulkHeader        // expecting "$N\r\n"
	stBulkData          // inside a bulk payload
	stBulkTrail         // the two bytes after a payload
)

// scanner follows the RESP framing of the raw bytes a client sends and
// re-emits them as well-formed multibulk requests, which is the only form
// redcon's reader is given. It enforces Redis's limits before anything is
// buffered, reproduces Redis's exact protocol errors, parses inline
// requests with Redis's rules, drops the empty requests Redis ignores
// ("*0", "*-1", blank lines) and repairs what Redis tolerates but redcon
// does not (any two bytes after a bulk payload, any byte after the '\r' of
// a header). It keeps no copy of payloads: bytes stream through.
type scanner struct {
	// limits returns the limits in force; CONFIG SET may change them.
	limits func() scanLimits
	lim    scanLimits // limits for the current scan call
	// authRequired reports whether the client must still authenticate, in
	// which case the unauthenticated limits apply.
	authRequired func() bool

	state     int
	args      int64 // bulk arguments still expected in this request
	remaining int64 // payload bytes still expected, or trailer bytes
	reqBytes  int64 // bytes of the current request emitted so far

	// token, if set, enables the big-argument stash: a bulk argument of
	// at least bigArg bytes is read into a buffer of its exact size,
	// queued in bigs, and stands as token in the output (see takeBig).
	token []byte
	big   []byte   // the big argument being read
	bigs  [][]byte // big arguments read, in request order

	// searched is how much of the pending line is known to hold no line
	// end, so a line arriving a byte at a time is not searched again from
	// its start on every read; sawNUL records a NUL in that part, after
	// which (as with Redis's strchr) the line never ends.
	searched int
	sawNUL   bool
}

// scan consumes bytes from in, appending normalized output to *out. It
// returns how many input bytes were consumed and the length *out had right
// after the last complete request it emitted (-1 if none). It stops early
// after one request when once is set, and returns a *protoError or
// errQueryBufferLimit when the input breaks the protocol or a limit;
// output emitted before the error stays valid.
func (sc *scanner) scan(in []byte, out *[]byte, once bool) (consumed, completeAt int, err error) {
	sc.lim = sc.limits()
	completeAt = -1
	pos := 0
	for pos < len(in) {
		switch sc.state {
		case stStart:
			n, done, err := sc.scanRequestStart(in[pos:], out)
			pos += n
			if err != nil {
				return pos, completeAt, err
			}
			if n == 0 {
				return pos, completeAt, nil
			}
			if done {
				completeAt = len(*out)
				if once {
					return pos, completeAt, nil
				}
			}
		case stBulkHeader:
			n, err := sc.scanBulkHeader(in[pos:], out)
			pos += n
			if err != nil {
				return pos, completeAt, err
			}
			if n == 0 {
				return pos, completeAt, nil
			}
		case stBulkData:
			n := int64(len(in) - pos)
			if n > sc.remaining {
				n = sc.remaining
			}
			if sc.big != nil {
				sc.big = append(sc.big, in[pos:pos+int(n)]...)
			} else {
				*out = append(*out, in[pos:pos+int(n)]...)
			}
			pos += int(n)
			sc.remaining -= n
			if err := sc.grow(n); err != nil {
				return pos, completeAt, err
			}
			if sc.remaining == 0 {
				sc.state = stBulkTrail
				sc.remaining = 2
				if sc.big != nil {
					sc.bigs = append(sc.bigs, sc.big)
					sc.big = nil
				}
			}
		case stBulkTrail:
			// Redis skips these two bytes without looking at them.
			pos++
			sc.remaining--
			if sc.remaining > 0 {
				continue
			}
			*out = append(*out, '\r', '\n')
			sc.args--
			if sc.args > 0 {
				sc.state = stBulkHeader
				continue
			}
			sc.state = stStart
			sc.reqBytes = 0
			completeAt = len(*out)
			if once {
				return pos, completeAt, nil
			}
		}
	}
	return pos, completeAt, nil
}

// bigArg is the size from which a bulk argument bypasses redcon's reader,
// which would grow its buffer by doubling and then copy the request
// (about 3.5 times its size in allocations).
const bigArg = 128 * 1024

// Spare bytes around a big argument's buffer: before it for the log
// entry's header and the arguments before it, after it for those after it
// (fsm.AppendEntryInPlace; when they do not fit, the entry is a copy).
const (
	bigRoomBefore = 4096
	bigRoomAfter  = 1024
)

// takeBig returns argv, a request as redcon parsed it from this scanner's
// output, with the stashed big arguments back in place of their tokens,
// and the room around the largest of them (cluster.Command.Room; nil if none).
// A request with big arguments gets a new argv: redcon keeps the one it
// parsed until the connection's next read, which would pin the arguments
// while the client is idle.
func (sc *scanner) takeBig(argv [][]byte) ([][]byte, []byte) {
	if len(sc.bigs) == 0 {
		return argv, nil
	}
	var room []byte
	largest := 0
	out := argv
	for i, a := range argv {
		if len(sc.bigs) > 0 && bytes.Equal(a, sc.token) {
			if &out[0] == &argv[0] {
				out = append([][]byte(nil), argv...)
			}
			buf := sc.bigs[0]
			out[i] = buf[bigRoomBefore:len(buf):len(buf)]
			if len(out[i]) > largest {
				room, largest = buf[:bigRoomBefore], len(out[i])
			}
			sc.bigs[0] = nil
			sc.bigs = sc.bigs[1:]
		}
	}
	if len(sc.bigs) == 0 {
		sc.bigs = nil
	}
	return out, room
}

// midRequest reports whether part of a request has been emitted and the
// rest is still to come.
func (sc *scanner) midRequest() bool { return sc.state != stStart }

// grow accounts n more bytes to the request being read.
func (sc *scanner) grow(n int64) error {
	sc.reqBytes += n
	if sc.lim.maxQueryBytes > 0 && sc.reqBytes > sc.lim.maxQueryBytes {
		return errQueryBufferLimit
	}
	return nil
}

// lineEnd finds the c ('\r' or '\n') that ends the pending line at the
// start of in the way Redis's strchr does: the search stops at a NUL byte.
// It returns -1 if the line has not ended yet. Each byte is searched once
// however the line arrives; lineDone must be called when a line is used.
func (sc *scanner) lineEnd(in []byte, c byte) int {
	if sc.sawNUL || sc.searched > len(in) {
		return -1
	}
	rest := in[sc.searched:]
	i := bytes.IndexByte(rest, c)
	if i < 0 {
		sc.sawNUL = bytes.IndexByte(rest, 0) >= 0
		sc.searched = len(in)
		return -1
	}
	if bytes.IndexByte(rest[:i], 0) >= 0 {
		sc.sawNUL = true
		return -1
	}
	return sc.searched + i
}

// lineDone resets the line search once a line has been consumed.
func (sc *scanner) lineDone() { sc.searched, sc.sawNUL = 0, false }

// scanRequestStart reads the start of a request: a "*N" header or a whole
// inline request. n == 0 means more input is needed.
func (sc *scanner) scanRequestStart(in []byte, out *[]byte) (n int, complete bool, err error) {
	if in[0] != '*' {
		return sc.scanInline(in, out)
	}
	cr := sc.lineEnd(in, '\r')
	if cr < 0 {
		if len(in) > protoInlineMaxSize {
			return 0, false, &protoError{"too big mbulk count string"}
		}
		return 0, false, nil
	}
	if cr+1 >= len(in) {
		return 0, false, nil
	}
	sc.lineDone()
	count, ok := redisutil.ParseLL(in[1:cr])
	if !ok || count > sc.lim.maxMultibulk {
		return 0, false, &protoError{"invalid multibulk length"}
	}
	if count > unauthMaxArgs && sc.authRequired() {
		return 0, false, &protoError{"unauthenticated multibulk length"}
	}
	n = cr + 2
	if count <= 0 {
		// Redis silently ignores empty requests.
		return n, false, nil
	}
	start := len(*out)
	*out = append(*out, '*')
	*out = strconv.AppendInt(*out, count, 10)
	*out = append(*out, '\r', '\n')
	sc.reqBytes = 0
	if err := sc.grow(int64(len(*out) - start)); err != nil {
		return n, false, err
	}
	sc.args = count
	sc.state = stBulkHeader
	return n, false, nil
}

// scanBulkHeader reads a "$N" header. n == 0 means more input is needed.
func (sc *scanner) scanBulkHeader(in []byte, out *[]byte) (int, error) {
	cr := sc.lineEnd(in, '\r')
	if cr < 0 {
		if len(in) > protoInlineMaxSize {
			return 0, &protoError{"too big bulk count string"}
		}
		return 0, nil
	}
	if cr+1 >= len(in) {
		return 0, nil
	}
	sc.lineDone()
	if in[0] != '$' {
		return 0, &protoError{"expected '$', got '" + string(in[0]) + "'"}
	}
	size, ok := redisutil.ParseLL(in[1:cr])
	if !ok || size < 0 || size > sc.lim.maxBulk {
		return 0, &protoError{"invalid bulk length"}
	}
	if size > unauthMaxBulkLen && sc.authRequired() {
		return 0, &protoError{"unauthenticated bulk length"}
	}
	start := len(*out)
	if size >= bigArg && sc.token != nil {
		*out = append(*out, '$')
		*out = strconv.AppendInt(*out, int64(len(sc.token)), 10)
		*out = append(*out, '\r', '\n')
		*out = append(*out, sc.token...)
		// The announced size at once, as Redis does for big arguments: a
		// large allocation's pages take memory only as the payload fills
		// them, and client-query-buffer-limit bounds the size.
		// With room on both sides, so the proposer can build the log
		// entry around the argument instead of copying it (cluster.Command.Room).
		sc.big = make([]byte, bigRoomBefore, bigRoomBefore+size+bigRoomAfter)
		if err := sc.grow(int64(len(*out) - start - len(sc.token))); err != nil {
			return cr + 2, err
		}
		sc.state = stBulkData
		sc.remaining = size
		return cr + 2, nil
	}
	*out = append(*out, '$')
	*out = strconv.AppendInt(*out, size, 10)
	*out = append(*out, '\r', '\n')
	if err := sc.grow(int64(len(*out) - start)); err != nil {
		return cr + 2, err
	}
	if size == 0 {
		sc.state = stBulkTrail
		sc.remaining = 2
	} else {
		sc.state = stBulkData
		sc.remaining = size
	}
	return cr + 2, nil
}

// scanInline reads one inline request (a line of text) and emits it as a
// multibulk request.
func (sc *scanner) scanInline(in []byte, out *[]byte) (n int, complete bool, err error) {
	nl := sc.lineEnd(in, '\n')
	if nl < 0 {
		if len(in) > protoInlineMaxSize {
			return 0, false, &protoError{"too big inline request"}
		}
		return 0, false, nil
	}
	sc.lineDone()
	line := in[:nl]
	if nl > 0 && in[nl-1] == '\r' {
		line = in[:nl-1]
	}
	args, ok := splitArgs(line)
	if !ok {
		return 0, false, &protoError{"unbalanced quotes in request"}
	}
	if len(args) == 0 {
		return nl + 1, false, nil
	}
	*out = append(*out, '*')
	*out = strconv.AppendInt(*out, int64(len(args)), 10)
	*out = append(*out, '\r', '\n')
	for _, a := range args {
		*out = append(*out, '$')
		*out = strconv.AppendInt(*out, int64(len(a)), 10)
		*out = append(*out, '\r', '\n')
		*out = append(*out, a...)
		*out = append(*out, '\r', '\n')
	}
	return nl + 1, true, nil
}
