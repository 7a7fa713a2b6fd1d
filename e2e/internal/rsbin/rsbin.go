// Package rsbin builds the raftstream binary that the end-to-end and fault
// tests start, once per test binary, honouring the environment both
// harnesses document: RAFTSTREAM_E2E_BIN names a prebuilt binary, and
// RAFTSTREAM_E2E_RACE=1 builds with the race detector (CI sets it).
package rsbin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Environment variables Build reads.
const (
	EnvBin  = "RAFTSTREAM_E2E_BIN"
	EnvRace = "RAFTSTREAM_E2E_RACE"
)

// Build returns the path of the binary to test: $RAFTSTREAM_E2E_BIN made
// absolute, or a fresh build of cmd/raftstream into dir. A build error
// carries the compiler's output.
func Build(dir string) (string, error) {
	if p := os.Getenv(EnvBin); p != "" {
		return filepath.Abs(p)
	}
	out := filepath.Join(dir, "raftstream")
	args := []string{"build", "-o", out}
	if os.Getenv(EnvRace) == "1" {
		args = append(args, "-race")
	}
	args = append(args, "github.com/raftstream/raftstream/cmd/raftstream")
	// go test puts $GOROOT/bin first on the test binary's PATH.
	cmd := exec.Command("go", args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, buf.String())
	}
	return out, nil
}
