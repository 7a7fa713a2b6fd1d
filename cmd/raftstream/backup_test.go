package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/internal/respclient"
	"github.com/raftstream/raftstream/internal/testcerts"
)

// runTool runs a subcommand as main would and returns its output.
func runTool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := dispatch(context.Background(), args, &out, &errOut, func(string) (string, bool) { return "", false })
	return out.String() + errOut.String(), err
}

// backup through the plain port with a password and through the TLS port
// with a client certificate; restore; the restored node serves the same
// streams and groups under its own identity.
func TestBackupRestoreCommands(t *testing.T) {
	certs, err := testcerts.New()
	if err != nil {
		t.Fatal(err)
	}
	files, err := certs.Files(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tlsAddr := freePorts(t, 1)[0]
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	addr, stop := startNode(t, t.TempDir(), "--requirepass", "pw", "--tls-port", tlsPort,
		"--tls-cert-file", files["server.crt"], "--tls-key-file", files["server.key"], "--tls-ca-cert-file", files["ca.crt"])
	defer stop()
	c := dial(t, addr)
	c.do(t, "AUTH", "pw")
	for _, cmd := range [][]string{
		{"XADD", "s", "1-1", "f", "a"}, {"XADD", "s", "1-2", "f", "b"},
		{"XGROUP", "CREATE", "s", "g", "0"}, {"XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">"},
	} {
		if reply := c.untilOK(t, cmd...); strings.HasPrefix(reply, "-") {
			t.Fatalf("%v: %q", cmd, reply)
		}
	}

	dir := t.TempDir()
	plain, tlsOut := filepath.Join(dir, "plain.rsb"), filepath.Join(dir, "tls.rsb")
	if out, err := runTool(t, "backup", "--from", addr, "--out", plain); err == nil || !strings.Contains(out+err.Error(), "NOAUTH") {
		t.Fatalf("backup without the password: %v\n%s", err, out)
	}
	if out, err := runTool(t, "backup", "--from", addr, "--out", plain, "--password", "pw"); err != nil || !strings.Contains(out, "verified") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if out, err := runTool(t, "backup", "--from", tlsAddr, "--out", tlsOut, "--user", "default", "--password", "pw",
		"--tls", "--cacert", files["ca.crt"], "--cert", files["client.crt"], "--key", files["client.key"]); err != nil {
		t.Fatalf("backup over TLS: %v\n%s", err, out)
	}
	if _, err := cluster.VerifyBackupFile(tlsOut); err != nil {
		t.Fatalf("the backup made over TLS: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(matches) > 0 {
		t.Fatalf("temporary files left: %v", matches)
	}

	raftAddr := freePorts(t, 1)[0]
	data := filepath.Join(t.TempDir(), "restored")
	out, err := runTool(t, "restore", "--in", plain, "--data-dir", data, "--node-id", "r1", "--raft-advertise", raftAddr)
	if err != nil || !strings.Contains(out, "--node-id r1 --raft-advertise "+raftAddr) {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if out, err := runTool(t, "restore", "--in", plain, "--data-dir", data, "--node-id", "r1", "--raft-advertise", raftAddr); err == nil || !strings.Contains(out+err.Error(), "not empty") {
		t.Fatalf("restore over a restored dir: %v\n%s", err, out)
	}
	raddr, rstop := startNode(t, data, "--node-id", "r1", "--raft-listen", raftAddr)
	defer rstop()
	rc := dial(t, raddr)
	rc.untilOK(t, "XLEN", "s")
	src, dst := fullClient(t, addr, "pw"), fullClient(t, raddr, "")
	for _, q := range [][]string{{"XRANGE", "s", "-", "+"}, {"XPENDING", "s", "g"}, {"XINFO", "STREAM", "s", "FULL"}} {
		want, err1 := src.Do(q...)
		got, err2 := dst.Do(q...)
		if err1 != nil || err2 != nil || fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%v: source %v (%v), restored %v (%v)", q, want, err1, got, err2)
		}
	}
	// It leads a cluster of its own: writes commit.
	if reply := rc.untilOK(t, "XADD", "s", "*", "f", "c"); !strings.HasPrefix(reply, "$") {
		t.Fatalf("XADD on the restored node: %q", reply)
	}
}

// The recover subcommand insists on --force-new-cluster and refuses a
// data dir without a log.
func TestRecoverCommand(t *testing.T) {
	if _, err := runTool(t, "recover", "--data-dir", t.TempDir(), "--node-id", "n1"); !errors.Is(err, errUsage) {
		t.Fatalf("recover without --force-new-cluster: %v", err)
	}
	if out, err := runTool(t, "recover", "--force-new-cluster", "--data-dir", t.TempDir(), "--node-id", "n1"); err == nil || !strings.Contains(err.Error(), "no Raft log") {
		t.Fatalf("recover on an empty dir: %v\n%s", err, out)
	}
}

// fullClient is a connection that reads whole replies.
func fullClient(t *testing.T, addr, password string) *respclient.Conn {
	t.Helper()
	c, err := (probeOptions{addr: addr, password: password, timeout: 20 * time.Second}).connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
