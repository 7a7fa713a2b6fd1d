package engine

// OWNER: stream data-structure helper. Everything below is the agreed API;
// bodies are stubs to be replaced.

// NodeLimits shapes the packed nodes a stream is built from, as Redis's
// stream-node-max-bytes and stream-node-max-entries do. Zero means no limit.
type NodeLimits struct {
	MaxBytes   int64
	MaxEntries int64
}

// Stream is one stream value: entries in packed nodes plus the metadata
// Redis keeps (last ID, max deleted ID, entries added).
type Stream struct{}

// NewStream returns an empty stream.
func NewStream() *Stream { panic("TODO") }
