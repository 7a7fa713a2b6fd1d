package engine

// globMatch reports whether str matches the glob pattern exactly as Redis's
// case-sensitive stringmatchlen (util.c) does for KEYS and SCAN MATCH:
// '*', '?', '[...]' classes with '^' negation and 'a-z' ranges (ends in
// either order, compared as signed chars), and '\' escapes. Malformed
// patterns behave as in Redis: an unterminated class runs to the end of the
// pattern, a trailing '\' matches itself. tidwall/match has no classes, so
// this is a direct port, including the early exit that keeps patterns such
// as "a*a*a*a*b" from going exponential and the limit of 1000 nested stars,
// past which nothing matches.
func globMatch(pattern, str []byte) bool {
	skip := false
	return globMatchAt(pattern, str, &skip, 0)
}

func globMatchAt(pat, str []byte, skipLonger *bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	// at reads pat like a NUL-terminated C string: 0 past the end.
	at := func(i int) byte {
		if i < len(pat) {
			return pat[i]
		}
		return 0
	}
	p, s := 0, 0
	for p < len(pat) && s < len(str) {
		switch pat[p] {
		case '*':
			for at(p+1) == '*' {
				p++
			}
			if len(pat)-p == 1 {
				return true
			}
			for s < len(str) {
				if globMatchAt(pat[p+1:], str[s:], skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s++
			}
			// No match for the rest of the pattern anywhere in the rest of
			// the string: earlier stars cannot help by matching more.
			*skipLonger = true
			return false
		case '?':
			s++
		case '[':
			p++
			not := at(p) == '^'
			if not {
				p++
			}
			match := false
			for {
				rem := len(pat) - p
				if at(p) == '\\' && rem >= 2 {
					p++
					if pat[p] == str[s] {
						match = true
					}
				} else if at(p) == ']' {
					break
				} else if rem == 0 {
					p--
					break
				} else if rem >= 3 && pat[p+1] == '-' {
					start, end := int(int8(pat[p])), int(int8(pat[p+2]))
					c := int(int8(str[s]))
					if start > end {
						start, end = end, start
					}
					p += 2
					if c >= start && c <= end {
						match = true
					}
				} else if pat[p] == str[s] {
					match = true
				}
				p++
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s++
		case '\\':
			if len(pat)-p >= 2 {
				p++
			}
			if pat[p] != str[s] {
				return false
			}
			s++
		default:
			if pat[p] != str[s] {
				return false
			}
			s++
		}
		p++
		if s == len(str) {
			for at(p) == '*' {
				p++
			}
			break
		}
	}
	return p == len(pat) && s == len(str)
}
