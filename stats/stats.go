package stats

import (
	"fmt"
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds, in nanoseconds.
const (
	LowestNs  = 1
	HighestNs = int64(3600e9) // one hour
	SigFigs   = 3
)

// NewHistogram returns an empty nanosecond histogram with lmfast's bounds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(LowestNs, HighestNs, SigFigs)
}

// Summary is the microsecond view of a histogram, as interval and summary
// lines show it (stream.Latency writes it). Zero values mean "no samples".
type Summary struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Summarize returns h's count and percentiles in microseconds.
func Summarize(h *hdrhistogram.Histogram) Summary {
	n := h.TotalCount()
	if n == 0 {
		return Summary{}
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Summary{
		Count: n,
		Min:   us(h.Min()),
		Mean:  h.Mean() / 1e3,
		P50:   us(h.ValueAtQuantile(50)),
		P90:   us(h.ValueAtQuantile(90)),
		P95:   us(h.ValueAtQuantile(95)),
		P99:   us(h.ValueAtQuantile(99)),
		P999:  us(h.ValueAtQuantile(99.9)),
		Max:   us(h.Max()),
	}
}

// Encode returns h in the HdrHistogram V2 compressed, base64 form that
// HdrHistogram's Java, C, Python and Go libraries all read.
func Encode(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// Decode parses a histogram written by Encode.
func Decode(s string) (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

// Merge decodes every encoded histogram and returns their exact sum.
func Merge(encoded ...string) (*hdrhistogram.Histogram, error) {
	total := NewHistogram()
	for _, s := range encoded {
		h, err := Decode(s)
		if err != nil {
			return nil, err
		}
		if dropped := total.Merge(h); dropped != 0 {
			return nil, fmt.Errorf("merge histogram: %d values out of range", dropped)
		}
	}
	return total, nil
}

// Recorder is one writer's latency record: the writer (a sender worker)
// calls Record; a collector periodically calls TakeInterval. The interval
// histogram is swapped out under a mutex that only the writer and the
// collector ever take, so it is uncontended except once per interval.
type Recorder struct {
	mu       sync.Mutex
	interval *hdrhistogram.Histogram
	spare    *hdrhistogram.Histogram
	clamped  int64
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{interval: NewHistogram(), spare: NewHistogram()}
}

// Record adds one latency of ns nanoseconds. Values outside the histogram's
// range are clamped to it and counted (see Clamped), never dropped.
func (r *Recorder) Record(ns int64) {
	clamped := false
	if ns < LowestNs {
		ns, clamped = LowestNs, true
	} else if ns > HighestNs {
		ns, clamped = HighestNs, true
	}
	r.mu.Lock()
	if clamped {
		r.clamped++
	}
	_ = r.interval.RecordValue(ns)
	r.mu.Unlock()
}

// Clamped returns how many values were outside the histogram's range and
// were recorded at its nearest bound.
func (r *Recorder) Clamped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clamped
}

// TakeInterval returns everything recorded since the previous call and
// starts a new interval. The returned histogram belongs to the caller until
// the next TakeInterval call, which recycles it.
func (r *Recorder) TakeInterval() *hdrhistogram.Histogram {
	r.spare.Reset()
	r.mu.Lock()
	h := r.interval
	r.interval = r.spare
	r.mu.Unlock()
	r.spare = h
	return h
}
