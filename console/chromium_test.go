package console

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envScreenshot, if set, names a file the browser test also writes its
// screenshot to (how docs/console.png is made).
const envScreenshot = "RAFTSTREAM_CONSOLE_SCREENSHOT"

// chromium returns the headless browser's path, skipping t without one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium installed")
	return ""
}

// runChromium runs headless chromium with args against url.
func runChromium(t *testing.T, bin, url string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir() // chromium writes its profile and crash dumps here
	full := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--user-data-dir=" + filepath.Join(home, "profile"),
		"--virtual-time-budget=5000", "--window-size=1200,900"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(full, url)...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// TestConsoleInChromium loads the console in headless Chromium: the page's
// script must have fetched the JSON and rendered members, groups, the
// dead-letter count and the lag chart, and a screenshot must come out.
func TestConsoleInChromium(t *testing.T) {
	bin := chromium(t)
	_, c := demoSource(t)
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()

	dom := string(runChromium(t, bin, srv.URL+"/", "--dump-dom"))
	for _, want := range []string{
		"node n1 (leader)",             // header from /api/status
		"10.0.0.3:6379",                // members table
		"<td>jobs:dead</td>",           // dead-letter stream of the group
		`class="dead n"`,               // a non-zero dead-letter count
		"<polyline",                    // lag chart series
		"<span><i style=\"background:", // legend
	} {
		if !strings.Contains(dom, want) {
			t.Fatalf("rendered page lacks %q:\n%s", want, dom)
		}
	}
	if strings.Contains(dom, `id="err">cannot read status`) {
		t.Fatalf("the page could not read /api/status:\n%s", dom)
	}

	shot := filepath.Join(t.TempDir(), "console.png")
	runChromium(t, bin, srv.URL+"/", "--screenshot="+shot, "--hide-scrollbars")
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes, not a PNG", len(png))
	}
	if dst := os.Getenv(envScreenshot); dst != "" {
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
