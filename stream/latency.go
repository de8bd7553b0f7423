package stream

import (
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/stats"
)

// Latency writes a latency summary as every lmfast stream shows one: the
// object {"count","min","mean","p50","p90","p95","p99","p999","max"} in
// microseconds, for event.Object("latency_us", stream.Latency(s)).
type Latency stats.Summary

// MarshalZerologObject implements zerolog.LogObjectMarshaler.
func (l Latency) MarshalZerologObject(e *zerolog.Event) {
	e.Int64("count", l.Count).
		Float64("min", l.Min).
		Float64("mean", l.Mean).
		Float64("p50", l.P50).
		Float64("p90", l.P90).
		Float64("p95", l.P95).
		Float64("p99", l.P99).
		Float64("p999", l.P999).
		Float64("max", l.Max)
}
