package engine

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine/slo"
)

// WriteReport prints r in the layout of LMCache's controller benchmark
// (docs/protocol.md, "Report") so existing readers of that report keep working. Differences,
// all deliberate: every op of the mix is listed, including one that never
// succeeded (LMCache omits it and so hides its errors); latencies come from
// HDR histograms (within 0.1 %) instead of a list of floats; and with --rate
// a second latency line gives the latency from each request's intended send
// time. An "Error Messages" section lists every distinct error text with
// its count (LMCache's report counts errors without saying what they were),
// and a fractional --duration shows as such ("0.5 seconds").
func WriteReport(w io.Writer, r *Result) error {
	c := r.Config
	title := "LMCache Controller ZMQ Benchmark Results"
	if c.NumProcesses > 1 {
		title = fmt.Sprintf("LMCache Controller ZMQ Benchmark Results (Process %d/%d)", c.Proc+1, c.NumProcesses)
	}
	var b strings.Builder
	writeHeader(&b, title, c, "Instances")
	writeBody(&b, r, "Overall Performance:", "Per-Operation Performance:", "System Metrics:")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteAggregatedReport prints the merged figures of several groups in the
// layout of LMCache's aggregated report. Percentiles come from the exactly
// merged histograms rather than LMCache's request-weighted averages of
// per-process percentiles.
func WriteAggregatedReport(w io.Writer, merged *Result, processes int) error {
	c := merged.Config
	var b strings.Builder
	writeHeader(&b, fmt.Sprintf("LMCache Controller ZMQ Benchmark - AGGREGATED RESULTS (%d processes)", processes), c, "Instances per process")
	fmt.Fprintf(&b, "  Total Instances: %d\n", c.NumInstances*processes)
	writeBody(&b, merged, "Aggregated Performance:", "Per-Operation Performance (Aggregated):", "System Metrics (All Processes):")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHeader prints the title block and the configuration section;
// instances labels the instance count ("Instances" or "Instances per
// process").
func writeHeader(b *strings.Builder, title string, c ReportConfig, instances string) {
	bar := strings.Repeat("=", 80)
	fmt.Fprintf(b, "\n%s\n%s\n%s\n", bar, title, bar)
	fmt.Fprintf(b, "\nConfiguration:\n")
	fmt.Fprintf(b, "  Controller URL: %s\n", c.PullURL)
	fmt.Fprintf(b, "  Duration: %s seconds\n", strconv.FormatFloat(c.Duration.Seconds(), 'f', -1, 64))
	fmt.Fprintf(b, "  Batch Size: %d\n", c.BatchSize)
	fmt.Fprintf(b, "  Operations: %s\n", PythonDictRepr(c.Mix))
	fmt.Fprintf(b, "  %s: %d, Workers: %d, Locations: %d, Keys: %d\n", instances, c.NumInstances, c.NumWorkers, c.NumLocations, c.NumKeys)
}

func writeBody(b *strings.Builder, r *Result, overall, perOp, system string) {
	secs := r.Elapsed.Seconds()
	per := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	req, msg, _ := r.Totals()
	fmt.Fprintf(b, "\n%s\n", overall)
	fmt.Fprintf(b, "  Total Requests: %d\n", req)
	fmt.Fprintf(b, "  Total Messages: %d\n", msg)
	fmt.Fprintf(b, "  Total Time: %.2fs\n", secs)
	fmt.Fprintf(b, "  Overall RPS (Requests/sec): %.2f\n", per(req))
	fmt.Fprintf(b, "  Overall QPS (Messages/sec): %.2f\n", per(msg))
	if r.Interrupted {
		fmt.Fprintf(b, "  Interrupted: true (stopped early; the figures cover the %.2fs that ran)\n", secs)
	}
	if r.TargetRate > 0 {
		sent, dropped := r.Sent()
		req, _, errs := r.Totals()
		short := ""
		if !r.MetTarget() {
			short = " - more than 5% short of the target"
		}
		pacing := ""
		if r.Config.Pacing != "" {
			pacing = " (" + r.Config.Pacing + ")"
		}
		fmt.Fprintf(b, "  Target RPS: %.2f%s, achieved: %.2f%s\n", r.TargetRate, pacing, per(req+errs), short)
		fmt.Fprintf(b, "  Due: %d, Sent: %d, Dropped: %d (%.2f%%)\n", r.Due, sent, dropped, pct(dropped, r.Due))
	}
	fmt.Fprintf(b, "\n%s\n", perOp)
	for _, o := range r.Ops {
		fmt.Fprintf(b, "  %s:\n", o.Op)
		fmt.Fprintf(b, "    RPS (Requests/sec): %.2f\n", per(o.Requests))
		fmt.Fprintf(b, "    QPS (Messages/sec): %.2f\n", per(o.Messages))
		fmt.Fprintf(b, "    Latency - %s\n", latencyLine(o.Service))
		if o.Corrected != nil {
			fmt.Fprintf(b, "    Latency from intended send - %s, P99: %.3fms\n", latencyLine(o.Corrected), ms(o.Corrected.ValueAtQuantile(99)))
		}
		fmt.Fprintf(b, "    Errors: %d\n", o.Errors)
	}
	writeErrors(b, r.Errors)
	if len(r.MemSamples) > 0 {
		sum, peak := 0.0, r.MemSamples[0]
		for _, v := range r.MemSamples {
			sum += v
			peak = max(peak, v)
		}
		fmt.Fprintf(b, "\n%s\n", system)
		fmt.Fprintf(b, "  Memory Usage - Avg: %.1f%%, Max: %.1f%%\n", sum/float64(len(r.MemSamples)), peak)
	}
	fmt.Fprintf(b, "%s\n", strings.Repeat("=", 80))
}

// writeErrors lists every distinct error text with its count and op, most
// frequent first (LMCache's report gives counts only). Pre-registration
// failures are listed under "register".
func writeErrors(b *strings.Builder, errs []ErrorCount) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintf(b, "\nError Messages:\n")
	for _, e := range errs {
		fmt.Fprintf(b, "  %d x %s: %s\n", e.Count, e.Op, e.Text)
	}
}

func latencyLine(h *hdrhistogram.Histogram) string {
	if h == nil || h.TotalCount() == 0 {
		return "Avg: 0.000ms, Min: 0.000ms, Max: 0.000ms, P95: 0.000ms"
	}
	return fmt.Sprintf("Avg: %.3fms, Min: %.3fms, Max: %.3fms, P95: %.3fms",
		h.Mean()/1e6, ms(h.Min()), ms(h.Max()), ms(h.ValueAtQuantile(95)))
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// pct is n of total in percent (0 when total is 0).
func pct(n, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// WriteFailIf prints each --fail-if term's outcome; nothing without terms.
func WriteFailIf(w io.Writer, rs slo.Results) error {
	if len(rs) == 0 {
		return nil
	}
	var b strings.Builder
	verdict := "all held"
	if bad := rs.Failed(); len(bad) > 0 {
		verdict = fmt.Sprintf("%d violated (exit 99)", len(bad))
	}
	fmt.Fprintf(&b, "Thresholds (--fail-if): %s\n", verdict)
	for _, r := range rs {
		fmt.Fprintf(&b, "  %s\n", r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSweepReport prints a sweep's steps as a table, then its capacity
// line.
func WriteSweepReport(w io.Writer, steps []*StepResult, c *CapacityResult) error {
	var b strings.Builder
	if len(steps) == 0 {
		fmt.Fprintf(&b, "\nSweep: no step completed\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	latencyOps := sweepLatencyOps(steps, c)
	fmt.Fprintf(&b, "\nSweep (%s; latencies in ms, corrected in an open loop):\n", steps[0].Dim)
	fmt.Fprintf(&b, "  %4s %-6s %10s %5s %11s %8s %7s", "step", "phase", "target/s", "conc", "achieved/s", "dropped", "errors")
	for _, op := range latencyOps {
		fmt.Fprintf(&b, " %14s", op+" p99")
	}
	fmt.Fprintf(&b, " %5s %-12s %s\n", "cpu", "limited by", "SLO")
	for _, st := range steps {
		r := st.Result
		req, _, errs := r.Totals()
		secs := r.Elapsed.Seconds()
		achieved := 0.0
		if secs > 0 {
			achieved = float64(req+errs) / secs
		}
		_, dropped := r.Sent()
		target := "closed"
		if st.Rate > 0 {
			target = fmt.Sprintf("%.0f", st.Rate)
		}
		fmt.Fprintf(&b, "  %4d %-6s %10s %5d %11.0f %7.2f%% %6.2f%%", st.Index, st.Phase, target, st.Concurrency, achieved,
			pct(dropped, r.Due), pct(errs, req+errs))
		for _, name := range latencyOps {
			fmt.Fprintf(&b, " %14s", p99Of(r, name))
		}
		limit := r.LimitedBy()
		if limit == "" {
			limit = "-"
		}
		verdict := "pass"
		if len(st.SLO) == 0 {
			verdict = "-"
		} else if !st.Pass {
			verdict = "FAIL"
			for _, f := range st.SLO.Failed() {
				verdict += " " + f.Text + " (" + f.ValueString() + ")"
			}
		}
		cpu := "-"
		if u, ok := r.CPUUtil(); ok {
			cpu = fmt.Sprintf("%.2f", u)
		}
		fmt.Fprintf(&b, " %5s %-12s %s\n", cpu, limit, verdict)
	}
	if c != nil && (len(c.SLO) > 0 || c.Pass != nil) {
		b.WriteString(capacityLine(c))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// capacityLine says what the sweep found.
func capacityLine(c *CapacityResult) string {
	unit := "requests/s"
	if c.Dim == "concurrency" {
		unit = "requests in flight per sender"
	}
	var b strings.Builder
	switch {
	case c.Pass == nil && c.Fail != nil:
		fmt.Fprintf(&b, "Capacity: below the first step: %.0f %s already failed", c.Fail.Value, unit)
	case c.Pass == nil:
		fmt.Fprintf(&b, "Capacity: not found")
	case c.Dim == "concurrency":
		req, _, errs := c.Pass.Result.Totals()
		fmt.Fprintf(&b, "Capacity: best at %.0f %s: %.0f requests/s", c.Pass.Value, unit, float64(req+errs)/max(c.Pass.Result.Elapsed.Seconds(), 1e-9))
	default:
		fmt.Fprintf(&b, "Capacity: %.0f %s (the highest rate that met every SLO term", c.Pass.Value, unit)
		if c.Fail != nil {
			fmt.Fprintf(&b, "; within %.3g%% of %.0f, the lowest that failed", 100*c.Precision, c.Fail.Value)
		}
		b.WriteString(")")
	}
	if c.Fail != nil && c.Pass != nil {
		var terms []string
		for _, f := range c.Fail.SLO.Failed() {
			t := f.Text + ": " + f.ValueString()
			if f.Latency != "" {
				t += " (" + f.Latency + ")"
			}
			terms = append(terms, t)
		}
		fmt.Fprintf(&b, "; step %d failed %s", c.Fail.Index, strings.Join(terms, ", "))
	} else if c.Pass != nil && len(c.SLO) > 0 {
		b.WriteString("; no step failed: the capacity is above the highest rate tried")
	}
	if c.Interrupted {
		b.WriteString(" (interrupted: the sweep did not finish)")
	}
	b.WriteString("\n")
	return b.String()
}

// sweepLatencyOps are the request ops whose p99 the step table shows: the
// ones an SLO term names, else every request op.
func sweepLatencyOps(steps []*StepResult, c *CapacityResult) []string {
	var out []string
	seen := map[string]bool{}
	if c != nil {
		for _, t := range c.SLO {
			if t.Stat.IsLatency() && !seen[t.Op] {
				seen[t.Op] = true
				out = append(out, t.Op)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, o := range steps[0].Result.Ops {
		if !o.Op.IsPush() {
			out = append(out, o.Op.String())
		}
	}
	return out
}

// p99Of is the op's p99 in ms as the SLO reads it: corrected in an open
// loop, service in a closed one.
func p99Of(r *Result, name string) string {
	for _, o := range r.Ops {
		if o.Op.String() != name {
			continue
		}
		h := o.Service
		if r.OpenLoop && o.Corrected != nil {
			h = o.Corrected
		}
		if h == nil || h.TotalCount() == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f", ms(h.ValueAtQuantile(99)))
	}
	return "-"
}
