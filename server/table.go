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

// keySpec is a Redis 7 key specification (COMMAND INFO element 9).
type keySpec struct {
	notes     string
	flags     []string
	keyword   string // begin_search keyword; "" means index
	index     int    // begin_search index, or keyword startfrom
	lastKey   int
	keyStep   int
	limit     int
	hasSearch bool
}

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

// fromEngine converts an engine command to a routable one, deriving the
// Redis 7 metadata its spec does not carry (ACL categories, key specs).
func fromEngine(ec *engine.Command) *command {
	sp := ec.Spec()
	c := &command{
		name:     strings.ToLower(sp.Name),
		arity:    sp.Arity,
		firstKey: sp.FirstKey,
		lastKey:  sp.LastKey,
		step:     sp.Step,
		group:    sp.Group,
		since:    sp.Since,
		summary:  sp.Summary,
		eng:      ec,
		write:    sp.Write,
	}
	for _, f := range sp.Flags {
		c.flags = append(c.flags, string(f))
	}
	c.acl = aclCategories(c)
	c.keySpecs = deriveKeySpecs(c)
	if len(c.keySpecs) > 1 && !hasFlag(c.flags, "movablekeys") {
		c.flags = append(c.flags, "movablekeys") // a keyword finds the extra keys, as Redis flags it
	}
	applyRedisMeta(c)
	for _, sub := range ec.Subcommands() {
		sc := fromEngine(sub)
		if !strings.Contains(sc.name, "|") {
			sc.name = c.name + "|" + sc.name
		}
		c.subs = append(c.subs, sc)
	}
	slices.SortFunc(c.subs, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	if len(c.subs) > 0 && len(c.acl) == 0 {
		c.acl = []string{"@slow"}
	}
	return c
}

func hasFlag(flags []string, f string) bool { return slices.Contains(flags, f) }

// aclCategories derives Redis ACL categories from a command's flags, in
// the order Redis lists them.
func aclCategories(c *command) []string {
	if len(c.flags) == 0 {
		return nil
	}
	var acl []string
	stream := strings.HasPrefix(c.name, "x")
	if !stream {
		acl = append(acl, "@keyspace")
	}
	switch {
	case hasFlag(c.flags, "write"):
		acl = append(acl, "@write")
	case hasFlag(c.flags, "readonly"):
		acl = append(acl, "@read")
	}
	if stream {
		acl = append(acl, "@stream")
	}
	if hasFlag(c.flags, "fast") {
		acl = append(acl, "@fast")
	} else {
		acl = append(acl, "@slow")
	}
	if hasFlag(c.flags, "blocking") {
		acl = append(acl, "@blocking")
	}
	return acl
}

// deriveKeySpecs builds key specs from the legacy first/last/step triple.
// The commands whose keys follow a keyword (XREAD, XREADGROUP: STREAMS)
// take theirs from the reference's metadata (applyRedisMeta), as every
// command Redis knows does.
func deriveKeySpecs(c *command) []keySpec {
	flags := []string{"RO", "access"}
	if c.write {
		flags = []string{"RW", "update"}
	}
	if c.firstKey <= 0 {
		return nil
	}
	last := c.lastKey
	if last >= 0 {
		last -= c.firstKey
	}
	step := c.step
	if step == 0 {
		step = 1
	}
	specs := []keySpec{{flags: flags, index: c.firstKey, lastKey: last, keyStep: step, hasSearch: true}}
	if c.name == "rs.setdlq" {
		// The dead-letter stream is a key too (COMMAND GETKEYS, ACL key
		// patterns): entries are written to it.
		specs = append(specs, keySpec{flags: []string{"RW", "insert"}, keyword: "DEADLETTER", index: 3, lastKey: 0, keyStep: 1, hasSearch: true})
	}
	return specs
}
