package fsm

import "context"

// wakeApplied wakes WaitApplied callers after the applied index moved.
//
// The index itself is stored under the state's write lock, before the
// state it names becomes readable: whoever reads the state and then the
// index gets an index at least as new as what it read, which is what a
// reply's wait for the log flush relies on (cluster.Node.SyncThrough).
func (f *FSM) wakeApplied() {
	f.waitMu.Lock()
	if f.waitCh != nil {
		close(f.waitCh)
		f.waitCh = nil
	}
	f.waitMu.Unlock()
}

// changed returns a channel closed at the next applied-index change.
func (f *FSM) changed() <-chan struct{} {
	f.waitMu.Lock()
	defer f.waitMu.Unlock()
	if f.waitCh == nil {
		f.waitCh = make(chan struct{})
	}
	return f.waitCh
}

// WaitApplied returns once AppliedIndex() >= index, or ctx's error.
func (f *FSM) WaitApplied(ctx context.Context, index uint64) error {
	for {
		if f.applied.Load() >= index {
			return nil
		}
		ch := f.changed()
		// Re-check: the index may have moved before ch was installed.
		if f.applied.Load() >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
