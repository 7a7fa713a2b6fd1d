package cluster

import (
	"iter"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

// Riders: commands the leader adds to an entry as it seals it, run after
// every other command of the entry in the same apply.
//
// Why: a consumer blocked in XREADGROUP on the leader is woken by the
// entry holding the XADD it waits for, and its read then needs an entry
// of its own, a second device flush before it has its message. Redis
// serves a blocked reader inside the XADD's event-loop iteration, under
// the same AOF flush. The front end's Riders sees the entry's commands
// while the leader seals it and adds the reads of consumers the XADDs
// would serve, so they commit with the XADDs, under one flush. Each rider
// is an ordinary command in the log: every replica applies it, and a
// rider that finds nothing (another consumer, or a failed XADD, got
// there first) is answered null, after which its client goes on waiting.

// Riders is what a front end installs to add riders. The leader calls it
// as it seals a command entry, on raft's leader loop: its methods must be
// quick and must not block or call the node. Riders are only ever added
// on the leader; a follower's front end keeps its own way of serving
// blocked clients.
type Riders interface {
	// Waiting reports whether Ride might add anything; when it does not,
	// sealing an entry costs no more than the call.
	Waiting() bool
	// Ride sees the entry's commands in order (cmds); add appends a
	// command to the entry, after them, and returns its pending reply,
	// or nil if the command cannot go in (invalid, disk full).
	Ride(cmds iter.Seq[*Command], add func(Command) *Pending)
}

// SetRiders installs r (nil removes it).
func (n *Node) SetRiders(r Riders) {
	if r == nil {
		n.riders.Store(nil)
		return
	}
	n.riders.Store(&r)
}

// addRiders lets the installed Riders add commands to b, which is being
// sealed.
func (n *Node) addRiders(b *batch) {
	r := n.riders.Load()
	if r == nil || !(*r).Waiting() {
		return
	}
	(*r).Ride(b.commands(), func(cmd Command) *Pending { return n.rider(b, cmd) })
}

// rider appends cmd to b as a rider, or returns nil if it cannot go in.
func (n *Node) rider(b *batch, cmd Command) *Pending {
	if cmd.Validate() != nil {
		return nil
	}
	size := fsm.CommandSize(&cmd)
	if size > MaxCommandBytes || n.disk.admit(int64(size)) != nil {
		return nil
	}
	p := &Pending{node: n, cmd: cmd, size: size, done: make(chan struct{}), start: time.Now()}
	b.riders = append(b.riders, p)
	b.count++
	b.size += size
	return p
}

// commands yields b's commands in entry order, riders excepted.
func (b *batch) commands() iter.Seq[*Command] {
	return func(yield func(*Command) bool) {
		for _, p := range b.pendings {
			if !yield(&p.cmd) {
				return
			}
		}
		for _, r := range b.remotes {
			for i := range r.cmds {
				if !yield(&r.cmds[i]) {
					return
				}
			}
		}
	}
}
