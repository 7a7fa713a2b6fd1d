package engine

// ReplyWriter receives a command's reply. The engine writes replies through
// it so that it stays free of I/O and of protocol details: the same command
// code serves RESP2 and RESP3 clients, and followers can discard replies.
// engine/resp provides the buffer-backed implementation.
type ReplyWriter interface {
	// Proto is the RESP version of the client the reply is for (2 or 3).
	Proto() int
	WriteArray(n int)
	// WriteMap writes a map header of n pairs (RESP3 %n, RESP2 *2n).
	WriteMap(n int)
	// WriteSet writes a set header (RESP3 ~n, RESP2 *n).
	WriteSet(n int)
	WriteBulk(b []byte)
	WriteBulkString(s string)
	// WriteBulkID writes the stream ID ms-seq as a bulk string. A writer
	// formats it itself: a buffer handed to WriteBulk through this
	// interface escapes, so one per ID written would be allocated.
	WriteBulkID(ms, seq uint64)
	// WriteStatus writes a simple string, e.g. "OK".
	WriteStatus(s string)
	// WriteError writes an error reply; s carries its code, e.g.
	// "ERR syntax error" or "NOGROUP No such key ...".
	WriteError(s string)
	WriteInt(n int64)
	// WriteNull writes a null bulk string (RESP2 $-1, RESP3 _).
	WriteNull()
	// WriteNullArray writes a null array (RESP2 *-1, RESP3 _).
	WriteNullArray()
	// WriteDouble writes a double (RESP3 ,d; RESP2 bulk string).
	WriteDouble(f float64)
	// BeginArray reserves room for an array header whose length is not yet
	// known; EndArray(mark, n) fills it in. Pairs nest.
	BeginArray() int
	EndArray(mark, n int)
}
