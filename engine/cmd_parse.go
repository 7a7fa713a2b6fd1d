package engine

import "strconv"

// Error replies shared by several commands, as Redis words them.
const (
	errSyntax      = "ERR syntax error"
	errNotInt      = "ERR value is not an integer or out of range"
	errInvalidID   = "ERR Invalid stream ID specified as stream command argument"
	errNoSuchKey   = "ERR no such key"
	errDBRange     = "ERR DB index is out of range"
	errSameObject  = "ERR source and destination objects are the same"
	errInvalidCurs = "ERR invalid cursor"
	// errIntRange is getIntFromObjectOrReply's complaint about a valid
	// integer outside the C int range.
	errIntRange = "ERR value is out of range, value must between -2147483648 and 2147483647"
)

// errArity is Redis's arity error for a command's full name (lower case,
// "container|sub" for subcommands).
func errArity(fullname string) string {
	return "ERR wrong number of arguments for '" + fullname + "' command"
}

// errUnknownCommand is Redis's reply to a command name it does not know.
func errUnknownCommand(argv [][]byte) string {
	var name []byte
	if len(argv) > 0 {
		name = cStr(argv[0])
	}
	if len(name) > 128 {
		name = name[:128]
	}
	args := make([]byte, 0, 64)
	for i := 1; i < len(argv) && len(args) < 128; i++ {
		a := cStr(argv[i])
		if room := 128 - len(args); len(a) > room {
			a = a[:room]
		}
		args = append(args, '\'')
		args = append(args, a...)
		args = append(args, '\'', ' ')
	}
	return "ERR unknown command '" + string(name) + "', with args beginning with: " + string(args)
}

// parseCursor parses a SCAN cursor like Redis's parseScanCursorOrReply,
// which uses strtoul: an optional sign ("-1" wraps to 2^64-1) and digits;
// the empty string is cursor 0; leading space, trailing bytes and overflow
// are invalid.
func parseCursor(b []byte) (uint64, bool) {
	b = cStr(b)
	switch {
	case len(b) == 0:
		// strtoul parsed nothing, and Redis checks only that the end
		// pointer is at the end of the string.
		return 0, true
	case cIsSpace(b[0]):
		// strtoul would skip it; Redis rejects it first.
		return 0, false
	}
	return strtoull(b)
}

// argIs reports whether arg equals the lower-case word w ignoring ASCII case,
// comparing arg as a C string (up to its first NUL) as Redis's strcasecmp.
func argIs(arg []byte, w string) bool {
	arg = cStr(arg)
	n := len(arg)
	if n != len(w) {
		return false
	}
	for i := 0; i < n; i++ {
		c := arg[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// argEq reports whether arg is exactly s as a C string (Redis's strcmp).
func argEq(arg []byte, s string) bool { return string(cStr(arg)) == s }

// cStr cuts b at its first NUL byte, as C string functions see it.
func cStr(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// cIsSpace is C's isspace in the C locale.
func cIsSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// appendInt formats v in decimal.
func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }
