package server

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/internal/redisconf"
	"github.com/raftstream/raftstream/internal/redisutil"
)

// localParam is a setting of this node only (not replicated): limits,
// the password, and read-only facts about the deployment.
type localParam struct {
	get func(s *Server) string
	// set validates and returns the function that applies v, or an error
	// text in Redis's words ("argument must be ..."). nil means immutable.
	set func(s *Server, v string) (apply func(), errText string)
}

func memoryParam(load func(s *Server) int64, store func(s *Server, v int64), minV int64) localParam {
	return localParam{
		get: func(s *Server) string { return strconv.FormatInt(load(s), 10) },
		set: func(s *Server, v string) (func(), string) {
			n, ok := ParseMemory(v)
			if !ok {
				return nil, "argument must be a memory value"
			}
			if n < minV {
				return nil, "argument must be between " + strconv.FormatInt(minV, 10) + " and 9223372036854775807 inclusive"
			}
			return func() { store(s, n) }, ""
		},
	}
}

// intParam is an integer setting from minV to the largest int64.
func intParam(load func(s *Server) int64, store func(s *Server, v int64), minV int64) localParam {
	return localParam{
		get: func(s *Server) string { return strconv.FormatInt(load(s), 10) },
		set: func(s *Server, v string) (func(), string) {
			n, ok := redisutil.ParseLL([]byte(v))
			if !ok {
				return nil, "argument couldn't be parsed into an integer"
			}
			if n < minV {
				return nil, "argument must be between " + strconv.FormatInt(minV, 10) + " and 9223372036854775807 inclusive"
			}
			return func() { store(s, n) }, ""
		},
	}
}

// localParams are the node-local settings CONFIG GET/SET know, with the
// bounds Redis applies to them.
var localParams = map[string]localParam{
	"maxclients": {
		get: func(s *Server) string { return strconv.FormatInt(s.maxClients.Load(), 10) },
		set: func(s *Server, v string) (func(), string) {
			n, ok := redisutil.ParseLL([]byte(v))
			if !ok {
				return nil, "argument couldn't be parsed into an integer"
			}
			if n < 1 || n > math.MaxUint32 {
				return nil, "argument must be between 1 and 4294967295 inclusive"
			}
			return func() { s.maxClients.Store(n) }, ""
		},
	},
	"proto-max-bulk-len": memoryParam(
		func(s *Server) int64 { return s.maxBulk.Load() },
		func(s *Server, v int64) { s.maxBulk.Store(v) }, 1<<20),
	"client-query-buffer-limit": memoryParam(
		func(s *Server) int64 { return s.queryLimit.Load() },
		func(s *Server, v int64) { s.queryLimit.Store(v) }, 1<<20),
	"client-output-buffer-limit": {
		get: func(s *Server) string { return s.outLimits.Load().String() },
		set: func(s *Server, v string) (func(), string) {
			// Classes not named keep their limits; the base is read when
			// applied so a concurrent CONFIG SET of another class is kept.
			if _, msg := parseBufferLimits(defaultBufferLimits, v); msg != "" {
				return nil, msg
			}
			return func() {
				for {
					old := s.outLimits.Load()
					l, _ := parseBufferLimits(*old, v)
					if s.outLimits.CompareAndSwap(old, &l) {
						return
					}
				}
			}, ""
		},
	},
	"maxmemory-clients": {
		get: func(s *Server) string { return *s.maxClientMemText.Load() },
		set: func(s *Server, v string) (func(), string) {
			// A percentage is of maxmemory, which is 0 (no limit) here.
			if pct, ok := strings.CutSuffix(v, "%"); ok {
				n, ok := redisutil.ParseLL([]byte(pct))
				if !ok || n < 0 {
					return nil, "argument must be a memory or percent value"
				}
				if n > 100 {
					return nil, "percentage argument must be less or equal to 100"
				}
				text := v
				if n == 0 {
					text = "0"
				}
				return func() { s.maxClientMemText.Store(&text); s.maxClientMem.Store(0) }, ""
			}
			n, ok := ParseMemory(v)
			if !ok {
				return nil, "argument must be a memory or percent value"
			}
			text := strconv.FormatInt(n, 10)
			return func() { s.maxClientMemText.Store(&text); s.maxClientMem.Store(n) }, ""
		},
	},
	"slowlog-log-slower-than": intParam(
		func(s *Server) int64 { return s.slowlog.slowerThan.Load() },
		func(s *Server, v int64) { s.slowlog.slowerThan.Store(v) }, -1),
	"slowlog-max-len": intParam(
		func(s *Server) int64 { return s.slowlog.maxLen.Load() },
		func(s *Server, v int64) {
			l := s.slowlog
			l.mu.Lock()
			defer l.mu.Unlock()
			l.maxLen.Store(v)
			l.trim()
		}, 0),
	"protected-mode": {
		get: func(s *Server) string { return yesNo(s.protectedMode.Load()) },
		set: func(s *Server, v string) (func(), string) {
			on, ok := parseYesNo(v)
			if !ok {
				return nil, "argument must be 'yes' or 'no'"
			}
			return func() { s.protectedMode.Store(on) }, ""
		},
	},
	// requirepass is the default user's password: CONFIG SET requirepass
	// proposes `ACL SETUSER default resetpass >pw` (nopass when empty)
	// through the log, so it changes the default user on every node
	// (cmdConfigSet); the value set is kept here for CONFIG GET.
	"requirepass": {
		get: func(s *Server) string { return *s.requirePass.Load() },
		set: func(s *Server, v string) (func(), string) {
			return func() { s.setRequirePass(v) }, ""
		},
	},
	// Facts about the deployment that clients and tools look up (job
	// queues check that keys are never evicted, for instance). Every write
	// is in the Raft log before it is acknowledged, the equivalent of an
	// always-fsynced AOF, and nothing is ever evicted.
	"databases":        {get: func(*Server) string { return strconv.Itoa(engine.NumDBs) }},
	"appendonly":       {get: func(*Server) string { return "yes" }},
	"save":             {get: func(*Server) string { return "" }},
	"maxmemory":        {get: func(*Server) string { return "0" }},
	"maxmemory-policy": {get: func(*Server) string { return "noeviction" }},
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseYesNo reads a Redis boolean setting (case-insensitive yes or no).
func parseYesNo(v string) (on, ok bool) {
	switch strings.ToLower(v) {
	case "yes":
		return true, true
	case "no":
		return false, true
	}
	return false, false
}

// isReplicatedParam reports whether name (lower case) is a setting of the
// replicated state, changed through the log.
func isReplicatedParam(name string) bool { return slices.Contains(engine.ConfigParams, name) }

// configNames returns every setting name, sorted.
func configNames() []string {
	names := slices.Clone(engine.ConfigParams)
	for n := range localParams {
		names = append(names, n)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func cmdConfigGet(x *call) {
	type match struct{ key, name string }
	var matches []match
	seen := make(map[string]bool)
	all := configNames()
	for _, p := range x.argv[2:] {
		pat := string(p)
		if !strings.ContainsAny(pat, "[*?") {
			// A plain name is looked up directly and echoed as typed.
			name := strings.ToLower(pat)
			if !seen[name] && slices.Contains(all, name) {
				seen[name] = true
				matches = append(matches, match{pat, name})
			}
			continue
		}
		for _, name := range all {
			if !seen[name] && redisutil.Match(pat, name, true) {
				seen[name] = true
				matches = append(matches, match{name, name})
			}
		}
	}
	values := make([]string, len(matches))
	var replicated []int
	for i, m := range matches {
		if p, ok := localParams[m.name]; ok {
			values[i] = p.get(x.s)
		} else {
			replicated = append(replicated, i)
		}
	}
	if len(replicated) > 0 {
		x.s.be.Read(func(st *engine.State) {
			for _, i := range replicated {
				values[i], _ = st.ConfigGet(matches[i].name)
			}
		})
	}
	x.w.WriteMap(len(matches))
	for i, m := range matches {
		x.w.WriteBulkString(m.key)
		x.w.WriteBulkString(values[i])
	}
}

// cmdConfigSet applies settings atomically, as Redis does: every name and
// local value is checked first; replicated settings are then committed
// through the log as one CONFIG SET (requirepass as an ACL SETUSER of the
// default user), and local ones applied only if that commit succeeds.
func cmdConfigSet(x *call) {
	args := x.argv[2:]
	if len(args)%2 != 0 {
		x.w.WriteError(errSyntax)
		return
	}
	var (
		unknown    string
		hasUnknown bool
		errName    string
		errText    string
		seen       = make(map[string]bool)
		applies    []func()
		replicated []engine.ConfigSetting
	)
	for i := 0; i < len(args); i += 2 {
		typed := string(args[i])
		name := strings.ToLower(typed)
		p, local := localParams[name]
		if !local && !isReplicatedParam(name) {
			if !hasUnknown && errText == "" {
				unknown, hasUnknown = typed, true
			}
			continue
		}
		if hasUnknown || errText != "" {
			continue
		}
		if local && p.set == nil {
			errName, errText = typed, "can't set immutable config"
			continue
		}
		if seen[name] {
			errName, errText = typed, "duplicate parameter"
			continue
		}
		seen[name] = true
		if !local {
			replicated = append(replicated, engine.ConfigSetting{Name: name, Value: args[i+1]})
		}
	}
	if hasUnknown {
		x.w.WriteError("ERR Unknown option or number of arguments for CONFIG SET - '" + truncate([]byte(unknown), len(unknown)) + "'")
		return
	}
	if errText != "" {
		x.w.WriteError("ERR CONFIG SET failed (possibly related to argument '" + truncate([]byte(errName), len(errName)) + "') - " + errText)
		return
	}
	for i := 0; i < len(args); i += 2 {
		name := strings.ToLower(string(args[i]))
		p, local := localParams[name]
		if !local {
			continue
		}
		apply, msg := p.set(x.s, string(args[i+1]))
		if msg != "" {
			x.w.WriteError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + msg)
			return
		}
		applies = append(applies, apply)
	}
	applyAll := func() {
		for _, a := range applies {
			a()
		}
	}
	switch {
	case seen["requirepass"] && len(replicated) > 0:
		x.w.WriteError("ERR CONFIG SET requirepass changes the replicated default user and cannot be combined with replicated stream settings; set them in separate calls")
		return
	case seen["requirepass"]:
		x.write = &cluster.Command{Argv: x.s.requirePassSetUser(requirePassValue(args))}
	case len(replicated) > 0:
		// Values are checked by the engine (checkWrite) before the
		// settings are proposed.
		x.write = &cluster.Command{Kind: cluster.KindConfigSet, Config: replicated}
	}
	if x.write != nil {
		x.onCommit = func(ok bool) {
			if ok {
				applyAll()
			}
		}
		return
	}
	applyAll()
	x.w.WriteStatus("OK")
}

var configHelp = []string{
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
}

func cmdConfigHelp(x *call) { writeHelp(x.w, x.argv[0], configHelp) }

func cmdConfigResetstat(x *call) {
	x.s.stats.reset()
	t := x.s.table()
	t.all(func(c *command) { t.stat(c).reset() })
	x.w.WriteStatus("OK")
}

// cmdConfigRewrite writes this node's settings back to its config file, as
// Redis's CONFIG REWRITE does (redisconf.Rewrite): the node-local settings
// CONFIG SET can change are updated in place or appended when they differ
// from the default; every other line is kept. Settings replicated through
// the log (engine.ConfigParams) are never written: they are the cluster's,
// kept in the log and snapshots, and a node's file may not set them.
func cmdConfigRewrite(x *call) {
	path := x.s.cfg.ConfigFile
	if path == "" {
		x.w.WriteError("ERR The server is running without a config file")
		return
	}
	if err := x.s.rewriteConfig(path); err != nil {
		x.s.logger.Warn("CONFIG REWRITE failed", "file", path, "err", err)
		x.w.WriteError("ERR Rewriting config file: " + redisconf.Strerror(err))
		return
	}
	x.s.logger.Info("CONFIG REWRITE executed with success", "file", path)
	x.w.WriteStatus("OK")
}

func (s *Server) rewriteConfig(path string) error {
	s.rewriteMu.Lock()
	defer s.rewriteMu.Unlock()
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return redisconf.WriteFileAtomic(path, redisconf.Rewrite(old, s.rewriteSettings()))
}

// rewriteSettings are the lines CONFIG REWRITE writes, in Redis's formats:
// memory values with units, strings quoted, one client-output-buffer-limit
// line per class. Each is forced (appended if the file lacks it) when it
// differs from the default.
func (s *Server) rewriteSettings() []redisconf.Setting {
	var out []redisconf.Setting
	add := func(name string, differs bool, args ...string) {
		out = append(out, redisconf.Setting{Name: name, Args: args, Force: differs})
	}
	lims := s.outLimits.Load()
	for _, c := range []struct {
		class    string
		cur, def bufferLimit
	}{
		{"normal", lims.normal, defaultBufferLimits.normal},
		{"slave", lims.replica, defaultBufferLimits.replica},
		{"pubsub", lims.pubsub, defaultBufferLimits.pubsub},
	} {
		add("client-output-buffer-limit", c.cur != c.def, c.class, redisconf.FormatMemory(c.cur.hard),
			redisconf.FormatMemory(c.cur.soft), strconv.FormatInt(c.cur.softSeconds, 10))
	}
	q := s.queryLimit.Load()
	add("client-query-buffer-limit", q != DefaultClientQueryBufferLimit, redisconf.FormatMemory(q))
	mc := s.maxClients.Load()
	add("maxclients", mc != DefaultMaxClients, strconv.FormatInt(mc, 10))
	mem := *s.maxClientMemText.Load()
	if !strings.HasSuffix(mem, "%") {
		n, _ := ParseMemory(mem)
		mem = redisconf.FormatMemory(n)
	}
	add("maxmemory-clients", mem != "0", mem)
	prot := s.protectedMode.Load()
	add("protected-mode", !prot, yesNo(prot))
	bulk := s.maxBulk.Load()
	add("proto-max-bulk-len", bulk != DefaultMaxBulkLen, redisconf.FormatMemory(bulk))
	pass := *s.requirePass.Load()
	add("requirepass", pass != "", redisconf.Quote(pass))
	st := s.slowlog.slowerThan.Load()
	add("slowlog-log-slower-than", st != DefaultSlowlogSlowerThan, strconv.FormatInt(st, 10))
	ml := s.slowlog.maxLen.Load()
	add("slowlog-max-len", ml != DefaultSlowlogMaxLen, strconv.FormatInt(ml, 10))
	return out
}

// requirePassValue returns the requirepass value of CONFIG SET's
// name/value arguments.
func requirePassValue(args [][]byte) string {
	for i := 0; i+1 < len(args); i += 2 {
		if strings.EqualFold(string(args[i]), "requirepass") {
			return string(args[i+1])
		}
	}
	return ""
}

// requirePassSetUser is the log command CONFIG SET requirepass stands for,
// Redis's `ACL SETUSER default resetpass >pw` (or nopass for ""), with
// the password hashed. While the log has no default user, it starts from
// this node's default user so nothing else about it changes.
func (s *Server) requirePassSetUser(pass string) [][]byte {
	argv := [][]byte{[]byte("ACL"), []byte("SETUSER"), []byte("default")}
	if s.aclState().User("default") == nil {
		argv = append(argv, describeArgs(s.localDefault.Load())...)
	}
	argv = append(argv, []byte("resetpass"))
	if pass == "" {
		return append(argv, []byte("nopass"))
	}
	return append(argv, []byte("#"+engine.HashPassword(pass)))
}
