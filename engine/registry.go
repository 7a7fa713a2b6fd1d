package engine

import (
	"slices"
	"strings"
)

// Registry is a node's one command table: the engine's commands (spec,
// metadata, parser, check and exec) and the commands its host — the
// server — executes itself (connection, introspection, configuration),
// registered with their metadata and a run hook. The engine stores a
// host command's hook and never calls it: it stays free of I/O. Each
// command and subcommand has an ID, dense from 0, for the host's
// per-command tables (statistics).
//
// A Registry is built by NewRegistry and not changed afterwards; its
// engine commands are its own copies, so that IDs and parents are the
// registry's, while their specs, parsers and exec functions are shared.
type Registry struct {
	byName map[string]*Command // lower-case full names ("client|list")
	sorted []*Command          // top-level commands by name
	all    []*Command          // by ID
}

// NewRegistry returns a registry of the engine's commands and the host's
// (NewHostCommand). A host command wins a name clash: connection and
// server commands are the host's even if the engine lists them.
func NewRegistry(host ...*Command) *Registry {
	r := &Registry{byName: make(map[string]*Command)}
	add := func(c *Command) {
		if _, dup := r.byName[c.info.Name]; dup {
			return
		}
		r.byName[c.info.Name] = c
		r.sorted = append(r.sorted, c)
		for _, s := range c.sorted {
			s.parent = c
			r.byName[s.info.Name] = s
		}
	}
	for _, c := range host {
		add(c)
	}
	for _, c := range sortedCommands {
		add(c.copyForRegistry())
	}
	slices.SortFunc(r.sorted, func(a, b *Command) int { return strings.Compare(a.info.Name, b.info.Name) })
	for _, c := range r.sorted {
		c.id = len(r.all)
		r.all = append(r.all, c)
		for _, s := range c.sorted {
			s.id = len(r.all)
			r.all = append(r.all, s)
		}
	}
	return r
}

// copyForRegistry copies an engine command (and its subcommands) for a
// registry of its own.
func (c *Command) copyForRegistry() *Command {
	cp := *c
	if c.subs != nil {
		cp.subs = make(map[string]*Command, len(c.subs))
		cp.sorted = make([]*Command, len(c.sorted))
		for i, s := range c.sorted {
			sc := *s
			cp.sorted[i] = &sc
			cp.subs[subName(cp.info.Name, sc.info.Name)] = &sc
		}
	}
	return &cp
}

func subName(container, full string) string { return strings.TrimPrefix(full, container+"|") }

// NewHostCommand is a command its host executes: info its complete
// COMMAND INFO/DOCS metadata, hook the host's handler (stored, never
// called by the engine), subs a container's subcommands, kept in the
// order given (COMMAND lists them so).
func NewHostCommand(info CommandInfo, hook any, subs ...*Command) *Command {
	c := &Command{info: &info, hook: hook}
	if len(subs) > 0 {
		c.subs = make(map[string]*Command, len(subs))
		c.sorted = subs
		for _, s := range subs {
			s.sub = true
			c.subs[subName(info.Name, s.info.Name)] = s
		}
	}
	return c
}

// Lookup finds a top-level command or a "container|sub" name, in any
// case, without allocating.
func (r *Registry) Lookup(name []byte) *Command {
	var buf [64]byte
	if len(name) > len(buf) {
		return nil
	}
	return r.byName[string(lowerInto(buf[:0], name))]
}

// Get finds a command by its lower-case full name.
func (r *Registry) Get(name string) *Command { return r.byName[name] }

// Commands returns the top-level commands in name order, shared: callers
// must not modify the slice.
func (r *Registry) Commands() []*Command { return r.sorted }

// ByID is the command with ID id, or nil.
func (r *Registry) ByID(id int) *Command {
	if id < 0 || id >= len(r.all) {
		return nil
	}
	return r.all[id]
}

// Len is the number of commands and subcommands: IDs run from 0 to Len-1.
func (r *Registry) Len() int { return len(r.all) }

// All visits every command and subcommand, in name order (a container
// before its subcommands).
func (r *Registry) All(fn func(c *Command)) {
	for _, c := range r.all {
		fn(c)
	}
}

// Sub finds a container's subcommand by the name the client typed, in
// any case, without allocating.
func (c *Command) Sub(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	return c.subs[string(lowerInto(buf[:0], name))]
}

func lowerInto(dst, name []byte) []byte {
	for _, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		dst = append(dst, ch)
	}
	return dst
}

// Name is the command's lower-case full name ("client|list").
func (c *Command) Name() string { return c.info.Name }

// ID is the command's index in its registry (0 outside one).
func (c *Command) ID() int { return c.id }

// Parent is a subcommand's container in its registry (nil otherwise).
func (c *Command) Parent() *Command { return c.parent }

// Hook is a host command's handler, nil for an engine command.
func (c *Command) Hook() any { return c.hook }

// IsContainer reports whether argv[1] selects a subcommand.
func (c *Command) IsContainer() bool { return c.subs != nil }

// Write reports whether the engine command goes through the log.
func (c *Command) Write() bool { return c.spec != nil && c.spec.Write }

// HasFlag reports whether COMMAND INFO lists flag f for the command.
func (c *Command) HasFlag(f string) bool { return slices.Contains(c.info.Flags, f) }
