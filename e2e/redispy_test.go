package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// systemPython is Debian's interpreter, which is where python3-redis is
// installed; the python3 on PATH may be a different one without redis.
const systemPython = "/usr/bin/python3"

// TestRedisPy runs testdata/redispy_check.py against the node with
// redis-py's default protocol (RESP3 from redis-py 5 on, RESP2 before) and
// with protocol 2 and 3 explicitly where this redis-py supports choosing.
func TestRedisPy(t *testing.T) {
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("%s not found", systemPython)
	}
	if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err != nil {
		t.Skipf("redis-py not importable by %s (install python3-redis): %v\n%s", systemPython, err, out)
	}
	p := StartNode(t)
	_, port, _ := net.SplitHostPort(p.Addr)
	for _, proto := range []string{"default", "2", "3"} {
		t.Run("protocol-"+proto, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, systemPython, "testdata/redispy_check.py", port, proto)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case err == nil:
				t.Logf("%s", out)
			case errors.As(err, &exit) && exit.ExitCode() == 3:
				t.Skipf("%s", out)
			default:
				t.Fatalf("redispy_check.py %s: %v\n%s", proto, err, out)
			}
		})
	}
	p.RequireAlive(t)
}
