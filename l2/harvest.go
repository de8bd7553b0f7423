package l2

import (
	"time"
)

// prepJobs sets the op and buffers of every job.
func (r *runner) prepJobs(op Op) {
	for i := range r.jobs {
		j := &r.jobs[i]
		j.Op, j.Out, j.slot = op, Outcome{}, i/r.cfg.NumKeys
		switch op {
		case Store:
			j.Buf = r.storeBuf[i]
		case Load:
			j.Buf = r.loadBuf[i]
			if r.threadBuf != nil {
				j.Buf = nil // the worker's own buffer
			}
		default:
			j.Buf = nil
		}
	}
}

// submit issues submit i (jobs [i·nk, (i+1)·nk)) in tiles.
func (r *runner) submit(op Op, i int) {
	nk := r.cfg.NumKeys
	jobs := r.jobs[i*nk : (i+1)*nk]
	ts := Now()
	for k := range jobs {
		jobs[k].Submitted, jobs[k].late = ts, false
	}
	step := r.tileSize(op)
	for lo := 0; lo < nk; lo += step {
		r.eng.Submit(Tile{Jobs: jobs[lo:min(lo+step, nk)], C: r.comp[op]})
	}
}

// wait waits for completions of op (ready), for the cancel fd (cancelled:
// the Ctrl-C is seen now), or for timeout (neither; < 0 waits forever).
// Once a cancel has been seen the fd, which stays readable, is no longer
// polled, so waiting for the jobs still running blocks instead of spinning.
// An error (the wait itself failed, see Completions.Wait) ends the run.
func (r *runner) wait(op Op, timeout time.Duration) (ready, cancelled bool, err error) {
	fd := r.cancelFd
	if r.stopping {
		fd = -1
	}
	ready, cancelled, err = r.comp[op].Wait(timeout, fd)
	if cancelled {
		r.stopping = true
	}
	return ready, cancelled, err
}

// sawInterrupt reports a Ctrl-C the submitter has not seen on the cancel
// fd yet and marks the run stopping. Called after a Take: the jobs taken
// may include ones the engine completed as Cancelled, without their I/O,
// which must not count as failed keys of a round. The run's context is
// done before cancel stops the engine (watch), so it shows every such job.
func (r *runner) sawInterrupt() bool {
	if r.stopping || r.ctx.Err() == nil {
		return false
	}
	r.stopping = true
	return true
}

// take passes every finished job of op to each and returns how many there
// were.
func (r *runner) take(op Op, each func(*Job)) (n int) {
	r.tiles = r.comp[op].Take(r.tiles[:0])
	for _, t := range r.tiles {
		for k := range t.Jobs {
			each(&t.Jobs[k])
			n++
		}
	}
	return n
}

// harvest waits for pending jobs of op and passes each finished one to
// each. It returns how many finished, and stops early on a timeout
// (LMCache's rule: no completion within the timeout since the previous
// wakeup; timedOut), when a Ctrl-C is seen (r.stopping), or when the wait
// fails (err: the jobs still pending can no longer be harvested, the run
// must abort).
func (r *runner) harvest(op Op, pending int, timeout time.Duration, each func(*Job)) (done int, timedOut bool, err error) {
	for done < pending {
		ready, cancelled, err := r.wait(op, timeout)
		if err != nil {
			return done, false, err
		}
		if ready { // the eventfd was read: take what it announced, whatever else happened
			done += r.take(op, each)
		}
		cancelled = cancelled || r.sawInterrupt()
		switch {
		case cancelled:
			return done, false, nil
		case !ready && timeout >= 0:
			return done, true, nil
		}
	}
	return done, false, nil
}

// drain waits, without a timeout and through a Ctrl-C, for jobs still
// running after a timeout or an interrupt, so their buffers are free
// before anyone reuses them. After a Ctrl-C that is at most one job per
// I/O worker: the engine cancels the others without doing their I/O. It
// stops at the first failed wait and returns its error.
func (r *runner) drain(op Op, pending int, each func(*Job)) error {
	for pending > 0 {
		n, _, err := r.harvest(op, pending, -1, each)
		if err != nil {
			return err
		}
		pending -= n
	}
	return nil
}

// collectLate keeps a job drained after its round timed out.
func (r *runner) collectLate(j *Job) { r.late = append(r.late, j) }
