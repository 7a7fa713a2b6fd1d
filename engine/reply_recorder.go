package engine

// replyRecorder is a ReplyWriter that records a reply so that it can be
// written later, after a header whose size was not known in advance (a
// RESP3 map of the streams XREADGROUP served). BeginArray/EndArray pairs
// are resolved while recording, so the replay is plain calls.
type replyRecorder struct {
	proto int
	ops   []replyOp
}

type replyOpKind uint8

const (
	opArray replyOpKind = iota
	opMap
	opSet
	opBulk
	opStatus
	opError
	opInt
	opNull
	opNullArray
	opDouble
)

type replyOp struct {
	kind replyOpKind
	n    int64
	f    float64
	s    string
}

func (r *replyRecorder) Proto() int               { return r.proto }
func (r *replyRecorder) add(op replyOp)           { r.ops = append(r.ops, op) }
func (r *replyRecorder) WriteArray(n int)         { r.add(replyOp{kind: opArray, n: int64(n)}) }
func (r *replyRecorder) WriteMap(n int)           { r.add(replyOp{kind: opMap, n: int64(n)}) }
func (r *replyRecorder) WriteSet(n int)           { r.add(replyOp{kind: opSet, n: int64(n)}) }
func (r *replyRecorder) WriteBulk(b []byte)       { r.add(replyOp{kind: opBulk, s: string(b)}) }
func (r *replyRecorder) WriteBulkString(s string) { r.add(replyOp{kind: opBulk, s: s}) }
func (r *replyRecorder) WriteBulkID(ms, seq uint64) {
	r.add(replyOp{kind: opBulk, s: string(ID{ms, seq}.Append(nil))})
}
func (r *replyRecorder) WriteStatus(s string)  { r.add(replyOp{kind: opStatus, s: s}) }
func (r *replyRecorder) WriteError(s string)   { r.add(replyOp{kind: opError, s: s}) }
func (r *replyRecorder) WriteInt(n int64)      { r.add(replyOp{kind: opInt, n: n}) }
func (r *replyRecorder) WriteNull()            { r.add(replyOp{kind: opNull}) }
func (r *replyRecorder) WriteNullArray()       { r.add(replyOp{kind: opNullArray}) }
func (r *replyRecorder) WriteDouble(f float64) { r.add(replyOp{kind: opDouble, f: f}) }
func (r *replyRecorder) BeginArray() int       { r.add(replyOp{kind: opArray}); return len(r.ops) - 1 }
func (r *replyRecorder) EndArray(mark, n int)  { r.ops[mark].n = int64(n) }

// replay writes the recorded reply to w.
func (r *replyRecorder) replay(w ReplyWriter) {
	for _, op := range r.ops {
		switch op.kind {
		case opArray:
			w.WriteArray(int(op.n))
		case opMap:
			w.WriteMap(int(op.n))
		case opSet:
			w.WriteSet(int(op.n))
		case opBulk:
			w.WriteBulkString(op.s)
		case opStatus:
			w.WriteStatus(op.s)
		case opError:
			w.WriteError(op.s)
		case opInt:
			w.WriteInt(op.n)
		case opNull:
			w.WriteNull()
		case opNullArray:
			w.WriteNullArray()
		case opDouble:
			w.WriteDouble(op.f)
		}
	}
}
