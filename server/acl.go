package server

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/internal/redisutil"
)

// ACL users (Redis 6+/7's model) are replicated: ACL SETUSER and DELUSER
// are log entries executed by the engine (engine/acl.go), so every node
// enforces the same users. This file is the server's half: it knows the
// command table, so it validates the command and category names a rule
// uses before the rule is proposed, compiles a user's rules into the set
// of commands it may run, checks every command (and each of its keys)
// before it is executed or forwarded to the leader, and keeps the ACL LOG,
// which is node-local as in Redis.

// aclCategoryNames are Redis 7's ACL categories, in ACL CAT's order.
var aclCategoryNames = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting",
}

// validCategory reports whether a +@/-@ rule may name the category.
func validCategory(name string) bool {
	return name == "all" || slices.Contains(aclCategoryNames, name)
}

// Reasons an ACL check denies a command (ACL LOG "reason").
const (
	aclOK = iota
	aclDeniedCmd
	aclDeniedKey
)

// perms is a user's command rules compiled against the command table.
type perms struct {
	all     bool // every command (+@all and nothing removed)
	allowed map[*command]bool
	// firstArgs: "+select|0" allows a command without subcommands only
	// with that first argument (lower case).
	firstArgs map[*command][]string
}

// compilePerms applies u's rules in order, as Redis sets and clears its
// per-command bits.
func compilePerms(t *commandTable, u *engine.ACLUser) *perms {
	p := &perms{allowed: make(map[*command]bool)}
	if len(u.Commands) == 1 && u.Commands[0] == "+@all" {
		p.all = true
		return p
	}
	set := func(c *command, allow bool) {
		p.allowed[c] = allow
		delete(p.firstArgs, c)
		for _, s := range c.Subcommands() {
			p.allowed[s] = allow
		}
	}
	for _, r := range u.Commands {
		allow, cat, name, ok := engine.ACLCommandRule([]byte(r))
		if !ok {
			continue
		}
		switch {
		case cat && name == "all":
			t.all(func(c *command) { set(c, allow) })
		case cat:
			t.all(func(c *command) {
				if hasFlag(c.Info().ACL, "@"+name) {
					p.allowed[c] = allow
					delete(p.firstArgs, c)
				}
			})
		default:
			if c := t.get(name); c != nil {
				set(c, allow)
				continue
			}
			parent, arg, found := strings.Cut(name, "|")
			if c := t.get(parent); found && c != nil && len(c.Subcommands()) == 0 && allow {
				if p.firstArgs == nil {
					p.firstArgs = make(map[*command][]string)
				}
				p.firstArgs[c] = append(p.firstArgs[c], arg)
			}
		}
	}
	return p
}

// allows reports whether the compiled rules let argv (resolved to cmd)
// run, ignoring keys.
func (p *perms) allows(cmd *command, argv [][]byte) bool {
	if p.all || p.allowed[cmd] {
		return true
	}
	if args := p.firstArgs[cmd]; len(args) > 0 && len(argv) > 1 {
		a := lower(argv[1])
		for _, x := range args {
			if x == a {
				return true
			}
		}
	}
	return false
}

// checkRuleName validates the command or category a SETUSER rule names
// against the command table, as Redis does: "" or the reason.
func (t *commandTable) checkRuleName(op []byte) string {
	allow, cat, name, ok := engine.ACLCommandRule(op)
	if !ok {
		return ""
	}
	if cat {
		if !validCategory(name) {
			return engine.ACLUnknownName
		}
		return ""
	}
	if t.get(name) != nil || knownElsewhere(name) {
		return ""
	}
	parent, arg, found := strings.Cut(name, "|")
	if !found || strings.Contains(arg, "|") {
		return engine.ACLUnknownName // "a|b|c" is reported by the engine first
	}
	c := t.get(parent)
	switch {
	case c == nil && knownElsewhere(parent) && allow:
		return ""
	case c == nil, len(c.Subcommands()) > 0, !allow, arg == "":
		// An unknown subcommand of a container, or a first-arg rule that
		// Redis accepts only as an allow rule.
		return engine.ACLUnknownName
	}
	return ""
}

// knownElsewhere: commands Redis has and raftstream refuses (other data
// types, scripting, ...) may be named in rules, so ACL rules written for
// Redis still load; they have no effect.
func knownElsewhere(name string) bool {
	if otherTypeCommands[name] {
		return true
	}
	_, ok := neverServed[name]
	return ok
}

// aclUser returns the user called name: the replicated one, or for
// "default" while the log defines none, this node's requirepass default.
func (s *Server) aclUser(name string) *engine.ACLUser {
	if u := s.aclState().User(name); u != nil {
		return u
	}
	if name == "default" {
		return s.localDefault.Load()
	}
	return nil
}

// aclSource is implemented by backends that publish the replicated ACL
// without the state lock (the Raft node's FSM).
type aclSource interface{ ACL() *engine.ACL }

func (b nodeBackend) ACL() *engine.ACL { return b.n.FSM().ACL() }

func (b *lateBackend) ACL() *engine.ACL {
	if n := b.nb.Load(); n != nil {
		return n.ACL()
	}
	return nil
}

// aclState returns the replicated users.
func (s *Server) aclState() *engine.ACL {
	if src, ok := s.be.(aclSource); ok {
		return src.ACL()
	}
	var a *engine.ACL
	s.be.Read(func(st *engine.State) { a = st.ACL() })
	return a
}

// setRequirePass makes pass this node's default-user password (used while
// the log defines no default user) and CONFIG GET requirepass's value.
func (s *Server) setRequirePass(pass string) {
	s.requirePass.Store(&pass)
	s.localDefault.Store(engine.DefaultUser(pass))
}

// defaultNoPass reports whether the default user needs no password (and
// is on): new connections are then authenticated at once, and protected
// mode refuses non-loopback clients.
func (s *Server) defaultNoPass() bool {
	u := s.aclUser("default")
	return u.Enabled && u.NoPass
}

// authenticate checks user/pass against the ACL: the user exists, is on,
// and the password matches (or the user is nopass).
func (s *Server) authenticate(user, pass []byte) *engine.ACLUser {
	u := s.aclUser(string(user))
	if u == nil || !u.Enabled || !u.CheckPassword(pass) {
		return nil
	}
	return u
}

// HTTPAuth checks credentials of an HTTP client (the web console, the
// metrics endpoint) against the ACL: 0 when user/pass authenticate and
// the user may run every one of cmds (each a command line, e.g. "XINFO
// GROUPS"; key arguments are not checked) and, with allKeys, read every
// key (a "~*" or "%R~*" pattern: the console lists every stream); 401
// when they do not authenticate; 403 when the user lacks a permission.
// An empty user name, or one that is no ACL user, authenticates as
// "default", as the listeners accepted any user name with --requirepass
// before ACL users existed.
func (s *Server) HTTPAuth(user, pass string, allKeys bool, cmds ...[]string) int {
	if user == "" || s.aclUser(user) == nil {
		user = "default"
	}
	u := s.authenticate([]byte(user), []byte(pass))
	if u == nil {
		return 401
	}
	t := s.table()
	p := compilePerms(t, u)
	for _, line := range cmds {
		argv := make([][]byte, len(line))
		for i, a := range line {
			argv[i] = []byte(a)
		}
		cmd := t.lookup(argv[0])
		if cmd != nil && len(cmd.Subcommands()) > 0 && len(argv) > 1 {
			cmd = cmd.Sub(argv[1])
		}
		if cmd == nil || !p.allows(cmd, argv) {
			return 403
		}
	}
	if allKeys && !slices.ContainsFunc(u.Keys, func(k engine.KeyPattern) bool { return k.Pattern == "*" && k.Perm&engine.KeyRead != 0 }) {
		return 403
	}
	return 0
}

// HTTPAuthRequired reports whether an HTTP client must authenticate: the
// default user has a password or is off.
func (s *Server) HTTPAuthRequired() bool { return !s.defaultNoPass() }

// clientPerms returns the compiled rules of the client's user, or nil when
// the user no longer exists (deleted: the connection must go, as Redis
// kills the clients of a deleted user).
func (s *Server) clientPerms(cl *client) (*engine.ACLUser, *perms) {
	name := cl.userName()
	u := s.aclUser(name)
	if u == nil {
		return nil, nil
	}
	if cl.permsUser != u {
		cl.permsUser, cl.perms = u, compilePerms(s.table(), u)
	}
	return u, cl.perms
}

// checkCommandACL checks that u may run argv (resolved to cmd) with the
// keys it names. It returns the denial reason and the ACL LOG object (the
// command's full name or the key).
func checkCommandACL(u *engine.ACLUser, p *perms, cmd *command, argv [][]byte) (int, string) {
	if !p.allows(cmd, argv) && !cmd.HasFlag("no_auth") { // AUTH, HELLO, QUIT, RESET always run
		return aclDeniedCmd, cmd.Name()
	}
	if u.AllKeys() || len(cmd.Info().KeySpecs) == 0 {
		return aclOK, ""
	}
	for _, ks := range cmd.Info().KeySpecs {
		need := keyPerm(ks.Flags)
		for _, i := range ks.Positions(argv) {
			if !keyAllowed(u, need, string(argv[i])) {
				return aclDeniedKey, string(argv[i])
			}
		}
	}
	return aclOK, ""
}

// keyPerm is the permission a key spec needs, as Redis's
// ACLSelectorCheckKey derives it: access reads, insert/update/delete
// write; a key spec with neither (EXISTS, TYPE) needs no permission but
// must still match a pattern.
func keyPerm(flags []string) int {
	need := 0
	for _, f := range flags {
		switch f {
		case "access":
			need |= engine.KeyRead
		case "insert", "update", "delete":
			need |= engine.KeyWrite
		}
	}
	return need
}

func keyAllowed(u *engine.ACLUser, need int, key string) bool {
	for _, k := range u.Keys {
		if k.Perm&need == need && redisutil.Match(k.Pattern, key, false) {
			return true
		}
	}
	return false
}

// aclDeniedError is the -NOPERM reply to a denied command (Redis 7.2+'s
// texts).
func aclDeniedError(user string, reason int, object string) string {
	if reason == aclDeniedKey {
		return "NOPERM No permissions to access a key"
	}
	return "NOPERM User " + user + " has no permissions to run the '" + object + "' command"
}

// aclCheckClient runs the ACL check of execute (dispatch.go). It returns
// "" when the command may run; otherwise the error reply, after logging
// the denial. closeConn is set when the client's user was deleted.
func (s *Server) aclCheckClient(cl *client, cmd *command, argv [][]byte) (msg string, closeConn bool) {
	u, p := s.clientPerms(cl)
	if u == nil {
		return "", true
	}
	reason, object := checkCommandACL(u, p, cmd, argv)
	if reason == aclOK {
		return "", false
	}
	ctx := "toplevel"
	if cl.inMulti() {
		ctx = "multi"
	}
	if reason == aclDeniedKey {
		s.stats.aclDeniedKey.Add(1)
	} else {
		s.stats.aclDeniedCmd.Add(1)
	}
	s.acllog.add(reason, ctx, object, u.Name, s.clientLine(cl, time.Now()))
	return aclDeniedError(u.Name, reason, object), false
}

// recheckTxnACL checks the queued commands of a transaction again at
// EXEC, as Redis does, in case the rules changed after they were queued:
// a command no longer allowed is not executed and its element of EXEC's
// reply is Redis's NOPERM error; the others run. The denied commands are
// turned into server commands that only write the error, so execMixed
// assembles the reply in queue order.
func (s *Server) recheckTxnACL(cl *client, tx *txState) {
	u, p := s.clientPerms(cl)
	if u == nil || (p.all && u.AllKeys()) {
		return
	}
	t := s.table()
	for i, argv := range tx.cmds {
		cmd := t.lookup(argv[0])
		if cmd == nil {
			continue
		}
		if len(cmd.Subcommands()) > 0 && len(argv) > 1 {
			if sub := cmd.Sub(argv[1]); sub != nil {
				cmd = sub
			}
		}
		reason, object := checkCommandACL(u, p, cmd, argv)
		if reason == aclOK {
			continue
		}
		if reason == aclDeniedKey {
			s.stats.aclDeniedKey.Add(1)
		} else {
			s.stats.aclDeniedCmd.Add(1)
		}
		s.acllog.add(reason, "multi", object, u.Name, s.clientLine(cl, time.Now()))
		msg := "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. " +
			"This command is no longer allowed for the following reason: " +
			strings.TrimPrefix(aclDeniedError(u.Name, reason, object), "NOPERM ")
		tx.srv[i] = (&cmdDef{name: cmd.Name(), run: func(y *call) { y.w.WriteError(msg) }}).register()
		tx.mixed = true
	}
}

// ---- ACL LOG (node-local, as in Redis) ----

// aclLogEntry is one ACL LOG entry; similar denials within a minute are
// counted in one entry, as Redis groups them.
type aclLogEntry struct {
	count           int64
	reason, ctx     string
	object, user    string
	clientInfo      string
	id              int64
	created, update time.Time
}

type aclLog struct {
	mu      sync.Mutex
	entries []*aclLogEntry // newest first
	nextID  int64
	maxLen  atomic.Int64
}

func newACLLog() *aclLog {
	l := &aclLog{}
	l.maxLen.Store(128)
	return l
}

var aclReasonNames = map[int]string{aclDeniedCmd: "command", aclDeniedKey: "key"}

// aclReasonAuth is the ACL LOG reason of a failed AUTH.
const aclReasonAuth = -1

func (l *aclLog) add(reason int, ctx, object, user, clientInfo string) {
	name := aclReasonNames[reason]
	if reason == aclReasonAuth {
		name = "auth"
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.entries {
		if i >= 10 {
			break // Redis looks at the newest few only
		}
		if e.reason == name && e.ctx == ctx && e.object == object && e.user == user && now.Sub(e.created) < time.Minute {
			e.count++
			e.clientInfo, e.update = clientInfo, now
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = e
			return
		}
	}
	e := &aclLogEntry{count: 1, reason: name, ctx: ctx, object: object, user: user,
		clientInfo: clientInfo, id: l.nextID, created: now, update: now}
	l.nextID++
	l.entries = append([]*aclLogEntry{e}, l.entries...)
	l.trim()
}

// trim drops the oldest entries beyond acllog-max-len; call with mu held.
func (l *aclLog) trim() {
	if m := int(l.maxLen.Load()); len(l.entries) > m {
		clear(l.entries[m:])
		l.entries = l.entries[:m]
	}
}

// logAuthFailure records a failed AUTH or HELLO AUTH.
func (s *Server) logAuthFailure(cl *client, user []byte) {
	ctx := "toplevel"
	if cl.inMulti() {
		ctx = "multi"
	}
	s.stats.aclDeniedAuth.Add(1)
	s.acllog.add(aclReasonAuth, ctx, "AUTH", string(user), s.clientLine(cl, time.Now()))
}

// ---- the ACL command ----

func aclCommands() []*cmdDef {
	admin := []string{"admin", "noscript", "loading", "stale"}
	plain := []string{"noscript", "loading", "stale"}
	sub := func(name string, arity int, flags []string, summary, complexity string, run func(*call)) *cmdDef {
		acl := aclAdmin
		if !hasFlag(flags, "admin") {
			acl = []string{"@slow"}
		}
		return &cmdDef{name: "acl|" + name, arity: arity, flags: flags, acl: acl, group: "server", since: "6.0.0",
			summary: summary, complexity: complexity, run: run}
	}
	setuser := sub("setuser", -3, admin, "Modify or create the rules for a specific ACL user", "O(N). Where N is the number of rules provided.", cmdACLSetUser)
	deluser := sub("deluser", -3, admin, "Remove the specified ACL users and the associated rules", "O(1) amortized time considering the typical user.", cmdACLDelUser)
	help := sub("help", 2, []string{"loading", "stale"}, "Show helpful text about the different subcommands", "O(1)", cmdACLHelp)
	help.since = "6.0.0"
	getuser := sub("getuser", 3, admin, "Get the rules for a specific ACL user", "O(N). Where N is the number of password, command and pattern rules that the user has.", cmdACLGetUser)
	getuser.history = [][2]string{{"6.2.0", "Added Pub/Sub channel patterns."}, {"7.0.0", "Added selectors and changed the format of key and channel patterns from a list to their rule representation."}}
	return []*cmdDef{
		{name: "acl", arity: -2, acl: []string{"@slow"}, group: "server", since: "6.0.0",
			summary: "A container for Access List Control commands", complexity: "Depends on subcommand.",
			subs: []*cmdDef{
				sub("cat", -2, plain, "List the ACL categories or the commands inside a category", "O(1) since the categories and commands are a fixed set.", cmdACLCat),
				deluser,
				sub("dryrun", -4, admin, "Returns whether the user can execute the given command without executing the command.", "O(1).", cmdACLDryRun),
				sub("genpass", -2, plain, "Generate a pseudorandom secure password to use for ACL users", "O(1)", cmdACLGenPass),
				getuser,
				help,
				sub("list", 2, admin, "List the current ACL rules in ACL config file format", "O(N). Where N is the number of configured users.", cmdACLList),
				sub("load", 2, admin, "Reload the ACLs from the configured ACL file", "O(N). Where N is the number of configured users.", cmdACLNoFile),
				sub("log", -2, admin, "List latest events denied because of ACLs in place", "O(N) with N being the number of entries shown.", cmdACLLog),
				sub("save", 2, admin, "Save the current ACL rules in the configured ACL file", "O(N). Where N is the number of configured users.", cmdACLNoFile),
				setuser,
				sub("users", 2, admin, "List the username of all the configured ACL rules", "O(N). Where N is the number of configured users.", cmdACLUsers),
				sub("whoami", 2, plain, "Return the name of the user associated to the current connection", "O(1)", cmdACLWhoami),
			}},
	}
}

// cmdACLSetUser validates the rules (syntax in the engine, command and
// category names here), replaces plain-text passwords by their SHA-256 so
// none reaches the log, and proposes the SETUSER. A SETUSER of "default"
// while the log has no default user first spells out this node's
// requirepass default, so changing, say, the default user's commands does
// not drop its password.
func cmdACLSetUser(x *call) {
	if msg := engine.Check(x.argv); msg != "" {
		x.w.WriteError(msg)
		return
	}
	t := x.s.table()
	ops := x.argv[3:]
	// The first failing op, as Redis applies them in order: an unknown
	// command or category, or (on this node's view of the user) a
	// password to remove that the user does not have.
	bad, reason := engine.SimulateSetUser(x.s.aclUser(string(x.argv[2])), ops)
	for i, op := range ops {
		if bad >= 0 && i >= bad {
			break
		}
		if r := t.checkRuleName(op); r != "" {
			bad, reason = i, r
			break
		}
	}
	if bad >= 0 {
		x.w.WriteError(engine.ACLSetUserError(ops[bad], reason))
		return
	}
	argv := [][]byte{[]byte("ACL"), []byte("SETUSER"), x.argv[2]}
	if string(x.argv[2]) == "default" && x.s.aclState().User("default") == nil {
		argv = append(argv, describeArgs(x.s.localDefault.Load())...)
	}
	for _, op := range ops {
		switch {
		case len(op) > 0 && op[0] == '>':
			op = []byte("#" + engine.HashPassword(string(op[1:])))
		case len(op) > 0 && op[0] == '<':
			op = []byte("!" + engine.HashPassword(string(op[1:])))
		}
		argv = append(argv, op)
	}
	x.write = &cluster.Command{Argv: argv}
}

// describeArgs returns SETUSER ops that recreate u from scratch.
func describeArgs(u *engine.ACLUser) [][]byte {
	var ops [][]byte
	for _, f := range strings.Fields("reset skip-sanitize-payload " + u.Describe()) {
		ops = append(ops, []byte(f))
	}
	return ops
}

func cmdACLDelUser(x *call) {
	if msg := engine.Check(x.argv); msg != "" {
		x.w.WriteError(msg)
		return
	}
	x.write = &cluster.Command{Argv: x.argv}
}

// users returns every user this node knows, sorted: the replicated ones
// and, while the log defines none, the node's default user.
func (s *Server) users() []*engine.ACLUser {
	a := s.aclState()
	us := a.Users()
	if a.User("default") == nil {
		d := s.localDefault.Load()
		i := 0
		for i < len(us) && us[i].Name < "default" {
			i++
		}
		us = append(us[:i], append([]*engine.ACLUser{d}, us[i:]...)...)
	}
	return us
}

func cmdACLList(x *call) {
	us := x.s.users()
	x.w.WriteArray(len(us))
	for _, u := range us {
		x.w.WriteBulkString("user " + u.Name + " " + u.Describe())
	}
}

func cmdACLUsers(x *call) {
	us := x.s.users()
	x.w.WriteArray(len(us))
	for _, u := range us {
		x.w.WriteBulkString(u.Name)
	}
}

func cmdACLWhoami(x *call) { x.w.WriteBulkString(x.cl.userName()) }

// cmdACLGetUser answers in Redis 7's shape: flags, passwords, commands,
// keys, channels, selectors.
func cmdACLGetUser(x *call) {
	u := x.s.aclUser(string(x.argv[2]))
	if u == nil {
		x.w.WriteNull()
		return
	}
	w := x.w
	w.WriteMap(6)
	w.WriteBulkString("flags")
	fl := u.Flags()
	w.WriteSet(len(fl))
	for _, f := range fl {
		w.WriteBulkString(f)
	}
	w.WriteBulkString("passwords")
	w.WriteArray(len(u.Passwords))
	for _, p := range u.Passwords {
		w.WriteBulkString(p)
	}
	w.WriteBulkString("commands")
	w.WriteBulkString(u.DescribeCommands())
	w.WriteBulkString("keys")
	w.WriteBulkString(u.DescribeKeys())
	w.WriteBulkString("channels")
	w.WriteBulkString(u.DescribeGetUserChannels())
	w.WriteBulkString("selectors")
	w.WriteArray(0)
}

func cmdACLCat(x *call) {
	if len(x.argv) == 2 {
		x.w.WriteArray(len(aclCategoryNames))
		for _, c := range aclCategoryNames {
			x.w.WriteBulkString(c)
		}
		return
	}
	if len(x.argv) > 3 {
		x.w.WriteError(aclSubArityError(x.argv[1]))
		return
	}
	cat := lower(x.argv[2])
	if cat == "all" || !validCategory(cat) {
		x.w.WriteError("ERR Unknown category '" + truncate(x.argv[2], len(x.argv[2])) + "'")
		return
	}
	var names []string
	x.s.table().all(func(c *command) {
		if hasFlag(c.Info().ACL, "@"+cat) {
			names = append(names, c.Name())
		}
	})
	x.w.WriteArray(len(names))
	for _, n := range names {
		x.w.WriteBulkString(n)
	}
}

func cmdACLGenPass(x *call) {
	bits := int64(256)
	if len(x.argv) > 3 {
		x.w.WriteError(aclSubArityError(x.argv[1]))
		return
	}
	if len(x.argv) == 3 {
		n, ok := redisutil.ParseLL(x.argv[2])
		if !ok {
			x.w.WriteError(errNotInteger)
			return
		}
		if n <= 0 || n > 4096 {
			x.w.WriteError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
			return
		}
		bits = n
	}
	chars := (bits + 3) / 4 // hex digits
	buf := make([]byte, (chars+1)/2)
	_, _ = rand.Read(buf)
	x.w.WriteBulkString(hex.EncodeToString(buf)[:chars])
}

// cmdACLDryRun checks a command for a user without running it; the reply
// is OK or, as a bulk string, Redis 7.2+'s verbose denial.
func cmdACLDryRun(x *call) {
	u := x.s.aclUser(string(x.argv[2]))
	if u == nil {
		x.w.WriteError("ERR User '" + truncate(x.argv[2], len(x.argv[2])) + "' not found")
		return
	}
	argv := x.argv[3:]
	t := x.s.table()
	cmd := t.lookup(argv[0])
	if cmd == nil {
		x.w.WriteError("ERR Command '" + truncate(argv[0], len(argv[0])) + "' not found")
		return
	}
	if len(cmd.Subcommands()) > 0 && len(argv) >= 2 {
		sub := cmd.Sub(argv[1])
		if sub == nil {
			x.w.WriteError("ERR Command '" + truncate(argv[0], len(argv[0])) + "' not found")
			return
		}
		cmd = sub
	}
	if !engine.ArityOK(cmd.Info().Arity, len(argv)) {
		x.w.WriteError("ERR wrong number of arguments for '" + cmd.Name() + "' command")
		return
	}
	reason, object := checkCommandACL(u, compilePerms(t, u), cmd, argv)
	switch reason {
	case aclOK:
		x.w.WriteStatus("OK")
	case aclDeniedKey:
		x.w.WriteBulkString("User " + u.Name + " has no permissions to access the '" + object + "' key")
	default:
		x.w.WriteBulkString("User " + u.Name + " has no permissions to run the '" + object + "' command")
	}
}

// aclSubArityError is Redis's reply to ACL CAT, LOG and GENPASS with too
// many arguments (the subcommand as typed).
func aclSubArityError(sub []byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + truncate(sub, len(sub)) + "'. Try ACL HELP."
}

func cmdACLNoFile(x *call) {
	x.w.WriteError("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
}

// cmdACLLog is ACL LOG [count | RESET] with Redis 7.2's fields.
func cmdACLLog(x *call) {
	l := x.s.acllog
	count := int64(10)
	if len(x.argv) > 3 {
		x.w.WriteError(aclSubArityError(x.argv[1]))
		return
	}
	if len(x.argv) == 3 {
		if strings.EqualFold(string(x.argv[2]), "reset") {
			l.mu.Lock()
			l.entries = nil
			l.mu.Unlock()
			x.w.WriteStatus("OK")
			return
		}
		n, ok := redisutil.ParseLL(x.argv[2])
		if !ok {
			x.w.WriteError(errNotInteger)
			return
		}
		count = max(n, 0) // as Redis: a negative count shows nothing
	}
	now := time.Now()
	l.mu.Lock()
	entries := l.entries
	if int64(len(entries)) > count {
		entries = entries[:count]
	}
	out := make([]aclLogEntry, len(entries))
	for i, e := range entries {
		out[i] = *e
	}
	l.mu.Unlock()
	w := x.w
	w.WriteArray(len(out))
	for _, e := range out {
		w.WriteMap(10)
		w.WriteBulkString("count")
		w.WriteInt(e.count)
		w.WriteBulkString("reason")
		w.WriteBulkString(e.reason)
		w.WriteBulkString("context")
		w.WriteBulkString(e.ctx)
		w.WriteBulkString("object")
		w.WriteBulkString(e.object)
		w.WriteBulkString("username")
		w.WriteBulkString(e.user)
		w.WriteBulkString("age-seconds")
		w.WriteDouble(float64(now.Sub(e.created).Milliseconds()) / 1000)
		w.WriteBulkString("client-info")
		w.WriteBulkString(e.clientInfo)
		w.WriteBulkString("entry-id")
		w.WriteInt(e.id)
		w.WriteBulkString("timestamp-created")
		w.WriteInt(e.created.UnixMilli())
		w.WriteBulkString("timestamp-last-updated")
		w.WriteInt(e.update.UnixMilli())
	}
}

var aclHelp = []string{
	"CAT [<category>]",
	"    List all commands that belong to <category>, or all command categories",
	"    when no category is specified.",
	"DELUSER <username> [<username> ...]",
	"    Delete a list of users.",
	"DRYRUN <username> <command> [<arg> ...]",
	"    Returns whether the user can execute the given command without executing the command.",
	"GETUSER <username>",
	"    Get the user's details.",
	"GENPASS [<bits>]",
	"    Generate a secure 256-bit user password. The optional `bits` argument can",
	"    be used to specify a different size.",
	"LIST",
	"    Show users details in config file format.",
	"LOAD",
	"    Reload users from the ACL file.",
	"LOG [<count> | RESET]",
	"    Show the ACL log entries.",
	"SAVE",
	"    Save the current config to the ACL file.",
	"SETUSER <username> <attribute> [<attribute> ...]",
	"    Create or modify a user with the specified attributes.",
	"USERS",
	"    List all the registered usernames.",
	"WHOAMI",
	"    Return the current connection username.",
	"HELP",
	"    Prints this help.",
}

// cmdACLHelp writes Redis's ACL HELP, whose last line, unlike the other
// containers' ("Print this help."), says "Prints".
func cmdACLHelp(x *call) {
	x.w.WriteArray(len(aclHelp) + 1)
	x.w.WriteStatus("ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range aclHelp {
		x.w.WriteStatus(l)
	}
}

// aclChanged runs after the replicated ACL changed (FSM hook): the clients
// of users that no longer exist are disconnected at once, as Redis kills
// them on ACL DELUSER. (A client whose user was deleted and that is not
// caught here, e.g. mid-command, is closed at its next command.)
func (s *Server) aclChanged() {
	go func() {
		n := 0
		for _, c := range s.clients.list() {
			if c.authed.Load() && s.aclUser(c.userName()) == nil {
				c.killed.Store(true)
				c.pc.shutdown()
				_ = c.pc.Conn.Close()
				n++
			}
		}
		if n > 0 {
			s.logger.Info("disconnected the clients of deleted ACL users", "clients", n)
		}
	}()
}
