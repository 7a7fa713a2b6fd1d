package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/internal/redisconf"
	"github.com/raftstream/raftstream/server"
)

// The config file (--config FILE) is in redis.conf syntax. It may set:
//
//   - the Redis settings raftstream has, by their Redis names: port and
//     bind (together --listen), dir (--data-dir), loglevel (--log-level),
//     and requirepass, protected-mode, maxclients, tls-*, proto-max-bulk-len,
//     client-query-buffer-limit, client-output-buffer-limit,
//     maxmemory-clients, slowlog-log-slower-than, slowlog-max-len, which
//     are also flag names; memory values take Redis's units (512mb);
//   - Redis settings whose value is fixed in raftstream (appendonly yes,
//     save "", ...), only with that value, so a redis.conf fragment that
//     states them still loads;
//   - any other flag by its name: `raft-advertise 10.0.0.1:7379`.
//
// A flag on the command line wins over its environment variable, which
// wins over the file. Anything else is an error naming the file and line,
// as Redis reports a bad config file, and the node does not start.
// Settings replicated through the Raft log (engine.ConfigParams) are
// refused: they are the cluster's, not a node's.

// configFlag names the flag that gives the file; the file cannot set it.
const configFlag = "config"

// fixedDirectives are Redis settings raftstream has one value for.
var fixedDirectives = map[string]string{
	"appendonly":       "yes", // every write is in the fsynced Raft log
	"appendfsync":      "always",
	"save":             "", // no RDB: snapshots are Raft's
	"maxmemory":        "0",
	"maxmemory-policy": "noeviction",
	"databases":        strconv.Itoa(engine.NumDBs),
	"daemonize":        "no",
	"logfile":          "", // logs go to stderr
}

// memoryDirectives take Redis memory values (1gb, 512mb, 64kb, 100).
var memoryDirectives = map[string]bool{
	"proto-max-bulk-len": true, "client-query-buffer-limit": true, "maxmemory-clients": true,
}

// yesNoDirectives take Redis's yes or no (and tls-auth-clients optional).
var yesNoDirectives = map[string]bool{"protected-mode": true, "tls-cluster": true, "tls-auth-clients": true}

// redisLogLevels maps Redis's loglevel values onto --log-level.
var redisLogLevels = map[string]string{"debug": "debug", "verbose": "debug", "notice": "info", "warning": "warn", "nothing": "error"}

// applyConfigFile reads path and sets every flag of fs it names that is
// not in skip (given on the command line or by the environment). Errors
// are *redisconf.Error.
func applyConfigFile(fs *flag.FlagSet, path string, skip map[string]bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &redisconf.Error{File: path, Reason: "Fatal error, can't open config file '" + path + "': " + redisconf.Strerror(err)}
	}
	lines, err := redisconf.Parse(path, data)
	if err != nil {
		return err
	}
	var host, port string
	var hostLine, portLine *redisconf.Line
	var bufferLimits []string
	for i := range lines {
		l := &lines[i]
		fail := func(reason string) error {
			return &redisconf.Error{File: path, Line: l.Num, Text: l.Text, Reason: reason}
		}
		name, args := l.Name, l.Args
		switch {
		case name == "port" || name == "bind" || name == "dir" || name == "loglevel":
			if len(args) != 1 {
				if name == "bind" && len(args) > 1 {
					return fail("raftstream listens on one address: give bind one address")
				}
				return fail("Bad directive or wrong number of arguments")
			}
		case name == "client-output-buffer-limit":
			if len(args) == 0 || len(args)%4 != 0 {
				return fail("Wrong number of arguments in buffer limit configuration.")
			}
		case slices.Contains(engine.ConfigParams, name):
			return fail(name + " is replicated through the Raft log, the same on every node: set it with CONFIG SET on any node, not in a node's config file")
		case name == configFlag || (fs.Lookup(name) == nil && !hasKey(fixedDirectives, name)):
			return fail("Bad directive or wrong number of arguments")
		case len(args) != 1 && hasKey(fixedDirectives, name):
			return fail(fmt.Sprintf("raftstream always runs with %s %s", name, redisconf.Quote(fixedDirectives[name])))
		case len(args) != 1:
			return fail("Bad directive or wrong number of arguments")
		}
		v := ""
		if len(args) > 0 {
			v = args[0]
		}
		switch {
		case name == "port":
			if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 65535 {
				return fail("Invalid port")
			}
			port, portLine = v, l
			continue
		case name == "bind":
			host, hostLine = strings.TrimPrefix(v, "-"), l
			if host == "*" {
				host = "0.0.0.0"
			}
			continue
		case name == "dir":
			name = "data-dir"
		case name == "loglevel":
			lv, ok := redisLogLevels[strings.ToLower(v)]
			if !ok {
				return fail("argument(s) must be one of the following: debug, verbose, notice, warning, nothing")
			}
			name, v = "log-level", lv
		case hasKey(fixedDirectives, name):
			if !strings.EqualFold(v, fixedDirectives[name]) {
				return fail(fmt.Sprintf("raftstream always runs with %s %s", name, redisconf.Quote(fixedDirectives[name])))
			}
			continue
		case name == "client-output-buffer-limit":
			// Each line sets its classes; together they are one value.
			if err := server.ParseClientOutputBufferLimit(strings.Join(args, " ")); err != nil {
				return fail(err.Error())
			}
			bufferLimits = append(bufferLimits, args...)
			continue
		case memoryDirectives[name]:
			n, ok := server.ParseMemory(v)
			if pct, isPct := strings.CutSuffix(v, "%"); isPct && name == "maxmemory-clients" {
				// A share of maxmemory, which is 0 (no limit) here, as
				// CONFIG SET takes it.
				if _, err := strconv.ParseUint(pct, 10, 8); err != nil {
					return fail("argument must be a memory or percent value")
				}
				n, ok = 0, true
			}
			if !ok {
				return fail("argument must be a memory value")
			}
			v = strconv.FormatInt(n, 10)
		case yesNoDirectives[name]:
			lv := strings.ToLower(v)
			if lv != "yes" && lv != "no" && !(name == "tls-auth-clients" && lv == "optional") {
				return fail("argument must be 'yes' or 'no'")
			}
			v = lv
		}
		if skip[name] {
			continue
		}
		f := fs.Lookup(name)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			switch strings.ToLower(v) {
			case "yes":
				v = "true"
			case "no":
				v = "false"
			}
		}
		if err := fs.Set(name, v); err != nil {
			return fail(valueReason(f))
		}
	}
	if len(bufferLimits) > 0 && !skip["client-output-buffer-limit"] {
		if err := fs.Set("client-output-buffer-limit", strings.Join(bufferLimits, " ")); err != nil {
			return err
		}
	}
	if (hostLine != nil || portLine != nil) && !skip["listen"] {
		defHost, defPort, _ := net.SplitHostPort(fs.Lookup("listen").Value.String())
		if host == "" {
			host = defHost
		}
		if port == "" {
			port = defPort
		}
		if err := fs.Set("listen", net.JoinHostPort(host, port)); err != nil {
			l := hostLine
			if l == nil {
				l = portLine
			}
			return &redisconf.Error{File: path, Line: l.Num, Text: l.Text, Reason: err.Error()}
		}
	}
	return nil
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

// valueReason says what a flag's value must be, in Redis's words where
// Redis has them.
func valueReason(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "invalid argument"
	}
	switch g.Get().(type) {
	case int, int64, uint, uint64:
		return "argument couldn't be parsed into an integer"
	case bool:
		return "argument must be 'yes' or 'no'"
	case time.Duration:
		return "argument must be a duration (500ms, 2s, 1m)"
	}
	return "invalid argument"
}

// absConfigPath is the config file's absolute path, which CONFIG REWRITE
// writes and INFO server shows (as Redis keeps it), so a later change of
// working directory cannot redirect it.
func absConfigPath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", errors.New("--config: " + err.Error())
	}
	return abs, nil
}
