package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/raftstream/raftstream/engine"
)

// EntryVersion is the log entry format version written by AppendEntry.
// Decoders reject any other version, so a format change must bump it and
// keep decoding the old one.
const EntryVersion = 1

// EntryType says what a log entry asks the state machine to do.
type EntryType uint8

// Entry types. Values not listed are reserved for future use (membership
// metadata, forwarded-session markers, ...) and rejected by DecodeEntry.
const (
	// EntryCommands carries a batch of client commands (group commit).
	EntryCommands EntryType = 1
	// EntryExpire asks the state machine to delete every key whose TTL is
	// due at the entry's clock.
	EntryExpire EntryType = 2
	// EntryNoop only advances the clock and the applied index; a new leader
	// proposes one as its read barrier.
	EntryNoop EntryType = 3
)

func (t EntryType) valid() bool { return t >= EntryCommands && t <= EntryNoop }

// String names the type for logs.
func (t EntryType) String() string {
	switch t {
	case EntryCommands:
		return "commands"
	case EntryExpire:
		return "expire"
	case EntryNoop:
		return "noop"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Header flag bits. Unknown bits are rejected rather than ignored: an old
// node must not silently apply an entry whose meaning it does not know.
const (
	flagReqID = 1 << 0
	knownFlag = flagReqID
)

// MaxReqIDLen bounds Entry.ReqID.
const MaxReqIDLen = 64

// ErrBadEntry is wrapped by every DecodeEntry and AppendEntry error.
var ErrBadEntry = errors.New("fsm: malformed log entry")

// Entry is one Raft log entry's payload.
type Entry struct {
	Type EntryType
	// ReqID, if not empty, identifies the proposal so that a retried
	// forward can be recognised and deduplicated. Not interpreted yet.
	ReqID []byte
	// Now is the proposing leader's clock in Unix milliseconds.
	Now int64
	// Commands is the batch of an EntryCommands entry; empty otherwise.
	Commands []Command
}

// Layout (all integers are varints, unsigned unless noted):
//
//	version:1 type:1 flags:1 [reqIDLen reqID] now(signed)
//	EntryCommands only: count { db:1 proto:1 argc { len bytes }* }*
//
// Command batches are the hot path: a few bytes of framing per argument,
// no field names, no reflection, and decoding slices the arguments out of
// the entry without copying.

// CommandSize returns the number of bytes c takes inside an entry.
func CommandSize(c *Command) int {
	n := 2 + uvarintLen(uint64(len(c.Argv)))
	for _, a := range c.Argv {
		n += uvarintLen(uint64(len(a))) + len(a)
	}
	return n
}

// EncodedSize returns the exact length AppendEntry adds for e.
func EncodedSize(e *Entry) int {
	n := 3 + varintLen(e.Now)
	if len(e.ReqID) > 0 {
		n += uvarintLen(uint64(len(e.ReqID))) + len(e.ReqID)
	}
	if e.Type == EntryCommands {
		n += uvarintLen(uint64(len(e.Commands)))
		for i := range e.Commands {
			n += CommandSize(&e.Commands[i])
		}
	}
	return n
}

// AppendEntry appends the encoding of e to dst. It fails, wrapping
// ErrBadEntry, on anything DecodeEntry would reject, so that a malformed
// entry never reaches the log.
func AppendEntry(dst []byte, e *Entry) ([]byte, error) {
	if !e.Type.valid() {
		return dst, fmt.Errorf("%w: unknown type %d", ErrBadEntry, e.Type)
	}
	if len(e.ReqID) > MaxReqIDLen {
		return dst, fmt.Errorf("%w: request ID of %d bytes", ErrBadEntry, len(e.ReqID))
	}
	if e.Type != EntryCommands && len(e.Commands) > 0 {
		return dst, fmt.Errorf("%w: %s entry with commands", ErrBadEntry, e.Type)
	}
	for i := range e.Commands {
		if err := checkCommand(&e.Commands[i]); err != nil {
			return dst, err
		}
	}
	var flags byte
	if len(e.ReqID) > 0 {
		flags |= flagReqID
	}
	dst = append(dst, EntryVersion, byte(e.Type), flags)
	if flags&flagReqID != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(e.ReqID)))
		dst = append(dst, e.ReqID...)
	}
	dst = binary.AppendVarint(dst, e.Now)
	if e.Type == EntryCommands {
		dst = binary.AppendUvarint(dst, uint64(len(e.Commands)))
		for i := range e.Commands {
			c := &e.Commands[i]
			dst = append(dst, c.DB, c.Proto)
			dst = binary.AppendUvarint(dst, uint64(len(c.Argv)))
			for _, a := range c.Argv {
				dst = binary.AppendUvarint(dst, uint64(len(a)))
				dst = append(dst, a...)
			}
		}
	}
	return dst, nil
}

// Validate reports whether c can be put in a log entry: a database in
// range, protocol 2 or 3 and at least the command name.
func (c *Command) Validate() error { return checkCommand(c) }

func checkCommand(c *Command) error {
	switch {
	case int(c.DB) >= engine.NumDBs:
		return fmt.Errorf("%w: db %d", ErrBadEntry, c.DB)
	case c.Proto != 2 && c.Proto != 3:
		return fmt.Errorf("%w: protocol %d", ErrBadEntry, c.Proto)
	case len(c.Argv) == 0:
		return fmt.Errorf("%w: empty command", ErrBadEntry)
	}
	return nil
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
	if flags&flagReqID != 0 {
		n := d.uvarint()
		if d.err == nil && (n == 0 || n > MaxReqIDLen) {
			return Entry{}, fmt.Errorf("%w: request ID of %d bytes", ErrBadEntry, n)
		}
		e.ReqID = d.bytes(n)
	}
	e.Now = d.varint()
	if e.Type == EntryCommands {
		e.Commands = d.commands()
	}
	if d.err != nil {
		return Entry{}, d.err
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

// minCommandSize is the smallest encoded command: db, proto, argc=1, one
// empty argument.
const minCommandSize = 4

func (d *decoder) commands() []Command {
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
		c.DB, c.Proto = d.byte(), d.byte()
		argc := d.uvarint()
		if d.err != nil {
			return nil
		}
		// Every argument takes at least its one-byte length.
		if argc > uint64(len(d.b)) {
			d.fail("%d arguments in %d bytes", argc, len(d.b))
			return nil
		}
		c.Argv = make([][]byte, argc)
		for j := range c.Argv {
			c.Argv[j] = d.bytes(d.uvarint())
		}
		if d.err != nil {
			return nil
		}
		if err := checkCommand(c); err != nil {
			d.err = err
			return nil
		}
	}
	return cmds
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
