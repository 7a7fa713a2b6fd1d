package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// versionLine is what `raftstream --version` prints: the version (set
// with -ldflags "-X main.version=..."; else the module version), the VCS
// commit the binary was built from and the Go toolchain. Builds without
// VCS stamping (-buildvcs=false, or outside a checkout) say so instead of
// a commit.
func versionLine(info *debug.BuildInfo, ok bool) string {
	v, commit, goVersion := version, "unknown (built without VCS information)", runtime.Version()
	if ok {
		goVersion = info.GoVersion
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		var rev, at string
		modified := false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			commit = rev
			if at != "" {
				commit += " (" + at + ")"
			}
			if modified {
				commit += ", with local changes"
			}
		}
	}
	return fmt.Sprintf("raftstream %s\ncommit: %s\ngo: %s %s/%s\n", v, commit, goVersion, runtime.GOOS, runtime.GOARCH)
}

// buildCommit is the short VCS commit for the startup log line, or "".
func buildCommit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value[:min(len(s.Value), 12)]
		}
	}
	return ""
}
