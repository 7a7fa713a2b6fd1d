package cluster

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// hclogAdapter sends raft's hclog output into slog, so the binary has one
// log stream with one format and one level switch. minLevel additionally
// mutes raft below a level (its Info is chatty during normal operation).
type hclogAdapter struct {
	l        *slog.Logger
	name     string
	minLevel hclog.Level
	implied  []interface{}
}

var _ hclog.Logger = (*hclogAdapter)(nil)

func newHclog(l *slog.Logger, name string, min hclog.Level) hclog.Logger {
	return &hclogAdapter{l: l, name: name, minLevel: min}
}

func toSlogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (h *hclogAdapter) enabled(level hclog.Level) bool {
	if level == hclog.Off || level < h.minLevel {
		return false
	}
	return h.l.Enabled(context.Background(), toSlogLevel(level))
}

func (h *hclogAdapter) Log(level hclog.Level, msg string, args ...interface{}) {
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	if !h.enabled(level) {
		return
	}
	all := make([]any, 0, 2+len(h.implied)+len(args))
	if h.name != "" {
		all = append(all, "component", h.name)
	}
	all = appendArgs(all, h.implied)
	all = appendArgs(all, args)
	h.l.Log(context.Background(), toSlogLevel(level), msg, all...)
}

// ownKeys are attributes our loggers already carry (Open adds "node",
// Log "component"); raft's own attributes of the same name get a "raft_"
// prefix, or a JSON record would hold the key twice.
var ownKeys = map[string]bool{"node": true, "component": true}

// appendArgs appends hclog's key/value pairs as slog arguments.
func appendArgs(dst, kv []interface{}) []any {
	for i, a := range kv {
		if k, ok := a.(string); ok && i%2 == 0 && ownKeys[k] {
			a = "raft_" + k
		} else if i%2 == 1 {
			a = hclogValue(a)
		}
		dst = append(dst, a)
	}
	return dst
}

// hclogValue renders hclog's formatting wrappers and Stringers, which
// slog would print as raw Go values (raft logs its configuration with
// hclog.Fmt).
func hclogValue(v interface{}) interface{} {
	switch x := v.(type) {
	case hclog.Format:
		if len(x) > 0 {
			if format, ok := x[0].(string); ok {
				return fmt.Sprintf(format, x[1:]...)
			}
		}
		return fmt.Sprint(x...)
	case hclog.Hex:
		return fmt.Sprintf("0x%x", int(x))
	case hclog.Octal:
		return fmt.Sprintf("0%o", int(x))
	case hclog.Binary:
		return fmt.Sprintf("0b%b", int(x))
	case hclog.Quote:
		return fmt.Sprintf("%q", string(x))
	case error:
		return x
	case fmt.Stringer:
		// raft logs itself (*raft.Raft) this way: slog's JSON handler
		// would print its exported fields, not what String says.
		return x.String()
	}
	return v
}

func (h *hclogAdapter) Trace(msg string, args ...interface{}) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogAdapter) Debug(msg string, args ...interface{}) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogAdapter) Info(msg string, args ...interface{})  { h.Log(hclog.Info, msg, args...) }
func (h *hclogAdapter) Warn(msg string, args ...interface{})  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogAdapter) Error(msg string, args ...interface{}) { h.Log(hclog.Error, msg, args...) }

func (h *hclogAdapter) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hclogAdapter) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hclogAdapter) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hclogAdapter) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hclogAdapter) IsError() bool { return h.enabled(hclog.Error) }

func (h *hclogAdapter) ImpliedArgs() []interface{} { return h.implied }

func (h *hclogAdapter) With(args ...interface{}) hclog.Logger {
	c := *h
	c.implied = append(append([]interface{}{}, h.implied...), args...)
	return &c
}

func (h *hclogAdapter) Name() string { return h.name }

func (h *hclogAdapter) Named(name string) hclog.Logger {
	c := *h
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (h *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel changes the mute level of this logger only; slog's handler
// level still applies.
func (h *hclogAdapter) SetLevel(level hclog.Level) { h.minLevel = level }

func (h *hclogAdapter) GetLevel() hclog.Level { return h.minLevel }

func (h *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hclogAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return stdWriter{h}
}

// stdWriter turns lines written through a standard *log.Logger (raft's
// transport uses one in places) into Info records.
type stdWriter struct{ h *hclogAdapter }

func (w stdWriter) Write(p []byte) (int, error) {
	w.h.Info(strings.TrimRight(string(p), "\r\n"))
	return len(p), nil
}
