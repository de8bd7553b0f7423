package engine

import (
	"fmt"
	"sync"
	"time"

	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/engine/sweep"
)

// stepSetting is what one step of a run runs at.
type stepSetting struct {
	index       int     // 1-based; 0 for the one step of a run without a sweep
	rate        float64 // the group's target requests/s; 0: closed loop
	concurrency int     // request lanes per sender
	warmup      time.Duration
	duration    time.Duration
}

// Sweep is a --sweep: a schedule of steps, each a warm-up and a measured
// stretch at one rate or concurrency, that every group of a run follows
// together. The workers stay registered and the sockets open from one step
// to the next; each step ends once every request due in it was sent or
// dropped and answered. After each step the groups meet: their figures
// are merged into a StepResult, checked against the SLO and handed to the
// Reporter, and the sweep.Planner picks the next step (coarse values, then
// a bisection of the rate between the highest pass and the lowest
// failure). At the end the Reporter gets the CapacityResult.
type Sweep struct {
	spec        sweep.Spec
	slo         slo.Spec
	precision   float64
	warmup      time.Duration
	stepDur     time.Duration
	rate        float64 // total rate of a concurrency sweep's steps (0: closed loop)
	concurrency int     // lanes per sender of a rate sweep's steps
	groups      int
	rep         Reporter
	planner     *sweep.Planner

	mu          sync.Mutex
	cond        *sync.Cond
	active      int       // groups still taking part
	arrived     int       // groups waiting for the next step
	results     []*Result // their figures of the step just run
	interrupted bool
	gen         int // advances at every decision
	cur         stepSetting
	curPhase    sweep.Phase
	curValue    float64
	ok          bool // cur is a step to run
	steps       []*StepResult
	capacity    *CapacityResult
}

// SweepConfig is what NewSweep needs.
type SweepConfig struct {
	Spec sweep.Spec
	// SLO, when not empty, decides each step's pass; a rate sweep is then
	// bisected to Precision (a fraction such as 0.05).
	SLO       slo.Spec
	Precision float64
	// Warmup and StepDuration are each step's excluded start and measured
	// stretch.
	Warmup, StepDuration time.Duration
	// Rate is the total target of a concurrency sweep's steps (0: closed
	// loop); Concurrency the lanes per sender of a rate sweep's steps.
	Rate        float64
	Concurrency int
	// Groups is how many engine groups run the sweep together (each with
	// this Sweep in its Config).
	Groups int
	// Reporter gets each step, merged over the groups, and the capacity.
	Reporter Reporter
}

// NewSweep returns the sweep c describes.
func NewSweep(c SweepConfig) (*Sweep, error) {
	switch {
	case len(c.Spec.Values) == 0:
		return nil, fmt.Errorf("--sweep has no values")
	case c.StepDuration <= 0:
		return nil, fmt.Errorf("--step-duration must be positive")
	case c.Warmup < 0:
		return nil, fmt.Errorf("--warmup must not be negative")
	case c.Groups < 1:
		return nil, fmt.Errorf("a sweep needs at least one group")
	case len(c.SLO) > 0 && (c.Precision <= 0 || c.Precision > 1):
		return nil, fmt.Errorf("--precision must be above 0 and at most 100%%")
	case c.Spec.Dim == sweep.Rate && c.Concurrency < 1:
		return nil, fmt.Errorf("--concurrency must be positive")
	}
	rep := c.Reporter
	if rep == nil {
		rep = Discard
	}
	sw := &Sweep{spec: c.Spec, slo: c.SLO, precision: c.Precision, warmup: c.Warmup, stepDur: c.StepDuration,
		rate: c.Rate, concurrency: c.Concurrency, groups: c.Groups, rep: rep, active: c.Groups,
		planner: sweep.NewPlanner(c.Spec, len(c.SLO) > 0, c.Precision)}
	sw.cond = sync.NewCond(&sw.mu)
	return sw, nil
}

// openLoop reports whether the sweep's steps are paced.
func (sw *Sweep) openLoop() bool { return sw.spec.Dim == sweep.Rate || sw.rate > 0 }

// Steps returns the steps run so far, in order.
func (sw *Sweep) Steps() []*StepResult {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return append([]*StepResult(nil), sw.steps...)
}

// Capacity returns the sweep's answer once every group is done with it
// (nil before).
func (sw *Sweep) Capacity() *CapacityResult {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.capacity
}

// next is called by a group after each step with its figures (nil before
// the first) and whether it was interrupted; it waits for the other
// groups and returns the next step to run, or false when the sweep is
// over.
func (sw *Sweep) next(prev *Result, interrupted bool) (stepSetting, bool) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	gen := sw.gen
	if prev != nil {
		sw.results = append(sw.results, prev)
	}
	sw.interrupted = sw.interrupted || interrupted
	sw.arrived++
	if sw.arrived >= sw.active {
		sw.decide()
	} else {
		for gen == sw.gen {
			sw.cond.Wait()
		}
	}
	return sw.cur, sw.ok
}

// reportGroup hands rep, a group's Reporter, the group's own figures
// (own) of step index, with the step's verdict on the merged figures, when
// the sweep has several groups (with one, the step's line is the group's
// already) and the step was judged (not when it was cut short).
func (sw *Sweep) reportGroup(rep Reporter, own *Result, index int) {
	if sw.groups < 2 {
		return
	}
	sw.mu.Lock()
	var st *StepResult
	if n := len(sw.steps); n > 0 && sw.steps[n-1].Index == index {
		c := *sw.steps[n-1]
		c.Result, c.Rate = own, own.TargetRate
		st = &c
	}
	sw.mu.Unlock()
	if st != nil {
		rep.Step(st)
	}
}

// leave takes a group out of the sweep (it ended before taking part, on
// an error), so that the others do not wait for it.
func (sw *Sweep) leave() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.active--
	if sw.active > 0 && sw.arrived >= sw.active {
		sw.decide()
	}
}

// decide records the step just run (all groups arrived) and sets the next
// one; called with mu held.
func (sw *Sweep) decide() {
	if len(sw.results) > 0 && sw.ok && !sw.interrupted {
		sw.record(Merge(sw.results))
	}
	sw.results, sw.arrived = nil, 0
	sw.ok = false
	if !sw.interrupted && sw.capacity == nil {
		if v, phase, more := sw.planner.Next(); more {
			sw.cur = stepSetting{index: len(sw.steps) + 1, warmup: sw.warmup, duration: sw.stepDur}
			sw.curPhase, sw.curValue = phase, v
			if sw.spec.Dim == sweep.Rate {
				sw.cur.rate, sw.cur.concurrency = v/float64(sw.groups), sw.concurrency
			} else {
				sw.cur.rate, sw.cur.concurrency = sw.rate/float64(sw.groups), int(v)
			}
			sw.ok = true
		}
	}
	if !sw.ok && sw.capacity == nil {
		sw.finish()
	}
	sw.gen++
	sw.cond.Broadcast()
}

// record evaluates and reports the step just run from its merged figures.
func (sw *Sweep) record(res *Result) {
	st := &StepResult{Index: sw.cur.index, Phase: string(sw.curPhase), Dim: sw.spec.Dim.String(), Value: sw.curValue,
		Rate: res.TargetRate, Concurrency: sw.cur.concurrency, Warmup: sw.cur.warmup, Result: res, Pass: true}
	if len(sw.slo) > 0 {
		st.SLO = slo.Evaluate(sw.slo, res.Observed())
		st.Pass = st.SLO.Pass()
	}
	o := sweep.Outcome{Pass: st.Pass}
	if secs := res.Elapsed.Seconds(); secs > 0 {
		req, _, _ := res.Totals()
		o.Achieved = float64(req) / secs
	}
	for _, r := range st.SLO.Failed() {
		o.Failed = append(o.Failed, r.Text)
	}
	sw.planner.Record(o)
	sw.steps = append(sw.steps, st)
	sw.rep.Step(st)
}

// finish sets the capacity and reports it; called with mu held. Without
// an SLO only a concurrency sweep has one to report (the step that
// achieved the most); a rate sweep's is then its highest rate, which says
// nothing.
func (sw *Sweep) finish() {
	c := &CapacityResult{Dim: sw.spec.Dim.String(), SLO: sw.slo, Precision: sw.precision, Steps: len(sw.steps), Interrupted: sw.interrupted}
	sw.capacity = c
	if len(sw.slo) == 0 && sw.spec.Dim == sweep.Rate {
		return
	}
	bounds := sw.planner.Capacity()
	if bounds.Pass >= 0 {
		c.Pass = sw.steps[bounds.Pass]
	}
	if bounds.Fail >= 0 {
		c.Fail = sw.steps[bounds.Fail]
	}
	sw.rep.Capacity(c)
}
