package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/internal/respclient"
)

const backupUsage = `Usage: raftstream backup --from HOST:PORT --out FILE [flags]

Takes a consistent backup of a live cluster through any node's client port
(RAFT BACKUP): every write acknowledged before the backup starts is in it;
writes carry on meanwhile. The file holds the replicated state (streams,
consumer groups, consumers, pending entries, stream configuration) with a
checksummed header, but not the cluster's membership. It is written under
a temporary name, read back and verified, then renamed to FILE.
Restore it with 'raftstream restore'.

Flags:
`

const restoreUsage = `Usage: raftstream restore --in FILE --data-dir DIR [--node-id ID] [--raft-advertise ADDR]

Verifies a backup made by 'raftstream backup' and seeds DIR (which must be
empty or not exist) with a new single-node cluster holding the backup's
state: its only voter is --node-id at --raft-advertise. Start the node on
DIR with that node ID and Raft address; other nodes join it with --join as
usual. A damaged or truncated backup is refused and DIR is left untouched.

Flags:
`

const recoverUsage = `Usage: raftstream recover --force-new-cluster --data-dir DIR [--node-id ID] [--raft-advertise ADDR]

Offline recovery for a cluster that lost its majority for good. Rewrites
the Raft configuration of this stopped node's data dir to a single-voter
cluster of itself, keeping every entry its log holds; start it as before,
then have the other nodes join it on empty data dirs. Entries that only
the lost nodes had are gone. Run it on ONE survivor only (the most
up-to-date one): two survivors forced into clusters of their own diverge
for good. See docs/operations.md, "Recovering from a lost majority".

Flags:
`

// backupOptions are the backup subcommand's settings.
type backupOptions struct {
	from, out      string
	user, password string
	timeout        time.Duration
	tls            bool
	cacert         string
	cert, key      string
	sni            string
	insecure       bool
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	var o backupOptions
	fs.StringVar(&o.from, "from", "", "client address (host:port) of any node of the cluster (default: $RAFTSTREAM_LISTEN with a wildcard host made 127.0.0.1, else 127.0.0.1:6379)")
	fs.StringVar(&o.out, "out", "", "file to write the backup to (required; replaced if it exists)")
	fs.StringVar(&o.user, "user", "", "user name for AUTH (with --password)")
	fs.StringVar(&o.password, "password", "", "password for AUTH (default: $RAFTSTREAM_REQUIREPASS)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up when the node does not answer (or the stream stalls) for this long")
	fs.BoolVar(&o.tls, "tls", false, "connect over TLS (to the node's --tls-port)")
	fs.StringVar(&o.cacert, "cacert", "", "PEM CA certificates to verify the server with (default: the system's)")
	fs.StringVar(&o.cert, "cert", "", "PEM client certificate, for --tls-auth-clients yes")
	fs.StringVar(&o.key, "key", "", "PEM private key of --cert")
	fs.StringVar(&o.sni, "sni", "", "server name to verify (default: the host of --from)")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server's certificate")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), backupUsage)
		fs.PrintDefaults()
	}
	if err := parseToolFlags(fs, args, stderr, nil); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	// The node's own environment, as the probe subcommands read it, so
	// that inside a node's container no flags are needed but --out.
	var po probeOptions
	po.fillFromEnv(fs, envOrNone(lookup))
	if !given["from"] {
		o.from = po.addr
	}
	if !given["password"] {
		o.password = po.password
	}
	if o.out == "" {
		fmt.Fprintln(stderr, "raftstream backup: --out is required")
		return errUsage
	}
	start := time.Now()
	h, err := backupTo(ctx, o)
	if err != nil {
		return fmt.Errorf("backup from %s: %w", o.from, err)
	}
	fmt.Fprintf(stdout, "backup of %s written to %s: log index %d, term %d, %d bytes, CRC-32C %08x, verified; took %v\n",
		o.from, o.out, h.Index, h.Term, h.Size(), h.CRC, time.Since(start).Round(time.Millisecond))
	return nil
}

// parseToolFlags parses an offline or client tool's flags and rejects
// positional arguments.
func parseToolFlags(fs *flag.FlagSet, args []string, stderr io.Writer, lookup func(string) (string, bool)) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	if err := applyEnv(fs, lookup); err != nil {
		fmt.Fprintf(stderr, "raftstream %s: %v\n", fs.Name(), err)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "raftstream %s: unexpected arguments: %q\n", fs.Name(), fs.Args())
		return errUsage
	}
	return nil
}

func (o backupOptions) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: o.timeout}
	if !o.tls {
		c, err := d.DialContext(ctx, "tcp", o.from)
		if err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		return c, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.sni, InsecureSkipVerify: o.insecure} //nolint:gosec // --insecure is the operator's explicit choice
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(o.from)
		if err != nil {
			return nil, fmt.Errorf("--from %q: %w", o.from, err)
		}
		cfg.ServerName = host
	}
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			return nil, fmt.Errorf("read --cacert: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s holds no PEM certificate", o.cacert)
		}
	}
	if o.cert != "" || o.key != "" {
		pair, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, fmt.Errorf("load --cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	td := tls.Dialer{NetDialer: &d, Config: cfg}
	c, err := td.DialContext(ctx, "tcp", o.from)
	if err != nil {
		return nil, fmt.Errorf("connect over TLS: %w", err)
	}
	return c, nil
}

// backupTo runs RAFT BACKUP and writes the reply to o.out through a
// temporary file that is synced, verified and then renamed into place, so
// o.out is either the previous file or a complete, verified backup.
func backupTo(ctx context.Context, o backupOptions) (cluster.BackupHeader, error) {
	conn, err := o.dial(ctx)
	if err != nil {
		return cluster.BackupHeader{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c := respclient.New(conn, 1<<20, o.timeout)
	if o.password != "" {
		args := []string{"AUTH", o.password}
		if o.user != "" {
			args = []string{"AUTH", o.user, o.password}
		}
		if _, err := c.DoString(args...); err != nil {
			return cluster.BackupHeader{}, fmt.Errorf("AUTH: %w", err)
		}
	}
	// The node's read barrier and first encoding pass come before the
	// first byte; the stream then must not stall for o.timeout.
	c.AppendStrings("RAFT", "BACKUP")
	if err := c.Flush(); err != nil {
		return cluster.BackupHeader{}, fmt.Errorf("send RAFT BACKUP: %w", err)
	}
	line, err := c.ReadLine()
	if err != nil {
		return cluster.BackupHeader{}, fmt.Errorf("read RAFT BACKUP reply: %w", err)
	}
	switch {
	case strings.HasPrefix(line, "-"):
		return cluster.BackupHeader{}, fmt.Errorf("RAFT BACKUP: %w", respclient.Error(line[1:]))
	case !strings.HasPrefix(line, "$"):
		return cluster.BackupHeader{}, fmt.Errorf("RAFT BACKUP: unexpected reply %q", truncateLine(line))
	}
	size, err := strconv.ParseInt(line[1:], 10, 64)
	if err != nil || size < cluster.BackupHeaderLen {
		return cluster.BackupHeader{}, fmt.Errorf("RAFT BACKUP: bad reply length %q", truncateLine(line))
	}

	tmp, err := os.CreateTemp(filepath.Dir(o.out), filepath.Base(o.out)+".*.tmp")
	if err != nil {
		return cluster.BackupHeader{}, fmt.Errorf("create the backup file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	body := &deadlineReader{r: c.Reader(), conn: conn, idle: o.timeout}
	n, err := io.Copy(tmp, io.LimitReader(body, size))
	if err != nil {
		return cluster.BackupHeader{}, fmt.Errorf("receive the backup (%d of %d bytes): %w", n, size, err)
	}
	if n != size {
		return cluster.BackupHeader{}, fmt.Errorf("receive the backup: the stream ended after %d of %d bytes", n, size)
	}
	if crlf, err := c.ReadLine(); err != nil || crlf != "" {
		return cluster.BackupHeader{}, fmt.Errorf("receive the backup: the reply is not terminated (%v)", err)
	}
	if err := tmp.Sync(); err != nil {
		return cluster.BackupHeader{}, fmt.Errorf("sync the backup file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return cluster.BackupHeader{}, fmt.Errorf("close the backup file: %w", err)
	}
	// Read it back from disk: what was written is what is checked.
	h, err := cluster.VerifyBackupFile(tmp.Name())
	if err != nil {
		return h, fmt.Errorf("the received backup does not verify: %w", err)
	}
	if err := os.Rename(tmp.Name(), o.out); err != nil {
		return h, fmt.Errorf("rename the backup into place: %w", err)
	}
	done = true
	if d, err := os.Open(filepath.Dir(o.out)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return h, nil
}

func truncateLine(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// deadlineReader pushes the connection's deadline forward on every read,
// so a large backup may take as long as it needs while a stalled one
// fails after idle.
type deadlineReader struct {
	r    io.Reader
	conn net.Conn
	idle time.Duration
	last time.Time
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(d.last) > time.Second {
		d.last = now
		if err := d.conn.SetDeadline(now.Add(d.idle)); err != nil {
			return 0, err
		}
	}
	return d.r.Read(p)
}

func runRestore(_ context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	host, _ := os.Hostname()
	in := fs.String("in", "", "backup file made by 'raftstream backup' (required)")
	dataDir := fs.String("data-dir", "", "data dir to create for the new node (required; must be empty or not exist)")
	nodeID := fs.String("node-id", host, "node ID the new node will run with (its --node-id)")
	advertise := fs.String("raft-advertise", "127.0.0.1:7379", "Raft address the new node will advertise (its --raft-advertise, or --raft-listen when that names a host)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), restoreUsage)
		fs.PrintDefaults()
	}
	if err := parseToolFlags(fs, args, stderr, restoreEnv(lookup)); err != nil {
		return err
	}
	if *in == "" || *dataDir == "" {
		fmt.Fprintln(stderr, "raftstream restore: --in and --data-dir are required")
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	start := time.Now()
	h, err := cluster.RestoreBackup(*in, *dataDir, *nodeID, *advertise, log)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s (log index %d, term %d, %d bytes, taken %s) into %s as a new single-node cluster of %q at %s in %v\n"+
		"start it with: raftstream --data-dir %s --node-id %s --raft-advertise %s ...\n",
		*in, h.Index, h.Term, h.Size(), h.Created.UTC().Format(time.RFC3339), *dataDir, *nodeID, *advertise,
		time.Since(start).Round(time.Millisecond), *dataDir, *nodeID, *advertise)
	return nil
}

// restoreEnv lets the offline tools read only the data dir and node
// identity from the node's environment, never the file names.
func restoreEnv(lookup func(string) (string, bool)) func(string) (string, bool) {
	if lookup == nil {
		return nil
	}
	return func(name string) (string, bool) {
		switch name {
		case envName("data-dir"), envName("node-id"), envName("raft-advertise"):
			return lookup(name)
		}
		return "", false
	}
}

func runRecover(_ context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) error {
	fs := flag.NewFlagSet("recover", flag.ContinueOnError)
	host, _ := os.Hostname()
	dataDir := fs.String("data-dir", "./data", "data dir of the stopped surviving node")
	force := fs.Bool("force-new-cluster", false, "required: make this node's data dir a single-voter cluster of itself")
	nodeID := fs.String("node-id", host, "this node's ID (its --node-id)")
	advertise := fs.String("raft-advertise", "", "Raft address to record for this node (default: its address in the old configuration)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), recoverUsage)
		fs.PrintDefaults()
	}
	if err := parseToolFlags(fs, args, stderr, restoreEnv(lookup)); err != nil {
		return err
	}
	if !*force {
		fmt.Fprintln(stderr, "raftstream recover: --force-new-cluster is required (read the usage: it discards the other members)")
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	summary, err := cluster.ForceNewCluster(*dataDir, *nodeID, *advertise, log)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	fmt.Fprintf(stdout, "%s\nstart the node as before; then start the other nodes on EMPTY data dirs with --join\n", summary)
	return nil
}

// envOrNone is lookup, or an empty environment when it is nil.
func envOrNone(lookup func(string) (string, bool)) func(string) (string, bool) {
	if lookup == nil {
		return func(string) (string, bool) { return "", false }
	}
	return lookup
}
