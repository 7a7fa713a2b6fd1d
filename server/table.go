package server

import (
	"slices"

	"github.com/raftstream/raftstream/engine"
)

// command is an entry of the node's one command table, the engine's
// registry (engine.Registry): an engine command, or one of the server's
// own, registered with its metadata and a run hook (serverHook). Its
// metadata (Info) feeds COMMAND INFO/DOCS/LIST, the ACL and routing.
type command = engine.Command

// keySpec is a Redis 7 key specification (COMMAND INFO element 9): the
// engine's type.
type keySpec = engine.KeySpec

// cmdDef declares a command the server executes: its COMMAND INFO/DOCS
// metadata (in Redis 7's terms, as Redis reports the same command) and
// its handler. register turns it into a registry entry; nothing reads a
// cmdDef after that.
type cmdDef struct {
	name     string // lower case full name, e.g. "client|list"
	arity    int
	flags    []string
	acl      []string
	tips     []string
	firstKey int
	lastKey  int
	step     int
	keySpecs []keySpec
	group    string
	since    string
	summary  string
	// complexity is optional in COMMAND DOCS, and so are history
	// ([version, change]) and the argument descriptions.
	complexity string
	history    [][2]string
	args       []docArg

	subs []*cmdDef // COMMAND lists them in this order

	// run executes the command. (A command flagged no_auth may run
	// before the client authenticates, one flagged loading while the node
	// loads its data: the flags say it, nothing else does.)
	run func(x *call)
	// readsState makes the server finish the pipeline's earlier writes
	// before running this command, so it sees them.
	readsState bool
}

// serverHook is the run hook of a server command in the registry.
type serverHook struct {
	run        func(x *call)
	readsState bool
}

// register makes d a registry entry.
func (d *cmdDef) register() *command {
	subs := make([]*command, len(d.subs))
	for i, s := range d.subs {
		subs[i] = s.register()
	}
	var h any // a container has no hook of its own
	if d.run != nil {
		h = &serverHook{run: d.run, readsState: d.readsState}
	}
	return engine.NewHostCommand(engine.CommandInfo{
		Name: d.name, Arity: d.arity, Flags: d.flags, ACL: d.acl, Tips: d.tips,
		FirstKey: d.firstKey, LastKey: d.lastKey, Step: d.step, KeySpecs: d.keySpecs,
		Group: d.group, Since: d.since, Summary: d.summary, Complexity: d.complexity,
		History: d.history, Args: d.args,
	}, h, subs...)
}

// hookOf is c's server hook, nil for an engine command (and for a server
// container, which only selects a subcommand).
func hookOf(c *command) *serverHook {
	h, _ := c.Hook().(*serverHook)
	return h
}

// isEngine reports whether the engine executes c.
func isEngine(c *command) bool { return c.Hook() == nil && c.Spec() != nil }

// commandTable is the server's view of its registry: the registry and the
// per-command statistics, by command ID.
type commandTable struct {
	reg   *engine.Registry
	stats []cmdStat
}

func (t *commandTable) lookup(name []byte) *command { return t.reg.Lookup(name) }

// get finds a command by its lower-case full name.
func (t *commandTable) get(name string) *command { return t.reg.Get(name) }

// sorted is the top-level commands by name.
func (t *commandTable) sorted() []*command { return t.reg.Commands() }

// all visits every command and subcommand in name order.
func (t *commandTable) all(fn func(c *command)) { t.reg.All(fn) }

// stat is c's INFO commandstats counters. A command outside the
// registry (the stand-in of a transaction's command denied by changed
// ACL rules) counts nowhere.
func (t *commandTable) stat(c *command) *cmdStat {
	if id := c.ID(); t.reg.ByID(id) == c {
		return &t.stats[id]
	}
	return new(cmdStat)
}

// table returns the server's command table, built on first use (it holds
// the per-command statistics, so each Server has its own).
func (s *Server) table() *commandTable {
	s.tableOnce.Do(func() {
		s.tab = buildTable(append(append(serverCommands(), clusterCommands()...), aclCommands()...))
	})
	return s.tab
}

// buildTable registers the server's commands with the engine's in one
// registry.
func buildTable(server []*cmdDef) *commandTable {
	host := make([]*command, len(server))
	for i, d := range server {
		host[i] = d.register()
	}
	reg := engine.NewRegistry(host...)
	return &commandTable{reg: reg, stats: make([]cmdStat, reg.Len())}
}

func hasFlag(flags []string, f string) bool { return slices.Contains(flags, f) }
