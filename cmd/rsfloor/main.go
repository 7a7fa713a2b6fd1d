// Command rsfloor is the floor of a durable write in Go, for
// docs/benchmarks.md: a minimal RESP server that answers an XADD once the
// command's bytes are written (pwrite) and flushed (fdatasync) to a
// zero-filled, preallocated file, the one-flush log raftstream writes,
// without Raft, a state machine or a stream. Run against redis-server
// (appendfsync always) and raftstream in the same rounds
// (cmd/rsbench/floor.sh), it shows how close any Go server gets to Redis
// on the machine, and what the goroutine hand-offs of a commit path cost.
//
// -mode picks the path of a write. Three modes serve each connection on its
// own goroutine (redcon), as raftstream does:
//
//   - inline: the connection's goroutine writes and flushes, then answers,
//     as Redis's one thread does. No hand-off.
//   - handoff: the connection hands the write to one writer goroutine, which
//     writes and flushes everything queued (group commit) and hands each
//     reply back. Two hand-offs, and the flush off the connection's
//     goroutine, as in any server that commits for many clients at once.
//   - chain: connection -> proposer -> writer -> applier -> connection, one
//     goroutine per stage as raftstream's single node has them (its
//     proposer, raft's leader loop, raft's FSM goroutine). Four hand-offs.
//
// chain-behind is chain with the flush moved to the reply: the writer only
// writes, and the connection's goroutine, once the applier has answered,
// flushes everything written so far (unless a flush that covers its write
// is under way) and replies. That is the path of a write on a lone
// raftstream node (cluster/DESIGN.md, "A lone voter flushes on reply").
//
// Two modes keep the goroutine per connection but let the goroutine that
// answers a write (handoff's writer, chain's applier) write the reply to
// the socket itself, so the connection's goroutine goes back to reading
// instead of waiting: direct and direct-chain.
//
// Three modes serve every connection from one goroutine in an epoll loop
// (loop.go), as Redis does, and commit each round's commands as one batch:
//
//   - loop: the loop writes and flushes the batch itself.
//   - loop-handoff: the loop hands the batch to the writer goroutine, which
//     wakes it through an eventfd once the batch is flushed.
//   - loop-chain: loop -> proposer -> writer -> applier -> loop, the chain
//     of raftstream's commit path behind an event loop.
//
// Two modes commit through a real one-voter raftstream node (raft.go, data
// in the -file path plus ".raft") instead of the file, without raftstream's
// server: raft behind a goroutine per connection, loop-raft behind the
// epoll loop.
//
// Other commands get +OK, except XLEN, DEL and UNLINK (:0), which the
// benchmark scripts send to probe and clean up.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rsfloor:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("rsfloor", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:6399", "address to serve RESP on")
	mode := fs.String("mode", "inline", "path of a write: inline, handoff, chain, chain-behind, direct, direct-chain, loop, loop-handoff, loop-chain, raft or loop-raft")
	path := fs.String("file", "rsfloor.log", "log file, created (or truncated) and zero-filled to -size; the raft modes keep their node's data in this path plus .raft")
	size := fs.Int64("size", 64<<20, "log file size in bytes; writes wrap around at the end")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := parseMode(*mode)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var l *flog
	if !m.raft() {
		if l, err = openLog(*path, *size); err != nil {
			return err
		}
		defer l.close()
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv, err := newServer(l, m, *path+".raft")
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		_ = srv.close()
	}()
	slog.Info("rsfloor serving", "addr", ln.Addr().String(), "mode", *mode, "file", *path)
	if err := srv.serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}
