package faults

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// logInput and logOutput are the porcupine operation payloads. The log of
// one key is a string of values joined with ",": immutable, comparable with
// ==, cheap to hash.
type logInput struct {
	key     string
	add     bool
	value   string
	unknown bool // add whose outcome is unknown
}

type logOutput struct{ vals string }

// logModel is the append-only log: an XADD appends its value; an
// indeterminate XADD may or may not have appended (both branches); a read
// must return exactly the state.
var logModel = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, o := range h {
			k := o.Input.(logInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], o)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []any { return []any{""} },
	Step: func(state, input, output any) []any {
		s, in := state.(string), input.(logInput)
		if in.add {
			next := in.value
			if s != "" {
				next = s + "," + in.value
			}
			if in.unknown {
				return []any{s, next}
			}
			return []any{next}
		}
		if output.(logOutput).vals == s {
			return []any{s}
		}
		return nil
	},
	Equal: func(a, b any) bool { return a.(string) == b.(string) },
	Hash: func(s any) uint64 {
		h := fnv.New64a()
		h.Write([]byte(s.(string)))
		return h.Sum64()
	},
	DescribeOperation: func(input, output any) string {
		in := input.(logInput)
		if in.add {
			if in.unknown {
				return fmt.Sprintf("XADD %s %s (unknown)", in.key, in.value)
			}
			return fmt.Sprintf("XADD %s %s", in.key, in.value)
		}
		return fmt.Sprintf("XRANGE %s -> [%s]", in.key, output.(logOutput).vals)
	},
	DescribeState: func(s any) string { return "[" + s.(string) + "]" },
}

// logVerdict is the result of checking a log-workload history.
type logVerdict struct {
	Adds, AddsOK, AddsFailed, AddsUnknown, Reads int
	Linearizable                                 string
	Anomalies                                    []string
}

// checkLog checks a finished history: linearizability against logModel
// (per key) and the stream-ID properties porcupine's model does not see.
func checkLog(ops []op, timeout time.Duration) (logVerdict, porcupine.LinearizationInfo) {
	var v logVerdict
	anomaly := func(format string, args ...any) {
		if len(v.Anomalies) < 50 {
			v.Anomalies = append(v.Anomalies, fmt.Sprintf(format, args...))
		}
	}
	type added struct {
		op   op
		seen bool
	}
	adds := map[string]*added{} // value -> the add
	for _, o := range ops {
		if o.Kind == "add" {
			v.Adds++
			switch o.Out {
			case outOK:
				v.AddsOK++
			case outFail:
				v.AddsFailed++
			default:
				v.AddsUnknown++
			}
			adds[o.Value] = &added{op: o}
		} else {
			v.Reads++
		}
	}
	idOf := map[string]string{} // value -> ID seen in reads
	for _, o := range ops {
		if o.Kind != "read" {
			continue
		}
		seen := map[string]bool{}
		var prev streamID
		for i, val := range o.Vals {
			id, err := parseID(o.IDs[i])
			if err != nil {
				anomaly("read %v: bad ID %q", o, o.IDs[i])
			} else if i > 0 && !prev.less(id) {
				anomaly("IDs not strictly increasing in one read: %s then %s in %v", o.IDs[i-1], o.IDs[i], o)
			}
			prev = id
			if seen[val] {
				anomaly("value %s appears twice in one read: %v", val, o)
			}
			seen[val] = true
			a := adds[val]
			switch {
			case a == nil:
				anomaly("value %s was read but never added: %v", val, o)
			case a.op.Key != o.Key:
				anomaly("value %s added to %s was read from %s", val, a.op.Key, o.Key)
			case a.op.Out == outFail:
				anomaly("value %s was read but its XADD failed (%s): %v", val, a.op.Err, o)
			case a.op.Out == outOK && a.op.ID != o.IDs[i]:
				anomaly("value %s: XADD returned %s but a read shows %s", val, a.op.ID, o.IDs[i])
			}
			if a != nil {
				a.seen = true
			}
			if old, ok := idOf[val]; ok && old != o.IDs[i] {
				anomaly("value %s has ID %s in one read and %s in another", val, old, o.IDs[i])
			}
			idOf[val] = o.IDs[i]
		}
	}
	// Unknown adds never seen in a read can be linearized after every read
	// or not at all: dropping them keeps the search small without changing
	// the verdict. Failed adds never took effect (checked above).
	var hist []porcupine.Operation
	for _, o := range ops {
		in := logInput{key: o.Key}
		var out logOutput
		switch o.Kind {
		case "add":
			if o.Out == outFail || (o.Out == outUnknown && !adds[o.Value].seen) {
				continue
			}
			in.add, in.value, in.unknown = true, o.Value, o.Out == outUnknown
		default:
			out.vals = strings.Join(o.Vals, ",")
		}
		hist = append(hist, porcupine.Operation{ClientId: o.Client, Input: in, Output: out, Call: o.Call, Return: o.Return})
	}
	res, info := porcupine.CheckOperationsVerbose(logModel.ToModel(), hist, timeout)
	v.Linearizable = string(res)
	if res == porcupine.Illegal {
		anomaly("history is not linearizable (see the visualization in the report dir)")
		// Name the stale reads so the test log alone explains the verdict.
		for _, s := range staleReads(ops, 5) {
			anomaly("%s", s)
		}
	}
	return v, info
}

// staleReads lists up to max reads that plainly missed a write: an
// acknowledged XADD that returned before the read was called, or an entry
// that a read completed before this one was called had already shown (the
// workload never deletes, so each key only grows).
func staleReads(ops []op, max int) []string {
	var out []string
	for _, r := range ops {
		if r.Kind != "read" || len(out) >= max {
			continue
		}
		has := make(map[string]bool, len(r.Vals))
		for _, val := range r.Vals {
			has[val] = true
		}
		for _, w := range ops {
			if w.Key != r.Key || w.Return >= r.Call {
				continue
			}
			if w.Kind == "add" && w.Out == outOK && !has[w.Value] {
				out = append(out, fmt.Sprintf("stale read: %v misses %s, acknowledged before it was called: %v", r, w.Value, w))
				break
			}
			if w.Kind == "read" && len(w.Vals) > len(r.Vals) {
				out = append(out, fmt.Sprintf("stale read: %v has %d entries; an earlier read had %d: %v", r, len(r.Vals), len(w.Vals), w))
				break
			}
		}
	}
	return out
}

// streamID is a parsed stream entry ID.
type streamID struct{ ms, seq uint64 }

func parseID(s string) (streamID, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, fmt.Errorf("no '-' in %q", s)
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return streamID{}, fmt.Errorf("bad ID %q", s)
	}
	return streamID{ms, seq}, nil
}

func (a streamID) less(b streamID) bool { return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq) }
