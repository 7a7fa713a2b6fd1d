package server

import "github.com/raftstream/raftstream/internal/redisconf"

// splitArgs splits an inline command line into arguments with the rules of
// Redis's sdssplitargs (redisconf.SplitArgs), which processInlineBuffer
// uses. It returns ok=false for unbalanced quotes ("Protocol error:
// unbalanced quotes in request"). redcon's own inline parser differs in
// these details, so inline requests are rewritten into multibulk form here
// before redcon sees them.
func splitArgs(line []byte) (args [][]byte, ok bool) { return redisconf.SplitArgs(line) }
