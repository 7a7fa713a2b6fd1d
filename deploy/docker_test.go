package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftstream/raftstream/internal/testports"
)

// Harness for the Docker tests: one image built per test run, compose
// projects with unique names torn down in t.Cleanup, redis-cli from the
// host against published loopback ports, and polling with deadlines.

const (
	// pollEvery is the pause between two checks of a condition.
	pollEvery = 200 * time.Millisecond
	// cliTimeout bounds one redis-cli run.
	cliTimeout = 20 * time.Second
	// composeTimeout bounds one docker or docker-compose command.
	composeTimeout = 3 * time.Minute
	// buildTimeout bounds building the image (a cold Go build included).
	buildTimeout = 10 * time.Minute
)

// dockerEnv is what the Docker tests need from the machine, checked once.
type dockerEnv struct {
	once sync.Once
	skip string // why the tests cannot run here; "" if they can

	buildOnce sync.Once
	image     string // tag of the image built for this run
	buildErr  error
}

// harness is set up by TestMain and read through requireDocker and
// testImage only.
var harness dockerEnv

func TestMain(m *testing.M) {
	code := m.Run()
	if harness.image != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, "docker", "rmi", "-f", harness.image).CombinedOutput()
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "deploy: removing image %s: %v: %s\n", harness.image, err, out)
		}
	}
	os.Exit(code)
}

// requireDocker skips t unless docker, docker-compose and redis-cli are
// installed and the Docker daemon answers.
func requireDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("Docker deployment tests are skipped in -short mode")
	}
	harness.once.Do(func() {
		for _, tool := range []string{"docker", "docker-compose", "redis-cli"} {
			if _, err := exec.LookPath(tool); err != nil {
				harness.skip = fmt.Sprintf("%s is not on PATH: the Docker deployment tests need docker, docker-compose and redis-cli (redis-tools)", tool)
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
		if err != nil {
			harness.skip = fmt.Sprintf("the Docker daemon is unreachable (docker info: %v: %s)", err, strings.TrimSpace(string(out)))
		}
	})
	if harness.skip != "" {
		t.Skip(harness.skip)
	}
}

// testImage builds the image with deploy/build-image.sh under a tag of
// its own, once per test run (TestMain removes it).
func testImage(t *testing.T) string {
	t.Helper()
	harness.buildOnce.Do(func() {
		tag := "raftstream:test-" + randomHex(t, 4)
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		start := time.Now()
		cmd := exec.CommandContext(ctx, "./build-image.sh", tag)
		cmd.Env = append(os.Environ(), "VERSION=test")
		out, err := cmd.CombinedOutput()
		if err != nil {
			harness.buildErr = fmt.Errorf("build-image.sh %s: %w\n%s", tag, err, out)
			return
		}
		harness.image = tag
		t.Logf("built image %s in %v", tag, time.Since(start).Round(time.Second))
	})
	if harness.buildErr != nil {
		t.Fatal(harness.buildErr)
	}
	return harness.image
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freePorts returns n loopback ports nobody listens on right now.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	ports, err := testports.Free(n)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ports {
		out = append(out, strconv.Itoa(p))
	}
	return out
}

// run runs a command and returns its standard output; the error of a
// failed run includes what it wrote to standard error. (Kept apart
// because docker-compose warns on stderr about things the test does not
// care about, which must not end up in parsed output.)
func run(timeout time.Duration, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = env
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := strings.TrimRight(stdout.String(), "\n")
	if err != nil {
		return out, &cmdError{cmd: name + " " + strings.Join(args, " "), err: err, stdout: out, stderr: strings.TrimSpace(stderr.String())}
	}
	return out, nil
}

// cmdError is a failed command with what it printed.
type cmdError struct {
	cmd, stdout, stderr string
	err                 error
}

func (e *cmdError) Error() string {
	return fmt.Sprintf("%s: %v: %s%s", e.cmd, e.err, e.stdout, e.stderr)
}

func (e *cmdError) Unwrap() error { return e.err }

// failureWord is the first words a failed command printed (for
// redis-cli, the error code of the reply, e.g. "TRYAGAIN no", or "Could
// not"), to tally failures by kind.
func failureWord(err error) string {
	var ce *cmdError
	if errors.As(err, &ce) {
		f := strings.Fields(ce.stderr + " " + ce.stdout)
		return strings.Join(f[:min(2, len(f))], " ")
	}
	return "error"
}

// project is one docker-compose project of the test.
type project struct {
	t        *testing.T
	name     string
	file     string
	profiles []string // named in down, so profile services go too
	env      []string
}

// newProject prepares a compose project with a unique name and registers
// its teardown: `down -v --remove-orphans`, then a check that no
// container, network or volume of the project is left (removing any that
// is, so a failed test leaves nothing behind either).
func newProject(t *testing.T, file string, env map[string]string, profiles ...string) *project {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	p := &project{t: t, name: "rstest" + randomHex(t, 4), file: abs, profiles: profiles}
	p.env = os.Environ()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.env = append(p.env, k+"="+env[k])
	}
	t.Cleanup(p.teardown)
	return p
}

func (p *project) compose(args ...string) (string, error) {
	full := append([]string{"--ansi", "never", "-p", p.name, "-f", p.file}, args...)
	return run(composeTimeout, p.env, "docker-compose", full...)
}

func (p *project) mustCompose(args ...string) string {
	p.t.Helper()
	out, err := p.compose(args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

func (p *project) teardown() {
	t := p.t
	if t.Failed() {
		if logs, err := p.compose(p.withProfiles("logs", "--no-color", "--tail", "150")...); err == nil {
			t.Logf("container logs of %s:\n%s", p.name, logs)
		}
	}
	if out, err := p.compose(p.withProfiles("down", "-v", "--remove-orphans", "-t", "10")...); err != nil {
		t.Errorf("teardown: %v\n%s", err, out)
	}
	left, err := projectResources(p.name)
	if err != nil {
		t.Errorf("teardown check: %v", err)
	}
	removeLeftovers(t, p.name, left)
}

// removeLeftovers fails t for each resource of project name in left and
// removes it, containers first (they hold the network and volumes).
func removeLeftovers(t *testing.T, name string, left map[string][]string) {
	t.Helper()
	for _, kind := range resourceKinds {
		ids := left[kind]
		if len(ids) == 0 {
			continue
		}
		t.Errorf("%s has %d %s(s) left: %v", name, len(ids), kind, ids)
		rm := append([]string{kind, "rm", "-f"}, ids...)
		if kind == "network" {
			rm = append([]string{kind, "rm"}, ids...)
		}
		if out, err := run(composeTimeout, nil, "docker", rm...); err != nil {
			t.Errorf("removing leftovers: %v: %s", err, out)
		}
	}
}

// resourceKinds are the Docker objects a compose project creates.
var resourceKinds = []string{"container", "network", "volume"}

// projectResources lists the IDs of the containers, networks and volumes
// that carry compose project name's label, by kind.
func projectResources(name string) (map[string][]string, error) {
	label := "label=com.docker.compose.project=" + name
	found := map[string][]string{}
	for _, kind := range resourceKinds {
		args := []string{kind, "ls", "-q", "--filter", label}
		if kind == "container" {
			args = []string{"ps", "-aq", "--filter", label}
		}
		out, err := run(composeTimeout, nil, "docker", args...)
		if err != nil {
			return found, err
		}
		found[kind] = strings.Fields(out)
	}
	return found, nil
}

func (p *project) withProfiles(args ...string) []string {
	var out []string
	for _, pr := range p.profiles {
		out = append(out, "--profile", pr)
	}
	return append(out, args...)
}

// container is the ID of service's container.
func (p *project) container(service string) string {
	p.t.Helper()
	id := strings.TrimSpace(p.mustCompose(p.withProfiles("ps", "-q", service)...))
	if id == "" {
		p.t.Fatalf("no container for %s", service)
	}
	return id
}

// network is the project's default network.
func (p *project) network() string { return p.name + "_default" }

// health is the Docker health status of service's container.
func (p *project) health(service string) string {
	out, err := run(composeTimeout, nil, "docker", "inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", p.container(service))
	if err != nil {
		return err.Error()
	}
	return out
}

// hostPort is the published host port of service's client port.
func (p *project) hostPort(service string) string {
	p.t.Helper()
	out := p.mustCompose("port", service, "6379")
	_, port, err := net.SplitHostPort(strings.TrimSpace(out))
	if err != nil {
		p.t.Fatalf("port of %s: %q", service, out)
	}
	return port
}

// cli runs redis-cli against a host port. -e makes an error reply fail.
func cli(port string, args ...string) (string, error) {
	return run(cliTimeout, nil, "redis-cli", append([]string{"-e", "-h", "127.0.0.1", "-p", port}, args...)...)
}

func mustCLI(t *testing.T, port string, args ...string) string {
	t.Helper()
	out, err := cli(port, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// info reads an INFO section as key/value pairs.
func info(port, section string) (map[string]string, error) {
	out, err := cli(port, "INFO", section)
	if err != nil {
		return nil, err
	}
	kv := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			kv[k] = v
		}
	}
	return kv, nil
}

// waitFor polls cond until it holds or timeout passes; cond says what it
// saw, for the failure message.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last seen: %s", timeout, what, seen)
		}
		time.Sleep(pollEvery)
	}
}

// isID reports whether s looks like a stream entry ID.
func isID(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return err1 == nil && err2 == nil
}

// entryIDs is the IDs of XRANGE key - + (its raw output has the ID, then
// field and value lines; the test's values never look like IDs).
func entryIDs(t *testing.T, port, key string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, line := range strings.Split(mustCLI(t, port, "XRANGE", key, "-", "+"), "\n") {
		if isID(line) {
			ids[line] = true
		}
	}
	return ids
}

// writer adds entries to a stream through the given ports in turn, from
// its own goroutine, and records the IDs acknowledged. Failed writes (a
// node being restarted, an election) are counted, not retried: only what
// was acknowledged must survive.
type writer struct {
	key   string
	ports []string
	stop  chan struct{}
	done  chan struct{}

	mu     sync.Mutex
	acked  []string
	failed int
	errs   map[string]int // first words of failures
}

// Light load: one write at a time with a pause between.
const writePause = 20 * time.Millisecond

func startWriter(key string, ports ...string) *writer {
	w := &writer{key: key, ports: ports, stop: make(chan struct{}), done: make(chan struct{}), errs: map[string]int{}}
	go w.loop()
	return w
}

func (w *writer) loop() {
	defer close(w.done)
	t := time.NewTicker(writePause)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		out, err := cli(w.ports[i%len(w.ports)], "XADD", w.key, "*", "n", "w"+strconv.Itoa(i))
		w.mu.Lock()
		if err == nil && isID(out) {
			w.acked = append(w.acked, out)
		} else {
			w.failed++
			w.errs[failureWord(err)]++
		}
		w.mu.Unlock()
	}
}

// halt stops the writer and returns what it saw.
func (w *writer) halt() (acked []string, failed int, errs map[string]int) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked, w.failed, w.errs
}

func (w *writer) ackedSoFar() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}
