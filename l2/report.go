package l2

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine/stats"
	"github.com/lmfast/lmfast/stream"
)

// Verdict sums up a run for the exit code and the summary's Status line.
type Verdict struct {
	FailedKeys    int // measured keys that failed, over all operations
	TimedOut      int // timed-out measured rounds
	Mismatches    int // verification mismatches
	SkippedStores int // measured store keys skipped because the file existed
	Interrupted   bool
}

// OK reports a run with nothing wrong.
func (v Verdict) OK() bool {
	return v.FailedKeys == 0 && v.TimedOut == 0 && v.Mismatches == 0 && !v.Interrupted
}

// Status renders the verdict for the summary ("OK", "FAILED: ...").
func (v Verdict) Status() string {
	if v.OK() {
		return "OK"
	}
	var parts []string
	if v.Interrupted {
		parts = append(parts, "interrupted")
	}
	if v.FailedKeys > 0 {
		parts = append(parts, plural(v.FailedKeys, "failed key"))
	}
	if v.TimedOut > 0 {
		parts = append(parts, plural(v.TimedOut, "timed-out round"))
	}
	if v.Mismatches > 0 {
		parts = append(parts, plural(v.Mismatches, "verify mismatch"))
	}
	head := "FAILED: "
	if v.Interrupted && v.FailedKeys == 0 && v.TimedOut == 0 && v.Mismatches == 0 {
		head = "INTERRUPTED"
		parts = nil
	}
	out := head
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

func plural(n int, what string) string {
	s := itoa(n) + " " + what
	if n != 1 {
		if what == "verify mismatch" {
			return s + "es"
		}
		return s + "s"
	}
	return s
}

func itoa(n int) string { return string(appendInt(nil, int64(n))) }

// Judge computes the verdict of a run.
func Judge(res *Result) Verdict {
	v := Verdict{Interrupted: res.Interrupted}
	for _, o := range res.Ops {
		for _, r := range o.Measured() {
			v.FailedKeys += r.Failed
			if r.TimedOut {
				v.TimedOut++
			}
			v.SkippedStores += r.Skipped
		}
	}
	if res.Verify != nil {
		v.Mismatches = res.Verify.Mismatches
	}
	return v
}

// WriteSummaries writes the run's closing JSONL lines: one error line per
// distinct failure, one summary per operation (LMCache's fields under
// LMCache's names, null where LMCache would print inf, and lmfast's own:
// per-key latency histograms, bytes, skipped and failed keys), and a
// summary with op "all" carrying the verdict.
func WriteSummaries(out *stream.Writer, res *Result, doc []Section, v Verdict) {
	for _, o := range res.Ops {
		for _, e := range o.Errors {
			out.Event("error").Str("op", o.Op.String()).Str("error", e.Error).Int64("count", e.Count).
				Str("first_key", BenchKey(e.FirstKey).FileName()).Send()
		}
	}
	for i, o := range res.Ops {
		sec := doc[i+1]
		e := out.Event("summary").Str("op", o.Op.String())
		for _, en := range sec.Entries {
			e = addValue(e, en.Key, en.Value)
		}
		e = e.Object("latency_us", stats.Summarize(o.Latency)).Str("hdr", encode(o.Latency)).
			Object("service_us", stats.Summarize(o.Service)).Str("hdr_service", encode(o.Service)).
			Int64("direct_keys", o.DirectKeys).Int64("buffered_keys", o.BufferedKeys).
			Int64("eventfd_wakeups", o.Wakeups).Int64("completions", o.Tiles).Bool("interrupted", o.Interrupted)
		if res.Config.Raw {
			e = e.Int64("samples_written", o.SamplesWritten)
		}
		e.Send()
	}
	e := out.Event("summary").Str("op", "all").Bool("ok", v.OK()).Str("status", v.Status()).
		Int("failed_keys", v.FailedKeys).Int("timed_out_rounds", v.TimedOut).Int("skipped_existing", v.SkippedStores).
		Bool("interrupted", v.Interrupted)
	if res.Verify != nil {
		e = e.Bool("verified", res.Verify.Mismatches == 0).Int("verify_mismatches", res.Verify.Mismatches)
	}
	e.Send()
}

func addValue(e *zerolog.Event, key string, v any) *zerolog.Event {
	switch x := v.(type) {
	case int64:
		return e.Int64(key, x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return e.Interface(key, nil)
		}
		return e.Float64(key, x)
	case string:
		return e.Str(key, x)
	}
	return e.Interface(key, v)
}

func encode(h *hdrhistogram.Histogram) string {
	s, _ := stats.Encode(h)
	return s
}
