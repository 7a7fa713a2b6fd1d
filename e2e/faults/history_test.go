package faults

import (
	"fmt"
	"sync"
	"time"
)

// op is one client operation in a history. Times are nanoseconds since
// the history started; an operation whose outcome is unknown keeps
// Return = -1 until finish() sets it to the end of the history.
type op struct {
	Client int      `json:"client"`
	Node   string   `json:"node"`
	Kind   string   `json:"kind"` // "add" or "read"
	Key    string   `json:"key"`
	Value  string   `json:"value,omitempty"` // add: the unique value
	ID     string   `json:"id,omitempty"`    // add: the returned ID
	Vals   []string `json:"vals,omitempty"`  // read: values in order
	IDs    []string `json:"ids,omitempty"`   // read: IDs in order
	Out    outcome  `json:"outcome"`         // 0 ok, 1 failed (not applied), 2 unknown
	Err    string   `json:"err,omitempty"`
	Call   int64    `json:"call"`
	Return int64    `json:"return"`
}

func (o op) String() string {
	out := [...]string{"ok", "fail", "unknown"}[o.Out]
	switch o.Kind {
	case "add":
		return fmt.Sprintf("[%d..%d] c%d@%s XADD %s %s -> %s %s %s", o.Call/1e6, o.Return/1e6, o.Client, o.Node, o.Key, o.Value, out, o.ID, o.Err)
	default:
		return fmt.Sprintf("[%d..%d] c%d@%s XRANGE %s -> %s %d entries %v", o.Call/1e6, o.Return/1e6, o.Client, o.Node, o.Key, out, len(o.Vals), o.Vals)
	}
}

// history records operations from many client goroutines.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []op
}

func newHistory() *history { return &history{start: time.Now()} }

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(o op) {
	h.mu.Lock()
	h.ops = append(h.ops, o)
	h.mu.Unlock()
}

// finish returns the history with unknown operations' Return set past the
// last event: they may take effect at any point after their call.
func (h *history) finish() []op {
	h.mu.Lock()
	defer h.mu.Unlock()
	end := h.now() + 1
	out := append([]op(nil), h.ops...)
	for i := range out {
		if out[i].Out == outUnknown {
			out[i].Return = end
		}
	}
	return out
}
