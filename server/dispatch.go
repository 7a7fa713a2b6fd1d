package server

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/tidwall/redcon"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
)

// call is one server command being executed.
type call struct {
	s    *Server
	cl   *client
	conn redcon.Conn
	argv [][]byte
	cmd  *command
	// w receives the reply.
	w *resp.Writer
	// quit closes the connection once the reply has been written.
	quit bool
	// write, if set instead of a reply, is what to commit through the log
	// (its DB and Proto are the client's); the reply is the commit's.
	// onCommit then learns the outcome.
	write    *cluster.Command
	onCommit func(ok bool)
	// inTxn: the command runs inside EXEC, where nothing may block.
	inTxn bool
	// blocked: the command waited (WAIT); SLOWLOG does not count waits.
	blocked bool
}

// slot is a reply of the current batch that cannot be written yet because
// an earlier write in the batch has not been committed: replies go out in
// request order.
type slot struct {
	w        pendingWrite // nil for a ready reply, stored in client.arena[off:end]
	off, end int
	cmd      *command
	argv     [][]byte // for SLOWLOG
	start    time.Time
	onCommit func(ok bool)
}

// handle is redcon's handler. redcon calls it for the first command of
// each batch read from the socket; the rest of the batch is taken with
// ReadPipeline, so consecutive writes are all proposed before any of them
// is waited for (group commit), and replies are written in order.
func (s *Server) handle(conn redcon.Conn, first redcon.Command) {
	cl, ok := conn.Context().(*client)
	if !ok {
		_ = conn.Close()
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("panic while executing a command; closing the connection",
				"client", cl.id, "panic", r, "stack", string(debug.Stack()))
			clear(cl.pending)
			cl.pending = cl.pending[:0]
			cl.arena = cl.arena[:0]
			s.flush(cl) // the replies before the panic
			_ = conn.Close()
		}
	}()
	rest := conn.ReadPipeline()
	var argv [][]byte
	argv, cl.room = cl.pc.sc.takeBig(first.Args)
	closeAfter := s.execute(conn, cl, argv)
	for i := 0; i < len(rest) && !closeAfter && cl.outErr == nil; i++ {
		argv, cl.room = cl.pc.sc.takeBig(rest[i].Args)
		closeAfter = s.execute(conn, cl, argv)
	}
	cl.room = nil
	s.drain(conn, cl)
	s.flush(cl)
	if cap(cl.w.Buf) > maxScratch {
		cl.w.Buf = nil
	}
	cl.barrierDone = false
	if closeAfter {
		_ = conn.Close()
	}
}

// execute routes one command. It reports whether the connection must be
// closed once the replies so far are written (QUIT, or a request that
// looks like a cross-protocol attack).
func (s *Server) execute(conn redcon.Conn, cl *client, argv [][]byte) bool {
	start := time.Now()
	cl.lastActive.Store(start.UnixNano())
	t := s.table()
	cmd := t.lookup(argv[0])
	if cmd == nil {
		var name string
		if len(argv[0]) <= 32 { // longer than any name checked below
			name = lower(argv[0])
		}
		if name == "post" || name == "host:" {
			// Redis's securityWarningCommand: an HTTP request sent to the
			// port, e.g. by a browser tricked into it. Drop the client.
			s.logger.Warn("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. " +
				"This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.")
			return true
		}
		if otherTypeCommands[name] {
			s.reject(conn, cl, nil, unsupportedCommandError(argv[0]))
			return false
		}
		if reason, ok := neverServed[name]; ok {
			s.reject(conn, cl, nil, neverServedError(argv[0], reason))
			return false
		}
		s.reject(conn, cl, nil, unknownCommandError(argv))
		return false
	}
	if len(cmd.Subcommands()) > 0 && len(argv) >= 2 {
		sub := cmd.Sub(argv[1])
		if sub == nil {
			s.reject(conn, cl, cmd, "ERR unknown subcommand '"+truncate(argv[1], 128)+"'. Try "+upper(argv[0])+" HELP.")
			return false
		}
		cmd = sub
	}
	if !engine.ArityOK(cmd.Info().Arity, len(argv)) {
		s.reject(conn, cl, cmd, "ERR wrong number of arguments for '"+cmd.Name()+"' command")
		return false
	}
	if !cl.authed.Load() && !cmd.HasFlag("no_auth") {
		s.reject(conn, cl, cmd, "NOAUTH Authentication required.")
		return false
	}
	// The ACL is checked here, on the node the client is connected to,
	// before a write is proposed or forwarded to the leader.
	if cl.authed.Load() {
		msg, gone := s.aclCheckClient(cl, cmd, argv)
		if gone {
			return true // the user was deleted: Redis kills its clients
		}
		if msg != "" {
			s.reject(conn, cl, cmd, msg)
			return false
		}
	}
	if s.loading() && !cmd.HasFlag("loading") {
		s.reject(conn, cl, cmd, loadingReply)
		return false
	}
	cl.mu.Lock()
	cl.lastCmd = cmd.Name()
	cl.mu.Unlock()
	cl.totCmds.Add(1)
	s.stats.commands.Add(1)
	if cl.inMulti() && !txnControl(cmd) {
		s.emit(conn, cl, cmd, nil, start, s.queueTxn(cl, cmd, argv)) // multi.go
		return false
	}
	handled, closeConn, parsed := s.runBlocking(conn, cl, cmd, argv, start)
	if handled {
		return closeConn // XREAD/XREADGROUP BLOCK: block.go
	}
	switch {
	case hookOf(cmd) != nil:
		return s.runServerCommand(conn, cl, cmd, argv, start)
	case cmd.Write():
		s.proposeWrite(conn, cl, cmd, cluster.Command{Argv: argv, Parsed: parsed}, argv, start, nil)
	default:
		s.runRead(conn, cl, cmd, argv, start, parsed != nil)
	}
	return false
}

// runServerCommand executes a command implemented by the server.
func (s *Server) runServerCommand(conn redcon.Conn, cl *client, cmd *command, argv [][]byte, start time.Time) bool {
	h := hookOf(cmd)
	if h.readsState {
		s.drain(conn, cl)
	}
	x := &call{s: s, cl: cl, conn: conn, argv: argv, cmd: cmd, w: cl.writer()}
	h.run(x)
	if x.write != nil {
		slow := x.write.Argv // what the log gets, for an ACL SETUSER
		if x.write.Kind != cluster.KindArgv {
			slow = argv
		}
		s.proposeWrite(conn, cl, cmd, *x.write, slow, start, x.onCommit)
		return false
	}
	if x.blocked {
		argv = nil // its wait is not execution time (SLOWLOG)
	}
	s.emit(conn, cl, cmd, argv, start, x.w.Buf)
	return x.quit
}

// proposeWrite checks a write's syntax and proposes it without waiting;
// its reply slot is filled when the batch is drained. slow is the argv
// SLOWLOG shows.
func (s *Server) proposeWrite(conn redcon.Conn, cl *client, cmd *command, c cluster.Command, slow [][]byte, start time.Time, onCommit func(bool)) {
	if msg := checkWrite(cmd, &c); msg != "" {
		s.emit(conn, cl, cmd, slow, start, errorBytes(msg))
		if onCommit != nil {
			onCommit(false)
		}
		return
	}
	cl.mu.Lock()
	db, proto, idem := cl.db, cl.proto, cl.idem
	cl.mu.Unlock()
	if idem && c.Kind == cluster.KindArgv {
		// The log gets the IDMP form; the slot (SLOWLOG) keeps what
		// the client sent.
		c.Argv, c.Parsed = s.autoIdempotent(cl, c.Argv, c.Parsed)
	}
	// argv needs no copy: redcon gives every request its own buffer and
	// never reuses it.
	// The room around a big argument goes with the first proposal of the
	// command it came with (a command proposed twice never shares it).
	c.DB, c.Proto, c.Room = uint8(db), uint8(proto), cl.room
	cl.room = nil
	p := s.be.Propose(c)
	cl.pending = append(cl.pending, slot{w: p, cmd: cmd, argv: slow, start: start, onCommit: onCommit})
}

// checkWrite validates a write before it is proposed, so that the log
// never holds one the state machine would refuse for its syntax: the
// error reply's text, or "". A transaction's queued commands are not
// checked: as in Redis, one that fails gets its error in EXEC's reply.
// An engine command is parsed through the registry entry its name was
// resolved to, once: the parsed value goes with the command (c.Parsed)
// to this node's apply of it; c.Parsed, if already set, is argv parsed
// before (blockingForm). What a server command proposes (ACL SETUSER) is
// checked by the engine and parsed again when applied.
func checkWrite(cmd *command, c *cluster.Command) string {
	switch c.Kind {
	case cluster.KindConfigSet:
		return engine.CheckConfigSet(c.Config)
	case cluster.KindTxn:
		return ""
	}
	if !isEngine(cmd) {
		return engine.Check(c.Argv)
	}
	p := c.Parsed
	if p == nil {
		p = parseWrite(cmd, c.Argv)
	}
	if msg := p.Err(); msg != "" {
		return msg
	}
	c.Parsed = p
	return ""
}

// parseWrite parses an engine write for the log and this node's apply.
func parseWrite(cmd *command, argv [][]byte) *engine.Parsed {
	p := new(engine.Parsed)
	cmd.ParseInto(p, argv)
	return p
}

// autoIdempotent applies the connection's automatic idempotency to a
// write about to be proposed or queued in MULTI, and counts what it did.
//
// p, if not nil, is argv parsed; q is then out parsed (p itself if argv
// was not rewritten).
func (s *Server) autoIdempotent(cl *client, argv [][]byte, p *engine.Parsed) (out [][]byte, q *engine.Parsed) {
	out, q, rewritten, unnamed := cl.autoIdempotent(argv, p)
	switch {
	case rewritten:
		s.stats.autoIdemXAdds.Add(1)
	case unnamed:
		s.stats.autoIdemUnnamed.Add(1)
	}
	return out, q
}

// runRead executes an engine read. Earlier writes of the batch are
// committed first so the read sees them; one read barrier per batch makes
// the batch's reads linearizable (every request in it arrived before the
// barrier was taken).
//
// parsed reports that argv is already parsed into cl.parsed (blockingForm
// looked at it).
func (s *Server) runRead(conn redcon.Conn, cl *client, cmd *command, argv [][]byte, start time.Time, parsed bool) {
	s.drain(conn, cl)
	if !cl.barrierDone {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
		err := s.readBarrier(ctx, cl)
		cancel()
		if err != nil {
			s.emit(conn, cl, cmd, argv, start, errorBytes(readError(err, s.be.Status())))
			return
		}
		cl.barrierDone = true
	}
	w := cl.writer()
	// Parsed once, here and outside the state's read lock; a syntax
	// error is answered without looking at the state.
	p := &cl.parsed
	if !parsed {
		cmd.ParseInto(p, argv)
	}
	defer p.Reset() // holds argv
	if msg := p.Err(); msg != "" {
		w.WriteError(msg)
		s.emit(conn, cl, cmd, argv, start, w.Buf)
		return
	}
	db := cl.getDB()
	s.be.Read(func(st *engine.State) {
		now := time.Now().UnixMilli()
		if c := st.Clock(); c > now {
			now = c
		}
		st.RunParsed(&engine.Ctx{DB: db, Now: now, W: w}, p)
	})
	s.emit(conn, cl, cmd, argv, start, w.Buf)
}

// emit sends the reply of an executed command, or queues it behind the
// batch's uncommitted writes. argv is nil for replies SLOWLOG must not
// see (queued in MULTI, the end of a blocking wait).
func (s *Server) emit(conn redcon.Conn, cl *client, cmd *command, argv [][]byte, start time.Time, reply []byte) {
	d := time.Since(start)
	s.recordCall(cmd, d, reply)
	s.slowlog.observe(cl, cmd, argv, d)
	s.send(conn, cl, reply)
}

// reject sends the error for a command refused before execution (unknown,
// wrong arity, not authenticated). cmd is nil for unknown commands.
func (s *Server) reject(conn redcon.Conn, cl *client, cmd *command, msg string) {
	if cmd != nil {
		s.table().stat(cmd).rejected.Add(1)
	}
	s.stats.recordError(errorCode(msg))
	txnRejected(cl)
	s.send(conn, cl, errorBytes(msg))
}

// send writes a ready reply, or queues it if writes are pending.
func (s *Server) send(conn redcon.Conn, cl *client, reply []byte) {
	if len(cl.pending) == 0 {
		s.write(cl, reply)
		return
	}
	off := len(cl.arena)
	cl.arena = append(cl.arena, reply...)
	cl.pending = append(cl.pending, slot{off: off, end: len(cl.arena)})
}

// drain waits for the batch's proposed writes in order and writes every
// queued reply.
func (s *Server) drain(conn redcon.Conn, cl *client) {
	if len(cl.pending) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommandTimeout)
	defer cancel()
	for i := range cl.pending {
		sl := &cl.pending[i]
		if sl.w == nil {
			s.write(cl, cl.arena[sl.off:sl.end])
			continue
		}
		res, err := sl.w.Wait(ctx)
		reply := res.RESP
		var index uint64
		if err != nil {
			reply = errorBytes(writeError(err, s.be.Status()))
		} else if iw, ok := sl.w.(indexedWrite); ok {
			index = iw.Index()
		}
		d := time.Since(sl.start)
		s.recordCall(sl.cmd, d, reply)
		s.slowlog.observe(cl, sl.cmd, sl.argv, d)
		s.writeShowing(cl, reply, index)
		if sl.onCommit != nil {
			sl.onCommit(err == nil && res.Outcome != cluster.OutcomeError)
		}
	}
	clear(cl.pending)
	cl.pending = cl.pending[:0]
	if cap(cl.arena) > 1<<20 {
		cl.arena = nil
	} else {
		cl.arena = cl.arena[:0]
	}
}

// recordCall updates INFO commandstats and errorstats for a command
// executed in d.
func (s *Server) recordCall(cmd *command, d time.Duration, reply []byte) {
	st := s.table().stat(cmd)
	st.calls.Add(1)
	st.usec.Add(d.Microseconds())
	if isErrorReply(reply) {
		st.failed.Add(1)
		s.stats.recordError(errorCode(string(reply[1:])))
	}
}

func isErrorReply(b []byte) bool { return len(b) > 0 && b[0] == '-' }

// errorBytes encodes an error reply; msg starts with its code.
func errorBytes(msg string) []byte {
	b := make([]byte, 0, len(msg)+3)
	b = append(b, '-')
	b = append(b, sanitizeLine(msg)...)
	return append(b, '\r', '\n')
}

// errorCode is the first word of an error message, e.g. "ERR", "NOGROUP".
func errorCode(msg string) string {
	for i := 0; i < len(msg); i++ {
		if msg[i] == ' ' || msg[i] == '\r' || msg[i] == '\n' {
			return msg[:i]
		}
	}
	return msg
}

// unknownCommandError builds Redis's reply to an unknown command: the
// name and the first arguments, each cut to fit 128 bytes in all.
func unknownCommandError(argv [][]byte) string {
	args := make([]byte, 0, 64)
	for i := 1; i < len(argv) && len(args) < 128; i++ {
		args = append(args, '\'')
		args = append(args, truncate(argv[i], 128-len(args)+1)...)
		args = append(args, '\'', ' ')
	}
	return "ERR unknown command '" + truncate(argv[0], 128) + "', with args beginning with: " + string(args)
}

// unsupportedCommandError is the reply to commands of Redis data types
// other than streams.
func unsupportedCommandError(name []byte) string {
	return "ERR unsupported command '" + truncate(name, 128) + "': raftstream keys hold only streams"
}
