package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/raftstream/raftstream/engine"
)

// EntryVersion is the log entry format version written by AppendEntry.
// Decoders reject any other version, so a format change that a header
// flag cannot express must bump it and keep decoding the old one.
const EntryVersion = 1

// EntryType says what a log entry asks the state machine to do.
type EntryType uint8

// Entry types. Values not listed are reserved for future use and rejected
// by DecodeEntry.
const (
	// EntryCommands carries a batch of client commands (group commit).
	EntryCommands EntryType = 1
	// EntryExpire asks the state machine to delete every key whose TTL is
	// due at the entry's clock.
	EntryExpire EntryType = 2
	// EntryNoop only advances the clock and the applied index; a new leader
	// proposes one as its read barrier.
	EntryNoop EntryType = 3
	// EntryMember records or removes a cluster member's metadata (its
	// client address), so every node can name the leader's client address.
	EntryMember EntryType = 4
)

func (t EntryType) valid() bool { return t >= EntryCommands && t <= EntryMember }

// String names the type for logs.
func (t EntryType) String() string {
	switch t {
	case EntryCommands:
		return "commands"
	case EntryExpire:
		return "expire"
	case EntryNoop:
		return "noop"
	case EntryMember:
		return "member"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Header flag bits. Unknown bits are rejected rather than ignored: an old
// node must not silently apply an entry whose meaning it does not know.
const (
	flagRequests = 1 << 0
	// flagKinds: every command starts with its kind byte. Set exactly when
	// some command is not KindArgv, so a batch of plain commands keeps the
	// encoding of the format's first version (and older nodes can still
	// read it), while an older node refuses a transaction or a CONFIG SET
	// it would misread.
	flagKinds = 1 << 1
	knownFlag = flagRequests | flagKinds
)

// MaxOriginLen bounds Request.Origin.
const MaxOriginLen = 128

// MaxMemberFieldLen bounds each string of a MemberChange.
const MaxMemberFieldLen = 1024

// ErrBadEntry is wrapped by every DecodeEntry and AppendEntry error.
var ErrBadEntry = errors.New("fsm: malformed log entry")

// Entry is one Raft log entry's payload.
type Entry struct {
	Type EntryType
	// Requests marks runs of Commands that were forwarded by another node
	// as one request, so that a retried forward is recognised and answered
	// with the original replies (see Request). EntryCommands only.
	Requests []Request
	// Now is the proposing leader's clock in Unix milliseconds.
	Now int64
	// Commands is the batch of an EntryCommands entry; empty otherwise.
	Commands []Command
	// Member is the change an EntryMember entry makes; nil otherwise.
	Member *MemberChange
}

// Request identifies a forwarded batch of commands: Commands[Start :
// Start+Count] of the entry. Origin is a session (one per forwarding
// process), Seq numbers its requests from 1. A request whose (Origin, Seq)
// was already applied is not executed again: it gets the saved replies.
type Request struct {
	Origin string
	Seq    uint64
	// Ack is the origin's promise that every request of the session below
	// Ack has been answered, so their saved replies can be dropped and any
	// later copy of them refused. 0 <= Ack <= Seq.
	Ack   uint64
	Start int
	Count int
}

// MemberOp says what an EntryMember entry does.
type MemberOp uint8

// Member operations.
const (
	// MemberSet records (or replaces) a member's metadata.
	MemberSet MemberOp = 1
	// MemberRemove forgets a member's metadata; only ID is used.
	MemberRemove MemberOp = 2
)

// MemberChange is the payload of an EntryMember entry.
type MemberChange struct {
	Op   MemberOp
	Meta NodeMeta
}

// NodeMeta is what the cluster knows about a member beyond Raft's own
// configuration: the address clients use to reach it, and the incarnation
// of its data dir (random, made when the dir was created), which tells a
// wiped node rejoining under its old ID from the same node asking twice.
type NodeMeta struct {
	ID          string
	RaftAddr    string
	ClientAddr  string
	Incarnation string
}

// Layout (all integers are varints, unsigned unless noted):
//
//	version:1 type:1 flags:1
//	[flagRequests: n { originLen origin seq ack start count }*]
//	now(signed)
//	EntryCommands only: count { [flagKinds: kind:1] db:1 proto:1 body }*
//	EntryMember only:   op:1 id raftAddr clientAddr incarnation (each: len bytes)
//
// where a command's body depends on its kind:
//
//	KindArgv:      argv
//	KindTxn:       n { db:1 key ver delVer }* count { argv }*   (watches, commands)
//	KindConfigSet: n { name value }*
//	argv:          argc { len bytes }*
//
// (key, name and value: len bytes.)
//
// Command batches are the hot path: a few bytes of framing per argument,
// no field names, no reflection, and decoding slices the arguments out of
// the entry without copying.

// CommandSize returns the number of bytes c takes inside an entry; a
// KindArgv command takes one more (its kind) in an entry that also holds
// other kinds.
func CommandSize(c *Command) int {
	n := 2 + commandBodySize(c)
	if c.Kind != KindArgv {
		n++
	}
	return n
}

func commandBodySize(c *Command) int {
	switch c.Kind {
	case KindTxn:
		n := uvarintLen(uint64(len(c.Txn.Watches))) + uvarintLen(uint64(len(c.Txn.Cmds)))
		for _, w := range c.Txn.Watches {
			n += 1 + stringSize(w.Key) + uvarintLen(w.Ver) + uvarintLen(w.DelVer)
		}
		for _, argv := range c.Txn.Cmds {
			n += argvSize(argv)
		}
		return n
	case KindConfigSet:
		n := uvarintLen(uint64(len(c.Config)))
		for _, kv := range c.Config {
			n += stringSize(kv.Name) + uvarintLen(uint64(len(kv.Value))) + len(kv.Value)
		}
		return n
	}
	return argvSize(c.Argv)
}

func argvSize(argv [][]byte) int {
	n := uvarintLen(uint64(len(argv)))
	for _, a := range argv {
		n += uvarintLen(uint64(len(a))) + len(a)
	}
	return n
}

// typed reports whether some command is not KindArgv (flagKinds).
func typed(cmds []Command) bool {
	for i := range cmds {
		if cmds[i].Kind != KindArgv {
			return true
		}
	}
	return false
}

// EncodedSize returns the exact length AppendEntry adds for e.
func EncodedSize(e *Entry) int {
	n := 3 + varintLen(e.Now)
	if len(e.Requests) > 0 {
		n += uvarintLen(uint64(len(e.Requests)))
		for i := range e.Requests {
			n += RequestSize(&e.Requests[i])
		}
	}
	switch e.Type {
	case EntryCommands:
		n += uvarintLen(uint64(len(e.Commands)))
		kinds := typed(e.Commands)
		for i := range e.Commands {
			c := &e.Commands[i]
			n += CommandSize(c)
			if kinds && c.Kind == KindArgv {
				n++
			}
		}
	case EntryMember:
		if m := e.Member; m != nil {
			n += 1 + stringSize(m.Meta.ID) + stringSize(m.Meta.RaftAddr) + stringSize(m.Meta.ClientAddr) + stringSize(m.Meta.Incarnation)
		}
	}
	return n
}

// RequestSize returns the number of bytes r takes inside an entry.
func RequestSize(r *Request) int {
	return stringSize(r.Origin) + uvarintLen(r.Seq) + uvarintLen(r.Ack) +
		uvarintLen(uint64(r.Start)) + uvarintLen(uint64(r.Count))
}

func stringSize(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

// Validate reports whether e can be encoded: it fails, wrapping
// ErrBadEntry, on anything DecodeEntry would reject.
func (e *Entry) Validate() error {
	if !e.Type.valid() {
		return fmt.Errorf("%w: unknown type %d", ErrBadEntry, e.Type)
	}
	if e.Type != EntryCommands && (len(e.Commands) > 0 || len(e.Requests) > 0) {
		return fmt.Errorf("%w: %s entry with commands", ErrBadEntry, e.Type)
	}
	if (e.Type == EntryMember) != (e.Member != nil) {
		return fmt.Errorf("%w: member change on a %s entry", ErrBadEntry, e.Type)
	}
	for i := range e.Commands {
		if err := checkCommand(&e.Commands[i]); err != nil {
			return err
		}
	}
	if err := checkRequests(e.Requests, len(e.Commands)); err != nil {
		return err
	}
	if e.Member != nil {
		return checkMember(e.Member)
	}
	return nil
}

// AppendEntry appends the encoding of e to dst. It fails, wrapping
// ErrBadEntry, on anything DecodeEntry would reject, so that a malformed
// entry never reaches the log.
func AppendEntry(dst []byte, e *Entry) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return dst, err
	}
	dst, _ = appendEntry(dst, e, nil)
	return dst, nil
}

// AppendEntryInPlace encodes e, byte for byte as AppendEntry would, around
// the argument that lies in room's spare capacity (see Command.Room),
// without copying that argument: the bytes the encoding puts before it are
// written into the end of room, those after it right behind it. A big XADD
// so costs its argument's buffer once, not once more for the entry. It
// returns ok false, having written nothing, when no argument of e lies
// there or the spare bytes on either side do not suffice; the caller then
// uses AppendEntry. The entry aliases the buffer, so the argument must not
// change while the entry is in use.
func AppendEntryInPlace(e *Entry, room []byte) (entry []byte, ok bool, err error) {
	if err := e.Validate(); err != nil {
		return nil, false, err
	}
	buf, h := room[:cap(room)], len(room)
	if h >= len(buf) {
		return nil, false, nil
	}
	at := &buf[h]
	var big []byte
	for i := range e.Commands {
		for _, a := range e.Commands[i].Argv {
			if len(a) > 0 && &a[0] == at && h+len(a) <= len(buf) {
				big = a
			}
		}
	}
	if big == nil {
		return nil, false, nil
	}
	// The rest of the entry is small: encode it aside, split where the
	// argument's bytes go.
	parts, split := appendEntry(nil, e, at)
	pre, post := parts[:split], parts[split:]
	end := h + len(big) + len(post)
	if len(pre) > h || end > len(buf) {
		return nil, false, nil
	}
	copy(buf[h-len(pre):h], pre)
	copy(buf[h+len(big):end], post)
	return buf[h-len(pre) : end : end], true, nil
}

// appendEntry appends e's encoding to dst, except for the bytes of the
// argument starting at skip (nil: none), and returns where they belong.
func appendEntry(dst []byte, e *Entry, skip *byte) ([]byte, int) {
	split := -1
	var flags byte
	if len(e.Requests) > 0 {
		flags |= flagRequests
	}
	kinds := typed(e.Commands)
	if kinds {
		flags |= flagKinds
	}
	dst = append(dst, EntryVersion, byte(e.Type), flags)
	if flags&flagRequests != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(e.Requests)))
		for i := range e.Requests {
			r := &e.Requests[i]
			dst = appendString(dst, r.Origin)
			dst = binary.AppendUvarint(dst, r.Seq)
			dst = binary.AppendUvarint(dst, r.Ack)
			dst = binary.AppendUvarint(dst, uint64(r.Start))
			dst = binary.AppendUvarint(dst, uint64(r.Count))
		}
	}
	dst = binary.AppendVarint(dst, e.Now)
	if m := e.Member; m != nil {
		dst = append(dst, byte(m.Op))
		dst = appendString(dst, m.Meta.ID)
		dst = appendString(dst, m.Meta.RaftAddr)
		dst = appendString(dst, m.Meta.ClientAddr)
		dst = appendString(dst, m.Meta.Incarnation)
	}
	if e.Type == EntryCommands {
		dst = binary.AppendUvarint(dst, uint64(len(e.Commands)))
		for i := range e.Commands {
			c := &e.Commands[i]
			if kinds {
				dst = append(dst, byte(c.Kind))
			}
			dst = append(dst, c.DB, c.Proto)
			if c.Kind != KindArgv || skip == nil || split >= 0 {
				dst = appendCommandBody(dst, c)
				continue
			}
			// AppendEntryInPlace: leave out the big argument's bytes and
			// note where they go.
			dst = binary.AppendUvarint(dst, uint64(len(c.Argv)))
			for _, a := range c.Argv {
				dst = binary.AppendUvarint(dst, uint64(len(a)))
				if len(a) > 0 && &a[0] == skip && split < 0 {
					split = len(dst)
					continue
				}
				dst = append(dst, a...)
			}
		}
	}
	return dst, split
}

func appendCommandBody(dst []byte, c *Command) []byte {
	switch c.Kind {
	case KindTxn:
		dst = binary.AppendUvarint(dst, uint64(len(c.Txn.Watches)))
		for _, w := range c.Txn.Watches {
			dst = append(dst, byte(w.DB))
			dst = appendString(dst, w.Key)
			dst = binary.AppendUvarint(dst, w.Ver)
			dst = binary.AppendUvarint(dst, w.DelVer)
		}
		dst = binary.AppendUvarint(dst, uint64(len(c.Txn.Cmds)))
		for _, argv := range c.Txn.Cmds {
			dst = appendArgv(dst, argv)
		}
		return dst
	case KindConfigSet:
		dst = binary.AppendUvarint(dst, uint64(len(c.Config)))
		for _, kv := range c.Config {
			dst = appendString(dst, kv.Name)
			dst = binary.AppendUvarint(dst, uint64(len(kv.Value)))
			dst = append(dst, kv.Value...)
		}
		return dst
	}
	return appendArgv(dst, c.Argv)
}

func appendArgv(dst []byte, argv [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(argv)))
	for _, a := range argv {
		dst = binary.AppendUvarint(dst, uint64(len(a)))
		dst = append(dst, a...)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// checkRequests validates the request runs of an entry of n commands:
// non-empty, in order, not overlapping, inside the batch.
func checkRequests(reqs []Request, n int) error {
	next := 0
	for i := range reqs {
		r := &reqs[i]
		switch {
		case r.Origin == "" || len(r.Origin) > MaxOriginLen:
			return fmt.Errorf("%w: request origin of %d bytes", ErrBadEntry, len(r.Origin))
		case r.Seq == 0 || r.Ack > r.Seq:
			return fmt.Errorf("%w: request seq %d ack %d", ErrBadEntry, r.Seq, r.Ack)
		case r.Count <= 0 || r.Start < next || r.Start > n || r.Count > n-r.Start:
			return fmt.Errorf("%w: request commands [%d,+%d) in a batch of %d", ErrBadEntry, r.Start, r.Count, n)
		}
		next = r.Start + r.Count
	}
	return nil
}

func checkMember(m *MemberChange) error {
	if m.Op != MemberSet && m.Op != MemberRemove {
		return fmt.Errorf("%w: member op %d", ErrBadEntry, m.Op)
	}
	if m.Meta.ID == "" {
		return fmt.Errorf("%w: member without ID", ErrBadEntry)
	}
	if m.Op == MemberRemove && (m.Meta.RaftAddr != "" || m.Meta.ClientAddr != "" || m.Meta.Incarnation != "") {
		// One encoding per entry: a removal carries the ID only.
		return fmt.Errorf("%w: member removal with addresses", ErrBadEntry)
	}
	for _, s := range []string{m.Meta.ID, m.Meta.RaftAddr, m.Meta.ClientAddr, m.Meta.Incarnation} {
		if len(s) > MaxMemberFieldLen {
			return fmt.Errorf("%w: member field of %d bytes", ErrBadEntry, len(s))
		}
	}
	return nil
}

// Validate reports whether c can be put in a log entry: a database in
// range, protocol 2 or 3, and the field of its kind (only that one) set:
// at least the command name, every queued command of a transaction named
// and its watches in range, or at least one setting.
func (c *Command) Validate() error { return checkCommand(c) }

func checkCommand(c *Command) error {
	switch {
	case int(c.DB) >= engine.NumDBs:
		return fmt.Errorf("%w: db %d", ErrBadEntry, c.DB)
	case c.Proto != 2 && c.Proto != 3:
		return fmt.Errorf("%w: protocol %d", ErrBadEntry, c.Proto)
	}
	hasArgv, hasTxn, hasConfig := len(c.Argv) > 0, c.Txn != nil, len(c.Config) > 0
	switch c.Kind {
	case KindArgv:
		if !hasArgv {
			return fmt.Errorf("%w: empty command", ErrBadEntry)
		}
		hasArgv = false
	case KindTxn:
		if !hasTxn {
			return fmt.Errorf("%w: transaction without its body", ErrBadEntry)
		}
		for _, w := range c.Txn.Watches {
			if w.DB < 0 || w.DB >= engine.NumDBs {
				return fmt.Errorf("%w: watch of db %d", ErrBadEntry, w.DB)
			}
		}
		for _, argv := range c.Txn.Cmds {
			if len(argv) == 0 {
				return fmt.Errorf("%w: empty command in a transaction", ErrBadEntry)
			}
		}
		hasTxn = false
	case KindConfigSet:
		if !hasConfig {
			return fmt.Errorf("%w: CONFIG SET without settings", ErrBadEntry)
		}
		hasConfig = false
	default:
		return fmt.Errorf("%w: command kind %d", ErrBadEntry, c.Kind)
	}
	if hasArgv || hasTxn || hasConfig {
		// One meaning per command, so one encoding.
		return fmt.Errorf("%w: %s command with fields of another kind", ErrBadEntry, c.Kind)
	}
	return nil
}

// String names the kind for logs and errors.
func (k CommandKind) String() string {
	switch k {
	case KindArgv:
		return "plain"
	case KindTxn:
		return "transaction"
	case KindConfigSet:
		return "config-set"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// DecodeEntry parses an entry written by AppendEntry. Command arguments
// alias b: the caller must not modify b while the entry is in use, and
// whoever keeps an argument beyond that must copy it. Garbage input gives
// an error wrapping ErrBadEntry, never a panic, and allocation stays
// proportional to len(b).
func DecodeEntry(b []byte) (Entry, error) {
	d := decoder{b: b}
	var e Entry
	version, typ, flags := d.byte(), d.byte(), d.byte()
	if d.err != nil {
		return Entry{}, d.err
	}
	if version != EntryVersion {
		return Entry{}, fmt.Errorf("%w: version %d", ErrBadEntry, version)
	}
	e.Type = EntryType(typ)
	if !e.Type.valid() {
		return Entry{}, fmt.Errorf("%w: unknown type %d", ErrBadEntry, typ)
	}
	if flags&^knownFlag != 0 {
		return Entry{}, fmt.Errorf("%w: unknown flags %#x", ErrBadEntry, flags)
	}
	if flags&flagKinds != 0 && e.Type != EntryCommands {
		return Entry{}, fmt.Errorf("%w: command kinds on a %s entry", ErrBadEntry, e.Type)
	}
	if flags&flagRequests != 0 {
		if e.Type != EntryCommands {
			return Entry{}, fmt.Errorf("%w: requests on a %s entry", ErrBadEntry, e.Type)
		}
		e.Requests = d.requests()
	}
	e.Now = d.varint()
	switch e.Type {
	case EntryCommands:
		e.Commands = d.commands(flags&flagKinds != 0)
	case EntryMember:
		e.Member = d.member()
	}
	if d.err != nil {
		return Entry{}, d.err
	}
	if err := checkRequests(e.Requests, len(e.Commands)); err != nil {
		return Entry{}, err
	}
	if len(d.b) != 0 {
		return Entry{}, fmt.Errorf("%w: %d trailing bytes", ErrBadEntry, len(d.b))
	}
	return e, nil
}

// decoder consumes b front to back; the first error sticks and turns every
// later read into a no-op, so callers check once at the end.
type decoder struct {
	b   []byte
	err error
	// args is the slab argv takes commands' argument lists from.
	args [][]byte
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrBadEntry}, args...)...)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if !d.canonical(n) {
		return 0
	}
	d.b = d.b[n:]
	return v
}

// canonical checks the varint of n bytes at the front of d.b decoded and
// has no redundant trailing zero group, so every entry has exactly one
// encoding (replicas and fuzzers can compare bytes).
func (d *decoder) canonical(n int) bool {
	if n <= 0 {
		d.fail("bad varint")
		return false
	}
	if n > 1 && d.b[n-1] == 0 {
		d.fail("non-canonical varint")
		return false
	}
	return true
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if !d.canonical(n) {
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length %d exceeds the %d bytes left", n, len(d.b))
		return nil
	}
	// Cap the capacity so an append by the user cannot overwrite what
	// follows in the entry.
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

// minRequestSize is the smallest encoded request: a one-byte origin and
// four one-byte varints.
const minRequestSize = 6

func (d *decoder) requests() []Request {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n == 0 {
		d.fail("empty request list")
		return nil
	}
	if n > uint64(len(d.b)/minRequestSize) {
		d.fail("%d requests in %d bytes", n, len(d.b))
		return nil
	}
	reqs := make([]Request, n)
	for i := range reqs {
		r := &reqs[i]
		r.Origin = d.string(MaxOriginLen)
		r.Seq, r.Ack = d.uvarint(), d.uvarint()
		start, count := d.uvarint(), d.uvarint()
		if d.err != nil {
			return nil
		}
		// Bounded by the batch size, checked once the commands are read.
		if start > math.MaxInt32 || count > math.MaxInt32 {
			d.fail("request range %d+%d", start, count)
			return nil
		}
		r.Start, r.Count = int(start), int(count)
	}
	return reqs
}

func (d *decoder) member() *MemberChange {
	m := &MemberChange{Op: MemberOp(d.byte())}
	m.Meta.ID = d.string(MaxMemberFieldLen)
	m.Meta.RaftAddr = d.string(MaxMemberFieldLen)
	m.Meta.ClientAddr = d.string(MaxMemberFieldLen)
	m.Meta.Incarnation = d.string(MaxMemberFieldLen)
	if d.err != nil {
		return nil
	}
	if err := checkMember(m); err != nil {
		d.err = err
		return nil
	}
	return m
}

// string reads a length-prefixed string of at most max bytes (copied: it
// outlives the entry buffer in the FSM's tables).
func (d *decoder) string(max uint64) string {
	n := d.uvarint()
	if d.err == nil && n > max {
		d.fail("string of %d bytes", n)
	}
	return string(d.bytes(n))
}

// minCommandSize is the smallest encoded command: db, proto, argc=1, one
// empty argument (a typed command: kind, db, proto and two counts).
const minCommandSize = 4

// commands reads a batch; kinds says each command starts with its kind.
func (d *decoder) commands(kinds bool) []Command {
	count := d.uvarint()
	if d.err != nil {
		return nil
	}
	if count == 0 {
		d.fail("empty command batch")
		return nil
	}
	if count > uint64(len(d.b)/minCommandSize) {
		d.fail("%d commands in %d bytes", count, len(d.b))
		return nil
	}
	cmds := make([]Command, count)
	for i := range cmds {
		c := &cmds[i]
		if kinds {
			c.Kind = CommandKind(d.byte())
		}
		c.DB, c.Proto = d.byte(), d.byte()
		switch c.Kind {
		case KindArgv:
			c.Argv = d.argv(len(cmds) - i)
		case KindTxn:
			c.Txn = d.txn()
		case KindConfigSet:
			c.Config = d.configSet()
		}
		if d.err != nil {
			return nil
		}
		if err := checkCommand(c); err != nil {
			d.err = err
			return nil
		}
	}
	if kinds && !typed(cmds) {
		// flagKinds is set only when needed: one encoding per entry.
		d.fail("command kinds on a batch of plain commands")
		return nil
	}
	return cmds
}

// argv reads one command's arguments. The list is cut from a slab shared
// by the commands of the entry (d.args), sized when a command does not fit
// for the left commands still to come, taken as like this one: a
// pipelined batch then costs one allocation, not one per command. Each
// list's capacity ends with it, so an append to one cannot reach the next.
func (d *decoder) argv(left int) [][]byte {
	argc := d.uvarint()
	if d.err != nil {
		return nil
	}
	// Every argument takes at least its one-byte length.
	if argc > uint64(len(d.b)) {
		d.fail("%d arguments in %d bytes", argc, len(d.b))
		return nil
	}
	if uint64(cap(d.args)-len(d.args)) < argc {
		d.args = make([][]byte, 0, max(argc, min(argc*uint64(max(left, 1)), uint64(len(d.b)))))
	}
	start, end := len(d.args), len(d.args)+int(argc)
	d.args = d.args[:end]
	argv := d.args[start:end:end]
	for j := range argv {
		argv[j] = d.bytes(d.uvarint())
	}
	return argv
}

// minWatchSize is the smallest encoded watch: db, empty key, two versions.
const minWatchSize = 4

func (d *decoder) txn() *Txn {
	t := &Txn{}
	if n := d.count(minWatchSize); n > 0 {
		t.Watches = make([]engine.Watch, n)
		for i := range t.Watches {
			w := &t.Watches[i]
			w.DB = int(d.byte())
			w.Key = string(d.bytes(d.uvarint()))
			w.Ver, w.DelVer = d.uvarint(), d.uvarint()
		}
	}
	// Each queued command takes at least argc and one argument length.
	if n := d.count(2); n > 0 {
		t.Cmds = make([][][]byte, n)
		for i := range t.Cmds {
			t.Cmds[i] = d.argv(len(t.Cmds) - i)
		}
	}
	return t
}

func (d *decoder) configSet() []engine.ConfigSetting {
	n := d.count(2) // a setting takes at least two lengths
	if n == 0 {
		return nil
	}
	set := make([]engine.ConfigSetting, n)
	for i := range set {
		set[i].Name = string(d.bytes(d.uvarint()))
		set[i].Value = d.bytes(d.uvarint())
	}
	return set
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	// Zig-zag, as binary.PutVarint encodes it.
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}
