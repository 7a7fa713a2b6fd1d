package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// ACL users are replicated state: ACL SETUSER and ACL DELUSER go through
// the log and run here, so every node enforces the same users, and the
// users are in snapshots. The engine only stores the rules; which commands
// a command rule or category names is the server's business (it owns the
// command table), and the server validates those names before a SETUSER is
// proposed. Passwords are kept as SHA-256 hex digests, as Redis keeps
// them; the server turns ">pass" into "#digest" before proposing, so
// plain-text passwords reach neither the log nor snapshots.
//
// Until the log defines a user named "default", each node's default user
// comes from its requirepass (DefaultUser): a fresh cluster behaves like
// the nodes' flags say, and the first change of the default user through
// the log makes it the same on every node from then on.

// ACL key-pattern permissions (Redis's %R~ and %W~).
const (
	KeyRead  = 1 << iota // the pattern allows reading keys
	KeyWrite             // the pattern allows writing keys
	keyRW    = KeyRead | KeyWrite
)

// KeyPattern is one key pattern of a user with its permissions.
type KeyPattern struct {
	Pattern string
	Perm    int // KeyRead, KeyWrite or both
}

// ACLUser is one user. A published user is never modified: SETUSER builds
// a new value, so servers may hold one without locking.
type ACLUser struct {
	Name    string
	Enabled bool
	NoPass  bool
	// Sanitize is Redis's sanitize-payload flag: kept and shown, nothing
	// here depends on it (no RESTORE).
	Sanitize bool
	// Passwords are lower-case hex SHA-256 digests, in the order added.
	Passwords []string
	// Keys are the key patterns in the order added. Exactly [{"*", RW}]
	// is Redis's allkeys.
	Keys []KeyPattern
	// AllChannels is "&*"; Channels the patterns otherwise. raftstream
	// has no Pub/Sub: they are stored and shown only.
	AllChannels bool
	Channels    []string
	// Commands are the command rules in order, lower case; the first is
	// always "+@all" or "-@all" (e.g. "-@all", "+@stream", "-xdel").
	Commands []string
}

// AllKeys reports whether the user may access every key (allkeys, ~*).
func (u *ACLUser) AllKeys() bool {
	return len(u.Keys) == 1 && u.Keys[0].Pattern == "*" && u.Keys[0].Perm == keyRW
}

// CheckPassword reports whether pass authenticates the user (not whether
// the user is enabled).
func (u *ACLUser) CheckPassword(pass []byte) bool {
	if u.NoPass {
		return true
	}
	sum := sha256.Sum256(pass)
	h := hex.EncodeToString(sum[:])
	for _, p := range u.Passwords {
		if p == h {
			return true
		}
	}
	return false
}

// Describe returns the user's rules in ACL LIST form, without the
// leading "user <name>".
func (u *ACLUser) Describe() string {
	var b strings.Builder
	b.WriteString(u.onOff())
	if u.NoPass {
		b.WriteString(" nopass")
	}
	if u.Sanitize {
		b.WriteString(" sanitize-payload")
	}
	for _, p := range u.Passwords {
		b.WriteString(" #")
		b.WriteString(p)
	}
	if k := u.DescribeKeys(); k != "" {
		b.WriteString(" ")
		b.WriteString(k)
	}
	b.WriteString(" ")
	b.WriteString(u.DescribeChannels())
	b.WriteString(" ")
	b.WriteString(u.DescribeCommands())
	return b.String()
}

func (u *ACLUser) onOff() string {
	if u.Enabled {
		return "on"
	}
	return "off"
}

// Flags returns ACL GETUSER's flags.
func (u *ACLUser) Flags() []string {
	f := []string{u.onOff()}
	if u.NoPass {
		f = append(f, "nopass")
	}
	if u.Sanitize {
		f = append(f, "sanitize-payload")
	}
	return f
}

// DescribeKeys is ACL GETUSER's keys: "~p", "%R~p", "%W~p", space separated.
func (u *ACLUser) DescribeKeys() string {
	parts := make([]string, 0, len(u.Keys))
	for _, k := range u.Keys {
		switch k.Perm {
		case keyRW:
			parts = append(parts, "~"+k.Pattern)
		case KeyRead:
			parts = append(parts, "%R~"+k.Pattern)
		case KeyWrite:
			parts = append(parts, "%W~"+k.Pattern)
		}
	}
	return strings.Join(parts, " ")
}

// DescribeChannels is ACL LIST's channel part ("&*" or "resetchannels
// &a ...").
func (u *ACLUser) DescribeChannels() string {
	if u.AllChannels {
		return "&*"
	}
	parts := []string{"resetchannels"}
	for _, c := range u.Channels {
		parts = append(parts, "&"+c)
	}
	return strings.Join(parts, " ")
}

// DescribeGetUserChannels is ACL GETUSER's channels ("&*", "&a &b", "").
func (u *ACLUser) DescribeGetUserChannels() string {
	if u.AllChannels {
		return "&*"
	}
	parts := make([]string, 0, len(u.Channels))
	for _, c := range u.Channels {
		parts = append(parts, "&"+c)
	}
	return strings.Join(parts, " ")
}

// DescribeCommands is the command rules, space separated.
func (u *ACLUser) DescribeCommands() string { return strings.Join(u.Commands, " ") }

func (u *ACLUser) clone() *ACLUser {
	c := *u
	c.Passwords = slices.Clone(u.Passwords)
	c.Keys = slices.Clone(u.Keys)
	c.Channels = slices.Clone(u.Channels)
	c.Commands = slices.Clone(u.Commands)
	return &c
}

// newUser is what ACL SETUSER starts a user that does not exist from:
// Redis's "off resetchannels -@all" (no passwords, no keys).
func newUser(name string) *ACLUser {
	return &ACLUser{Name: name, Commands: []string{"-@all"}}
}

// DefaultUser returns the default user a node has while the log defines
// none: Redis's "on nopass ~* &* +@all" without a password, or the same
// with the password's SHA-256 instead of nopass.
func DefaultUser(password string) *ACLUser {
	u := &ACLUser{Name: "default", Enabled: true, AllChannels: true,
		Keys: []KeyPattern{{"*", keyRW}}, Commands: []string{"+@all"}}
	if password == "" {
		u.NoPass = true
	} else {
		u.Passwords = []string{HashPassword(password)}
	}
	return u
}

// HashPassword returns the lower-case hex SHA-256 of pass, the form ACL
// users keep.
func HashPassword(pass string) string {
	sum := sha256.Sum256([]byte(pass))
	return hex.EncodeToString(sum[:])
}

// ACL is the replicated set of users. It is immutable: a change builds a
// new ACL, so a pointer read once stays consistent.
type ACL struct {
	users map[string]*ACLUser
	names []string // sorted
}

var emptyACL = &ACL{users: map[string]*ACLUser{}}

// User returns the user called name, or nil.
func (a *ACL) User(name string) *ACLUser {
	if a == nil {
		return nil
	}
	return a.users[name]
}

// Users returns every user the log defined, sorted by name.
func (a *ACL) Users() []*ACLUser {
	if a == nil {
		return nil
	}
	out := make([]*ACLUser, len(a.names))
	for i, n := range a.names {
		out[i] = a.users[n]
	}
	return out
}

// with returns a copy of a with u set (or name removed when u is nil).
func (a *ACL) with(name string, u *ACLUser) *ACL {
	c := &ACL{users: make(map[string]*ACLUser, len(a.users)+1)}
	for n, v := range a.users {
		c.users[n] = v
	}
	if u == nil {
		delete(c.users, name)
	} else {
		c.users[name] = u
	}
	c.names = make([]string, 0, len(c.users))
	for n := range c.users {
		c.names = append(c.names, n)
	}
	slices.Sort(c.names)
	return c
}

// ACL returns the replicated users. The value is immutable.
func (s *State) ACL() *ACL { return s.acl }

// ACL SETUSER error reasons, Redis's ACLSetUserStringError texts.
const (
	aclErrSyntax     = "Syntax error"
	aclErrAllKeys    = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	aclErrAllChans   = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	aclErrNoPass     = "The password you are trying to remove from the user does not exist"
	aclErrBadHash    = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	aclErrFirstArg   = "Allowing first-arg of a subcommand is not supported"
	aclErrUnknownCmd = "Unknown command or category name in ACL"
)

// ACLUnknownName is the reason the server gives for a command or category
// a SETUSER rule names that it does not know.
const ACLUnknownName = aclErrUnknownCmd

// ACLSetUserError formats an ACL SETUSER failure of op with reason.
func ACLSetUserError(op []byte, reason string) string {
	return "ERR Error in ACL SETUSER modifier '" + string(op) + "': " + reason
}

// ACLCommandRule splits a command rule ("+xadd", "-@admin", "+config|get")
// into its sign, whether it names a category, and the lower-case name. ok
// is false for anything else.
func ACLCommandRule(op []byte) (allow, category bool, name string, ok bool) {
	if len(op) < 2 || (op[0] != '+' && op[0] != '-') {
		return false, false, "", false
	}
	allow = op[0] == '+'
	rest := op[1:]
	if rest[0] == '@' {
		if len(rest) == 1 {
			return false, false, "", false
		}
		return allow, true, strings.ToLower(string(rest[1:])), true
	}
	return allow, false, strings.ToLower(string(rest)), true
}

// checkACLOp validates one SETUSER op without state: "" or the reason.
func checkACLOp(op []byte) string {
	u := newUser("")
	if r := u.apply(op); r != aclErrNoPass {
		return r
	}
	return ""
}

// apply changes u by one SETUSER op, returning "" or the reason it
// fails.
func (u *ACLUser) apply(op []byte) string {
	s := string(op)
	ls := strings.ToLower(s)
	switch ls {
	case "on":
		u.Enabled = true
		return ""
	case "off":
		u.Enabled = false
		return ""
	case "nopass":
		u.NoPass, u.Passwords = true, nil
		return ""
	case "resetpass":
		u.NoPass, u.Passwords = false, nil
		return ""
	case "allkeys":
		u.Keys = []KeyPattern{{"*", keyRW}}
		return ""
	case "resetkeys":
		u.Keys = nil
		return ""
	case "allchannels":
		u.AllChannels, u.Channels = true, nil
		return ""
	case "resetchannels":
		u.AllChannels, u.Channels = false, nil
		return ""
	case "allcommands":
		u.Commands = []string{"+@all"}
		return ""
	case "nocommands":
		u.Commands = []string{"-@all"}
		return ""
	case "sanitize-payload":
		u.Sanitize = true
		return ""
	case "skip-sanitize-payload":
		u.Sanitize = false
		return ""
	case "clearselectors":
		return "" // raftstream has no selectors, so there are none to clear
	case "reset":
		*u = ACLUser{Name: u.Name, Sanitize: true, Commands: []string{"-@all"}}
		return ""
	}
	if len(op) == 0 {
		return aclErrSyntax
	}
	switch op[0] {
	case '>', '#':
		h := s[1:]
		if op[0] == '>' {
			h = HashPassword(h)
		} else if !validHash(h) {
			return aclErrBadHash
		}
		if !slices.Contains(u.Passwords, h) {
			u.Passwords = append(u.Passwords, h)
		}
		u.NoPass = false
		return ""
	case '<', '!':
		h := s[1:]
		if op[0] == '<' {
			h = HashPassword(h)
		} else if !validHash(h) {
			return aclErrBadHash
		}
		i := slices.Index(u.Passwords, h)
		if i < 0 {
			return aclErrNoPass
		}
		u.Passwords = slices.Delete(u.Passwords, i, i+1)
		return ""
	case '~', '%':
		return u.addKeyPattern(s)
	case '&':
		if u.AllChannels {
			return aclErrAllChans
		}
		if s == "&*" {
			u.AllChannels, u.Channels = true, nil
		} else if !slices.Contains(u.Channels, s[1:]) {
			u.Channels = append(u.Channels, s[1:])
		}
		return ""
	case '+', '-':
		return u.addCommandRule(op)
	}
	return aclErrSyntax
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// addKeyPattern handles "~pattern" and "%R~", "%W~", "%RW~" patterns as
// Redis 7's ACLSetSelector does.
func (u *ACLUser) addKeyPattern(s string) string {
	if u.AllKeys() {
		return aclErrAllKeys
	}
	perm, off := keyRW, 1
	if s[0] == '%' {
		perm = 0
		tilde := false
		for ; off < len(s); off++ {
			c := s[off]
			switch {
			case (c == 'R' || c == 'r') && perm&KeyRead == 0:
				perm |= KeyRead
			case (c == 'W' || c == 'w') && perm&KeyWrite == 0:
				perm |= KeyWrite
			case c == '~':
				tilde = true
			default:
				return aclErrSyntax
			}
			if tilde {
				off++
				break
			}
		}
		if !tilde || perm == 0 {
			return aclErrSyntax
		}
	}
	pat := s[off:]
	if pat == "*" && perm == keyRW {
		u.Keys = []KeyPattern{{"*", keyRW}}
		return ""
	}
	for i := range u.Keys {
		if u.Keys[i].Pattern == pat {
			u.Keys[i].Perm |= perm
			return ""
		}
	}
	u.Keys = append(u.Keys, KeyPattern{pat, perm})
	return ""
}

// addCommandRule records "+name", "-name", "+@cat" or "-@cat". A rule
// replaces earlier rules about the same command or category (and "+x"
// those about x's subcommands), so repeating SETUSER does not grow the
// list; "+@all" and "-@all" start it over.
func (u *ACLUser) addCommandRule(op []byte) string {
	_, cat, name, ok := ACLCommandRule(op)
	if !ok {
		return aclErrSyntax
	}
	if cat && name == "all" {
		u.Commands = []string{string(op[0]) + "@all"}
		return ""
	}
	if !cat {
		if strings.Count(name, "|") > 1 {
			return aclErrFirstArg
		}
		if name == "" || strings.HasPrefix(name, "|") || strings.HasSuffix(name, "|") {
			return aclErrUnknownCmd
		}
	}
	rule := string(op[0])
	if cat {
		rule += "@"
	}
	rule += name
	kept := u.Commands[:1:1]
	for _, r := range u.Commands[1:] {
		rn := r[1:]
		switch {
		case rn == rule[1:]:
			continue
		case !cat && !strings.HasPrefix(rn, "@") && strings.HasPrefix(rn, name+"|"):
			continue
		}
		kept = append(kept, r)
	}
	u.Commands = append(kept, rule)
	return ""
}

// checkACL validates the replicated ACL subcommands (SETUSER, DELUSER)
// without state.
func checkACL(argv [][]byte) string {
	if len(argv) < 2 {
		return errArity("acl")
	}
	switch {
	case argIs(argv[1], "setuser"):
		if len(argv) < 3 {
			return errArity("acl|setuser")
		}
		if !ValidUserName(argv[2]) {
			return "ERR Usernames can't contain spaces or null characters"
		}
		for _, op := range argv[3:] {
			if r := checkACLOp(op); r != "" {
				return ACLSetUserError(op, r)
			}
		}
		return ""
	case argIs(argv[1], "deluser"):
		if len(argv) < 3 {
			return errArity("acl|deluser")
		}
		for _, n := range argv[2:] {
			if string(n) == "default" {
				return "ERR The 'default' user cannot be removed"
			}
		}
		return ""
	}
	sub := cStr(argv[1])
	if len(sub) > 128 {
		sub = sub[:128]
	}
	return "ERR unknown subcommand '" + string(sub) + "'. Try ACL HELP."
}

// ValidUserName reports whether name may name a user (Redis refuses
// spaces and NUL bytes).
func ValidUserName(name []byte) bool {
	for _, c := range name {
		if c == ' ' || c == 0 {
			return false
		}
	}
	return true
}

// execACL runs ACL SETUSER or DELUSER, atomically: a SETUSER whose op
// fails changes nothing.
func (s *State) execACL(ctx *Ctx, argv [][]byte) {
	if msg := checkACL(argv); msg != "" {
		ctx.W.WriteError(msg)
		return
	}
	if argIs(argv[1], "deluser") {
		n := int64(0)
		a := s.acl
		for _, name := range argv[2:] {
			if a.User(string(name)) != nil {
				a = a.with(string(name), nil)
				n++
			}
		}
		s.acl = a
		ctx.W.WriteInt(n)
		return
	}
	name := string(argv[2])
	u := s.acl.User(name)
	if u == nil {
		if name == "default" {
			u = DefaultUser("")
		} else {
			u = newUser(name)
		}
	}
	u = u.clone()
	for _, op := range argv[3:] {
		if r := u.apply(op); r != "" {
			ctx.W.WriteError(ACLSetUserError(op, r))
			return
		}
	}
	s.acl = s.acl.with(name, u)
	ctx.W.WriteStatus("OK")
}

// SimulateSetUser applies ops to a copy of base (a fresh user when nil)
// as ACL SETUSER would, without changing anything. It returns the index of
// the first op that fails and the reason, or -1. The server uses it to
// report, against its local view of the users, the errors that depend on
// state (removing a password the user lacks) in the client's own words,
// before passwords are hashed for the log.
func SimulateSetUser(base *ACLUser, ops [][]byte) (int, string) {
	u := newUser("")
	if base != nil {
		u = base.clone()
	}
	for i, op := range ops {
		if r := u.apply(op); r != "" {
			return i, r
		}
	}
	return -1, ""
}

// appendACL encodes the users for the snapshot (version 4), in name order.
func appendACL(b []byte, a *ACL) []byte {
	users := a.Users()
	b = binary.AppendUvarint(b, uint64(len(users)))
	for _, u := range users {
		b = appendBytes(b, []byte(u.Name))
		var flags byte
		if u.Enabled {
			flags |= 1
		}
		if u.NoPass {
			flags |= 2
		}
		if u.Sanitize {
			flags |= 4
		}
		if u.AllChannels {
			flags |= 8
		}
		b = append(b, flags)
		b = appendStrings(b, u.Passwords)
		b = binary.AppendUvarint(b, uint64(len(u.Keys)))
		for _, k := range u.Keys {
			b = appendBytes(b, []byte(k.Pattern))
			b = append(b, byte(k.Perm))
		}
		b = appendStrings(b, u.Channels)
		b = appendStrings(b, u.Commands)
	}
	return b
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendBytes(b, []byte(s))
	}
	return b
}

func (d *stateDecoder) strings() []string {
	n := d.uvarint()
	if n > uint64(len(d.b)) { // each string takes at least one byte
		d.err = errStateTruncated
		return nil
	}
	var out []string
	for i := uint64(0); i < n && d.err == nil; i++ {
		out = append(out, string(d.bytes()))
	}
	return out
}

// readACL decodes what appendACL wrote.
func (d *stateDecoder) readACL() (*ACL, error) {
	a := emptyACL
	n := d.uvarint()
	prev := ""
	for i := uint64(0); i < n && d.err == nil; i++ {
		u := &ACLUser{Name: string(d.bytes())}
		flags := d.byte()
		if flags&^15 != 0 {
			return nil, fmt.Errorf("user %q: unknown flags %#x", u.Name, flags)
		}
		u.Enabled, u.NoPass, u.Sanitize, u.AllChannels = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0
		u.Passwords = d.strings()
		nk := d.uvarint()
		if nk > uint64(len(d.b)) {
			d.err = errStateTruncated
		}
		for j := uint64(0); j < nk && d.err == nil; j++ {
			p := string(d.bytes())
			perm := int(d.byte())
			if perm&^keyRW != 0 || perm == 0 {
				return nil, fmt.Errorf("user %q: bad key permission %#x", u.Name, perm)
			}
			u.Keys = append(u.Keys, KeyPattern{p, perm})
		}
		u.Channels = d.strings()
		u.Commands = d.strings()
		if d.err != nil {
			break
		}
		if len(u.Commands) == 0 || (u.Commands[0] != "+@all" && u.Commands[0] != "-@all") {
			return nil, fmt.Errorf("user %q: bad command rules", u.Name)
		}
		if i > 0 && u.Name <= prev {
			return nil, fmt.Errorf("user %q out of order", u.Name)
		}
		prev = u.Name
		a = a.with(u.Name, u)
	}
	return a, d.err
}
