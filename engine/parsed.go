package engine

// Parsed is a command resolved to its registry entry with its arguments
// parsed once, by the entry's own parser: the value Exec would parse from
// the same argv. The node that receives a command it runs locally (a read)
// parses it with Command.Parse, answers Err at once, and runs the value
// with State.RunParsed, so the argv is not parsed again (and not under the
// state's read lock). A command whose entry has no parser of its own (it
// has no arguments beyond its keys, or none worth keeping) carries only
// its argv and is parsed, if at all, when it runs.
//
// Writes still travel to the log as argv: every replica parses the
// logged argv when it applies it.
type Parsed struct {
	cmd  *Command
	argv [][]byte
	err  string
	// exec: RunParsed runs argv through Run (no parser of its own, a
	// container, a wrong arity, or an error that depends on the clock).
	exec bool
	kind parser
	// one of, by command
	xrange   xrangeArgs
	xpending xpendingArgs
	xread    XReadArgs
}

// Parse parses argv (already resolved to c, as for Check) into the value
// RunParsed runs. A nil c, a container or a wrong arity parse to a value
// that runs through Exec, which replies their errors.
func (c *Command) Parse(argv [][]byte) Parsed {
	var p Parsed
	c.ParseInto(&p, argv)
	return p
}

// ParseInto is Parse into *p, which it overwrites: a caller that keeps a
// Parsed for reuse (the server keeps one per connection) avoids copying
// the value.
func (c *Command) ParseInto(p *Parsed, argv [][]byte) {
	if c == nil || c.spec == nil || c.subs != nil || c.parser == noParser || !ArityOK(c.spec.Arity, len(argv)) {
		*p = Parsed{cmd: c, argv: argv, exec: true}
		return
	}
	*p = Parsed{cmd: c, argv: argv}
	p.parseInto(c.parser)
}

// Err is the error Exec would reply for the parsed argv regardless of
// state (Check's), or "" when the parse found none. A value that runs
// through Exec reports "": its errors are replied when it runs.
func (p *Parsed) Err() string { return p.err }

// Argv is the command line the value was parsed from.
func (p *Parsed) Argv() [][]byte { return p.argv }

// RunParsed is Run for a parsed command: the same reply and state change
// as Run(ctx, c, argv) for the argv p was parsed from.
func (s *State) RunParsed(ctx *Ctx, p *Parsed) {
	c := p.cmd
	if p.exec {
		s.Run(ctx, c, p.argv)
		return
	}
	if ctx.DB < 0 || ctx.DB >= NumDBs {
		ctx.W.WriteError(errDBRange)
		return
	}
	if p.err != "" {
		ctx.W.WriteError(p.err)
	} else {
		p.run(s, ctx)
	}
	if c.spec.Write {
		s.touchKeys(ctx, c, p.argv)
	}
}

// parser names a command's own parser (a switch rather than a function
// value, so that a Parsed stays on its caller's stack).
type parser uint8

const (
	noParser parser = iota
	parserXRange
	parserXPending
	parserXRead
)

// parseInto runs the parser kind on p.
func (p *Parsed) parseInto(kind parser) {
	p.kind = kind
	switch kind {
	case parserXRange:
		p.xrange, p.err = parseXRange(p.argv, argIs(p.argv[0], "xrevrange"))
	case parserXPending:
		p.xpending, p.err = parseXPending(p.argv)
	case parserXRead:
		// Parsed without the clock; an error that may depend on it (a
		// BLOCK deadline that could overflow) leaves the command to
		// execXRead, which parses with the clock, as Check leaves it to
		// Exec.
		a, err, clockDependent := parseXRead(p.argv, 0, false)
		if err != "" && clockDependent {
			p.exec = true
			return
		}
		p.xread, p.err = a, err
	}
}

// run executes a parsed command that parsed without error.
func (p *Parsed) run(s *State, ctx *Ctx) {
	switch p.kind {
	case parserXRange:
		s.xrangeRun(ctx, p.argv, p.xrange, argIs(p.argv[0], "xrevrange"))
	case parserXPending:
		s.xpendingRun(ctx, p.argv, p.xpending)
	case parserXRead:
		// The clock-dependent BLOCK check on the parsed value
		// (blockClockErr: what parsing with the clock adds).
		if err := blockClockErr(p.xread.maxBlock, ctx.Now); err != "" {
			ctx.W.WriteError(err)
			return
		}
		a := p.xread
		s.XRead(ctx, &a)
	}
}

// parsedExec is the exec of a command with a parser: parse, then run;
// execArgv runs a command whose parse defers to it.
func parsedExec(kind parser, execArgv func(s *State, ctx *Ctx, argv [][]byte)) func(s *State, ctx *Ctx, argv [][]byte) {
	return func(s *State, ctx *Ctx, argv [][]byte) {
		p := Parsed{argv: argv}
		p.parseInto(kind)
		switch {
		case p.exec:
			execArgv(s, ctx, argv)
		case p.err != "":
			ctx.W.WriteError(p.err)
		default:
			p.run(s, ctx)
		}
	}
}

// parsedCheck is the check of a command with the parser kind.
func parsedCheck(kind parser) func(argv [][]byte) string {
	return func(argv [][]byte) string {
		p := Parsed{argv: argv}
		p.parseInto(kind)
		return p.err
	}
}

// withParser gives c its own parser; its check and exec become the
// parser's (execArgv runs a command whose parse defers to it).
func withParser(c *Command, kind parser, execArgv func(s *State, ctx *Ctx, argv [][]byte)) *Command {
	c.parser = kind
	c.check, c.exec = parsedCheck(kind), parsedExec(kind, execArgv)
	return c
}
