package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// StopBudget is how long a group may take, after it was told to stop early
// (Ctrl-C, SIGTERM, lost output), for everything that is left: the replies
// still awaited, the DeRegisterMsg of its workers and the drain of its
// queues. The rest of a second goes to writing the summary.
const StopBudget = 800 * time.Millisecond

// stopState is when a group has to be done.
type stopState struct {
	interrupted chan struct{} // closed when the group is told to stop early
	once        sync.Once
	hurry       atomic.Int64 // unix ns by which the teardown must be over; 0: no limit
	lingerEnd   atomic.Int64 // unix ns: the earliest end of a PUSH socket's linger; 0: none
}

func newStopState() *stopState { return &stopState{interrupted: make(chan struct{})} }

// interrupt starts the stop budget and tells every waiting part of the
// group to end.
func (st *stopState) interrupt() {
	st.once.Do(func() {
		st.hurryBy(time.Now().Add(StopBudget))
		close(st.interrupted)
	})
}

// isInterrupted reports whether interrupt was called.
func (st *stopState) isInterrupted() bool {
	select {
	case <-st.interrupted:
		return true
	default:
		return false
	}
}

// hurryBy makes t the time by which the teardown must be over, unless an
// earlier one is already set.
func (st *stopState) hurryBy(t time.Time) {
	n := t.UnixNano()
	for {
		cur := st.hurry.Load()
		if cur != 0 && cur <= n {
			return
		}
		if st.hurry.CompareAndSwap(cur, n) {
			return
		}
	}
}

// hurryAt returns the time by which the teardown must be over (zero: none).
func (st *stopState) hurryAt() time.Time {
	if h := st.hurry.Load(); h != 0 {
		return time.Unix(0, h)
	}
	return time.Time{}
}

// until returns t, or the hurry time when that is earlier.
func (st *stopState) until(t time.Time) time.Time {
	if h := st.hurryAt(); !h.IsZero() && h.Before(t) {
		return h
	}
	return t
}

// noteLinger records the end of a PUSH socket's linger.
func (st *stopState) noteLinger(end time.Time) {
	n := end.UnixNano()
	for {
		cur := st.lingerEnd.Load()
		if cur != 0 && cur <= n {
			return
		}
		if st.lingerEnd.CompareAndSwap(cur, n) {
			return
		}
	}
}

// terminate closes the ZMQ context and reports whether every PUSH socket
// handed its queue to the network before its linger ran out. zmq_ctx_term
// cannot be cut short, so it runs on its own goroutine: when the group is
// interrupted while it waits, terminate gives up at the hurry time and the
// context finishes closing on its own.
func (g *group) terminate() (drained bool) {
	done := make(chan struct{})
	go func() { g.zctx.Term(); close(done) }()
	interrupted := g.stop.interrupted
	for {
		var hurry <-chan time.Time
		if h := g.stop.hurryAt(); !h.IsZero() {
			t := time.NewTimer(time.Until(h))
			defer t.Stop()
			hurry, interrupted = t.C, nil
		}
		select {
		case <-done:
			// A queue that did not empty holds zmq_ctx_term until its
			// linger ends, so a return before the earliest linger end
			// means that every queue emptied.
			end := g.stop.lingerEnd.Load()
			return end == 0 || time.Now().UnixNano() < end
		case <-interrupted:
		case <-hurry:
			return false
		}
	}
}
