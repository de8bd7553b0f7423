package sweep

import "math"

// Outcome is what one step did.
type Outcome struct {
	Value    float64  // the step's setting: target rate or concurrency
	Phase    Phase    // coarse or bisect
	Pass     bool     // met every SLO term (true when there is no SLO)
	Achieved float64  // successful requests per second it achieved
	Failed   []string // the SLO terms it failed, as written
}

// Phase says why a step ran.
type Phase string

// The phases of a sweep.
const (
	Coarse Phase = "coarse" // a value of the specification
	Bisect Phase = "bisect" // a rate between the highest pass and the lowest failure
)

// Capacity locates a sweep's result in its outcomes. For a rate sweep,
// Pass is the highest passing step below the lowest failing one (a pass
// above a failure is noise, not capacity); for a concurrency sweep, the
// passing step that achieved the most. Fail is the lowest failing step.
// Either is -1 when there is none: no Pass means even the first step
// failed; no Fail means the capacity is above the highest value tried.
type Capacity struct {
	Pass, Fail int
}

// Bounds returns the rate sweep's Capacity of steps (any order).
func Bounds(steps []Outcome) Capacity {
	c := Capacity{Pass: -1, Fail: -1}
	for i, s := range steps {
		if !s.Pass && (c.Fail < 0 || s.Value < steps[c.Fail].Value) {
			c.Fail = i
		}
	}
	for i, s := range steps {
		if s.Pass && (c.Fail < 0 || s.Value < steps[c.Fail].Value) && (c.Pass < 0 || s.Value > steps[c.Pass].Value) {
			c.Pass = i
		}
	}
	return c
}

// Best returns the concurrency sweep's Capacity of steps: the passing step
// with the highest achieved rate (the lower setting on a tie) and the lowest
// failing step.
func Best(steps []Outcome) Capacity {
	c := Bounds(steps)
	c.Pass = -1
	for i, s := range steps {
		if !s.Pass {
			continue
		}
		if b := c.Pass; b < 0 || s.Achieved > steps[b].Achieved || s.Achieved == steps[b].Achieved && s.Value < steps[b].Value {
			c.Pass = i
		}
	}
	return c
}

// Within reports whether failing rate hi is within precision of passing
// rate lo: hi <= lo·(1+precision).
func Within(lo, hi, precision float64) bool { return hi <= lo*(1+precision) }

// NextRate returns the rate to try next when bisecting steps with the given
// relative precision, or ok false when done: no pass or no failure to
// bisect between, or the lowest failure already within precision of the
// highest pass. The next rate is the geometric midpoint, rounded to a whole
// number of requests per second when that stays strictly between them.
func NextRate(steps []Outcome, precision float64) (rate float64, ok bool) {
	c := Bounds(steps)
	if c.Pass < 0 || c.Fail < 0 {
		return 0, false
	}
	lo, hi := steps[c.Pass].Value, steps[c.Fail].Value
	if Within(lo, hi, precision) {
		return 0, false
	}
	mid := math.Sqrt(lo * hi)
	if r := math.Round(mid); r > lo && r < hi {
		mid = r
	}
	return mid, true
}

// MaxBisections bounds the bisection steps of one sweep; at 5 % from a
// factor of 2 apart it takes 4.
const MaxBisections = 30

// Planner hands out a sweep's steps. Call Next for a step's setting, run
// it, Record its outcome, and repeat until Next says done.
type Planner struct {
	spec      Spec
	slo       bool
	precision float64
	steps     []Outcome
	coarse    int // coarse values handed out
	bisected  int
	pending   *Outcome // handed out, not yet recorded
	// coarseFailed: a coarse step failed its SLO, so higher ones are not run.
	coarseFailed bool
	done         bool
}

// NewPlanner plans spec. With slo, the coarse steps stop after the first
// failure, and a rate sweep then bisects to precision (a fraction, e.g.
// 0.05). Without, every coarse step runs and nothing is bisected.
func NewPlanner(spec Spec, slo bool, precision float64) *Planner {
	return &Planner{spec: spec, slo: slo, precision: precision}
}

// Next returns the next step's setting and phase, or ok false when the
// sweep is done. Until that step is recorded, Next returns it again.
func (p *Planner) Next() (value float64, phase Phase, ok bool) {
	if p.pending != nil {
		return p.pending.Value, p.pending.Phase, true
	}
	if p.done {
		return 0, "", false
	}
	if p.coarse < len(p.spec.Values) && !p.coarseFailed {
		p.pending = &Outcome{Value: p.spec.Values[p.coarse], Phase: Coarse}
		p.coarse++
		return p.pending.Value, Coarse, true
	}
	if p.slo && p.spec.Dim == Rate && p.bisected < MaxBisections {
		if r, more := NextRate(p.steps, p.precision); more {
			p.pending = &Outcome{Value: r, Phase: Bisect}
			p.bisected++
			return r, Bisect, true
		}
	}
	p.done = true
	return 0, "", false
}

// Record gives the outcome of the step Next returned; its Value and Phase
// are the planner's.
func (p *Planner) Record(o Outcome) {
	if p.pending == nil {
		return
	}
	o.Value, o.Phase = p.pending.Value, p.pending.Phase
	p.steps = append(p.steps, o)
	p.pending = nil
	if p.slo && o.Phase == Coarse && !o.Pass {
		p.coarseFailed = true
	}
}

// Steps returns the recorded outcomes in the order run.
func (p *Planner) Steps() []Outcome { return p.steps }

// Capacity returns the result so far: Bounds for a rate sweep, Best for a
// concurrency sweep, as indexes into Steps.
func (p *Planner) Capacity() Capacity {
	if p.spec.Dim == Concurrency {
		return Best(p.steps)
	}
	return Bounds(p.steps)
}
