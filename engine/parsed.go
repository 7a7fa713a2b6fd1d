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
// A write is parsed the same way by the node that logs it: Err is Check's
// verdict, and the parsed value travels with the log entry on that node,
// whose own apply runs it (RunParsed) instead of parsing the logged argv
// again. The log itself still carries argv, so a replica that did not
// build the value (a follower, a restart replaying the log) parses the
// logged argv once when it applies it (Exec). Both give the same reply
// and state change. A Parsed is read only once built: RunParsed never
// modifies it, so one value may be shared by goroutines or run on clones
// of a state. It holds nothing but its argv (and sub-slices of it) and
// its own parsed values.
type Parsed struct {
	cmd  *Command
	argv [][]byte
	err  string
	// exec: RunParsed runs argv through Run (no parser of its own, a
	// container, a wrong arity, or an error that depends on the clock).
	exec bool
	kind parser
	// A read's arguments, in storage a Parsed reused for the next
	// command keeps (ParseInto, Reset: the server keeps one per
	// connection, so its reads allocate it once) ...
	rd *readArgs
	// ... or a write's, behind one interface (one allocation per parsed
	// write, nil for FLUSHDB/FLUSHALL). Neither makes the other bigger: a
	// parsed write, which lives until its entry applies, is 80 bytes
	// plus its arguments.
	wargs writeArgs
}

// readArgs holds a read's parsed arguments, one field per parser.
type readArgs struct {
	xrange   xrangeArgs
	xpending xpendingArgs
	xread    XReadArgs
}

// Reset empties p for reuse (ParseInto), keeping its storage for a read's
// arguments but nothing of the command it held (argv, parsed values).
func (p *Parsed) Reset() {
	rd := p.rd
	if rd != nil {
		*rd = readArgs{}
	}
	*p = Parsed{rd: rd}
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
// the value. A container's subcommand (argv[1]) is parsed by its own
// entry. Err is always what Check(argv) reports, also for a value that
// runs through Exec, so a caller may refuse a write on Err alone.
func (c *Command) ParseInto(p *Parsed, argv [][]byte) {
	if c != nil && c.subs != nil && len(argv) >= 2 {
		if sub := c.Sub(argv[1]); sub != nil {
			c = sub
		}
	}
	rd := p.rd
	if c == nil || c.spec == nil || c.subs != nil || c.parser == noParser || !ArityOK(c.spec.Arity, len(argv)) {
		*p = Parsed{cmd: c, argv: argv, exec: true, err: c.Check(argv), rd: rd}
		return
	}
	*p = Parsed{cmd: c, argv: argv, rd: rd}
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
	// Writes: their arguments go to Parsed.wargs.
	parserXAdd
	parserXTrim
	parserXSetID
	parserXReadGroup
	parserXAutoClaim
	parserXDelEx
	parserXAckDel
	parserRSSetDLQ
	parserXGroup // XGROUP CREATE and SETID
	parserFlushDB
	parserFlushAll
	parserExpire // EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT
	parserCopy
)

// parseInto runs the parser kind on p.
func (p *Parsed) parseInto(kind parser) {
	p.kind = kind
	if kind >= parserXAdd {
		p.wargs, p.err, p.exec = parseWrite(kind, p.argv, true)
		return
	}
	if p.rd == nil {
		p.rd = new(readArgs)
	}
	switch kind {
	case parserXRange:
		p.rd.xrange, p.err = parseXRange(p.argv, argIs(p.argv[0], "xrevrange"))
	case parserXPending:
		p.rd.xpending, p.err = parseXPending(p.argv)
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
		p.rd.xread, p.err = a, err
	}
}

// run executes a parsed command that parsed without error.
func (p *Parsed) run(s *State, ctx *Ctx) {
	if p.kind >= parserXAdd {
		// p.wargs is nil only for a write whose parse kept nothing:
		// FLUSHDB and FLUSHALL have no arguments to keep.
		switch p.kind {
		case parserFlushDB:
			s.flushDBRun(ctx)
		case parserFlushAll:
			s.flushAllRun(ctx)
		default:
			p.wargs.run(s, ctx, p.argv)
		}
		return
	}
	switch p.kind {
	case parserXRange:
		s.xrangeRun(ctx, p.argv, p.rd.xrange, argIs(p.argv[0], "xrevrange"))
	case parserXPending:
		s.xpendingRun(ctx, p.argv, p.rd.xpending)
	case parserXRead:
		// The clock-dependent BLOCK check on the parsed value
		// (blockClockErr: what parsing with the clock adds).
		if err := blockClockErr(p.rd.xread.maxBlock, ctx.Now); err != "" {
			ctx.W.WriteError(err)
			return
		}
		a := p.rd.xread
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

// parsedCheck is the check of a command with the parser kind: Parse's
// error, the parsed value discarded.
func parsedCheck(kind parser) func(argv [][]byte) string {
	if kind >= parserXAdd {
		// Straight to the parser, without a Parsed to clear: Check runs
		// on every write the server takes.
		return func(argv [][]byte) string {
			_, err, _ := parseWrite(kind, argv, false)
			return err
		}
	}
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

// withWriteParser gives the write c its own parser: its check becomes the
// parser's, and Parse keeps the parsed arguments for RunParsed. Its exec
// (Exec's path, on every replica that applies the logged argv) stays c's
// own, which parses with the same parser onto the stack and runs the same
// run function as RunParsed (execXAdd: parseXAdd, then xaddRun): the one
// difference is where the arguments live, so that applying a logged argv
// does not allocate for them.
func withWriteParser(c *Command, kind parser) *Command {
	c.parser = kind
	c.check = parsedCheck(kind)
	return c
}

// writeArgs is a write's parsed arguments, as Parsed keeps them: run runs
// them (the command's run function, the one its exec calls after parsing)
// without modifying them.
type writeArgs interface {
	run(s *State, ctx *Ctx, argv [][]byte)
}

// parseWrite runs a write's parser kind on argv: its error, or with keep
// the parsed arguments, boxed (a copy: the value parsed on the stack does
// not escape, so Check, which does not keep them, does not allocate).
// exec reports an error that may depend on the clock, left to Exec.
func parseWrite(kind parser, argv [][]byte, keep bool) (w writeArgs, err string, exec bool) {
	switch kind {
	case parserXAdd:
		a, err := parseXAdd(argv)
		return kept(err, keep, func() writeArgs { return &xaddParsed{a} })
	case parserXTrim:
		a, err := parseXTrim(argv)
		return kept(err, keep, func() writeArgs { return &xtrimParsed{a} })
	case parserXSetID:
		a, err := parseXSetID(argv)
		return kept(err, keep, func() writeArgs { return &xsetidParsed{a} })
	case parserXReadGroup:
		// As for XREAD: parsed without the clock; an error that may
		// depend on it leaves the command to execXReadGroup, which
		// parses again with the clock for the error that comes first
		// (Check accepts such a command, as it always did).
		a, err, clockDependent := parseXReadGroup(argv, 0, false)
		if err != "" && clockDependent {
			return nil, "", true
		}
		return kept(err, keep, func() writeArgs { return &xreadgroupParsed{a} })
	case parserXAutoClaim:
		a, err := parseXAutoClaim(argv)
		return kept(err, keep, func() writeArgs { return &xautoclaimParsed{a} })
	case parserXDelEx:
		a, err := parseXDelEx(argv)
		return kept(err, keep, func() writeArgs { return &xdelexParsed{a} })
	case parserXAckDel:
		a, err := parseXAckDel(argv)
		return kept(err, keep, func() writeArgs { return &xackdelParsed{a} })
	case parserRSSetDLQ:
		a, err := parseRSSetDLQ(argv)
		return kept(err, keep, func() writeArgs { return &rssetdlqParsed{a} })
	case parserXGroup:
		a, err := parseXGroupOpts(argv)
		return kept(err, keep, func() writeArgs { return &xgroupParsed{a} })
	case parserFlushDB, parserFlushAll:
		// No arguments to keep: run calls the run function by kind.
		return nil, parseFlush(argv), false
	case parserExpire:
		a, err := parseExpire(argv)
		return kept(err, keep, func() writeArgs { return &expireParsed{a} })
	case parserCopy:
		a, err := parseCopy(argv)
		return kept(err, keep, func() writeArgs { return &copyParsed{a} })
	}
	return nil, "", true // not a write kind: no parser to run here
}

// The writes' parsed arguments as writeArgs: each runs the run function
// its command's exec calls. (A type per command, since XADD and XTRIM,
// XDELEX and XACKDEL share an arguments type.)
type (
	xaddParsed       struct{ a addTrimArgs }
	xtrimParsed      struct{ a addTrimArgs }
	xsetidParsed     struct{ a xsetidArgs }
	xreadgroupParsed struct{ a XReadGroupArgs }
	xautoclaimParsed struct{ a xautoclaimArgs }
	xdelexParsed     struct{ a ackDelArgs }
	xackdelParsed    struct{ a ackDelArgs }
	rssetdlqParsed   struct{ a rsSetDLQArgs }
	xgroupParsed     struct{ a xgroupOpts }
	expireParsed     struct{ a expireArgs }
	copyParsed       struct{ a copyArgs }
)

func (w *xaddParsed) run(s *State, ctx *Ctx, argv [][]byte)   { s.xaddRun(ctx, argv, &w.a) }
func (w *xtrimParsed) run(s *State, ctx *Ctx, argv [][]byte)  { s.xtrimRun(ctx, argv, &w.a) }
func (w *xsetidParsed) run(s *State, ctx *Ctx, argv [][]byte) { s.xsetidRun(ctx, argv, &w.a) }
func (w *xreadgroupParsed) run(s *State, ctx *Ctx, _ [][]byte) {
	s.xreadgroupRun(ctx, &w.a)
}
func (w *xautoclaimParsed) run(s *State, ctx *Ctx, argv [][]byte) {
	s.xautoclaimRun(ctx, argv, &w.a)
}
func (w *xdelexParsed) run(s *State, ctx *Ctx, argv [][]byte)   { s.xdelexRun(ctx, argv, &w.a) }
func (w *xackdelParsed) run(s *State, ctx *Ctx, argv [][]byte)  { s.xackdelRun(ctx, argv, &w.a) }
func (w *rssetdlqParsed) run(s *State, ctx *Ctx, argv [][]byte) { s.rssetdlqRun(ctx, argv, &w.a) }
func (w *xgroupParsed) run(s *State, ctx *Ctx, argv [][]byte)   { s.xgroupRun(ctx, argv, &w.a) }
func (w *expireParsed) run(s *State, ctx *Ctx, argv [][]byte)   { s.expireRun(ctx, argv, &w.a) }
func (w *copyParsed) run(s *State, ctx *Ctx, argv [][]byte)     { s.copyRun(ctx, argv, &w.a) }

// XReadGroup returns a parsed XREADGROUP's arguments, shared (callers must
// not modify them), or false for any other value or one that runs through
// Exec. A blocked XREADGROUP keeps them for its wake-ups and proposes the
// same Parsed when it can be served, so it is parsed once.
func (p *Parsed) XReadGroup() (*XReadGroupArgs, bool) {
	if w, ok := p.wargs.(*xreadgroupParsed); ok && !p.exec && p.err == "" {
		return &w.a, true
	}
	return nil, false
}

// XRead returns a parsed XREAD's arguments, shared (callers must not
// modify them), or false for any other value or one that runs through
// Exec.
func (p *Parsed) XRead() (*XReadArgs, bool) {
	if p.kind == parserXRead && !p.exec && p.err == "" {
		return &p.rd.xread, true
	}
	return nil, false
}

// kept is a parse's outcome as parseWrite returns it: the error, or the
// arguments, kept (wrap) only if keep. Inlined, so Check (keep false)
// allocates nothing.
func kept(err string, keep bool, wrap func() writeArgs) (writeArgs, string, bool) {
	if err != "" || !keep {
		return nil, err, false
	}
	return wrap(), "", false
}
