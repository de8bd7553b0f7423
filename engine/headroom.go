package engine

import (
	"fmt"
	"io"

	"github.com/rs/zerolog"
)

// Ceiling is this machine's raw ZMQ ceiling for a run's own traffic, as
// engine/calibrate measures it just before the run: raw pebbe/zmq4 with the
// run's batch bytes, senders and request lanes, into a counting sink on
// 127.0.0.1. No generator on this machine can beat it.
type Ceiling struct {
	Transport       string  // what it was measured over ("tcp")
	PushBytes       int     // the batch size measured with
	PushPerSec      float64 // PUSH frames per second
	RoundTripPerSec float64 // request round trips per second (0: not measured)
}

// Limits a run can have hit (Headroom.LimitedBy).
const (
	LimitedByRate      = "rate"      // the --rate schedule was met: the pacer set the pace
	LimitedByGenerator = "generator" // the run used most of this machine's ZMQ ceiling
	LimitedByTarget    = "target"    // the controller (or the network) held the run back
)

// generatorBound is the share of the ceiling above which a run is taken to
// be limited by the generator's machine rather than by its target.
const generatorBound = 0.8

// Headroom is a run's send rates as fractions of its Ceiling. Load is their
// sum: each PUSH frame takes 1/PushPerSec of the generator's capacity and
// each round trip 1/RoundTripPerSec, so a mixed run at Load 1.0 used all of
// it.
type Headroom struct {
	Ceiling         Ceiling
	PushPerSec      float64 // PUSH frames per second of the timed run
	PushFraction    float64
	RequestsPerSec  float64 // request/reply operations per second (ok or failed)
	RequestFraction float64
	Load            float64
	LimitedBy       string
}

// Headroom returns r's headroom; false when no ceiling was measured.
func (r *Result) Headroom() (Headroom, bool) {
	if r.Ceiling == nil || r.Elapsed <= 0 {
		return Headroom{}, false
	}
	secs := r.Elapsed.Seconds()
	h := Headroom{Ceiling: *r.Ceiling, PushPerSec: float64(r.PushFrames) / secs}
	var requests int64
	for _, o := range r.Ops {
		if !o.Op.IsPush() {
			requests += o.Requests + o.Errors
		}
	}
	h.RequestsPerSec = float64(requests) / secs
	if c := r.Ceiling.PushPerSec; c > 0 {
		h.PushFraction = h.PushPerSec / c
	}
	if c := r.Ceiling.RoundTripPerSec; c > 0 {
		h.RequestFraction = h.RequestsPerSec / c
	}
	h.Load = h.PushFraction + h.RequestFraction
	req, _, errs := r.Totals()
	switch {
	case r.TargetRate > 0 && float64(req+errs)/secs >= 0.95*r.TargetRate:
		h.LimitedBy = LimitedByRate
	case h.Load >= generatorBound:
		h.LimitedBy = LimitedByGenerator
	default:
		h.LimitedBy = LimitedByTarget
	}
	return h, true
}

// MarshalZerologObject writes h as the summary's "headroom" object.
func (h Headroom) MarshalZerologObject(e *zerolog.Event) {
	e.Str("ceiling_transport", h.Ceiling.Transport).Int("ceiling_bytes", h.Ceiling.PushBytes).
		Float64("push_fps", h.PushPerSec).Float64("push_ceiling_fps", h.Ceiling.PushPerSec).Float64("push_fraction", h.PushFraction).
		Float64("request_rps", h.RequestsPerSec).Float64("request_ceiling_rps", h.Ceiling.RoundTripPerSec).
		Float64("request_fraction", h.RequestFraction).
		Float64("load", h.Load).Str("limited_by", h.LimitedBy)
}

// WriteHeadroom prints r's headroom for people, after the report.
func WriteHeadroom(w io.Writer, r *Result) error {
	h, ok := r.Headroom()
	if !ok {
		return nil
	}
	why := map[string]string{
		LimitedByRate:      "the --rate schedule was met",
		LimitedByGenerator: "lmfast used most of what this machine's ZMQ can move: the generator was the limit, not the controller",
		LimitedByTarget:    "lmfast had room to send more: the controller (or the network) was the limit",
	}[h.LimitedBy]
	_, err := fmt.Fprintf(w, "Headroom (this machine's raw ZMQ ceiling over %s, measured before the run):\n"+
		"  PUSH: %.0f frames/s = %.1f%% of %.0f frames/s (%d B batches)\n"+
		"  Requests: %.0f/s = %.1f%% of %.0f round trips/s\n"+
		"  Generator load: %.1f%% - %s\n",
		h.Ceiling.Transport, h.PushPerSec, 100*h.PushFraction, h.Ceiling.PushPerSec, h.Ceiling.PushBytes,
		h.RequestsPerSec, 100*h.RequestFraction, h.Ceiling.RoundTripPerSec, 100*h.Load, why)
	return err
}
