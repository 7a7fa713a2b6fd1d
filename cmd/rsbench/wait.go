package main

import "fmt"

// opXAddWait is XADD followed by WAIT 1 0 for every command: the cost of
// making each write durable on a Redis replica before acknowledging it,
// which is what a raftstream commit gives (a majority of 3 nodes holds
// the entry). Only the XADDs count as operations; the latency is that of
// the XADD+WAIT round trip (or of the batch of such pairs).
const opXAddWait opKind = "xaddwait"

var (
	bWait = []byte("WAIT")
	bOne  = []byte("1")
	bZ    = []byte("0")
)

// batchWait sends n XADD+WAIT pairs in one write and reads their 2n
// replies. A WAIT reply below 1 (no replica acknowledged) is an error.
func (w *worker) batchWait(n int) error {
	key := []byte(w.key)
	for i := 0; i < n; i++ {
		w.c.Append(bXAdd, key, bStar, bField, w.value)
		w.c.Append(bWait, bOne, bZ)
	}
	if err := w.c.Flush(); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if e, err := w.c.Skip(); err != nil {
			return err
		} else if e != "" {
			w.fail(e)
		}
		v, err := w.c.Read()
		if err != nil {
			return err
		}
		switch {
		case v.err != "":
			w.fail(v.err)
		case v.str == "0":
			w.fail(fmt.Sprintf("WAIT 1 0 returned %s: no replica acknowledged", v.str))
		}
	}
	return nil
}
