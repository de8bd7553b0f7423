package engine

import (
	"fmt"
	"io"
	"math"
)

// Ceiling is what this machine can move of a run's own traffic, measured
// by engine/calibrate just before the run on 127.0.0.1 into a counting
// sink, at two levels: raw pebbe/zmq4 with the run's batch bytes, senders
// and request lanes (the ceiling no generator here can beat), and lmfast's
// own engine doing the same (what lmfast reaches when the target is never
// the limit).
type Ceiling struct {
	Transport             string  // what it was measured over ("tcp")
	PushBytes             int     // the batch size measured with
	PushPerSec            float64 // raw PUSH frames per second
	RoundTripPerSec       float64 // raw request round trips per second (0: not measured)
	EnginePushPerSec      float64 // the engine's admit batches per second
	EngineRoundTripPerSec float64 // the engine's lookups per second (0: not measured)
}

// Limits a run can have hit (Headroom.LimitedBy).
const (
	LimitedByRate         = "rate"         // the --rate schedule was met: the pacer set the pace
	LimitedByGenerator    = "generator"    // the run did what lmfast can do on this machine
	LimitedByTarget       = "target"       // lmfast had room: the controller (or the network) held the run back
	LimitedByUndetermined = "undetermined" // too close to lmfast's own limit to tell, given the measurement's noise
)

// The engine-load bands of LimitedBy. A one-second ceiling measurement on
// a small shared VM moves by ±15 %, so a run between the two is not called
// either way.
const (
	generatorBound = 0.9
	targetBound    = 0.7
)

// Headroom is a run's send rates as fractions of its Ceiling. Each PUSH
// frame takes 1/PushPerSec of the machine's ZMQ capacity and each round
// trip 1/RoundTripPerSec, so Load, their sum, is the share of the raw
// ceiling a mixed run used; EngineLoad is the same against what lmfast's
// engine reaches, and decides LimitedBy.
type Headroom struct {
	Ceiling         Ceiling
	PushPerSec      float64 // PUSH frames per second of the timed run
	PushFraction    float64 // of the raw ceiling
	RequestsPerSec  float64 // request/reply operations per second (ok or failed)
	RequestFraction float64 // of the raw ceiling
	Load            float64 // PushFraction + RequestFraction
	EngineLoad      float64 // the same sum against the engine's ceilings
	LimitedBy       string
}

// Headroom returns r's headroom; false when no ceiling was measured.
func (r *Result) Headroom() (Headroom, bool) {
	if r.Ceiling == nil || r.Elapsed <= 0 {
		return Headroom{}, false
	}
	c, secs := *r.Ceiling, r.Elapsed.Seconds()
	var pushes, requests int64
	for _, o := range r.Ops {
		if o.Op.IsPush() {
			pushes += o.Requests
		} else {
			requests += o.Requests + o.Errors
		}
	}
	h := Headroom{Ceiling: c, PushPerSec: float64(pushes) / secs, RequestsPerSec: float64(requests) / secs}
	share := func(rate, ceiling float64) float64 {
		if ceiling <= 0 {
			return 0
		}
		return rate / ceiling
	}
	h.PushFraction, h.RequestFraction = share(h.PushPerSec, c.PushPerSec), share(h.RequestsPerSec, c.RoundTripPerSec)
	h.Load = h.PushFraction + h.RequestFraction
	h.EngineLoad = share(h.PushPerSec, c.EnginePushPerSec) + share(h.RequestsPerSec, c.EngineRoundTripPerSec)
	switch {
	case r.MetTarget():
		h.LimitedBy = LimitedByRate
	case h.EngineLoad >= generatorBound:
		h.LimitedBy = LimitedByGenerator
	case h.EngineLoad < targetBound:
		h.LimitedBy = LimitedByTarget
	default:
		h.LimitedBy = LimitedByUndetermined
	}
	return h, true
}

// targetShare is how much of its --rate target a run must achieve to
// have met it.
const targetShare = 0.95

// MetTarget reports whether an open loop kept to its --rate: it achieved
// at least 95 % of the target rate over its measured time (so a schedule
// sent late, within the grace, can still fall short) and dropped at most
// 5 % of the requests due. Poisson arrivals may have fewer due than their
// mean: five standard deviations of their count are allowed for.
func (r *Result) MetTarget() bool {
	if r.TargetRate <= 0 || r.Elapsed <= 0 {
		return false
	}
	req, _, errs := r.Totals()
	_, dropped := r.Sent()
	secs := r.Elapsed.Seconds()
	want := targetShare * r.TargetRate * secs
	if r.PoissonTarget {
		want -= 5 * math.Sqrt(r.TargetRate*secs)
	}
	return float64(req+errs) >= want && float64(dropped) <= (1-targetShare)*float64(r.Due)
}

// LimitedBy says what held an open loop's run back: LimitedByRate when it
// met its target, else the headroom's verdict, or LimitedByUndetermined
// without a ceiling. It is "" for a closed loop without a ceiling.
func (r *Result) LimitedBy() string {
	if h, ok := r.Headroom(); ok {
		return h.LimitedBy
	}
	switch {
	case r.MetTarget():
		return LimitedByRate
	case r.TargetRate > 0:
		return LimitedByUndetermined
	}
	return ""
}

// WriteHeadroom prints r's headroom for people, after the report.
func WriteHeadroom(w io.Writer, r *Result) error {
	h, ok := r.Headroom()
	if !ok {
		return nil
	}
	why := map[string]string{
		LimitedByRate:         "the --rate schedule was met",
		LimitedByGenerator:    "lmfast sent about as fast as it can on this machine: the generator was the limit, not the controller",
		LimitedByTarget:       "lmfast had room to send more: the controller (or the network) was the limit",
		LimitedByUndetermined: "close to lmfast's own limit on this machine: either side may have been the limit",
	}[h.LimitedBy]
	c := h.Ceiling
	_, err := fmt.Fprintf(w, "Headroom (this machine's ZMQ ceiling over %s, measured before the run; raw pebbe/zmq4 / lmfast's engine):\n"+
		"  PUSH: %.0f frames/s = %.1f%% of %.0f / %.0f frames/s (%d B batches)\n"+
		"  Requests: %.0f/s = %.1f%% of %.0f / %.0f round trips/s\n"+
		"  Load: %.1f%% of the raw ceiling, %.1f%% of lmfast's - %s\n",
		c.Transport, h.PushPerSec, 100*h.PushFraction, c.PushPerSec, c.EnginePushPerSec, c.PushBytes,
		h.RequestsPerSec, 100*h.RequestFraction, c.RoundTripPerSec, c.EngineRoundTripPerSec,
		100*h.Load, 100*h.EngineLoad, why)
	return err
}
