package engine

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine/slo"
)

// A Reporter receives what a run measures, as plain values, while it is
// measured: the engine knows nothing of how they are written. engine/jsonl
// writes them as lmfast's JSONL stream; a report renderer or a test can
// take the same values.
//
// The engine calls a group's Reporter from one goroutine at a time: its
// collector during the run, then the caller. Values are the Reporter's to
// read during the call only; histograms in them may be reused afterwards.
type Reporter interface {
	// Interval is called every --interval with what completed in it.
	Interval(*Interval)
	// Errors is called once at the end with every distinct error, most
	// frequent first, before Summary.
	Errors([]ErrorCount)
	// Summary is called once at the end with the run's figures.
	Summary(*Result)
	// Step is called at the end of each sweep step.
	Step(*StepResult)
	// Capacity is called once at the end of a sweep.
	Capacity(*CapacityResult)
	// Samples is called with --raw's per-operation timings, in batches; an
	// error means the batch was lost (the caller counts it).
	Samples([]Sample) error
}

// Discard is a Reporter that keeps nothing (calibration runs).
var Discard Reporter = discard{}

type discard struct{}

func (discard) Interval(*Interval)       {}
func (discard) Errors([]ErrorCount)      {}
func (discard) Summary(*Result)          {}
func (discard) Step(*StepResult)         {}
func (discard) Capacity(*CapacityResult) {}
func (discard) Samples([]Sample) error   { return nil }

// Interval is what one group's operations completed over one --interval.
type Interval struct {
	Proc int // the group
	// Step is the sweep step (1-based) the interval belongs to; 0 outside
	// a sweep.
	Step int
	// End is the interval's end since the start of measurement (the first
	// step's, in a sweep, so a sweep's intervals lie on one time axis;
	// warm-up excluded); Length is its length.
	End, Length time.Duration
	Ops         []OpInterval // in --operations order
	// TargetRate is the group's target in requests/s over the interval (0
	// in a closed loop): the constant rate, --worker-rate's offered load,
	// or --rate-schedule's mean over the interval. TargetConcurrency is
	// the request lanes per sender set over time (--concurrency-schedule's
	// mean over the interval, or a concurrency sweep's step); 0 otherwise.
	TargetRate, TargetConcurrency float64
	// Received is what the controller said it received by the interval's
	// end (its /metrics); nil when it is not scraped.
	Received *Received
}

// OpInterval is one operation's share of an Interval.
type OpInterval struct {
	Op       Op
	Requests int64 // completed successfully in the interval
	Messages int64 // messages they carried
	Errors   int64 // failed in the interval
	// Service and Corrected are the interval's own latencies in ns (from
	// the actual and from the intended send); Corrected is nil in a closed
	// loop.
	Service, Corrected *hdrhistogram.Histogram
}

// Totals returns the interval's counts over all operations.
func (iv *Interval) Totals() (requests, messages, errors int64) {
	for _, o := range iv.Ops {
		requests += o.Requests
		messages += o.Messages
		errors += o.Errors
	}
	return
}

// Received is what the controller reported receiving over one interval,
// from its own counters (engine/scrape): read by Intake.
type Received struct {
	Frames   int64 // PULL-socket frames received over the span
	Requests int64 // reply/heartbeat-socket messages received over the span
	// Backlog is the PUSH frames every group sent (teardown included) that
	// the controller had not counted at the reading: in lmfast's queues,
	// on the network or in the controller's. The frames sent are counted
	// after the reading, so it is never below the true backlog.
	Backlog int64
	// Span is the time between this reading and the previous one (0 when
	// there was none to measure from).
	Span     time.Duration
	Restarts int   // times the controller's counts were seen going down
	Err      error // the reading failed: the other fields are not set
}

// FramesPerSec is Frames over the span (0 without one).
func (r *Received) FramesPerSec() float64 {
	if r == nil || r.Span <= 0 {
		return 0
	}
	return float64(r.Frames) / r.Span.Seconds()
}

// StepResult is what one step of a sweep measured, over all groups.
type StepResult struct {
	Index       int     // 1-based, in the order run
	Phase       string  // "coarse" (a value of --sweep) or "bisect"
	Dim         string  // what the sweep varies: "rate" or "concurrency"
	Value       float64 // the step's setting of Dim
	Rate        float64 // target requests/s (0: closed loop)
	Concurrency int     // request lanes per sender
	// Warmup is the step's excluded start; Result covers what followed.
	Warmup time.Duration
	// Result holds the step's figures: per-op counts and histograms, due,
	// sent and dropped, CPU time, and the ceiling for its headroom.
	Result *Result
	// SLO is each --slo term's outcome (nil without --slo); Pass is true
	// when every term held (and without --slo).
	SLO  slo.Results
	Pass bool
}

// CapacityResult is a sweep's answer.
type CapacityResult struct {
	Dim       string   // "rate" or "concurrency"
	SLO       slo.Spec // the --slo terms
	Precision float64  // --precision, a fraction
	Steps     int      // steps run
	// Pass is the highest rate that met every term below the lowest that
	// failed (rate), or the passing step that achieved the most
	// (concurrency); nil when none passed. Fail is the lowest failing
	// step; nil when none failed.
	Pass, Fail *StepResult
	// Interrupted is set when the sweep was stopped before it finished.
	Interrupted bool
}
