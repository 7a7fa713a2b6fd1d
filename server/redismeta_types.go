package server

import (
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// docArg is one COMMAND DOCS argument description: the engine's type, so
// that the server's own commands describe theirs as the engine's do.
type docArg = engine.DocArg

// writeDocArgs writes COMMAND DOCS arguments in Redis's field order.
func writeDocArgs(w *resp.Writer, args []docArg) {
	w.WriteArray(len(args))
	for _, a := range args {
		fields := [][2]string{{"name", a.Name}, {"type", a.Type}}
		if a.DisplayText != "" {
			fields = append(fields, [2]string{"display_text", a.DisplayText})
		}
		n := len(fields)
		if a.KeySpecIndex >= 0 {
			n++
		}
		opt := [][2]string{{"token", a.Token}, {"summary", a.Summary}, {"since", a.Since}, {"deprecated_since", a.DeprecatedSince}}
		for _, f := range opt {
			if f[1] != "" {
				n++
			}
		}
		if len(a.Flags) > 0 {
			n++
		}
		if len(a.Args) > 0 {
			n++
		}
		w.WriteMap(n)
		for _, f := range fields {
			w.WriteBulkString(f[0])
			w.WriteBulkString(f[1])
		}
		if a.KeySpecIndex >= 0 {
			w.WriteBulkString("key_spec_index")
			w.WriteInt(int64(a.KeySpecIndex))
		}
		for _, f := range opt {
			if f[1] != "" {
				w.WriteBulkString(f[0])
				w.WriteBulkString(f[1])
			}
		}
		if len(a.Flags) > 0 {
			w.WriteBulkString("flags")
			w.WriteSet(len(a.Flags))
			for _, f := range a.Flags {
				w.WriteStatus(f)
			}
		}
		if len(a.Args) > 0 {
			w.WriteBulkString("arguments")
			writeDocArgs(w, a.Args)
		}
	}
}
