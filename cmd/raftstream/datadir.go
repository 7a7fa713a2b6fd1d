package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/raftstream/raftstream/cluster"
)

const migrateUsage = `Usage: raftstream migrate-log --data-dir DIR

Moves the Raft log of a stopped node from raft-boltdb (raft.db, the store of
data dirs made before raft-wal became the default) to raft-wal (wal/ and
stable.db). Every entry is copied, read back and compared before the new log
is put in place; raft.db is kept as raft.db.migrated and never read again.
Run it with the node stopped; start the node afterwards as before.

Flags:
`

const checkUsage = `Usage: raftstream check --data-dir DIR

Verifies a stopped node's data dir offline: every Raft log entry must read
back intact (a wal log checksums every entry) and every snapshot must match
its checksum. Exits 0 and prints a summary when all is well, 1 naming the
damaged file otherwise.

Flags:
`

// runDataDirTool runs migrate-log or check: offline tools over a data dir.
func runDataDirTool(ctx context.Context, name string, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "./data", "the node's data dir")
	fs.Usage = func() {
		if name == "check" {
			fmt.Fprint(fs.Output(), checkUsage)
		} else {
			fmt.Fprint(fs.Output(), migrateUsage)
		}
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	if err := applyEnv(fs, lookup); err != nil {
		fmt.Fprintf(stderr, "raftstream %s: %v\n", name, err)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "raftstream %s: unexpected arguments: %q\n", name, fs.Args())
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if name == "check" {
		summary, err := cluster.CheckDataDir(*dataDir, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ok: %s\n", summary)
		return nil
	}
	if err := cluster.MigrateLog(ctx, *dataDir, log); err != nil {
		return fmt.Errorf("migrate-log: %w", err)
	}
	fmt.Fprintf(stdout, "migrated %s to the wal log store; the old log is kept as raft.db.migrated\n", *dataDir)
	return nil
}
