package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

// fakeNode answers READONLY with +OK and XLEN with the next reply of its
// script (the last one repeats), recording the commands it got.
type fakeNode struct {
	ln      net.Listener
	mu      sync.Mutex
	replies []string
	got     []string
}

func startFakeNode(t *testing.T, replies ...string) *fakeNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNode{ln: ln, replies: replies}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	// xlen mode holds one connection at a time, so one at a time is served.
	go func() {
		defer close(done)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			f.serve(nc)
			nc.Close()
		}
	}()
	return f
}

// serve answers one connection's commands. A request is an array of bulk
// strings, which conn.Read parses like a reply.
func (f *fakeNode) serve(nc net.Conn) {
	c := respclient.New(nc, 0, 10*time.Second)
	for {
		req, err := c.Read()
		if err != nil || len(req.Elems) == 0 {
			return
		}
		args := make([]string, len(req.Elems))
		for i, e := range req.Elems {
			args[i] = e.Str
		}
		f.mu.Lock()
		f.got = append(f.got, strings.Join(args, " "))
		reply := "+OK\r\n"
		if strings.EqualFold(args[0], "XLEN") {
			reply = f.replies[0]
			if len(f.replies) > 1 {
				f.replies = f.replies[1:]
			}
		}
		f.mu.Unlock()
		if _, err := nc.Write([]byte(reply)); err != nil {
			return
		}
	}
}

func TestXLenModeWaitsForTheCount(t *testing.T) {
	f := startFakeNode(t, "-TRYAGAIN no leader\r\n", ":5\r\n", ":99\r\n", ":100\r\n")
	o := &options{addr: f.ln.Addr().String(), proto: 2, key: "k", entries: 100, readonly: true,
		timeout: 10 * time.Second, label: "n", format: "metrics", workload: "restart"}
	var out bytes.Buffer
	if err := runXLenMode(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	fields := strings.Split(strings.TrimSpace(out.String()), "\t")
	if len(fields) != 4 || fields[0] != "n" || fields[1] != "restart" || fields[2] != "seconds" {
		t.Fatalf("output %q", out.String())
	}
	// Four XLENs 10 ms apart: at least 30 ms.
	if s, err := strconv.ParseFloat(fields[3], 64); err != nil || s < 0.03 {
		t.Errorf("seconds = %q (%v), want >= 0.03", fields[3], err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := []string{"READONLY", "XLEN k", "XLEN k", "XLEN k", "XLEN k"}
	if strings.Join(f.got, ",") != strings.Join(want, ",") {
		t.Errorf("commands %q, want %q", f.got, want)
	}
}

func TestXLenModeTimesOut(t *testing.T) {
	f := startFakeNode(t, ":1\r\n")
	o := &options{addr: f.ln.Addr().String(), proto: 2, key: "k", entries: 2,
		timeout: 100 * time.Millisecond, label: "n", format: "text"}
	err := runXLenMode(context.Background(), o, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "did not reach 2") || !strings.Contains(err.Error(), "XLEN k = 1") {
		t.Errorf("error %v, want a timeout naming the last count", err)
	}
}
