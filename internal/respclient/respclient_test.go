package respclient

import (
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

// reader returns a Conn that reads replies from s.
func reader(s string) *Conn {
	return New(struct {
		io.Reader
		io.Writer
	}{strings.NewReader(s), io.Discard}, 0, time.Second)
}

func show(v Value) string {
	switch {
	case v.Null:
		return string(v.Kind) + "nil"
	case v.Kind == ':':
		return fmt.Sprintf(":%d", v.Int)
	case v.Elems != nil:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = show(e)
		}
		return string(v.Kind) + "[" + strings.Join(parts, " ") + "]"
	}
	return string(v.Kind) + v.Str
}

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "+OK\r\n", want: "+OK"},
		{in: ":-12\r\n", want: ":-12"},
		{in: "$5\r\nhe\r\no\r\n", want: "$he\r\no"},
		{in: "$-1\r\n", want: "$nil"},
		{in: "*2\r\n$1\r\na\r\n*1\r\n:1\r\n", want: "*[$a *[:1]]"},
		{in: "*0\r\n", want: "*[]"},
		{in: "*-1\r\n", want: "*nil"},
		{in: "_\r\n", want: "_nil"},
		{in: "-ERR unknown command 'RAFT'\r\n", want: "-ERR unknown command 'RAFT'"},
		{in: "!5\r\nERR x\r\n", want: "!ERR x"},
		{in: "%1\r\n+a\r\n:2\r\n", want: "%[+a :2]"},
		{in: "|1\r\n+ttl\r\n:3\r\n+after\r\n", want: "+after"},
		{in: "=8\r\ntxt:some\r\n", want: "=txt:some"},
		{in: ",1.5\r\n", want: ",1.5"},
		{in: "$3\r\nabcd\r\n", wantErr: "not terminated"},
		{in: "$999999999999\r\n", wantErr: "bad bulk length"},
		{in: "*99999999\r\n", wantErr: "bad array length"},
		{in: ":x\r\n", wantErr: "bad integer"},
		{in: "?1\r\n", wantErr: "unexpected reply type"},
		{in: "\r\n", wantErr: "empty reply line"},
		{in: "+OK\n", wantErr: "malformed"},
		{in: "+OK", wantErr: "unexpected EOF"},
		{in: "*2\r\n:1\r\n", wantErr: "unexpected EOF"},
		{in: "$3\r\nab", wantErr: "unexpected EOF"},
		{in: "", wantErr: "EOF"},
		{in: strings.Repeat("*1\r\n", MaxDepth+2) + ":1\r\n", wantErr: "nested"},
		{in: "+" + strings.Repeat("x", maxLine+10) + "\r\n", wantErr: "too long"},
	} {
		v, err := reader(tc.in).Read()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Read(%.40q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Read(%q): %v", tc.in, err)
			continue
		}
		if got := show(v); got != tc.want {
			t.Errorf("Read(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// A long line that still fits is read whole.
	long := strings.Repeat("y", 100<<10/2)
	if v, err := reader("+" + long + "\r\n").Read(); err != nil || v.Str != long {
		t.Errorf("long line: %d bytes, %v", len(v.Str), err)
	}
	if _, err := reader("").Read(); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
}

func TestSkip(t *testing.T) {
	resp2 := "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
	resp3 := "%1\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
	for name, in := range map[string]string{"resp2": resp2, "resp3": resp3, "attr": "|1\r\n+a\r\n:1\r\n*1\r\n:2\r\n"} {
		// Skip consumes exactly one reply.
		c := reader(in + "+OK\r\n")
		if e, err := c.Skip(); err != nil || e != "" {
			t.Fatalf("%s: Skip: %q %v", name, e, err)
		}
		if v, err := c.Read(); err != nil || v.Str != "OK" {
			t.Errorf("%s: after Skip: %+v %v", name, v, err)
		}
	}
	c := reader("-ERR boom\r\n!5\r\nERR x\r\n$-1\r\n")
	if e, _ := c.Skip(); e != "ERR boom" {
		t.Errorf("Skip error text %q", e)
	}
	if e, _ := c.Skip(); e != "ERR x" {
		t.Errorf("Skip blob error text %q", e)
	}
	if e, err := c.Skip(); e != "" || err != nil {
		t.Errorf("Skip null: %q %v", e, err)
	}
	if _, err := reader("*2\r\n:1\r\n").Skip(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: %v", err)
	}
}

// TestConn runs commands against a fake server that reads requests with
// the same parser (a request is an array of bulk strings).
func TestConn(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	go func() {
		defer srv.Close()
		s := New(srv, 0, 0)
		for {
			req, err := s.Read()
			if err != nil {
				return
			}
			var reply string
			switch args := req.Elems; strings.ToUpper(args[0].Str) {
			case "PING":
				reply = "+PONG\r\n"
			case "ECHO":
				reply = fmt.Sprintf("$%d\r\n%s\r\n", len(args[1].Str), args[1].Str)
			case "INCR":
				reply = ":1\r\n"
			default:
				reply = "-ERR unknown command '" + args[0].Str + "'\r\n"
			}
			if _, err := io.WriteString(srv, reply); err != nil {
				return
			}
		}
	}()
	c := New(cli, 0, 5*time.Second)
	if s, err := c.DoString("PING"); err != nil || s != "PONG" {
		t.Fatalf("PING: %q %v", s, err)
	}
	if s, err := c.DoString("ECHO", "a\r\nb"); err != nil || s != "a\r\nb" {
		t.Fatalf("ECHO: %q %v", s, err)
	}
	var re Error
	if _, err := c.DoString("NOPE"); !errors.As(err, &re) || string(re) != "ERR unknown command 'NOPE'" {
		t.Fatalf("NOPE: %v", err)
	}
	if _, err := c.DoString("INCR", "k"); err == nil || !strings.Contains(err.Error(), "unexpected reply type") {
		t.Fatalf("INCR as a string: %v", err)
	}
	if v, err := c.Do("NOPE"); err != nil || !v.IsError() || v.Err() == nil {
		t.Fatalf("Do with an error reply: %+v %v", v, err)
	}
	// A pipeline: replies come back in order.
	c.AppendStrings("PING")
	c.Append([]byte("ECHO"), []byte("x"))
	c.AppendStrings("INCR", "k")
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 3 {
		v, err := c.Read()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, show(v))
	}
	if want := []string{"+PONG", "$x", ":1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pipeline replies %v, want %v", got, want)
	}
}

func TestTimeout(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	defer srv.Close()
	go func() { _, _ = io.Copy(io.Discard, srv) }() // reads, never answers
	c := New(cli, 0, 50*time.Millisecond)
	start := time.Now()
	if _, err := c.Do("PING"); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Do against a silent server: %v after %v", err, time.Since(start))
	}
}
