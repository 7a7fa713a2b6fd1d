// Package redisutil holds ports of helpers in Redis's util.c that both
// the engine (replicated commands) and the server (connection and config
// commands) need. They live here, below both, so that each exists once and
// clients see the same semantics from every command that uses one, byte
// for byte as Redis: the glob matcher (stringmatchlen) behind KEYS, SCAN
// MATCH, CONFIG GET and ACL key patterns is Match, the integer parser
// (string2ll) behind every integer argument is ParseLL, and the parser of
// memory sizes in config values (memtoull) is MemToULL.
package redisutil
