package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/raftstream/raftstream/e2e/internal/rsbin"
	"github.com/raftstream/raftstream/internal/testports"
)

// Environment variables understood by the harness (see doc.go; the
// binary ones are read by rsbin.Build).
const (
	envTarget = "RAFTSTREAM_E2E_TARGET"
	envLogs   = "RAFTSTREAM_E2E_LOGS"
)

const (
	// readyTimeout bounds how long a process may take to answer PING and a
	// leader-backed read after it was started.
	readyTimeout = 60 * time.Second
	// stopTimeout bounds a graceful shutdown after SIGTERM.
	stopTimeout = 30 * time.Second
	// ioTimeout bounds every single request on a raw connection.
	ioTimeout = 10 * time.Second
	// startAttempts is how often a first start is retried with fresh ports
	// when the process dies before it is ready (e.g. a port was taken
	// between picking it and the process binding it).
	startAttempts = 4
)

// binaryBuild is the result of building cmd/raftstream once per test run.
type binaryBuild struct {
	once sync.Once
	dir  string // set by TestMain before any test runs
	path string
	err  error
}

// build is written by TestMain before tests start and by once.Do after that,
// so tests only ever read it through raftstreamBinary.
var build binaryBuild

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "raftstream-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		os.Exit(2)
	}
	build.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// raftstreamBinary returns the path of the raftstream binary, building it
// on first use. A build failure fails the calling test with the compiler
// output rather than skipping it: the product must build.
func raftstreamBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		start := time.Now()
		if build.path, build.err = rsbin.Build(build.dir); build.err != nil || os.Getenv(rsbin.EnvBin) != "" {
			return
		}
		fmt.Fprintf(os.Stderr, "e2e: built %s in %v\n", build.path, time.Since(start).Round(time.Millisecond))
	})
	if build.err != nil {
		t.Fatalf("building raftstream: %v", build.err)
	}
	return build.path
}

// targetIsRedis reports whether product tests should run against a
// reference redis-server (harness self-check) instead of raftstream.
func targetIsRedis() bool { return os.Getenv(envTarget) == "redis" }

// requireRedis skips t when redis-server is not installed, and returns its path.
func requireRedis(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH; install redis-server to run comparison tests")
	}
	return p
}

// Proc is one server process under test: a raftstream node or a reference
// redis-server. It can be stopped and started again on the same data dir and
// ports.
type Proc struct {
	t    testing.TB
	Kind string // "raftstream" or "redis"
	Name string
	// Dir is the data directory, kept across restarts.
	Dir string
	// Addr is the client (RESP) address; RaftAddr is raftstream's Raft
	// address (empty for redis).
	Addr, RaftAddr string

	bin  string
	args func(p *Proc) []string
	// pingOnly makes readiness mean "answers PING": cluster members that
	// are followers cannot serve the leader-backed probe read.
	pingOnly bool

	mu     sync.Mutex
	run    *running // nil when not started, and after Stop or Kill
	starts int
	logDir string
	logs   []string // one log file per start, in order
}

// running is one OS process of a Proc.
type running struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // exit status; read only after done is closed
}

// StartNode starts a fresh single-node raftstream cluster (or, with
// RAFTSTREAM_E2E_TARGET=redis, a reference redis-server) and registers its
// shutdown with t.Cleanup. extra flags are passed to raftstream only.
func StartNode(t testing.TB, extra ...string) *Proc {
	t.Helper()
	if targetIsRedis() {
		return StartRedis(t)
	}
	bin := raftstreamBinary(t)
	p := newProc(t, "raftstream", bin, func(p *Proc) []string {
		return append([]string{
			"--node-id", "n1",
			"--data-dir", p.Dir,
			"--listen", p.Addr,
			"--raft-listen", p.RaftAddr,
		}, extra...)
	})
	p.startFresh(2)
	return p
}

// StartRedis starts a reference redis-server with durable AOF settings
// (appendonly yes, appendfsync always) in its own temp dir. It skips t if
// redis-server is not installed.
func StartRedis(t testing.TB) *Proc {
	t.Helper()
	bin := requireRedis(t)
	p := newProc(t, "redis", bin, func(p *Proc) []string {
		_, port, _ := net.SplitHostPort(p.Addr)
		return []string{
			"--port", port,
			"--bind", "127.0.0.1",
			"--dir", p.Dir,
			"--appendonly", "yes",
			"--appendfsync", "always",
			"--save", "",
			"--daemonize", "no",
			"--protected-mode", "no",
			"--logfile", "",
		}
	})
	p.startFresh(1)
	return p
}

func newProc(t testing.TB, kind, bin string, args func(*Proc) []string) *Proc {
	t.Helper()
	// TempDir registers its removal before our cleanup, and cleanups run
	// last-in first-out: the process is dead before its directory goes.
	base := t.TempDir()
	p := &Proc{
		t:      t,
		Kind:   kind,
		Name:   kind,
		Dir:    filepath.Join(base, "data"),
		bin:    bin,
		args:   args,
		logDir: filepath.Join(base, "logs"),
	}
	for _, d := range []string{p.Dir, p.logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("mkdir %s: %v", d, err)
		}
	}
	t.Cleanup(p.cleanup)
	return p
}

// startFresh picks free ports and starts the process, retrying with new
// ports if it dies before becoming ready.
func (p *Proc) startFresh(nports int) {
	p.t.Helper()
	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		ports, err := freePorts(nports)
		if err != nil {
			p.t.Fatalf("picking ports: %v", err)
		}
		p.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		if nports > 1 {
			p.RaftAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
		}
		lastErr = p.tryStart()
		if lastErr == nil {
			return
		}
		var exited *exitedEarlyError
		if !errors.As(lastErr, &exited) {
			break
		}
		p.t.Logf("%s exited before it was ready (attempt %d, retrying with new ports): %v", p.Name, attempt+1, lastErr)
	}
	p.t.Fatalf("starting %s: %v\n%s", p.Name, lastErr, p.logTail(16<<10))
}

// Start starts the process again on the same data dir and ports after a
// Stop or Kill.
func (p *Proc) Start() {
	p.t.Helper()
	if err := p.tryStart(); err != nil {
		p.t.Fatalf("restarting %s: %v\n%s", p.Name, err, p.logTail(16<<10))
	}
}

// exitedEarlyError reports a process that died before it was ready.
type exitedEarlyError struct{ err error }

func (e *exitedEarlyError) Error() string { return fmt.Sprintf("process exited: %v", e.err) }

func (p *Proc) tryStart() error {
	p.mu.Lock()
	if p.run != nil {
		p.mu.Unlock()
		return errors.New("already running")
	}
	p.starts++
	logPath := filepath.Join(p.logDir, fmt.Sprintf("%s-%d.log", p.Name, p.starts))
	p.logs = append(p.logs, logPath)
	p.mu.Unlock()

	f, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating log: %w", err)
	}
	args := p.args(p)
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a ^C to `go test` must not reach the server
		// before the harness decides how to stop it.
		Setpgid: true,
		// If the test binary dies (timeout panic, kill), take the server
		// with it instead of leaking it.
		Pdeathsig: syscall.SIGKILL,
	}
	fmt.Fprintf(f, "### e2e: %s %s\n", p.bin, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("exec %s: %w", p.bin, err)
	}
	r := &running{cmd: cmd, log: f, done: make(chan struct{})}
	go func() {
		r.err = cmd.Wait()
		f.Close()
		close(r.done)
	}()
	p.mu.Lock()
	p.run = r
	p.mu.Unlock()

	started := time.Now()
	if err := waitReady(p.Addr, r.done, readyTimeout, p.pingOnly); err != nil {
		select {
		case <-r.done:
			p.mu.Lock()
			p.run = nil
			p.mu.Unlock()
			return &exitedEarlyError{err: r.err}
		default:
		}
		p.Kill()
		return err
	}
	p.t.Logf("%s (start %d) ready on %s after %v", p.Name, p.starts, p.Addr, time.Since(started).Round(time.Millisecond))
	return nil
}

// waitReady polls addr until it answers PING with PONG and (unless
// pingOnly) a read that needs a Raft leader (XLEN of an absent key) with an
// integer, the process exits, or the deadline passes.
func waitReady(addr string, exited <-chan struct{}, timeout time.Duration, pingOnly bool) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		last = probe(addr, pingOnly)
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w", addr, timeout, last)
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited while waiting for readiness: %w", last)
		case <-tick.C:
		}
	}
}

func probe(addr string, pingOnly bool) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	rc := newRawConn(c)
	rc.timeout = 2 * time.Second
	got, err := rc.Do("PING")
	if err != nil {
		return err
	}
	if string(got) != "+PONG\r\n" {
		return fmt.Errorf("PING: %q", got)
	}
	if pingOnly {
		return nil
	}
	got, err = rc.Do("XLEN", "__e2e_probe__")
	if err != nil {
		return err
	}
	if len(got) == 0 || got[0] != ':' {
		return fmt.Errorf("XLEN probe: %q", got)
	}
	return nil
}

// Stop sends sig (normally SIGTERM) and waits for the process to exit. It
// returns the exit status; a process that does not exit within stopTimeout
// is killed and reported as an error.
func (p *Proc) Stop(sig syscall.Signal) error {
	p.t.Helper()
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return errors.New("not running")
	}
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(stopTimeout):
		_ = r.cmd.Process.Kill()
		<-r.done
		p.clear(r)
		return fmt.Errorf("%s did not exit within %v of %v; killed", p.Name, stopTimeout, sig)
	}
	p.clear(r)
	return r.err
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	p.clear(r)
}

func (p *Proc) clear(r *running) {
	p.mu.Lock()
	if p.run == r {
		p.run = nil
	}
	p.mu.Unlock()
}

// Alive reports whether the current process is still running.
func (p *Proc) Alive() bool {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// RequireAlive fails t (with the log) if the process has died.
func (p *Proc) RequireAlive(t testing.TB) {
	t.Helper()
	if !p.Alive() {
		t.Fatalf("%s is not running any more\n%s", p.Name, p.logTail(16<<10))
	}
}

// cleanup stops the process: SIGTERM first so a clean shutdown is checked
// on every test (a non-zero exit, e.g. a race report, fails the test), then
// shows the logs if the test failed.
func (p *Proc) cleanup() {
	p.mu.Lock()
	r := p.run
	p.mu.Unlock()
	if r != nil {
		select {
		case <-r.done:
			p.t.Errorf("%s exited unexpectedly during the test: %v", p.Name, r.err)
			p.clear(r)
		default:
			if err := p.Stop(syscall.SIGTERM); err != nil {
				p.t.Errorf("%s: unclean shutdown on SIGTERM: %v", p.Name, err)
			}
		}
	}
	if p.t.Failed() {
		p.t.Logf("---- %s log (tail) ----\n%s", p.Name, p.logTail(32<<10))
	}
	if dir := os.Getenv(envLogs); dir != "" {
		p.keepLogs(dir)
	}
}

// keepLogs copies the logs to dir, named after the test.
func (p *Proc) keepLogs(dir string) {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(p.t.Name())
	for _, l := range p.logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(filepath.Join(dir, name+"-"+filepath.Base(l)), b, 0o644)
	}
}

// logTail returns the last max bytes of every log this Proc wrote.
func (p *Proc) logTail(max int) string {
	p.mu.Lock()
	logs := append([]string(nil), p.logs...)
	p.mu.Unlock()
	var b strings.Builder
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			fmt.Fprintf(&b, "[%s: %v]\n", l, err)
			continue
		}
		if len(data) > max {
			data = append([]byte("...\n"), data[len(data)-max:]...)
		}
		fmt.Fprintf(&b, "== %s ==\n%s\n", filepath.Base(l), data)
	}
	return b.String()
}

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago (testports: never 6379, never one the kernel hands to a bind to
// port 0).
func freePorts(n int) ([]int, error) { return testports.Free(n) }
