package deploy

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// failingModeEnv tells TestFailingProject, run in a child process, how to
// fail; unset, it skips.
const failingModeEnv = "RAFTSTREAM_DEPLOY_FAILING_MODE"

// TestTeardownWhenATestFails proves the promise of newProject: a test
// that fails, or panics, with a compose project up leaves no container,
// network or volume of it behind. The failing test runs in a child
// process (this test binary) so that its failure is observed, not
// suffered.
func TestTeardownWhenATestFails(t *testing.T) {
	requireDocker(t)
	image := testImage(t)
	for _, mode := range []string{"fatal", "panic"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFailingProject$", "-test.v", "-test.count=1", "-test.timeout=5m")
			cmd.Env = append(os.Environ(), failingModeEnv+"="+mode, "RAFTSTREAM_IMAGE="+image)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the failing test must exit non-zero; got %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "deliberate "+mode) {
				t.Fatalf("the child did not fail the intended way (%v):\n%s", err, out)
			}
			m := regexp.MustCompile(`project (rstest[0-9a-f]+) up with (\d+) container\(s\), (\d+) network\(s\), (\d+) volume\(s\)`).FindStringSubmatch(string(out))
			if m == nil || m[2] == "0" || m[3] == "0" || m[4] == "0" {
				t.Fatalf("the child did not report a project with a container, network and volume up:\n%s", out)
			}
			left, err := projectResources(m[1])
			if err != nil {
				t.Fatal(err)
			}
			removeLeftovers(t, m[1], left)
			if t.Failed() {
				return
			}
			t.Logf("child failed by %s (%v) in %v; %s: nothing left", mode, exit, time.Since(start).Round(100*time.Millisecond), m[1])
		})
	}
}

// TestFailingProject brings a compose project up and fails with it up.
// It only runs as TestTeardownWhenATestFails's child.
func TestFailingProject(t *testing.T) {
	mode := os.Getenv(failingModeEnv)
	if mode == "" {
		t.Skip("runs only as the child of TestTeardownWhenATestFails")
	}
	requireDocker(t)
	p := newProject(t, "compose/k8s-sim.yml", map[string]string{"RAFTSTREAM_IMAGE": os.Getenv("RAFTSTREAM_IMAGE")})
	p.mustCompose("up", "-d", "raftstream-0")
	have, err := projectResources(p.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("project %s up with %d container(s), %d network(s), %d volume(s)", p.name, len(have["container"]), len(have["network"]), len(have["volume"]))
	switch mode {
	case "fatal":
		t.Fatal("deliberate fatal")
	case "panic":
		panic("deliberate panic")
	default:
		t.Fatalf("unknown %s %q", failingModeEnv, mode)
	}
}
