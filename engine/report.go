package engine

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
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
