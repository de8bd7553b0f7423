package main

// How the engine groups of one `lmfast controller` run agree on starting
// after pre-registration, and how that pre-registration is shown.

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/stream"
)

// registerBarrier makes the groups of a run decide together, once every
// group's pre-registration is over, whether the timed run starts: only if
// some worker was registered (or none had to be), so that a run in which
// every registration failed sends no load at all.
type registerBarrier struct {
	mu      sync.Mutex
	cond    *sync.Cond
	arrived []bool
	waiting int
	ok      int64
	failed  int64
	done    chan struct{} // closed when every group arrived
	onDone  func()        // called once every group arrived, before any goes on
}

func newRegisterBarrier(groups int, onDone func()) *registerBarrier {
	b := &registerBarrier{arrived: make([]bool, groups), waiting: groups, done: make(chan struct{}), onDone: onDone}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// arrive records group g's counts (once: later calls only wait) and, with
// wait, waits for every other group; it returns whether the run starts.
func (b *registerBarrier) arrive(g int, ok, failed int64, wait bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.arrived[g] {
		b.arrived[g] = true
		b.ok += ok
		b.failed += failed
		if b.waiting--; b.waiting == 0 {
			if b.onDone != nil {
				b.onDone()
			}
			close(b.done)
			b.cond.Broadcast()
		}
	}
	for wait && b.waiting > 0 {
		b.cond.Wait()
	}
	return b.starts()
}

// starts reports the decision once every group arrived; onDone may call it.
func (b *registerBarrier) starts() bool { return b.ok > 0 || b.failed == 0 }

// registrationView prints how far the pre-registration of total workers
// got: every second while it lasts (when that changed), and the final
// counts if it printed anything.
type registrationView struct {
	mu     sync.Mutex
	w      io.Writer
	p      *engine.RegisterProgress
	total  int64
	start  time.Time
	last   string
	closed bool
}

// show prints the counts if they changed; final prints them (if anything
// was printed before) and stops the view.
func (v *registrationView) show(final bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || (final && v.last == "") {
		v.closed = v.closed || final
		return
	}
	v.closed = final
	line := fmt.Sprintf("lmfast: pre-registration: %d/%d workers registered, %d failed", v.p.OK.Load(), v.total, v.p.Failed.Load())
	if line != v.last {
		fmt.Fprintf(v.w, "%s (%.0fs)\n", line, time.Since(v.start).Seconds())
		v.last = line
	}
}

// tick calls show every second until done is closed.
func (v *registrationView) tick(done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			v.show(false)
		}
	}
}

// registerFailure turns the groups' errors into the run's exit when no
// worker could be pre-registered: exit 2 (the controller is not usable at
// that endpoint), one `error` line in the JSONL, the engine's own error
// text. nil when that is not what happened.
func registerFailure(out *stream.Writer, errs []error) error {
	total := &engine.RegisterError{}
	for _, err := range errs {
		var re *engine.RegisterError
		if !errors.As(err, &re) {
			if err != nil {
				return nil
			}
			continue
		}
		total.Failed += re.Failed
		if total.Reason == "" {
			total.Reason = re.Reason
		}
	}
	if total.Failed == 0 {
		return nil
	}
	out.Event("error").Str("op", "register").Str("error", total.Reason).Int64("count", total.Failed).Send()
	return badInput("%v", total)
}

// nonNil returns the results that exist.
func nonNil(results []*engine.Result) []*engine.Result {
	var out []*engine.Result
	for _, r := range results {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}
