package compare

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Options tune Compare.
type Options struct {
	// Alpha is the significance level of the whole comparison (with Holm)
	// or of each row (without): 0.05 by default.
	Alpha float64
	// Threshold is the relative change (0.05 = 5 %) a significant
	// difference must exceed in the worse direction to be a regression
	// (or in the better one, an improvement).
	Threshold float64
	// Percentiles are the latency percentiles compared (0..100]: 50, 90,
	// 99, 99.9 by default.
	Percentiles []float64
	// Latency picks the histogram compared: "corrected" (from each
	// request's intended send time, open loop), "service" (send to
	// reply), or "auto" (default): corrected where both sets have it,
	// else service, the latency a caller sees, as --slo reads it.
	Latency string
	// Unit is the sample of the tests: "interval" (default), every
	// interval of every run, or "run", each run's intervals together (its
	// rate, its merged histogram), for sets of repeated runs whose
	// conditions differ from run to run more than from interval to
	// interval.
	Unit string
	// NoCorrection judges each row at Alpha on its own instead of
	// controlling the chance of any false finding over all rows (Holm).
	NoCorrection bool
	// Splits is the number of random splits of the permutation test
	// when there are more than that many splits in all (10 000 by
	// default); Seed seeds them.
	Splits int
	Seed   uint64
}

// DefaultPercentiles are the percentiles compared unless told otherwise.
var DefaultPercentiles = []float64{50, 90, 99, 99.9}

// Verdicts of a row.
const (
	NoChange        = "~"                // not significant: within noise
	WithinThreshold = "within threshold" // significant, but no larger than --threshold
	Regression      = "regression"       // significant, beyond --threshold, worse
	Improvement     = "improvement"      // significant, beyond --threshold, better
)

// Tests naming how a row's p-value was computed.
const (
	TestU           = "mann-whitney-u" // over the per-interval rates
	TestPermutation = "permutation"    // of whole intervals, on the merged histograms' percentile
)

// Row is one compared figure of one operation.
type Row struct {
	Op      string
	Metric  string  // "rate" or a percentile "p50", "p99.9"
	Unit    string  // "requests/s" or "us"
	Latency string  // the histogram kind of a percentile: "corrected" or "service"
	A, B    float64 // the figure of each set (µs for latency)
	// Delta is (B − A) / A: NaN when A is zero.
	Delta float64
	Test  string
	P     float64 // two-sided p-value of this row
	// PAdj is P adjusted for the number of rows (Holm), or P itself
	// with NoCorrection: what is held against Alpha.
	PAdj  float64
	Exact bool // P is exact (else an approximation or a Monte Carlo estimate)
	// MinP is the smallest p-value the test can give with these
	// sample counts: above Alpha, no difference can be significant.
	MinP        float64
	NA, NB      int // samples: intervals of each set
	Significant bool
	Verdict     string
	worse       int // +1 when a larger figure is worse (latency), −1 when smaller is (rate)
}

// Result is a comparison of two sets.
type Result struct {
	A, B     *Set
	Options  Options
	Rows     []Row
	Warnings []string
	// Regressions and Improvements count the rows of each verdict.
	Regressions, Improvements int
}

// ErrNoCommonOps is returned when the sets share no operation.
var ErrNoCommonOps = errors.New("no operation in common")

// Compare compares set b against set a operation by operation: the rate
// (requests/s) with a Mann–Whitney U test over the per-interval (or, with
// Options.Unit "run", per-run) rates, and each latency percentile with a
// permutation test of whole intervals (runs) on the merged histograms
// (see PercentileTest). A lower rate or a higher latency in b is worse.
func Compare(a, b *Set, opt Options) (*Result, error) {
	opt = withDefaults(opt)
	res := &Result{A: a, B: b, Options: opt}
	res.Warnings = append(res.Warnings, a.Warnings...)
	res.Warnings = append(res.Warnings, b.Warnings...)
	if a.Cmd != b.Cmd {
		return nil, fmt.Errorf("A is from `lmfast %s` but B from `lmfast %s`", a.Cmd, b.Cmd)
	}
	var common []string
	for _, op := range a.Ops {
		if _, ok := b.Interval[op]; ok {
			common = append(common, op)
		} else {
			res.Warnings = append(res.Warnings, fmt.Sprintf("op %s is only in A: not compared", op))
		}
	}
	for _, op := range b.Ops {
		if _, ok := a.Interval[op]; !ok {
			res.Warnings = append(res.Warnings, fmt.Sprintf("op %s is only in B: not compared", op))
		}
	}
	if len(common) == 0 || len(common) == 1 && common[0] == "all" {
		return nil, fmt.Errorf("%w: A has %s, B has %s", ErrNoCommonOps, strings.Join(a.Ops, ", "), strings.Join(b.Ops, ", "))
	}
	res.Warnings = append(res.Warnings, settingsDiffer(a, b)...)
	for _, op := range common {
		res.Rows = append(res.Rows, rateRow(op, a.Interval[op], b.Interval[op], opt.Unit))
		if a.Enqueue[op] || b.Enqueue[op] {
			continue // a PUSH's enqueue time: lmfast's, not the controller's
		}
		kind, ok := latencyKind(a.Interval[op], b.Interval[op], opt.Latency)
		if !ok {
			if op != "all" {
				res.Warnings = append(res.Warnings, fmt.Sprintf("op %s: no %s latency histograms on every interval of both sets: latency not compared", op, opt.Latency))
			}
			continue
		}
		res.Rows = append(res.Rows, latencyRows(op, kind, a.Interval[op], b.Interval[op], opt)...)
	}
	judge(res)
	return res, nil
}

// The units of Options.Unit.
const (
	UnitInterval = "interval"
	UnitRun      = "run"
)

// PercentileName is a percentile's metric name: p50, p99, p99.9.
func PercentileName(q float64) string {
	return "p" + strconv.FormatFloat(q, 'f', -1, 64)
}

func withDefaults(opt Options) Options {
	if opt.Alpha == 0 {
		opt.Alpha = 0.05
	}
	if len(opt.Percentiles) == 0 {
		opt.Percentiles = DefaultPercentiles
	}
	if opt.Latency == "" {
		opt.Latency = "auto"
	}
	if opt.Unit == "" {
		opt.Unit = UnitInterval
	}
	if opt.Splits == 0 {
		opt.Splits = 10000
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	return opt
}

// rateRow compares the operation's requests/s. Each set's figure is its
// requests over the seconds its intervals cover (a run's rate as
// `lmfast report` gives it; for several runs, their mean); the test's
// samples are the per-interval rates of the intervals covering at least
// half their width (a run's short last interval is too noisy a rate), or
// with UnitRun each run's rate.
func rateRow(op string, a, b []Interval, unit string) Row {
	ra, sa := rates(a)
	rb, sb := rates(b)
	if unit == UnitRun {
		sa, sb = runRates(a), runRates(b)
	}
	u := MannWhitney(sa, sb)
	r := Row{Op: op, Metric: "rate", Unit: "requests/s", A: ra, B: rb, Delta: delta(ra, rb), Test: TestU,
		P: u.P, Exact: u.Exact, MinP: minUP(len(sa), len(sb)), NA: len(sa), NB: len(sb), worse: -1}
	return r
}

func rates(ivs []Interval) (rate float64, samples []float64) {
	req, secs := int64(0), 0.0
	for _, iv := range ivs {
		req += iv.Requests
		secs += iv.Covered
		if iv.Covered >= iv.Width/2 {
			samples = append(samples, iv.Rate)
		}
	}
	if secs > 0 {
		rate = float64(req) / secs
	}
	return rate, samples
}

// runRates are each run's requests over the seconds its intervals cover.
func runRates(ivs []Interval) []float64 {
	var out []float64
	for _, run := range runsOf(ivs) {
		var these []Interval
		for _, iv := range ivs {
			if iv.Run == run {
				these = append(these, iv)
			}
		}
		r, _ := rates(these)
		out = append(out, r)
	}
	return out
}

// runsOf are the runs of ivs, in order of appearance.
func runsOf(ivs []Interval) []string {
	var runs []string
	for _, iv := range ivs {
		if !contains(runs, iv.Run) {
			runs = append(runs, iv.Run)
		}
	}
	return runs
}

// minUP is the smallest two-sided p-value of a U test on n and m values.
func minUP(n, m int) float64 {
	if n == 0 || m == 0 {
		return 1
	}
	return math.Min(1, 2/binomial(n+m, n))
}

// latencyKind picks the histogram field compared: want's, or for "auto"
// hdr_corrected where every interval with requests of both sets has it,
// else hdr; false when the field is missing from some such interval.
func latencyKind(a, b []Interval, want string) (string, bool) {
	has := func(field string) bool {
		any := false
		for _, ivs := range [][]Interval{a, b} {
			for _, iv := range ivs {
				if iv.Requests == 0 {
					continue
				}
				if _, ok := iv.Hists[field]; !ok {
					return false
				}
				any = true
			}
		}
		return any
	}
	switch want {
	case "corrected":
		return "hdr_corrected", has("hdr_corrected")
	case "service":
		return "hdr", has("hdr")
	}
	if has("hdr_corrected") {
		return "hdr_corrected", true
	}
	return "hdr", has("hdr")
}

// latencyRows compares each percentile of the merged histograms of kind.
func latencyRows(op, kind string, a, b []Interval, opt Options) []Row {
	ha, hb := hists(a, kind), hists(b, kind)
	if opt.Unit == UnitRun {
		ha, hb = runHists(a, kind), runHists(b, kind)
	}
	pt := PercentileTest(ha, hb, opt.Percentiles, opt.Splits, opt.Seed)
	label := "service"
	if kind == "hdr_corrected" {
		label = "corrected"
	}
	minP := 1.0
	if len(ha) > 0 && len(hb) > 0 {
		if n := binomial(len(ha)+len(hb), len(ha)); n <= float64(opt.Splits) {
			minP = 1 / n
		} else {
			minP = 1 / float64(opt.Splits+1)
		}
	}
	rows := make([]Row, len(opt.Percentiles))
	for i, q := range opt.Percentiles {
		va, vb := float64(pt.A[i])/1e3, float64(pt.B[i])/1e3
		rows[i] = Row{Op: op, Metric: PercentileName(q), Unit: "us", Latency: label, A: va, B: vb, Delta: delta(va, vb),
			Test: TestPermutation, P: pt.P[i], Exact: pt.Exact, MinP: minP, NA: len(ha), NB: len(hb), worse: +1}
	}
	return rows
}

// hists are the intervals' histograms of kind, empty ones left out.
func hists(ivs []Interval, kind string) []Hist {
	var out []Hist
	for _, iv := range ivs {
		if h, ok := iv.Hists[kind]; ok && h.Total() > 0 {
			out = append(out, h)
		}
	}
	return out
}

// runHists are each run's histograms of kind merged, runs without
// requests left out.
func runHists(ivs []Interval, kind string) []Hist {
	var out []Hist
	for _, run := range runsOf(ivs) {
		var these []Interval
		for _, iv := range ivs {
			if iv.Run == run {
				these = append(these, iv)
			}
		}
		if h := MergeHists(hists(these, kind)); h.Total() > 0 {
			out = append(out, h)
		}
	}
	return out
}

func delta(a, b float64) float64 {
	if a == 0 {
		if b == 0 {
			return 0
		}
		return math.NaN()
	}
	return (b - a) / a
}

// judge adjusts the p-values for the number of rows (Holm's step-down
// method: the k-th smallest of m p-values is multiplied by m − k + 1,
// kept monotone, which bounds the chance of any false finding by Alpha)
// and gives each row its verdict.
func judge(res *Result) {
	opt := res.Options
	m := len(res.Rows)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return res.Rows[order[x]].P < res.Rows[order[y]].P })
	run := 0.0
	for k, i := range order {
		r := &res.Rows[i]
		if opt.NoCorrection {
			r.PAdj = r.P
			continue
		}
		run = math.Max(run, math.Min(1, float64(m-k)*r.P))
		r.PAdj = run
	}
	for i := range res.Rows {
		r := &res.Rows[i]
		r.Significant = r.PAdj < opt.Alpha
		switch {
		case !r.Significant:
			r.Verdict = NoChange
		case math.IsNaN(r.Delta) || math.Abs(r.Delta) > opt.Threshold:
			if worseSign(r) > 0 {
				r.Verdict = Regression
				res.Regressions++
			} else {
				r.Verdict = Improvement
				res.Improvements++
			}
		default:
			r.Verdict = WithinThreshold
		}
	}
}

// worseSign is +1 when b's figure is worse than a's, −1 when better.
func worseSign(r *Row) int {
	d := r.B - r.A
	if d*float64(r.worse) > 0 {
		return +1
	}
	return -1
}

// settingKeys are the config fields two sets' runs should share for
// their comparison to be about the controller alone.
var settingKeys = []string{"operations", "rate", "concurrency", "batch_size", "num_instances", "num_workers",
	"num_locations", "num_keys", "num_hashes", "num_processes", "num_processes_total", "senders", "pin_cpus",
	"interval_s", "duration_s", "warmup_s", "request_timeout_s", "embedded"}

// settingsDiffer names the settings whose values differ between the sets'
// config lines.
func settingsDiffer(a, b *Set) []string {
	values := func(s *Set, key string) string {
		var vs []string
		for _, c := range s.Configs {
			v := fmt.Sprint(c.F[key])
			if !contains(vs, v) {
				vs = append(vs, v)
			}
		}
		sort.Strings(vs)
		return strings.Join(vs, "|")
	}
	var diffs []string
	for _, k := range settingKeys {
		va, vb := values(a, k), values(b, k)
		if va != vb {
			diffs = append(diffs, fmt.Sprintf("%s %s vs %s", k, va, vb))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return []string{"the sets' runs differ in their settings (" + strings.Join(diffs, "; ") + "): a difference may be theirs, not the controller's"}
}
