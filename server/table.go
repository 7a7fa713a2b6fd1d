package server

import (
	"slices"
	"strings"

	"github.com/raftstream/raftstream/engine"
)

// command is one routable command or subcommand: either executed here
// (run is set) or by the engine (eng is set). The metadata feeds COMMAND
// INFO/DOCS/LIST in Redis 7 reply shapes.
type command struct {
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

	subs      []*command // sorted by name
	subByName map[string]*command
	parent    *command

	// noAuth commands may run before the client authenticates.
	noAuth bool
	// okLoading commands (Redis's "loading" flag) run while the node
	// loads its data; the others get -LOADING.
	okLoading bool
	// run executes a server command.
	run func(x *call)
	// readsState makes the server finish the pipeline's earlier writes
	// before running this server command, so it sees them.
	readsState bool

	// eng is the engine's registry entry of an engine command, resolved
	// with the name: writes are checked (eng.Check) and reads run
	// (State.Run) through it without a second lookup. write says the
	// command goes through the log.
	eng   *engine.Command
	write bool

	stat cmdStat
}

// keySpec is a Redis 7 key specification (COMMAND INFO element 9): the
// engine's type.
type keySpec = engine.KeySpec

// commandTable indexes every command by lower-case name. It is built on
// first use because it includes the engine's registry.
type commandTable struct {
	byName map[string]*command
	sorted []*command // top-level commands by name
}

func (t *commandTable) lookup(name []byte) *command {
	if len(name) > 64 {
		return nil
	}
	var buf [64]byte
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return t.byName[string(buf[:len(name)])]
}

// sub finds a subcommand of a container by the name the client typed,
// without allocating.
func (c *command) sub(name []byte) *command {
	if len(name) > 32 {
		return nil
	}
	var buf [32]byte
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return c.subByName[string(buf[:len(name)])]
}

// all visits every command and subcommand in name order.
func (t *commandTable) all(fn func(c *command)) {
	for _, c := range t.sorted {
		fn(c)
		for _, s := range c.subs {
			fn(s)
		}
	}
}

// table returns the server's command table, built on first use (it holds
// the per-command statistics, so each Server has its own).
func (s *Server) table() *commandTable {
	s.tableOnce.Do(func() {
		s.tab = buildTable(append(append(serverCommands(), clusterCommands()...), aclCommands()...), engine.Commands())
	})
	return s.tab
}

// buildTable merges the server's own commands with the engine's. A server
// command wins a name clash: connection and server commands are handled
// here even if the engine lists them.
func buildTable(server []*command, engineCmds []*engine.Command) *commandTable {
	t := &commandTable{byName: make(map[string]*command)}
	add := func(c *command) {
		if _, dup := t.byName[c.name]; dup {
			return
		}
		t.byName[c.name] = c
		t.sorted = append(t.sorted, c)
		c.okLoading = hasFlag(c.flags, "loading")
		c.subByName = make(map[string]*command, len(c.subs))
		for _, s := range c.subs {
			s.parent = c
			s.okLoading = hasFlag(s.flags, "loading")
			t.byName[s.name] = s
			c.subByName[strings.TrimPrefix(s.name, c.name+"|")] = s
		}
	}
	for _, c := range server {
		add(c)
	}
	for _, ec := range engineCmds {
		add(fromEngine(ec))
	}
	slices.SortFunc(t.sorted, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	return t
}

// fromEngine converts an engine command to a routable one. Its metadata
// is the engine registry entry's (engine.Command.Info), used as it is.
func fromEngine(ec *engine.Command) *command {
	in := ec.Info()
	c := &command{
		name:       in.Name,
		arity:      in.Arity,
		flags:      in.Flags,
		acl:        in.ACL,
		tips:       in.Tips,
		firstKey:   in.FirstKey,
		lastKey:    in.LastKey,
		step:       in.Step,
		keySpecs:   in.KeySpecs,
		group:      in.Group,
		since:      in.Since,
		summary:    in.Summary,
		complexity: in.Complexity,
		history:    in.History,
		args:       in.Args,
		eng:        ec,
		write:      ec.Spec().Write,
	}
	for _, sub := range ec.Subcommands() {
		c.subs = append(c.subs, fromEngine(sub))
	}
	return c
}

func hasFlag(flags []string, f string) bool { return slices.Contains(flags, f) }
