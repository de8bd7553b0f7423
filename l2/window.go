package l2

import (
	"fmt"
	"math"
	"time"
)

// windowMissOrigin is where window-mode lookups draw their misses: far past
// any key a window store can write.
const windowMissOrigin = 1 << 48

// windowRun is one window-mode operation: --in-flight submits kept
// outstanding for --duration, or, with a zero --duration, until
// --warmup-rounds + --rounds rounds' submits have been issued (fio's
// size-based run: a fixed amount of work, each stored key written once, each
// loaded key read once when the store wrote as many). A "round" is every
// --in-flight consecutive completed submits (K keys); the first
// --warmup-rounds such rounds are warmup and do not count toward --duration.
// A trailing incomplete round is not reported (its submits are drained, not
// counted). A wait that times out ends the operation: that round is reported
// as timed out, and the keys still running are drained and count as failed
// (a Ctrl-C before they are all in drops it, as any round in progress).
// Every key counted in a histogram, an error line or a --raw sample belongs
// to a reported round: a round's keys are recorded when it is reported.
//
// Nothing but I/O and bookkeeping happens between the first submit and
// the last completion: round lines, --raw samples and verification are
// kept out of the timed window (round lines and samples are written after
// it, verification is one wave of loads after it, see verifyWindow).
type windowRun struct {
	r        *runner
	o        *OpResult
	nk, f, k int
	universe uint64 // load and lookup hits cycle over keys [0, universe)
	hit      int    // lookup hits per submit

	next     uint64   // submits issued so far
	submitNo []uint64 // per slot: the number of its submit
	left     []int    // per slot: keys of its submit not yet completed
	active   int      // slots with a submit outstanding

	round      Round
	inRound    int    // submits completed in round
	roundStart int64  // when round started (the previous one ended)
	end        int64  // no submit is issued after it: the end of warmup + --duration
	limit      uint64 // zero --duration: how many submits to issue in all; 0: no limit

	pend    []keyRec // the measured round's finished keys, recorded when it is reported
	rereads int64    // the round's keys that re-read keys loaded before in this operation

	timeout  time.Duration
	ending   bool // no more submits: timed out, interrupted, or the last round closed
	tail     bool // the last round closed after the end: later completions count nowhere
	late     bool // the wait timed out
	lateLeft int  // after the timeout: submits still owed to the timed-out round
}

// windowUniverse is the number of keys window-mode loads and lookup hits
// cycle over: what this run's store wrote, else the wave universe of the
// same flags; a multiple of --num-keys.
func (r *runner) windowUniverse() uint64 {
	c := r.cfg
	nk := uint64(c.NumKeys)
	u := uint64((c.Warmup + c.Rounds) * c.KeysPerRound())
	if r.stored > 0 {
		u = r.stored
	}
	return max(u/nk*nk, nk)
}

// window runs one window-mode operation. It returns at once on a failed
// wait (nothing of the round in progress is reported).
func (r *runner) window(op Op, o *OpResult) error {
	c := r.cfg
	w := &windowRun{r: r, o: o, nk: c.NumKeys, f: c.InFlight, k: c.KeysPerRound(), universe: r.windowUniverse(),
		hit: c.lookupHits(c.NumKeys), submitNo: make([]uint64, c.InFlight), left: make([]int, c.InFlight),
		end: math.MaxInt64, timeout: r.timeout(op), pend: make([]keyRec, 0, c.KeysPerRound())}
	r.prepJobs(op)
	w.round = w.newRound(1)
	w.roundStart = Now()
	if c.Duration == 0 {
		w.limit = uint64(c.Warmup+c.Rounds) * uint64(c.InFlight)
	} else if c.Warmup == 0 {
		w.end = w.roundStart + int64(c.Duration)
	}
	for slot := range w.left {
		w.assign(slot)
	}
	w.active = w.f
	for w.active > 0 {
		if err := w.step(); err != nil {
			return err
		}
	}
	// The timed-out round is reported once all its keys are in; a Ctrl-C
	// before that drops it, as it drops any round in progress (and, as
	// wave mode does, everything its keys would have recorded).
	if w.round.TimedOut && w.lateLeft == 0 {
		w.round.Failed = w.k - w.round.Success - w.round.Missing
		o.Rounds = append(o.Rounds, w.round)
		r.progress(o, &w.round)
		w.commit()
	}
	for i := range o.Rounds {
		r.roundEvent(o, &o.Rounds[i])
	}
	r.flushSamples(o)
	if op == Load {
		r.warnRereads(o, w.universe)
	}
	return nil
}

// assign gives slot the keys of the next submit and issues it.
func (w *windowRun) assign(slot int) {
	s := w.next
	w.next++
	w.submitNo[slot], w.left[slot] = s, w.nk
	nk := uint64(w.nk)
	jobs := w.r.jobs[slot*w.nk : (slot+1)*w.nk]
	for i := range jobs {
		switch op := w.o.Op; {
		case op == Store:
			jobs[i].Idx = s*nk + uint64(i)
		case op == Load || i < w.hit: // a stored submit's keys: below universe, a multiple of nk
			jobs[i].Idx = (s*nk)%w.universe + uint64(i)
		default: // lookup misses
			jobs[i].Idx = windowMissOrigin + s*uint64(w.nk-w.hit) + uint64(i-w.hit)
		}
	}
	w.r.submit(w.o.Op, slot)
}

func (w *windowRun) newRound(n int) Round {
	rd := Round{Number: n, Warmup: n <= w.r.cfg.Warmup, Keys: w.k}
	if w.o.Op != Lookup {
		rd.Requested = int64(w.k) * int64(w.r.cfg.Payload)
	}
	return rd
}

// step waits once and handles what it brought: completions, the Ctrl-C,
// or the timeout. A failed wait is returned as is.
func (w *windowRun) step() error {
	ready, cancelled, err := w.r.wait(w.o.Op, w.timeout)
	if err != nil {
		return err
	}
	if ready { // the eventfd was read: take what it announced, whatever else happened
		w.r.tiles = w.r.comp[w.o.Op].Take(w.r.tiles[:0])
	}
	if cancelled = cancelled || w.r.sawInterrupt(); cancelled {
		// Drain what runs, without a timeout; submits that complete from
		// now on are not counted (the round in progress is dropped, as in
		// wave mode).
		w.ending, w.o.Interrupted, w.timeout = true, true, -1
	}
	if !ready {
		if !cancelled && w.timeout >= 0 {
			w.ending, w.late, w.round.TimedOut = true, true, true
			w.round.Duration = time.Duration(Now() - w.roundStart)
			w.timeout, w.lateLeft = -1, w.f-w.inRound
		}
		return nil
	}
	for _, t := range w.r.tiles {
		slot := t.Jobs[0].slot
		if w.left[slot] -= len(t.Jobs); w.left[slot] == 0 {
			w.complete(slot)
		}
	}
	return nil
}

// complete handles slot's submit, all of whose keys have finished.
func (w *windowRun) complete(slot int) {
	r, o := w.r, w.o
	jobs := r.jobs[slot*w.nk : (slot+1)*w.nk]
	measured := !w.round.Warmup
	switch {
	case w.late:
		// The first submits to finish after the timeout complete the
		// timed-out round (its K keys); later ones belong to no round.
		if w.lateLeft > 0 && !r.stopping {
			w.lateLeft--
			for i := range jobs {
				markLate(&jobs[i])
				w.hold(&jobs[i], measured)
			}
		}
		w.active--
		return
	case r.stopping || w.tail:
		w.active--
		return
	}
	// A submit counts in the round in which it completed, all its keys
	// together, so every round has exactly K keys.
	for i := range jobs {
		r.tally(o.Op, &w.round, &jobs[i])
		w.hold(&jobs[i], measured)
	}
	if measured && w.submitNo[slot]*uint64(w.nk) >= w.universe {
		w.rereads += int64(w.nk) // a load of keys this operation already loaded once
	}
	if o.Op == Store {
		r.stored = max(r.stored, jobs[0].Idx+uint64(w.nk))
	}
	w.round.Submits++
	now := Now()
	if w.inRound++; w.inRound == w.f {
		w.closeRound(now)
	}
	if !w.ending && now < w.end && (w.limit == 0 || w.next < w.limit) && r.ctx.Err() == nil {
		w.assign(slot)
	} else {
		w.active--
	}
}

// hold keeps a finished key until its round is reported.
func (w *windowRun) hold(j *Job, measured bool) {
	w.pend = append(w.pend, newKeyRec(w.round.Number, j, !measured))
}

// commit records the held keys of the round just reported.
func (w *windowRun) commit() {
	for i := range w.pend {
		w.r.record(w.o, &w.pend[i])
	}
	w.o.Rereads += w.rereads
	w.pend, w.rereads = w.pend[:0], 0
}

// closeRound ends the round at now and starts the next; the end of the
// last warmup round starts the measured --duration.
func (w *windowRun) closeRound(now int64) {
	w.round.Duration = time.Duration(now - w.roundStart)
	w.o.Rounds = append(w.o.Rounds, w.round)
	w.commit()
	w.r.progress(w.o, &w.round)
	if w.round.Number == w.r.cfg.Warmup && w.limit == 0 {
		w.end = now + int64(w.r.cfg.Duration)
	}
	w.round = w.newRound(w.round.Number + 1)
	w.roundStart, w.inRound = now, 0
	if now >= w.end {
		// The round in progress at the end is the last: the submits still
		// outstanding are drained, not counted (they could not fill a
		// round), so histograms and samples hold exactly the rounds' keys.
		w.ending, w.tail = true, true
	}
}

// warnRereads warns when a window-mode load went round the stored keys
// more than once with buffered reads: those re-reads may come from the
// page cache, not the disk.
func (r *runner) warnRereads(o *OpResult, universe uint64) {
	if o.Rereads == 0 || o.BufferedKeys == 0 {
		return
	}
	r.cfg.Warn(fmt.Sprintf("window load: %d of the measured keys re-read keys already loaded in this operation "+
		"(it cycles over the %d stored keys): buffered re-reads may come from the page cache, not the disk; "+
		"store more keys (a longer store --duration), or use use_odirect", o.Rereads, universe))
}
