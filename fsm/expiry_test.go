package fsm

import (
	"testing"
	"time"
)

func TestExpiryDue(t *testing.T) {
	f := New(quietLogger())
	if due, next := f.ExpiryDue(1000); due || next != 0 {
		t.Fatalf("empty: ExpiryDue = %v, %v; want false, 0", due, next)
	}
	f.Apply(logOf(t, 1, Entry{Type: EntryCommands, Now: 1000, Commands: []Command{
		cmd(0, 2, "XADD", "k", "*", "f", "v"),
		cmd(0, 2, "PEXPIREAT", "k", "1005"),
	}}))
	for _, c := range []struct {
		now  int64
		due  bool
		next time.Duration
	}{
		{1000, false, 6 * time.Millisecond},
		// A key lives through its deadline millisecond.
		{1005, false, time.Millisecond},
		{1006, true, 0},
		// The state clock (1000) wins over an earlier leader clock.
		{900, false, 6 * time.Millisecond},
	} {
		if due, next := f.ExpiryDue(c.now); due != c.due || next != c.next {
			t.Errorf("ExpiryDue(%d) = %v, %v; want %v, %v", c.now, due, next, c.due, c.next)
		}
	}
}
