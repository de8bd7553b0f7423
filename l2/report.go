package l2

import (
	"math"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/stats"
	"github.com/lmfast/lmfast/stream"
)

// Verdict sums up a run for the exit code and the summary's Status line.
// Warmup rounds are left out of every statistic but not out of the
// verdict: a key that failed or a round that timed out while warming up
// fails the run too, counted apart.
type Verdict struct {
	FailedKeys       int      // measured keys that failed, over all operations
	TimedOut         int      // timed-out measured rounds
	WarmupFailedKeys int      // warmup keys that failed
	WarmupTimedOut   int      // timed-out warmup rounds
	Unmeasured       []string // operations that ran (not interrupted) without a measured round
	Mismatches       int      // verification mismatches
	SkippedStores    int      // measured store keys skipped because the file existed
	Interrupted      bool
}

// OK reports a run with nothing wrong.
func (v Verdict) OK() bool {
	return v.FailedKeys == 0 && v.TimedOut == 0 && v.WarmupFailedKeys == 0 && v.WarmupTimedOut == 0 &&
		len(v.Unmeasured) == 0 && v.Mismatches == 0 && !v.Interrupted
}

// Status renders the verdict for the summary ("OK", "INTERRUPTED",
// "FAILED: 3 failed keys, 1 timed-out warmup round, store: no measured
// round", ...).
func (v Verdict) Status() string {
	if v.OK() {
		return "OK"
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, plural(n, what))
		}
	}
	add(v.FailedKeys, "failed key")
	add(v.TimedOut, "timed-out round")
	add(v.WarmupFailedKeys, "failed warmup key")
	add(v.WarmupTimedOut, "timed-out warmup round")
	for _, op := range v.Unmeasured {
		parts = append(parts, op+": no measured round")
	}
	add(v.Mismatches, "verify mismatch")
	if len(parts) == 0 { // only interrupted
		return "INTERRUPTED"
	}
	if v.Interrupted {
		parts = append([]string{"interrupted"}, parts...)
	}
	return "FAILED: " + strings.Join(parts, ", ")
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
		measured := 0
		for _, r := range o.Rounds {
			if r.Warmup {
				v.WarmupFailedKeys += r.Failed
				v.WarmupTimedOut += b2i(r.TimedOut)
				continue
			}
			measured++
			v.FailedKeys += r.Failed
			v.TimedOut += b2i(r.TimedOut)
			v.SkippedStores += r.Skipped
		}
		if measured == 0 && !o.Interrupted {
			v.Unmeasured = append(v.Unmeasured, o.Op.String())
		}
	}
	if res.Verify != nil {
		v.Mismatches = res.Verify.Mismatches
	}
	return v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WriteSummaries writes the run's closing JSONL lines: one error line per
// distinct failure (a warmup round's apart, marked warmup), one summary per operation (LMCache's fields under
// LMCache's names — null where LMCache prints inf, or 0 for an operation
// without a completed round — and lmfast's own: per-key latency
// histograms, bytes, skipped and failed keys, timed-out rounds), a
// capacity line when the adapter accounts against max_capacity_gb, and a
// summary with op "all" carrying the verdict.
func WriteSummaries(out *stream.Writer, res *Result, doc []Section, v Verdict) {
	for _, o := range res.Ops {
		for _, e := range o.Errors {
			out.Event("error").Str("op", o.Op.String()).Str("error", e.Error).Int64("count", e.Count).
				Str("first_key", BenchKey(e.FirstKey).FileName()).Bool("warmup", e.Warmup).Send()
		}
	}
	for i, o := range res.Ops {
		sec := doc[i+1]
		e := out.Event("summary").Str("op", o.Op.String())
		timedOut := 0
		for _, r := range o.Measured() {
			timedOut += b2i(r.TimedOut)
		}
		for _, en := range sec.Entries {
			if en.NoData {
				e = e.Interface(en.Key, nil)
				continue
			}
			e = addValue(e, en.Key, en.Value)
		}
		e = e.Int("timed_out_rounds", timedOut)
		e = e.Object("latency_us", stream.Latency(stats.Summarize(o.Latency))).Str("hdr", encode(o.Latency)).
			Object("service_us", stream.Latency(stats.Summarize(o.Service))).Str("hdr_service", encode(o.Service)).
			Int64("direct_keys", o.DirectKeys).Int64("buffered_keys", o.BufferedKeys).
			Int64("eventfd_wakeups", o.Wakeups).Int64("completions", o.Tiles).Bool("interrupted", o.Interrupted)
		if res.Config.Raw {
			e = e.Int64("samples_written", o.SamplesWritten)
		}
		e.Send()
	}
	for _, sec := range doc {
		if sec.Key != "l2_capacity" {
			continue
		}
		e := out.Event("capacity")
		for _, en := range sec.Entries {
			e = addValue(e, en.Key, en.Value)
		}
		e.Send()
	}
	e := out.Event("summary").Str("op", "all").Bool("ok", v.OK()).Str("status", v.Status()).
		Int("failed_keys", v.FailedKeys).Int("timed_out_rounds", v.TimedOut).
		Int("warmup_failed_keys", v.WarmupFailedKeys).Int("warmup_timed_out_rounds", v.WarmupTimedOut).
		Strs("ops_without_measured_rounds", append([]string{}, v.Unmeasured...)).
		Int("skipped_existing", v.SkippedStores).Bool("interrupted", v.Interrupted)
	if res.Verify != nil {
		e = e.Bool("verified", res.Verify.Mismatches == 0).Int("verify_mismatches", res.Verify.Mismatches).
			Int("verify_evicted", res.Verify.Evicted)
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
