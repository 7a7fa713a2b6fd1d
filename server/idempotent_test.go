package server

import (
	"strings"
	"testing"
)

// TestAutoIdempotent: with automatic idempotency on, an XADD resent on a
// new connection of a client with the same name is answered with the
// first ID and stored once; without a name, with the setting off, or with
// other arguments, every XADD is stored.
func TestAutoIdempotent(t *testing.T) {
	s, _ := startDirect(t, Config{AutoIdempotent: true})
	named := func(name string) *rawConn {
		c := dialRaw(t, s)
		c.expect("+OK\r\n", "CLIENT", "SETNAME", name)
		return c
	}
	xlen := func(key string) string { return dialRaw(t, s).do("XLEN", key) }

	first := named("app").do("XADD", "s", "*", "f", "v")
	if !strings.HasPrefix(first, "$") {
		t.Fatalf("XADD: %q", first)
	}
	// The client library reconnects and resends the XADD.
	if again := named("app").do("XADD", "s", "*", "f", "v"); again != first {
		t.Errorf("resent XADD answered %q, first %q", again, first)
	}
	named("app").do("XADD", "s", "*", "f", "other")
	named("other-app").do("XADD", "s", "*", "f", "v")
	if n := xlen("s"); n != ":3\r\n" {
		t.Errorf("XLEN s = %q, want 3 (one resent XADD deduplicated)", n)
	}

	// Without a name there is no identity to deduplicate by.
	anon := dialRaw(t, s)
	anon.do("XADD", "anon", "*", "f", "v")
	anon.do("XADD", "anon", "*", "f", "v")
	if n := xlen("anon"); n != ":2\r\n" {
		t.Errorf("XLEN anon = %q, want 2", n)
	}
	info := anon.do("INFO", "stats")
	for _, want := range []string{"auto_idempotent_xadds:4\r\n", "auto_idempotent_unnamed_xadds:2\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO stats lacks %q", strings.TrimSpace(want))
		}
	}

	// RS.IDEMPOTENT ON <producer> gives an identity without a name.
	for range 2 {
		c := dialRaw(t, s)
		c.expect("+OK\r\n", "RS.IDEMPOTENT", "ON", "host-1/pid-7")
		c.do("XADD", "p", "*", "f", "v")
	}
	if n := xlen("p"); n != ":1\r\n" {
		t.Errorf("XLEN p = %q, want 1", n)
	}

	// OFF, explicit IDMP and explicit IDs are left alone.
	off := named("app")
	off.expect("+OK\r\n", "RS.IDEMPOTENT", "OFF")
	off.do("XADD", "off", "*", "f", "v")
	off.do("XADD", "off", "*", "f", "v")
	c := named("app")
	c.do("XADD", "off", "IDMP", "app", "x", "*", "f", "v")
	c.do("XADD", "off", "IDMP", "app", "y", "*", "f", "v")
	if n := xlen("off"); n != ":4\r\n" {
		t.Errorf("XLEN off = %q, want 4", n)
	}
	// An explicit ID is idempotent by itself: the resent XADD is refused.
	c.expect("$3\r\n9-1\r\n", "XADD", "explicit", "9-1", "f", "v")
	c.expect("-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n", "XADD", "explicit", "9-1", "f", "v")

	// A transaction resent after its EXEC reply was lost.
	for range 2 {
		c := named("app")
		c.expect("+OK\r\n", "MULTI")
		c.expect("+QUEUED\r\n", "XADD", "tx", "*", "f", "v")
		c.expect("+QUEUED\r\n", "XADD", "tx", "*", "g", "w")
		if r := c.do("EXEC"); !strings.HasPrefix(r, "*2\r\n$") {
			t.Fatalf("EXEC: %q", r)
		}
	}
	if n := xlen("tx"); n != ":2\r\n" {
		t.Errorf("XLEN tx = %q, want 2", n)
	}

	// RESET goes back to the server's default (on here).
	c = named("app")
	c.expect("+OK\r\n", "RS.IDEMPOTENT", "OFF")
	c.expect("+RESET\r\n", "RESET")
	c.expect("+OK\r\n", "CLIENT", "SETNAME", "app")
	if r := c.do("XADD", "s", "*", "f", "v"); r != first {
		t.Errorf("after RESET, XADD answered %q, want the first ID %q", r, first)
	}

	c.expect("-ERR syntax error\r\n", "RS.IDEMPOTENT", "MAYBE")
	c.expect("-ERR syntax error\r\n", "RS.IDEMPOTENT", "OFF", "p")
	c.expect("-ERR syntax error\r\n", "RS.IDEMPOTENT", "ON", "p", "q")
	c.expect("-ERR the producer ID must not be empty\r\n", "RS.IDEMPOTENT", "ON", "")
	c.expect("-ERR wrong number of arguments for 'rs.idempotent' command\r\n", "RS.IDEMPOTENT")
}

// TestAutoIdempotentOffByDefault: without the setting, a resent XADD is
// stored again, as in Redis.
func TestAutoIdempotentOffByDefault(t *testing.T) {
	s, _ := startDirect(t, Config{})
	for range 2 {
		c := dialRaw(t, s)
		c.expect("+OK\r\n", "CLIENT", "SETNAME", "app")
		c.do("XADD", "s", "*", "f", "v")
	}
	if n := dialRaw(t, s).do("XLEN", "s"); n != ":2\r\n" {
		t.Errorf("XLEN s = %q, want 2", n)
	}
}
