package redisutil

// Match reports whether str matches the glob pattern exactly as Redis's
// stringmatchlen (util.c) does for KEYS, SCAN MATCH, CONFIG GET, COMMAND
// LIST FILTERBY PATTERN and ACL key patterns: '*', '?', '[...]' classes
// with '^' negation and 'a-z' ranges (ends in either order, compared as
// signed chars, as C's char is on the platforms Redis is built for), and
// '\' escapes; nocase folds ASCII letters, except for an escaped character
// inside a class, which Redis compares as is. Malformed patterns behave
// as in Redis: an unterminated class runs to the end of the pattern, a
// trailing '\' matches itself.
//
// It is a direct port, including the two guards against abusive patterns:
// the early exit that keeps patterns such as "a*a*a*a*b" from going
// exponential, and the nesting limit of 1000 stars, past which nothing
// matches.
func Match[P, S ~string | ~[]byte](pattern P, str S, nocase bool) bool {
	skip := false
	return match(pattern, str, nocase, &skip, 0)
}

// maxNesting is stringmatchlen_impl's limit on recursion (one level per
// '*' that has to try several positions).
const maxNesting = 1000

func match[P, S ~string | ~[]byte](pat P, str S, nocase bool, skipLonger *bool, nesting int) bool {
	if nesting > maxNesting {
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
				if match(pat[p+1:], str[s:], nocase, skipLonger, nesting+1) {
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
			matched := false
			for {
				rem := len(pat) - p
				if at(p) == '\\' && rem >= 2 {
					p++
					if pat[p] == str[s] {
						matched = true
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
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p += 2
					if c >= start && c <= end {
						matched = true
					}
				} else if eq(pat[p], str[s], nocase) {
					matched = true
				}
				p++
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			s++
		case '\\':
			if len(pat)-p >= 2 {
				p++
			}
			if !eq(pat[p], str[s], nocase) {
				return false
			}
			s++
		default:
			if !eq(pat[p], str[s], nocase) {
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

// eq compares two bytes, folding ASCII case when nocase is set (tolower
// in the C locale).
func eq(a, b byte, nocase bool) bool {
	if nocase {
		return lower(int(a)) == lower(int(b))
	}
	return a == b
}

func lower(c int) int {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
