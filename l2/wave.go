package l2

import (
	"time"
)

// keysForRound fills the jobs of wave round rd with their keys (docs/l2-bench.md, "Keys").
func (r *runner) keysForRound(op Op, rd int) {
	c := r.cfg
	k := c.KeysPerRound()
	t := c.Warmup + c.Rounds
	if op != Lookup {
		for i := range r.jobs {
			r.jobs[i].Idx = uint64(rd*k + i)
		}
		return
	}
	hit := c.lookupHits(k)
	miss := k - hit
	for i := range r.jobs {
		if i < hit {
			r.jobs[i].Idx = uint64(rd*hit + i)
		} else {
			r.jobs[i].Idx = uint64(t*k + rd*miss + (i - hit))
		}
	}
}

// wave runs LMCache's rounds: --in-flight submits back to back, wait for
// all, record the wall time. It returns at once on a failed wait.
func (r *runner) wave(op Op, o *OpResult) error {
	c := r.cfg
	k := c.KeysPerRound()
	total := c.Warmup + c.Rounds
	r.prepJobs(op)
	left := make([]int, c.InFlight)
	var round Round
	count := func(j *Job) {
		r.tally(op, &round, j)
		if left[j.slot]--; left[j.slot] == 0 {
			round.Submits++
		}
	}
	for rd := 0; rd < total; rd++ {
		if r.ctx.Err() != nil {
			o.Interrupted = true
			return nil
		}
		r.keysForRound(op, rd)
		if op == Load && r.threadBuf == nil && !r.fillSlots(r.loadBuf, poison) {
			o.Interrupted = true
			return nil
		}
		round = Round{Number: rd + 1, Warmup: rd < c.Warmup, Keys: k}
		if op != Lookup {
			round.Requested = int64(k) * int64(c.Payload)
		}
		measured := !round.Warmup
		for i := range left {
			left[i] = c.NumKeys
		}
		t0 := Now()
		for i := 0; i < c.InFlight; i++ {
			r.submit(op, i)
		}
		done, timedOut, err := r.harvest(op, k, r.timeout(op), count)
		if err != nil {
			return err
		}
		round.Duration = time.Duration(Now() - t0)
		if done < k {
			// Keys still running are drained so their buffers are free
			// before the next round; they count as failed for this round.
			r.late = r.late[:0]
			if err := r.drain(op, k-done, r.collectLate); err != nil {
				return err
			}
			round.Failed += k - done
			round.TimedOut = timedOut
		}
		if r.stopping {
			o.Interrupted = true // the round in progress is dropped, and nothing of it recorded
			return nil
		}
		for _, j := range r.late {
			markLate(j)
		}
		r.late = r.late[:0]
		o.Rounds = append(o.Rounds, round)
		for i := range r.jobs {
			kr := newKeyRec(rd+1, &r.jobs[i], !measured)
			r.record(o, &kr)
		}
		r.progress(o, &round)
		r.roundEvent(o, &round)
		if c.Raw && measured {
			r.flushSamples(o)
		}
	}
	return nil
}
