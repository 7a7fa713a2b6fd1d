package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a config file into a temp dir and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "raftstream.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigFile: Redis names and flag names set the options, memory
// values take units, bind and port make --listen, and a flag on the
// command line or in the environment wins over the file.
func TestConfigFile(t *testing.T) {
	path := writeConfig(t, `# raftstream node 1
port 6390
bind 127.0.0.2
dir /var/lib/raftstream   # not a comment: a second argument
`)
	if _, err := parseFlagsEnv([]string{"--config", path}, &bytes.Buffer{}, nil); !errors.Is(err, errUsage) {
		t.Fatalf("dir with two arguments: %v", err)
	}

	path = writeConfig(t, `# raftstream node 1
port 6390
bind 127.0.0.2
dir "/var/lib/raft stream"
requirepass "s3cr\"et"
protected-mode no
maxclients 77
proto-max-bulk-len 2mb
maxmemory-clients 1gb
client-output-buffer-limit normal 1mb 512kb 10
client-output-buffer-limit pubsub 64mb 16mb 60
slowlog-log-slower-than 0
slowlog-max-len 9
loglevel warning
appendonly yes
save ""
  raft-advertise 10.0.0.1:7000
leader-wait 3s
insecure-peers yes
snapshot-threshold 100
node-id n7
`)
	o, err := parseFlagsEnv([]string{"--config", path, "--maxclients", "88"}, &bytes.Buffer{},
		func(k string) (string, bool) {
			if k == "RAFTSTREAM_SNAPSHOT_THRESHOLD" {
				return "200", true
			}
			return "", false
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"listen", o.server.Addr, "127.0.0.2:6390"},
		{"data dir", o.node.DataDir, "/var/lib/raft stream"},
		{"requirepass", o.server.RequirePass, `s3cr"et`},
		{"join password", o.node.JoinPassword, `s3cr"et`},
		{"protected mode off", o.server.NoProtectedMode, true},
		{"maxclients (command line wins)", o.server.MaxClients, 88},
		{"proto-max-bulk-len", o.server.MaxBulkLen, int64(2 << 20)},
		{"maxmemory-clients", o.server.MaxMemoryClients, int64(1 << 30)},
		{"client-output-buffer-limit", o.server.ClientOutputBufferLimit, "normal 1mb 512kb 10 pubsub 64mb 16mb 60"},
		{"slowlog-log-slower-than", *o.server.SlowlogSlowerThan, int64(0)},
		{"slowlog-max-len", *o.server.SlowlogMaxLen, int64(9)},
		{"loglevel", o.logLevel, "warn"},
		{"raft-advertise", o.node.RaftAdvertise, "10.0.0.1:7000"},
		{"leader-wait", o.node.LeaderWait, 3 * time.Second},
		{"snapshot-threshold (environment wins)", o.node.SnapshotThreshold, uint64(200)},
		{"node-id", o.node.NodeID, "n7"},
		{"config file is absolute", o.server.ConfigFile, path},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	// The command line's --listen wins over bind and port; port alone
	// keeps the default host.
	o, err = parseFlagsEnv([]string{"--config", path, "--listen", "127.0.0.1:7000"}, &bytes.Buffer{}, nil)
	if err != nil || o.server.Addr != "127.0.0.1:7000" {
		t.Errorf("--listen over the file: %q, %v", o.server.Addr, err)
	}
	o, err = parseFlagsEnv([]string{"--config", writeConfig(t, "port 6391\n")}, &bytes.Buffer{}, nil)
	if err != nil || o.server.Addr != "127.0.0.1:6391" {
		t.Errorf("port alone: %q, %v", o.server.Addr, err)
	}
	// A percentage of maxmemory (0 here), as CONFIG REWRITE writes one
	// CONFIG SET took: no limit.
	o, err = parseFlagsEnv([]string{"--config", writeConfig(t, "maxmemory-clients 5%\nbind *\n")}, &bytes.Buffer{}, nil)
	if err != nil || o.server.MaxMemoryClients != 0 || o.server.Addr != "0.0.0.0:6379" {
		t.Errorf("maxmemory-clients 5%%, bind *: %d %q, %v", o.server.MaxMemoryClients, o.server.Addr, err)
	}
}

// TestConfigFileErrors: a bad line stops the start with Redis's report,
// naming the file and the line.
func TestConfigFileErrors(t *testing.T) {
	cases := []struct {
		text   string
		line   int
		reason string
	}{
		{"# ok\nfoo bar\n", 2, "Bad directive or wrong number of arguments"},
		{"port\n", 1, "Bad directive or wrong number of arguments"},
		{"maxclients 1 2\n", 1, "Bad directive or wrong number of arguments"},
		{"config other.conf\n", 1, "Bad directive or wrong number of arguments"},
		{"port \"6379\n", 1, "Unbalanced quotes in configuration line"},
		{"port 70000\n", 1, "Invalid port"},
		{"bind 127.0.0.1 -::1\n", 1, "raftstream listens on one address: give bind one address"},
		{"protected-mode maybe\n", 1, "argument must be 'yes' or 'no'"},
		{"maxclients abc\n", 1, "argument couldn't be parsed into an integer"},
		{"proto-max-bulk-len 1zb\n", 1, "argument must be a memory value"},
		{"leader-wait soon\n", 1, "argument must be a duration (500ms, 2s, 1m)"},
		{"loglevel loud\n", 1, "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"},
		{"appendonly no\n", 1, `raftstream always runs with appendonly "yes"`},
		{"save 900 1\n", 1, `raftstream always runs with save ""`},
		{"client-output-buffer-limit normal 1mb\n", 1, "Wrong number of arguments in buffer limit configuration."},
		{"client-output-buffer-limit nosuch 0 0 0\n", 1, "Invalid client class specified in buffer limit configuration."},
		{"\n\nstream-node-max-entries 100\n", 3, "stream-node-max-entries is replicated through the Raft log, the same on every node: set it with CONFIG SET on any node, not in a node's config file"},
	}
	for _, tc := range cases {
		path := writeConfig(t, tc.text)
		var stderr bytes.Buffer
		_, err := parseFlagsEnv([]string{"--config", path}, &stderr, nil)
		if !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", tc.text, err)
			continue
		}
		lines := strings.Split(strings.TrimSpace(tc.text), "\n")
		bad := strings.TrimSpace(lines[len(lines)-1])
		want := "\n*** FATAL CONFIG FILE ERROR ***\nReading the configuration file " + path + ", at line " +
			strconv.Itoa(tc.line) + "\n>>> '" + bad + "'\n" + tc.reason + "\n"
		if stderr.String() != want {
			t.Errorf("%q:\n got %q\nwant %q", tc.text, stderr.String(), want)
		}
	}

	var stderr bytes.Buffer
	missing := filepath.Join(t.TempDir(), "nope.conf")
	if _, err := parseFlagsEnv([]string{"--config", missing}, &stderr, nil); !errors.Is(err, errUsage) ||
		!strings.Contains(stderr.String(), "Fatal error, can't open config file '"+missing+"': No such file or directory") {
		t.Errorf("missing file: %v\n%s", err, stderr.String())
	}
}

// TestShippedConfigLoads: deploy/raftstream.conf, the documented example,
// loads and says what it says.
func TestShippedConfigLoads(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseFlagsEnv([]string{"--config", "../../deploy/raftstream.conf"}, &stderr, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if o.node.NodeID != "node1" || o.node.DataDir != "/var/lib/raftstream" || o.server.Addr != "127.0.0.1:6379" ||
		o.server.MaxBulkLen != 512<<20 || o.logLevel != "info" || o.server.NoProtectedMode {
		t.Errorf("options: node %q dir %q listen %q bulk %d log %q noprot %v", o.node.NodeID, o.node.DataDir,
			o.server.Addr, o.server.MaxBulkLen, o.logLevel, o.server.NoProtectedMode)
	}
}
