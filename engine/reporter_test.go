package engine

import (
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/stats"
)

// recorder is a Reporter that keeps every value it is given (histograms
// copied, since the engine reuses them), for tests to read.
type recorder struct {
	mu        sync.Mutex
	intervals []*Interval
	errors    []ErrorCount
	summaries []*Result
	steps     []*StepResult
	capacity  []*CapacityResult
	samples   []Sample
	// onInterval and onStep, when set, are called with each interval and
	// each step.
	onInterval func(*Interval)
	onStep     func(*StepResult)
}

func (r *recorder) Interval(iv *Interval) {
	cp := *iv
	cp.Ops = append([]OpInterval(nil), iv.Ops...)
	for i := range cp.Ops {
		cp.Ops[i].Service = copyHist(cp.Ops[i].Service)
		cp.Ops[i].Corrected = copyHist(cp.Ops[i].Corrected)
	}
	r.mu.Lock()
	r.intervals = append(r.intervals, &cp)
	f := r.onInterval
	r.mu.Unlock()
	if f != nil {
		f(&cp)
	}
}

func (r *recorder) Errors(l []ErrorCount) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, l...)
}

func (r *recorder) Summary(res *Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.summaries = append(r.summaries, res)
}

func (r *recorder) Step(s *StepResult) {
	r.mu.Lock()
	r.steps = append(r.steps, s)
	f := r.onStep
	r.mu.Unlock()
	if f != nil {
		f(s)
	}
}

func (r *recorder) Capacity(c *CapacityResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.capacity = append(r.capacity, c)
}

func (r *recorder) Samples(b []Sample) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, b...)
	return nil
}

// errorCount returns the count of the error of op with text, 0 if none.
func (r *recorder) errorCount(op Op, text string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errors {
		if e.Op == op && e.Text == text {
			return e.Count
		}
	}
	return 0
}

func copyHist(h *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if h == nil {
		return nil
	}
	c := stats.NewHistogram()
	c.Merge(h)
	return c
}
