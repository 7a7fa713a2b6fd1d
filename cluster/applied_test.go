package cluster

import (
	"context"
	"errors"
	"testing"

	"github.com/raftstream/raftstream/fsm"
)

// The apply answers an entry's local commands as soon as it has applied
// it (answerApplied); the completer's later answer, or any second one,
// changes nothing.
func TestAnswerApplied(t *testing.T) {
	newPending := func() *Pending { return &Pending{done: make(chan struct{})} }
	reply := func(s string) fsm.Reply { return fsm.Reply{RESP: []byte(s)} }
	answered := func(p *Pending) (string, bool) {
		select {
		case <-p.done:
			return string(p.reply.RESP), true
		default:
			return "", false
		}
	}
	for _, tc := range []struct {
		name   string
		res    *fsm.Result
		answer bool
	}{
		{"applied", &fsm.Result{Replies: []fsm.Reply{reply("a"), reply("r1"), reply("r2"), reply("ride")}}, true},
		{"undecodable entry", &fsm.Result{Err: errors.New("bad entry")}, false},
		{"replies do not match", &fsm.Result{Replies: []fsm.Reply{reply("a")}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &batch{
				pendings: []*Pending{newPending()},
				remotes:  []*remoteProp{{req: fsm.Request{Start: 1, Count: 2}}},
				riders:   []*Pending{newPending()},
			}
			answerApplied(b, tc.res)
			for i, want := range map[*Pending]string{b.pendings[0]: "a", b.riders[0]: "ride"} {
				got, ok := answered(i)
				if ok != tc.answer || (ok && got != want) {
					t.Errorf("answered %v with %q; want %v, %q", ok, got, tc.answer, want)
				}
			}
			// The completer's answer comes second.
			b.pendings[0].finish(reply("late"), nil)
			b.riders[0].fail(errors.New("late failure"))
			r, err := b.pendings[0].Wait(context.Background())
			if tc.answer && (err != nil || string(r.RESP) != "a") {
				t.Errorf("after a second answer: %q, %v", r.RESP, err)
			}
			if !tc.answer && (err != nil || string(r.RESP) != "late") {
				t.Errorf("the completer's answer: %q, %v", r.RESP, err)
			}
		})
	}
}
