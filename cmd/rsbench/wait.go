package main

import (
	"fmt"
	"strconv"
)

// opXAddWait is XADD followed by WAIT <n> 0 for every command (n is
// -wait-replicas, 1 by default): the cost of making each write durable on
// Redis replicas before acknowledging it, which is what a raftstream
// commit gives (with WAIT 1 and two replicas, a majority of 3 copies
// holds the entry). Only the XADDs count as operations; the latency is
// that of the XADD+WAIT round trip (or of the batch of such pairs).
const opXAddWait opKind = "xaddwait"

var (
	bWait = []byte("WAIT")
	bZ    = []byte("0")
)

// batchWait sends n XADD+WAIT pairs in one write and reads their 2n
// replies. A WAIT reply below numreplicas (too few replicas acknowledged)
// is an error.
func (w *worker) batchWait(n int) error {
	key := []byte(w.key)
	want := strconv.Itoa(w.cfg.waitReplicas)
	bWant := []byte(want)
	for i := 0; i < n; i++ {
		w.c.Append(bXAdd, key, bStar, bField, w.value)
		w.c.Append(bWait, bWant, bZ)
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
		if v.IsError() {
			w.fail(v.Str)
			continue
		}
		if got, err := strconv.Atoi(v.Str); err != nil || got < w.cfg.waitReplicas {
			w.fail(fmt.Sprintf("WAIT %s 0 returned %q: too few replicas acknowledged", want, v.Str))
		}
	}
	return nil
}
