package fsm

import (
	"testing"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
)

// parsedOf parses args as the receiving node does before proposing them.
func parsedOf(t *testing.T, args ...string) *engine.Parsed {
	t.Helper()
	reg := engine.NewRegistry()
	a := argv(args...)
	c := reg.Lookup(a[0])
	if c == nil {
		t.Fatalf("no command %q", args[0])
	}
	p := c.Parse(a)
	if p.Err() != "" {
		t.Fatalf("%q: %s", args, p.Err())
	}
	return &p
}

// lastValue is the value of the last entry of stream s.
func lastValue(t *testing.T, f *FSM, s string) string {
	t.Helper()
	var out string
	f.Read(func(st *engine.State) {
		w := &ReplyWriter{}
		w.Version = 2
		st.Exec(&engine.Ctx{Now: st.Clock(), W: w}, argv("XREVRANGE", s, "+", "-", "COUNT", "1"))
		out = string(w.Buf)
	})
	return out
}

// The values a command was parsed into go with it to the apply of the
// node that parsed it, which runs them instead of the logged argv: the
// leader's own entries (raft.Log.Local), a follower's forwarded requests
// (the Carrier). The tests carry a value parsed from a different argv than
// the logged one, which shows which of the two ran; in the cluster they
// are parsed from the same bytes.
func TestApplyRunsCarriedParse(t *testing.T) {
	logged := func(v string) Command { return cmd(0, 2, "XADD", "s", "*", "f", v) }
	carried := parsedOf(t, "XADD", "s", "*", "f", "carried")

	t.Run("leader", func(t *testing.T) {
		f := New(quietLogger())
		l := logOf(t, 1, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{logged("logged"), logged("logged")}})
		c := NewCarried(2)
		c.Parsed[0] = carried
		l.Local = c
		f.Apply(l)
		got := lastValue(t, f, "s")
		if want := "*1\r\n*2\r\n$6\r\n1000-1\r\n*2\r\n$1\r\nf\r\n$6\r\nlogged\r\n"; got != want {
			t.Fatalf("last entry %q, want %q", got, want)
		}
		f.Apply(func() *raft.Log {
			l := logOf(t, 2, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{logged("logged")}})
			c := NewCarried(1)
			c.Parsed[0] = carried
			l.Local = c
			return l
		}())
		if got := lastValue(t, f, "s"); got != "*1\r\n*2\r\n$6\r\n1000-2\r\n*2\r\n$1\r\nf\r\n$7\r\ncarried\r\n" {
			t.Fatalf("last entry %q: the carried value did not run", got)
		}
	})

	t.Run("wrong length is ignored", func(t *testing.T) {
		f := New(quietLogger())
		l := logOf(t, 1, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{logged("logged")}})
		c := NewCarried(2)
		c.Parsed[0], c.Parsed[1] = carried, carried
		l.Local = c
		f.Apply(l)
		if got := lastValue(t, f, "s"); got != "*1\r\n*2\r\n$6\r\n1000-0\r\n*2\r\n$1\r\nf\r\n$6\r\nlogged\r\n" {
			t.Fatalf("last entry %q", got)
		}
	})

	t.Run("follower", func(t *testing.T) {
		f := New(quietLogger())
		var asked []uint64
		f.SetCarrier(func(origin string, seq uint64, count int) *Carried {
			asked = append(asked, seq)
			if origin != "me" || seq != 7 || count != 1 {
				return nil
			}
			c := NewCarried(1)
			c.Parsed[0] = carried
			return c
		})
		l := logOf(t, 1, Entry{Type: EntryCommands, Now: 1000,
			Commands: []Command{logged("local"), logged("other"), logged("mine")},
			Requests: []Request{{Origin: "other", Seq: 7, Start: 1, Count: 1}, {Origin: "me", Seq: 7, Start: 2, Count: 1}}})
		res := f.Apply(l).(*Result)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if len(asked) != 2 {
			t.Fatalf("carrier asked for %v, want both requests", asked)
		}
		if got := lastValue(t, f, "s"); got != "*1\r\n*2\r\n$6\r\n1000-2\r\n*2\r\n$1\r\nf\r\n$7\r\ncarried\r\n" {
			t.Fatalf("last entry %q: the carried value did not run", got)
		}
		f.Read(func(st *engine.State) {
			w := &ReplyWriter{}
			w.Version = 2
			st.Exec(&engine.Ctx{Now: st.Clock(), W: w}, argv("XRANGE", "s", "1000-1", "1000-1"))
			if want := "*1\r\n*2\r\n$6\r\n1000-1\r\n*2\r\n$1\r\nf\r\n$5\r\nother\r\n"; string(w.Buf) != want {
				t.Fatalf("another origin's command: %q, want %q", w.Buf, want)
			}
		})
	})
}
