package engine

// ID is a stream entry ID: milliseconds and sequence number, ordered as a
// 128-bit integer.
type ID struct {
	Ms  uint64
	Seq uint64
}

// MinID and MaxID bound every ID ("-" and "+").
var (
	MinID = ID{}
	MaxID = ID{^uint64(0), ^uint64(0)}
)

// Less reports whether id sorts before o.
func (id ID) Less(o ID) bool { return id.Ms < o.Ms || (id.Ms == o.Ms && id.Seq < o.Seq) }

// Compare returns -1, 0 or 1.
func (id ID) Compare(o ID) int {
	switch {
	case id.Less(o):
		return -1
	case o.Less(id):
		return 1
	}
	return 0
}

// IsZero reports whether id is 0-0.
func (id ID) IsZero() bool { return id.Ms == 0 && id.Seq == 0 }

// String formats id as "ms-seq".
func (id ID) String() string { return string(id.Append(nil)) }

// Append appends "ms-seq" to b.
func (id ID) Append(b []byte) []byte {
	b = appendUint(b, id.Ms)
	b = append(b, '-')
	return appendUint(b, id.Seq)
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}
