package main

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

func TestParseMixAndRoles(t *testing.T) {
	tests := []struct {
		mix     string
		clients int
		want    []opKind
		err     bool
	}{
		{mix: "xadd", clients: 2, want: []opKind{opXAdd, opXAdd}},
		{mix: "xadd=2,xreadgroup=1", clients: 6, want: []opKind{opXAdd, opXAdd, opXReadGroup, opXAdd, opXAdd, opXReadGroup}},
		{mix: "XRANGE, xlen", clients: 3, want: []opKind{opXRange, opXLen, opXRange}},
		{mix: "xadd=0", err: true},
		{mix: "xadd=x", err: true},
		{mix: "get", err: true},
	}
	for _, tc := range tests {
		mix, err := parseMix(tc.mix)
		if tc.err {
			if err == nil {
				t.Errorf("parseMix(%q): want error", tc.mix)
			}
			continue
		}
		if err != nil {
			t.Fatalf("parseMix(%q): %v", tc.mix, err)
		}
		if got := roles(mix, tc.clients); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("roles(%q, %d) = %v, want %v", tc.mix, tc.clients, got, tc.want)
		}
	}
}

// readerConn builds a conn that reads replies from s.
func readerConn(s string) *respclient.Conn {
	return respclient.New(struct {
		io.Reader
		io.Writer
	}{strings.NewReader(s), io.Discard}, 0, time.Second)
}

func TestReadAndSkip(t *testing.T) {
	resp2 := "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
	resp3 := "%1\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
	for name, in := range map[string]string{"resp2": resp2, "resp3": resp3} {
		v, err := readerConn(in).Read()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := entryIDs(v); !reflect.DeepEqual(got, []string{"1-1", "2-1"}) {
			t.Errorf("%s: entryIDs = %v", name, got)
		}
		// Skip consumes exactly one frame.
		c := readerConn(in + "+OK\r\n")
		if e, err := c.Skip(); err != nil || e != "" {
			t.Fatalf("%s: Skip: %q %v", name, e, err)
		}
		if v, err := c.Read(); err != nil || v.Str != "OK" {
			t.Errorf("%s: after Skip: %+v %v", name, v, err)
		}
	}
	for _, in := range []string{"*-1\r\n", "_\r\n"} {
		v, err := readerConn(in).Read()
		if err != nil || !v.Null || entryIDs(v) != nil {
			t.Errorf("%q: %+v %v", in, v, err)
		}
	}
	c := readerConn("-ERR boom\r\n!5\r\nERR x\r\n")
	if e, _ := c.Skip(); e != "ERR boom" {
		t.Errorf("Skip error text %q", e)
	}
	if v, _ := c.Read(); v.Str != "ERR x" {
		t.Errorf("blob error %+v", v)
	}
	if _, err := readerConn("*2\r\n:1\r\n").Read(); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: %v", err)
	}
}
