package engine

import (
	"math"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// config is the replicated configuration. It lives in the state (and its
// snapshots) rather than in per-node settings because it shapes stream
// nodes, which decides what "~" trimming removes: every replica must agree.
type config struct {
	nodeMaxBytes   int64
	nodeMaxEntries int64
}

func defaultConfig() config { return config{nodeMaxBytes: 4096, nodeMaxEntries: 100} }

// limits returns the node limits streams are built with.
func (c *config) limits() NodeLimits {
	return NodeLimits{MaxBytes: c.nodeMaxBytes, MaxEntries: c.nodeMaxEntries}
}

// approxTrimLimit is the default LIMIT of a "~" trim: 100 nodes' worth of
// entries, clamped to [10000 when 0, 1000000] as Redis 7.4+ does.
func (c *config) approxTrimLimit() int64 {
	switch {
	case c.nodeMaxEntries <= 0:
		return 10000
	case c.nodeMaxEntries > 1000000/100:
		return 1000000
	}
	return 100 * c.nodeMaxEntries
}

// configParam describes one replicated setting and how CONFIG SET parses it.
type configParam struct {
	name string
	// memory values accept k/kb/m/mb/g/gb suffixes (Redis MEMORY_CONFIG).
	memory   bool
	min, max int64
	get      func(*config) int64
	set      func(*config, int64)
}

var configParamList = []*configParam{
	{name: "stream-node-max-bytes", memory: true, min: 0, max: math.MaxInt64,
		get: func(c *config) int64 { return c.nodeMaxBytes },
		set: func(c *config, v int64) { c.nodeMaxBytes = v }},
	{name: "stream-node-max-entries", min: 0, max: math.MaxInt64,
		get: func(c *config) int64 { return c.nodeMaxEntries },
		set: func(c *config, v int64) { c.nodeMaxEntries = v }},
}

// configParamByName finds a parameter by its lower-case name.
func configParamByName(name string) *configParam {
	for _, p := range configParamList {
		if p.name == name {
			return p
		}
	}
	return nil
}

// configParamByArg finds a parameter named by a client argument (any case).
func configParamByArg(arg []byte) *configParam {
	for _, p := range configParamList {
		if argIs(arg, p.name) {
			return p
		}
	}
	return nil
}

// parse converts a CONFIG SET value, returning Redis's reason on failure.
func (p *configParam) parse(v []byte) (int64, string) {
	var n int64
	if p.memory {
		u, ok := redisutil.MemToULL(v)
		if !ok {
			return 0, "argument must be a memory value"
		}
		// Redis stores these as size_t and checks bounds unsigned.
		if u > uint64(p.max) || u < uint64(p.min) {
			return 0, p.boundsErr()
		}
		n = int64(u)
	} else {
		var ok bool
		if n, ok = redisutil.ParseLL(v); !ok {
			return 0, "argument couldn't be parsed into an integer"
		}
		if n < p.min || n > p.max {
			return 0, p.boundsErr()
		}
	}
	return n, ""
}

func (p *configParam) boundsErr() string {
	return "argument must be between " + string(appendInt(nil, p.min)) + " and " +
		string(appendInt(nil, p.max)) + " inclusive"
}

// ConfigSetting is one name/value pair of a replicated CONFIG SET. Name
// is matched without regard to case, as Redis does.
type ConfigSetting struct {
	Name  string
	Value []byte
}

// ParseConfigSet reads `CONFIG SET name value [name value ...]` as a
// client writes it, with Redis's errors for the subcommand, the arity and
// an odd argument count. The settings alias argv. Only log entries of the
// previous format carry CONFIG SET as argv (package fsm); the server builds
// the settings itself.
func ParseConfigSet(argv [][]byte) ([]ConfigSetting, string) {
	if len(argv) < 2 {
		return nil, errArity("config")
	}
	if !argIs(argv[1], "set") {
		sub := cStr(argv[1])
		if len(sub) > 128 {
			sub = sub[:128]
		}
		return nil, "ERR unknown subcommand '" + string(sub) + "'. Try CONFIG HELP."
	}
	if len(argv) < 4 {
		return nil, errArity("config|set")
	}
	if len(argv)%2 != 0 {
		return nil, errSyntax
	}
	set := make([]ConfigSetting, 0, (len(argv)-2)/2)
	for i := 2; i < len(argv); i += 2 {
		set = append(set, ConfigSetting{Name: string(argv[i]), Value: argv[i+1]})
	}
	return set, ""
}

// CheckConfigSet validates settings of the replicated parameters (see
// ConfigParams), with Redis's error texts and precedence: an unknown name
// first, then a duplicate, then the first value out of bounds. It returns
// "" if ExecConfigSet will apply them.
func CheckConfigSet(set []ConfigSetting) string {
	if len(set) == 0 {
		return errArity("config|set")
	}
	var (
		unknown        string
		invalid        bool // an unknown name or a duplicate was seen
		errArg, errStr string
	)
	seen := make([]*configParam, 0, 2)
	for _, c := range set {
		p := configParamByArg([]byte(c.Name))
		if p == nil {
			if !invalid {
				unknown, invalid = string(cStr([]byte(c.Name))), true
			}
			continue
		}
		if invalid {
			continue
		}
		for _, q := range seen {
			if q == p {
				errArg, errStr, invalid = string(cStr([]byte(c.Name))), "duplicate parameter", true
				break
			}
		}
		seen = append(seen, p)
	}
	if invalid && errStr == "" {
		return "ERR Unknown option or number of arguments for CONFIG SET - '" + unknown + "'"
	}
	if errStr == "" {
		for _, c := range set {
			p := configParamByArg([]byte(c.Name))
			if _, reason := p.parse(c.Value); reason != "" {
				errArg, errStr = p.name, reason
				break
			}
		}
	}
	if errStr != "" {
		return "ERR CONFIG SET failed (possibly related to argument '" + errArg + "') - " + errStr
	}
	return ""
}

// ExecConfigSet applies settings of the replicated parameters, all or
// none: it replies OK, or CheckConfigSet's error and changes nothing.
func (s *State) ExecConfigSet(ctx *Ctx, set []ConfigSetting) {
	if msg := CheckConfigSet(set); msg != "" {
		ctx.W.WriteError(msg)
		return
	}
	for _, c := range set {
		p := configParamByArg([]byte(c.Name))
		v, _ := p.parse(c.Value)
		p.set(&s.cfg, v)
	}
	ctx.W.WriteStatus("OK")
}
