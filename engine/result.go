package engine

import (
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/stats"
)

// OpResult is what one operation did over a whole run.
type OpResult struct {
	Op       Op
	Requests int64 // successful operations (LMCache's "requests")
	Messages int64 // messages they carried (batch size, hash count or 1)
	Errors   int64 // failed operations
	// Service holds the time from the actual send to completion, in ns: for
	// PUSH ops the enqueue time LMCache's tool reports, for request ops the
	// round trip.
	Service *hdrhistogram.Histogram
	// Corrected holds the time from the intended send time to completion
	// (open loop only; nil in a closed loop).
	Corrected *hdrhistogram.Histogram
	// ErrorCounts counts each distinct error text.
	ErrorCounts map[string]int64
	// Sent counts the operations sent (or whose send failed): Requests +
	// Errors once every reply is in. Dropped counts, in an open loop, the
	// requests due before the deadline that were never sent (see
	// Config.LateGrace); their lateness is in Corrected. A dropped
	// request's op is the next of the mix's schedule, so the drops spread
	// over the ops as the mix does.
	Sent, Dropped int64
}

// Due returns the op's requests due: Sent + Dropped.
func (o *OpResult) Due() int64 { return o.Sent + o.Dropped }

// ErrorCount is one distinct error of a run: its op ("register" also for
// pre-registration), its text, how often it happened and when first.
type ErrorCount struct {
	Op    Op
	Text  string
	Count int64
	First time.Time
}

// ReportConfig is the part of the configuration the human report prints.
type ReportConfig struct {
	PullURL      string
	Duration     time.Duration // --duration
	BatchSize    int
	Mix          []OpShare
	NumInstances int
	NumWorkers   int
	NumLocations int
	NumKeys      int
	NumProcesses int
	Proc         int
	// Pacing says what sets the target when it is not --rate: the
	// --rate-schedule or --worker-rate it comes from ("" otherwise).
	Pacing string
}

// Result is one engine group's (one "process") final figures.
type Result struct {
	Config     ReportConfig
	Elapsed    time.Duration
	Ops        []OpResult // in --operations order
	MemSamples []float64  // system memory %, sampled every second

	RegisteredOK   int64         // workers pre-registered
	RegisterFailed int64         // pre-registrations that failed
	PushFrames     int64         // PUSH frames the sockets accepted during the run (full-sync frames included)
	KVOpsSent      int64         // KV operations inside those frames
	PushBytes      int64         // bytes of those frames
	TeardownFrames int64         // end-of-run DeRegisterMsg frames
	Drained        bool          // every queued frame left before DrainTimeout
	Interrupted    bool          // the run was stopped early (Ctrl-C, SIGTERM, lost output)
	DrainTime      time.Duration // how long the drain took
	TargetRate     float64       // --rate for this group (0: closed loop, or a sweep's whole run)
	OpenLoop       bool          // paced: Corrected histograms, due and dropped
	// PoissonTarget is set when TargetRate is the mean of Poisson arrivals
	// (--worker-rate, --arrival poisson): the requests due vary around it
	// by counting noise.
	PoissonTarget bool
	// Due counts the requests an open loop's schedule had due in the
	// measured time, counted from the schedule itself: Sent + Dropped over
	// all ops when every one is accounted for.
	Due            int64
	Warmup         time.Duration // excluded at the start (of each step)
	Start          time.Time     // when the measured time (of the first step) began, after the warm-up
	SamplesWritten int64         // --raw lines written
	SamplesDropped int64         // --raw samples lost because the writer fell behind
	SenderCPUs     []int         // per sender: the CPU it ran on when the run started
	ProcessCPU     time.Duration // user+system CPU time of the whole lmfast process over Elapsed
	Ceiling        *Ceiling      // the raw ZMQ ceiling the headroom is measured against (nil: none)
	Errors         []ErrorCount  // every distinct error, most frequent first
	// Intake is the reconciliation with the controller's own counts (its
	// /metrics); nil when they were not read.
	Intake *IntakeResult

	// RegisterTime is how long the pre-registration took, sockets opened
	// included (0 without it); TeardownTime how long the senders took to
	// hand every end-of-run DeRegisterMsg to their sockets (the slowest
	// sender's).
	RegisterTime, TeardownTime time.Duration
	// FailIf holds the outcome of each --fail-if term (nil without).
	FailIf slo.Results
	// Workers are the simulated workers' heartbeats and full syncs (nil
	// without --heartbeat-interval).
	Workers *WorkerStats
}

// Sent returns the operations sent and dropped over all ops.
func (r *Result) Sent() (sent, dropped int64) {
	for _, o := range r.Ops {
		sent += o.Sent
		dropped += o.Dropped
	}
	return
}

// Observed returns r's figures as SLO and --fail-if terms read them.
func (r *Result) Observed() slo.Observed {
	obs := slo.Observed{OpenLoop: r.OpenLoop, Elapsed: r.Elapsed}
	for i := range r.Ops {
		o := &r.Ops[i]
		obs.Ops = append(obs.Ops, slo.OpObserved{Op: o.Op.String(), Requests: o.Requests, Errors: o.Errors,
			Due: o.Due(), Dropped: o.Dropped, Corrected: slo.LatencyOf(o.Corrected), Service: slo.LatencyOf(o.Service)})
	}
	return obs
}

// CPUUtil is ProcessCPU over Elapsed, in cores (1.0: one core busy the
// whole time); ok is false for a window too short to measure.
func (r *Result) CPUUtil() (util float64, ok bool) { return cpuUtil(r.ProcessCPU, r.Elapsed) }

// Totals returns the successful requests and messages of all ops.
func (r *Result) Totals() (requests, messages, errors int64) {
	for _, o := range r.Ops {
		requests += o.Requests
		messages += o.Messages
		errors += o.Errors
	}
	return
}

// Merge combines the results of several groups into one: counts and
// histograms add up exactly, the elapsed time and the process's CPU time
// are the longest (every group measures the whole process), memory samples
// are concatenated. Ops keep the order of their first appearance. Intake
// (the controller's whole intake, not a group's) and FailIf are left for
// the caller to set on the merged result.
func Merge(results []*Result) *Result {
	out := &Result{}
	if len(results) == 0 {
		return out
	}
	out.Config = results[0].Config
	out.Drained = true
	for _, r := range results {
		out.Drained = out.Drained && r.Drained
		out.Interrupted = out.Interrupted || r.Interrupted
		out.OpenLoop = out.OpenLoop || r.OpenLoop
		out.PoissonTarget = out.PoissonTarget || r.PoissonTarget
		out.Warmup = max(out.Warmup, r.Warmup)
		out.Due += r.Due
	}
	index := map[Op]int{}
	errIndex := map[[2]string]int{}
	for _, r := range results {
		for _, e := range r.Errors {
			k := [2]string{e.Op.String(), e.Text}
			i, ok := errIndex[k]
			if !ok {
				errIndex[k] = len(out.Errors)
				out.Errors = append(out.Errors, e)
				continue
			}
			m := &out.Errors[i]
			m.Count += e.Count
			if e.First.Before(m.First) {
				m.First = e.First
			}
		}
		out.Elapsed = max(out.Elapsed, r.Elapsed)
		out.MemSamples = append(out.MemSamples, r.MemSamples...)
		out.RegisteredOK += r.RegisteredOK
		out.RegisterFailed += r.RegisterFailed
		out.PushFrames += r.PushFrames
		out.KVOpsSent += r.KVOpsSent
		out.PushBytes += r.PushBytes
		out.TeardownFrames += r.TeardownFrames
		out.RegisterTime = max(out.RegisterTime, r.RegisterTime)
		out.TeardownTime = max(out.TeardownTime, r.TeardownTime)
		if r.Workers != nil {
			if out.Workers == nil {
				out.Workers = &WorkerStats{}
			}
			out.Workers.merge(r.Workers)
		}
		out.TargetRate += r.TargetRate
		out.SamplesWritten += r.SamplesWritten
		out.SamplesDropped += r.SamplesDropped
		out.DrainTime = max(out.DrainTime, r.DrainTime)
		out.ProcessCPU = max(out.ProcessCPU, r.ProcessCPU) // each group measured the whole process
		out.SenderCPUs = append(out.SenderCPUs, r.SenderCPUs...)
		if c := r.Ceiling; c != nil {
			if out.Ceiling == nil {
				out.Ceiling = &Ceiling{Transport: c.Transport, PushBytes: c.PushBytes}
			}
			out.Ceiling.PushPerSec += c.PushPerSec // each group had its share
			out.Ceiling.RoundTripPerSec += c.RoundTripPerSec
			out.Ceiling.EnginePushPerSec += c.EnginePushPerSec
			out.Ceiling.EngineRoundTripPerSec += c.EngineRoundTripPerSec
		}
		for _, o := range r.Ops {
			i, ok := index[o.Op]
			if !ok {
				i = len(out.Ops)
				index[o.Op] = i
				out.Ops = append(out.Ops, OpResult{Op: o.Op, Service: stats.NewHistogram(), ErrorCounts: map[string]int64{}})
			}
			m := &out.Ops[i]
			m.Requests += o.Requests
			m.Messages += o.Messages
			m.Errors += o.Errors
			m.Sent += o.Sent
			m.Dropped += o.Dropped
			m.Service.Merge(o.Service)
			if o.Corrected != nil {
				if m.Corrected == nil {
					m.Corrected = stats.NewHistogram()
				}
				m.Corrected.Merge(o.Corrected)
			}
			for k, v := range o.ErrorCounts {
				m.ErrorCounts[k] += v
			}
		}
	}
	sortErrors(out.Errors)
	return out
}

// sortErrors orders errors by count, most frequent first, then by op and
// text.
func sortErrors(errs []ErrorCount) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Op != b.Op {
			return a.Op < b.Op
		}
		return a.Text < b.Text
	})
}
