package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// Listpack size model. Redis starts a new stream node when
// lpBytes(tail) + len(new fields and values) >= stream-node-max-bytes, so to
// cut nodes where Redis does (and trim "~" the same entries) we keep, per
// node, the byte size Redis's listpack would have. These functions mirror
// listpack.c's encodings: lpEncodeGetType, lpEncodeBacklen and the
// string-to-integer conversion lpAppend applies to every element.

// lpIntEncLen is the encoded size of an integer element, without backlen.
func lpIntEncLen(v int64) int64 {
	switch {
	case v >= 0 && v <= 127:
		return 1
	case v >= -4096 && v <= 4095:
		return 2
	case v >= -32768 && v <= 32767:
		return 3
	case v >= -8388608 && v <= 8388607:
		return 4
	case v >= -2147483648 && v <= 2147483647:
		return 5
	}
	return 9
}

// lpBacklenSize is the size of the backlen of an element of l bytes.
func lpBacklenSize(l int64) int64 {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// lpIntElemSize is the full size of an integer element.
func lpIntElemSize(v int64) int64 {
	l := lpIntEncLen(v)
	return l + lpBacklenSize(l)
}

// lpStrElemSize is the full size of the element lpAppend would write for b:
// strings that are canonical int64s are stored as integers.
func lpStrElemSize(b []byte) int64 {
	var l int64
	if len(b) < 21 { // lpStringToInt64 rejects LONG_STR_SIZE (21) and longer
		if v, ok := redisutil.ParseLL(b); ok {
			l = lpIntEncLen(v)
			return l + lpBacklenSize(l)
		}
	}
	n := int64(len(b))
	switch {
	case n < 64:
		l = 1 + n
	case n < 4096:
		l = 2 + n
	default:
		l = 5 + n
	}
	return l + lpBacklenSize(l)
}
