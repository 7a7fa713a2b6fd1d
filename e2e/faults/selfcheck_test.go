package faults

import (
	"context"
	"io"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/raftstream/raftstream/internal/testports"
)

// TestWorkloadsAgainstRedis runs both workloads and their checkers against
// a single reference redis-server with no faults: the harness's client,
// parsers and checkers must report no anomaly against real Redis.
func TestWorkloadsAgainstRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH")
	}
	ports, err := testports.Free(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	cmd := exec.Command(bin, "--port", strconv.Itoa(ports[0]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := waitUntil(10*time.Second, "redis PING", func() bool { v, err := oneShot(addr, "PING"); return err == nil && v == "PONG" }); err != nil {
		t.Fatal(err)
	}
	addrs := func() []string { return []string{addr} }
	lw := &logWorkload{clients: 4, keys: 2, hist: newHistory()}
	qw := &queueWorkload{producers: 2, consumers: 3, noDeadLetters: true}
	qw.init()
	if err := qw.setup(addr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan struct{}, 2)
	go func() { lw.run(ctx, 7, addrs); done <- struct{}{} }()
	go func() { qw.run(ctx, 7, addrs); done <- struct{}{} }()
	<-done
	<-done
	lw.finalReads(addrs())
	qv := qw.check(addr)
	lv, _ := checkLog(lw.hist.finish(), time.Minute)
	t.Logf("log %+v", lv)
	t.Logf("queue %+v", qv)
	if lv.Linearizable != "Ok" || len(lv.Anomalies) > 0 || len(qv.Anomalies) > 0 {
		t.Errorf("anomalies against real Redis: log %q %v, queue %v", lv.Linearizable, lv.Anomalies, qv.Anomalies)
	}
	// The queue checker must notice an acknowledged XADD that vanished.
	var victim string
	for _, o := range qw.produced {
		if o.Out == outOK {
			victim = o.ID
			break
		}
	}
	if _, err := oneShot(addr, "XDEL", queueKey, victim); err != nil {
		t.Fatal(err)
	}
	qw.anomalies = nil
	if qv2 := qw.check(addr); len(qv2.Anomalies) == 0 {
		t.Errorf("queue checker missed the deletion of acknowledged entry %s", victim)
	} else {
		t.Logf("after XDEL %s the queue checker reports: %v", victim, qv2.Anomalies)
	}
	if lv.AddsOK == 0 || lv.Reads == 0 || qv.ProducedOK == 0 || qv.Crashes == 0 {
		t.Errorf("workload did too little: %+v %+v", lv, qv)
	}
}
