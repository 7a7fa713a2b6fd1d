package server

// globMatch reports whether str matches the Redis glob pattern (the
// semantics of Redis's stringmatchlen: '*', '?', '[...]' with ranges and
// '^' negation, and '\' escapes). CONFIG GET and COMMAND LIST FILTERBY
// PATTERN use it, so patterns behave as they do against Redis.
func globMatch(pattern, str string, nocase bool) bool {
	skip := false
	return globMatchImpl(pattern, str, nocase, &skip, 0)
}

func foldByte(c byte, nocase bool) byte {
	if nocase && c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func globMatchImpl(p, s string, nocase bool, skipLonger *bool, nesting int) bool {
	// Redis refuses to recurse deeper than this to stop abusive patterns.
	if nesting > 1000 {
		return false
	}
	// at returns the pattern byte at i, or 0 past the end (C's NUL).
	at := func(i int) byte {
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatchImpl(p[1:], s, nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			// No match for the rest of the pattern anywhere in the rest
			// of the string: longer matches of an earlier '*' cannot help.
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := at(0) == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if at(0) == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if at(0) == ']' {
					break
				} else if len(p) == 0 {
					// Unterminated class: it ends with the pattern.
					break
				} else if len(p) >= 3 && p[1] == '-' {
					// C's char is signed: a range end >= 0x80 is negative.
					start, end, c := int8(p[0]), int8(p[2]), int8(s[0])
					if start > end {
						start, end = end, start
					}
					start, end, c = int8(foldByte(byte(start), nocase)), int8(foldByte(byte(end), nocase)), int8(foldByte(byte(c), nocase))
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if foldByte(p[0], nocase) == foldByte(s[0], nocase) {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			if len(p) == 0 {
				return len(s) == 0
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			if foldByte(p[0], nocase) != foldByte(s[0], nocase) {
				return false
			}
			s = s[1:]
		default:
			if foldByte(p[0], nocase) != foldByte(s[0], nocase) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
