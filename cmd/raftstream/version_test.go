package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	if version != "dev" {
		t.Skipf("built with -X main.version=%s", version)
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	vcs := []debug.BuildSetting{
		{Key: "-buildmode", Value: "exe"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-06T20:00:00Z"},
	}
	cases := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"vcs stamped", &debug.BuildInfo{GoVersion: "go1.24.1", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			true, "raftstream dev\ncommit: 0123456789abcdef0123456789abcdef01234567 (2026-12-06T20:00:00Z)\ngo: go1.24.1 " + platform + "\n"},
		{"local changes", &debug.BuildInfo{GoVersion: "go1.24.1", Settings: append(vcs[:len(vcs):len(vcs)], debug.BuildSetting{Key: "vcs.modified", Value: "true"})},
			true, "raftstream dev\ncommit: 0123456789abcdef0123456789abcdef01234567 (2026-12-06T20:00:00Z), with local changes\ngo: go1.24.1 " + platform + "\n"},
		{"-buildvcs=false", &debug.BuildInfo{GoVersion: "go1.24.1", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:1]},
			true, "raftstream dev\ncommit: unknown (built without VCS information)\ngo: go1.24.1 " + platform + "\n"},
		{"module version", &debug.BuildInfo{GoVersion: "go1.24.1", Main: debug.Module{Version: "v1.2.3"}},
			true, "raftstream v1.2.3\ncommit: unknown (built without VCS information)\ngo: go1.24.1 " + platform + "\n"},
		{"no build info", nil, false, "raftstream dev\ncommit: unknown (built without VCS information)\ngo: " + runtime.Version() + " " + platform + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionLine(tc.info, tc.ok); got != tc.want {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}
