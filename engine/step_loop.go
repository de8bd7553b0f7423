package engine

import (
	"sync"
	"time"

	"github.com/lmfast/lmfast/engine/shape"
	"github.com/lmfast/lmfast/internal/cpus"
)

// stepRun is one step as the senders run it.
type stepRun struct {
	start       time.Time // the schedule's origin: request k is due at start + Due(k)
	measureFrom time.Time // start + warm-up
	deadline    time.Time // measureFrom + the step's duration
	pacers      []Pacer   // per sender; nil: closed loop
	lanes       int       // request lanes per sender
	grace       time.Duration
	stop        chan struct{} // closed when the run is interrupted
	done        sync.WaitGroup

	// laneShape, when set, is the request lanes per sender over the
	// measured time (--concurrency-schedule) instead of lanes.
	laneShape *shape.Shape
}

// runStep runs one step: it sends every request of the step (an open
// loop: sends or drops every request due before the deadline), then waits
// for the replies still outstanding. An operation taken from the ring is
// always sent: one left at the end of a step stays for the next, so that
// the controller's sequence numbers never skip.
func (s *sender) runStep(st *stepRun) {
	if !s.started {
		s.ranOn = cpus.Current()
		s.started = true
	}
	s.stop = st.stop
	s.measureFrom = st.measureFrom
	s.lanes = min(st.lanes, len(s.slots))
	s.laneShape, s.laneFrom = st.laneShape, st.measureFrom
	s.stepSent, s.stepDropped, s.stepDue = [numOps]int64{}, [numOps]int64{}, 0
	if p := st.pacers[s.id]; p != nil {
		s.openLoop(st, p)
	} else {
		s.closedLoop(st)
	}
	s.finish()
}

// closedLoop sends operations back to back (each request on a free lane)
// until the deadline: the clock is read after every wait, and nothing is
// sent after it.
func (s *sender) closedLoop(st *stepRun) {
	for !stopped(s.stop) {
		it := s.nextItem(s.stop, st.deadline)
		if it == nil {
			return
		}
		now := time.Now()
		if !now.Before(st.deadline) {
			return
		}
		measured := !now.Before(s.measureFrom)
		if measured && !s.cfg.Requests.take() {
			return // --requests reached
		}
		if !s.send(it, now, now, st.deadline) {
			if measured {
				s.cfg.Requests.giveBack()
			}
			return
		}
	}
}

// openLoop sends request k at start + Due(k), for every k due before the
// deadline: late when the target or lmfast fell behind (the lateness is in
// the corrected latency), never skipped while the step runs. After the
// deadline a request still unsent LateGrace after its intended time is
// dropped instead, with the lateness it reached recorded; on a stop every
// request due until then and not sent is dropped. So Sent + Dropped is
// always the schedule's count of requests due (stepDue).
//
// With --requests, every measured request takes one from the budget before
// it is sent or dropped; once the budget is spent the step ends at that
// request, and its due count is what was sent and dropped.
func (s *sender) openLoop(st *stepRun, p Pacer) {
	end := st.deadline // requests intended before it are due
	var k uint64
	spent := false
	for !spent {
		intended := st.start.Add(p.Due(k))
		if !intended.Before(end) {
			break
		}
		if stopped(s.stop) {
			if now := time.Now(); now.Before(end) {
				end = now
			}
			_, spent = s.drop(k, st, p, end, end, true)
			break
		}
		// Once the deadline passed, a request is dropped at dropAt.
		dropAt := intended.Add(st.grace)
		if dropAt.Before(st.deadline) {
			dropAt = st.deadline
		}
		now := time.Now()
		if !now.Before(dropAt) {
			k, spent = s.drop(k, st, p, st.deadline, now, false)
			continue
		}
		it := s.nextItem(s.stop, dropAt)
		if it == nil {
			continue // stopped or overdue: decided above
		}
		if now = time.Now(); intended.After(now) {
			if s.busy > 0 {
				s.harvestUntil(intended)
			}
			if !waitUntil(intended, s.stop) {
				continue
			}
			now = time.Now()
		}
		measured := !intended.Before(s.measureFrom)
		if measured && !s.cfg.Requests.take() {
			spent = true
			break
		}
		if !s.send(it, intended, now, dropAt) {
			if measured {
				s.cfg.Requests.giveBack()
			}
			continue
		}
		k++
	}
	if spent {
		for op := range s.stepSent {
			s.stepDue += s.stepSent[op] + s.stepDropped[op]
		}
		return
	}
	s.stepDue = int64(dueBetween(p, st.measureFrom.Sub(st.start), end.Sub(st.start)))
}

// send sends the operation it (intended at intended, now is the time just
// taken) unless giveUpAt passes first or the sender is stopped; it then
// returns false and the operation stays in the ring. Sent, it leaves the
// ring and counts as sent when intended after the warm-up.
func (s *sender) send(it *item, intended, now, giveUpAt time.Time) bool {
	op := it.op
	if it.pair != nil {
		// The worker's freeze and key snapshot wait for this send and
		// its effect on the held keys (heldKeys.freeze).
		it.pair.held.mu.Lock()
		defer it.pair.held.mu.Unlock()
	}
	if it.pair != nil && it.pair.frozen.Load() {
		// A frozen LMCache worker generates no admit/evict: the operation
		// is due but not sent, counted as dropped and as frozen.
		s.queue.Release()
		s.frozenSkipped.Add(1)
		if !intended.Before(s.measureFrom) {
			s.stepDropped[op]++
		}
		return true
	}
	// Collect the replies already there before sending, so that each
	// completes at the time it arrived; not when every lane is busy and
	// this is a request: sendRequest then waits for replies anyway.
	if s.busy > 0 && (op.IsPush() || s.busy < s.lanes) {
		s.harvest(0)
	}
	var ok bool
	if op.IsPush() {
		ok = s.sendPush(it, intended, now, giveUpAt)
	} else {
		ok = s.sendRequest(it, intended, giveUpAt)
	}
	if !ok {
		return false
	}
	s.queue.Release()
	if !intended.Before(s.measureFrom) {
		s.stepSent[op]++
	}
	return true
}

// drop drops the requests from k on that are intended before before and,
// unless all, overdue at now (intended at least LateGrace before it): each
// counts as dropped, under the op the mix's schedule gives it, with its
// lateness at now in the corrected latency. It returns the first request
// not dropped, and whether it stopped there because the --requests budget
// is spent.
func (s *sender) drop(k uint64, st *stepRun, p Pacer, before, now time.Time, all bool) (uint64, bool) {
	for {
		intended := st.start.Add(p.Due(k))
		if !intended.Before(before) || !all && now.Before(intended.Add(st.grace)) {
			return k, false
		}
		measured := !intended.Before(s.measureFrom)
		if measured && !s.cfg.Requests.take() {
			return k, true
		}
		op := s.schedule[s.dropNext]
		if s.dropNext++; s.dropNext == len(s.schedule) {
			s.dropNext = 0
		}
		if measured {
			s.stepDropped[op]++
			if r := s.corrected[op]; r != nil {
				r.Record(int64(now.Sub(intended)))
			}
		}
		k++
	}
}

// dueBetween counts the requests p has due from from (included) to to
// (excluded) after the start of its schedule: the k with from <= Due(k) <
// to.
func dueBetween(p Pacer, from, to time.Duration) uint64 {
	if to <= from {
		return 0
	}
	return firstDue(p, to) - firstDue(p, from)
}

// firstDue returns the first k with Due(k) >= t (Due never decreases).
func firstDue(p Pacer, t time.Duration) uint64 {
	if c, ok := p.(dueCounter); ok {
		return c.dueBefore(t)
	}
	if p.Due(0) >= t {
		return 0
	}
	lo, hi := uint64(0), uint64(1) // Due(lo) < t
	for p.Due(hi) < t {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if p.Due(mid) < t {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
