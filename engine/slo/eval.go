package slo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"
)

// Latency is one operation's latency distribution. Count 0 means no
// samples.
type Latency struct {
	Count                               int64
	Mean, P50, P90, P95, P99, P999, Max time.Duration
}

// LatencyOf reads a nanosecond histogram (package stats) into a Latency.
func LatencyOf(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	q := func(p float64) time.Duration { return time.Duration(h.ValueAtQuantile(p)) }
	return Latency{Count: h.TotalCount(), Mean: time.Duration(h.Mean()),
		P50: q(50), P90: q(90), P95: q(95), P99: q(99), P999: q(99.9), Max: time.Duration(h.Max())}
}

func (l Latency) stat(s Stat) time.Duration {
	switch s {
	case P50:
		return l.P50
	case P90:
		return l.P90
	case P95:
		return l.P95
	case P99:
		return l.P99
	case P999:
		return l.P999
	case Max:
		return l.Max
	}
	return l.Mean
}

// OpObserved is what one operation did over a run or a sweep step.
type OpObserved struct {
	Op       string
	Requests int64 // completed successfully
	Errors   int64 // failed (error reply, timeout, send failure)
	// Due counts the requests due in an open loop (sent or dropped);
	// 0 means Requests+Errors+Dropped, as in a closed loop.
	Due     int64
	Dropped int64 // due but never sent
	// Corrected is latency from the intended send time (open loop);
	// Service from the actual send.
	Corrected, Service Latency
}

// Observed is what a run or a sweep step measured.
type Observed struct {
	// OpenLoop selects the latency terms read: corrected when set, service
	// otherwise.
	OpenLoop bool
	Elapsed  time.Duration // the measured time, for rate
	Ops      []OpObserved
}

// Result is one term's outcome.
type Result struct {
	Term
	// Value is the measured value in the term's base unit (see
	// Term.Threshold); meaningless when NoData.
	Value float64
	Pass  bool
	// NoData is set when there was nothing to measure; the term fails.
	NoData bool
	// Latency is "corrected" or "service" for a latency term, else "".
	Latency string
}

// Results are the outcomes of a Spec's terms, in its order.
type Results []Result

// Pass reports whether every term held.
func (rs Results) Pass() bool {
	for _, r := range rs {
		if !r.Pass {
			return false
		}
	}
	return true
}

// Failed returns the terms that did not hold.
func (rs Results) Failed() Results {
	var out Results
	for _, r := range rs {
		if !r.Pass {
			out = append(out, r)
		}
	}
	return out
}

// Evaluate measures every term of s against obs.
func Evaluate(s Spec, obs Observed) Results {
	out := make(Results, len(s))
	for i, t := range s {
		out[i] = evaluate(t, obs)
	}
	return out
}

func evaluate(t Term, obs Observed) Result {
	r := Result{Term: t}
	var sel []OpObserved
	for _, o := range obs.Ops {
		if t.Op == "" || o.Op == t.Op {
			sel = append(sel, o)
		}
	}
	var v float64
	ok := len(sel) > 0
	switch {
	case !ok:
	case t.Stat.IsLatency():
		l, src := sel[0].Service, "service"
		if obs.OpenLoop {
			l, src = sel[0].Corrected, "corrected"
		}
		r.Latency = src
		v, ok = float64(l.stat(t.Stat)), l.Count > 0
	case t.Stat == Rate:
		var n int64
		for _, o := range sel {
			n += o.Requests
		}
		v, ok = float64(n)/obs.Elapsed.Seconds(), obs.Elapsed > 0
	default:
		var num, den int64
		for _, o := range sel {
			if t.Stat == Errors {
				num += o.Errors
				den += o.Requests + o.Errors
				continue
			}
			num += o.Dropped
			if o.Due > 0 {
				den += o.Due
			} else {
				den += o.Requests + o.Errors + o.Dropped
			}
		}
		v = float64(num)
		if t.Unit == UnitPercent {
			v, ok = float64(num)/float64(den), den > 0
		}
	}
	if !ok {
		r.NoData = true
		return r
	}
	r.Value = v
	r.Pass = t.Cmp.Holds(v, t.Threshold)
	return r
}

// Shown returns the measured value in the unit the threshold was written
// in (milliseconds for "p99<2ms", percent for "errors<0.1%").
func (r Result) Shown() float64 { return r.Value / unitScale[r.Unit] }

// ValueString returns the measured value with its unit, e.g. "2.31ms",
// "0.05%", "3" or "5120/s"; "no data" when there was nothing to measure.
func (r Result) ValueString() string {
	if r.NoData {
		return "no data"
	}
	return formatNum(r.Shown()) + r.Unit
}

// String returns e.g. `p2p_lookup.p99<2ms: 2.31ms (corrected) FAIL`.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", r.Text, r.ValueString())
	if r.Latency != "" {
		fmt.Fprintf(&b, " (%s)", r.Latency)
	}
	if r.Pass {
		b.WriteString(" ok")
	} else {
		b.WriteString(" FAIL")
	}
	return b.String()
}

// MarshalZerologObject writes the result as a JSON object: term, pass,
// value (in unit, absent with no data), unit, no_data and, for latency,
// latency ("corrected" or "service").
func (r Result) MarshalZerologObject(e *zerolog.Event) {
	e.Str("term", r.Text).Bool("pass", r.Pass)
	if r.NoData {
		e.Bool("no_data", true)
	} else {
		e.Float64("value", roundSig(r.Shown()))
	}
	e.Str("unit", r.Unit)
	if r.Latency != "" {
		e.Str("latency", r.Latency)
	}
}

// MarshalZerologArray writes the results as a JSON array of objects.
func (rs Results) MarshalZerologArray(a *zerolog.Array) {
	for _, r := range rs {
		a.Object(r)
	}
}

// roundSig keeps 4 significant digits, never rounding the integer part.
func roundSig(v float64) float64 {
	f, _ := strconv.ParseFloat(formatNum(v), 64)
	return f
}

func formatNum(v float64) string {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	decimals := max(0, 3-int(math.Floor(math.Log10(math.Abs(v)))))
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
