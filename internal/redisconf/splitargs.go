package redisconf

// SplitArgs splits a line into arguments with the rules of Redis's
// sdssplitargs, which both inline commands and config file lines go
// through: arguments are separated by whitespace; "double quotes" support
// \n \r \t \b \a, \xHH and \<any>; 'single quotes' support only \'; a
// closing quote must be followed by whitespace or the end of the line. It
// returns ok=false for unbalanced quotes.
func SplitArgs(line []byte) (args [][]byte, ok bool) {
	i := 0
	// at returns line[i], or 0 past the end like the C string's NUL.
	at := func(j int) byte {
		if j < len(line) {
			return line[j]
		}
		return 0
	}
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, true
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			c := at(i)
			switch {
			case inq:
				switch {
				case c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)):
					cur = append(cur, hexVal(at(i+2))<<4|hexVal(at(i+3)))
					i += 3
				case c == '\\' && at(i+1) != 0 && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				case i >= len(line):
					return nil, false
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && at(i+1) == '\'':
					i++
					cur = append(cur, '\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				case i >= len(line):
					return nil, false
				default:
					cur = append(cur, c)
				}
			default:
				switch {
				case i >= len(line):
					done = true
				case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0:
					done = true
				case c == '"':
					inq = true
				case c == '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		args = append(args, cur)
	}
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
