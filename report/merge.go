package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// By names how Merge groups lines into rows.
type By string

// The groupings of `lmfast report --by`.
const (
	ByOp       By = "op"       // one row per operation over every process
	ByProc     By = "proc"     // one row per (run, proc) and operation
	ByInterval By = "interval" // one row per wall-time interval and operation
	ByStep     By = "step"     // one row per sweep step and operation
)

// ParseBy reads a --by value.
func ParseBy(s string) (By, error) {
	switch b := By(s); b {
	case ByOp, ByProc, ByInterval, ByStep:
		return b, nil
	}
	return "", fmt.Errorf("--by %q: want op, proc, interval or step", s)
}

// HistKind is one kind of latency histogram a line may carry.
type HistKind struct {
	Field   string // the base64 histogram's field: hdr, hdr_corrected, hdr_service
	Summary string // the microsecond summary object beside it
	Label   string // the name reports use
}

// HistKinds are the histogram fields lmfast writes. For `lmfast controller`
// hdr is the service latency (send to reply, or the enqueue of a PUSH) and
// hdr_corrected the latency from each request's intended send time; for
// `lmfast l2` hdr is each key's latency from its submit and hdr_service its
// I/O service time.
var HistKinds = []HistKind{
	{"hdr", "latency_us", "latency"},
	{"hdr_corrected", "corrected_us", "corrected"},
	{"hdr_service", "service_us", "service"},
}

// countFields are summed over sources: how many things happened.
var countFields = []string{
	"requests", "messages", "errors", "due", "sent", "dropped",
	"received_frames", "backlog_frames", "controller_received_frames", "controller_received_requests",
	"push_frames_sent", "kv_ops_sent", "push_bytes_sent", "teardown_frames_sent",
	"registered", "register_failed", "samples_written", "samples_dropped",
	"total_keys", "total_success", "failed_keys", "bytes_requested", "bytes_transferred",
	"skipped_existing", "rounds", "timed_out_rounds", "warmup_failed_keys", "warmup_timed_out_rounds",
	"direct_keys", "buffered_keys", "eventfd_wakeups", "completions",
}

// rateFields are per-second figures: each source's rate (time-weighted
// over its lines) is summed over sources, which run side by side.
var rateFields = []string{
	"rps", "qps", "received_fps", "target_rps", "achieved_rps", "target", "achieved",
	"throughput_avg_mbps", "throughput_requested_avg_mbps", "ops_per_sec_avg", "mbps",
}

// maxFields take the largest value over sources (LMCache's total_time).
var maxFields = []string{"duration_s"}

var countSet, rateSet, maxSet = toSet(countFields), toSet(rateFields), toSet(maxFields)

func toSet(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Latency is a histogram's figures in microseconds.
type Latency struct {
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

// LatencyOf summarises a nanosecond histogram.
func LatencyOf(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Latency{Count: h.TotalCount(), Min: us(h.Min()), Mean: h.Mean() / 1e3,
		P50: us(h.ValueAtQuantile(50)), P90: us(h.ValueAtQuantile(90)), P95: us(h.ValueAtQuantile(95)),
		P99: us(h.ValueAtQuantile(99)), P999: us(h.ValueAtQuantile(99.9)), Max: us(h.Max())}
}

// Row is one merged group: an operation, optionally of one process, one
// interval or one step.
type Row struct {
	Op    string
	Run   string    // ByProc
	Proc  int       // ByProc
	Start time.Time // ByInterval: the interval's wall-clock start
	T     float64   // ByInterval: seconds from the report's origin
	Width float64   // ByInterval: the interval's length in seconds
	// Covered is, for ByInterval, the most seconds one source's lines
	// cover of the interval: less than Width for a run's last, short one.
	Covered float64
	Step    int       // ByStep
	End     time.Time // the latest time of a line merged into the row

	Sources int                // (run, proc) pairs merged into the row
	Lines   int                // lines merged into the row
	Counts  map[string]int64   // summed
	Rates   map[string]float64 // summed over sources
	Maxes   map[string]float64 // largest over sources
	Values  map[string]float64 // other numbers, only when one line made the row
	Hists   map[string]*hdrhistogram.Histogram
	// Copied holds a latency summary taken as written from the single line
	// that made the row, where that line had no histogram.
	Copied map[string]Latency
	// Unmerged names histogram kinds some line had without its histogram:
	// their percentiles cannot be merged and are left out.
	Unmerged map[string]bool
	// Partial: some source had no summary for this row and its interval
	// lines were summed instead (an interrupted or truncated run).
	Partial bool

	acc   map[source]*srcAcc
	lines map[string][]*Line // per hist kind, lines lacking the histogram
}

// srcAcc accumulates one source's contribution to a row.
type srcAcc struct {
	weight float64            // seconds (or 1 per line)
	rates  map[string]float64 // Σ rate·weight
	maxes  map[string]float64
}

// Latency returns the row's figures for a histogram kind, and whether it
// has any (merged or copied).
func (r *Row) Latency(kind string) (Latency, bool) {
	if r.Unmerged[kind] {
		return Latency{}, false
	}
	if h := r.Hists[kind]; h != nil {
		return LatencyOf(h), true
	}
	if c, ok := r.Copied[kind]; ok {
		return c, true
	}
	return Latency{}, false
}

// ErrorCount is one distinct error text of an operation, summed.
type ErrorCount struct {
	Op    string `json:"op"`
	Error string `json:"error"`
	Count int64  `json:"count"`
}

// SourceInfo names one merged source.
type SourceInfo struct {
	Run  string `json:"run"`
	Proc int    `json:"proc"`
	File string `json:"file"`
	Host string `json:"host,omitempty"`
	// Label is the run label of the source's config line (`lmfast
	// controller --run-label`): the processes of one run share it.
	Label string `json:"run_label,omitempty"`
}

// Memory is the system memory use over all sources.
type Memory struct {
	Avg float64 `json:"avg"` // mean of the sources' averages
	Max float64 `json:"max"`
}

// Report is a merged Input.
type Report struct {
	Cmd      string
	By       By
	Files    []string
	Sources  []SourceInfo
	Configs  []*Line // one per run, in file order
	Rows     []*Row
	Errors   []ErrorCount
	Memory   *Memory
	Carried  []*Line        // lines of kinds not merged (capacity, verify, warnings, unknown kinds)
	Events   map[string]int // lines read per event kind
	Samples  int64
	Problems []Problem
	Warnings []string

	Origin time.Time // ByInterval: start of the first interval
	Bucket float64   // ByInterval: interval width in seconds
	Skew   float64   // ByInterval: largest start difference of lines merged into one interval, seconds
}

// Options tune Merge.
type Options struct {
	// Bucket is the interval width for ByInterval; 0 takes the largest
	// interval_s of the config lines (else of the interval lines).
	Bucket time.Duration
}

// merged is what every kind of row is built from.
var mergedEvents = map[string]bool{"config": true, "summary": true, "interval": true, "step": true, "sample": true, "error": true}

// Merge groups in's lines into rows. It fails when nothing in in can be
// grouped so (no summary, interval or step lines).
func Merge(in *Input, by By, opt Options) (*Report, error) {
	rep := &Report{Cmd: in.Cmd, By: by, Files: in.Files, Events: in.Events, Samples: in.Samples, Problems: in.Problems}
	m := &merger{rep: rep, rows: map[rowKey]*Row{}, opIndex: map[string]int{}}
	seen := map[source]bool{}
	var mem []float64
	errIndex := map[[2]string]int{}
	for _, l := range in.Lines {
		switch l.Event {
		case "config":
			rep.Configs = append(rep.Configs, l)
		case "error":
			k := [2]string{l.Op, l.Str("error")}
			n, _ := l.Num("count")
			if n == 0 {
				n = 1
			}
			if i, ok := errIndex[k]; ok {
				rep.Errors[i].Count += int64(n)
			} else {
				errIndex[k] = len(rep.Errors)
				rep.Errors = append(rep.Errors, ErrorCount{Op: l.Op, Error: k[1], Count: int64(n)})
			}
		case "summary", "interval", "step":
		default:
			if !mergedEvents[l.Event] {
				rep.Carried = append(rep.Carried, l)
			}
		}
		src := source{l.Run, l.Proc}
		if l.Proc >= 0 && !seen[src] && l.Event != "config" {
			seen[src] = true
			host, label := "", ""
			if c := in.Configs[l.Run]; c != nil {
				host, label = c.Str("host"), c.Str("run_label")
			}
			rep.Sources = append(rep.Sources, SourceInfo{Run: l.Run, Proc: l.Proc, File: l.File, Host: host, Label: label})
		}
		if (l.Event == "summary" || l.Event == "interval") && l.Proc >= 0 {
			m.timed = append(m.timed, l)
		}
		if l.Event == "summary" && l.Proc >= 0 {
			if mp, ok := l.F["memory_pct"].(map[string]any); ok {
				avg, _ := mp["avg"].(float64)
				mx, _ := mp["max"].(float64)
				mem = append(mem, avg)
				if rep.Memory == nil {
					rep.Memory = &Memory{}
				}
				rep.Memory.Max = math.Max(rep.Memory.Max, mx)
			}
		}
	}
	checkLabels(rep)
	if rep.Memory != nil {
		sum := 0.0
		for _, v := range mem {
			sum += v
		}
		rep.Memory.Avg = sum / float64(len(mem))
	}
	var err error
	switch by {
	case ByOp, ByProc:
		err = m.summaries(in, by == ByProc)
	case ByInterval:
		err = m.intervals(in, opt)
	case ByStep:
		err = m.steps(in)
	default:
		err = fmt.Errorf("unknown grouping %q", by)
	}
	if err != nil {
		return nil, err
	}
	if err := m.finish(); err != nil {
		return nil, err
	}
	if len(rep.Rows) == 0 {
		return nil, fmt.Errorf("no %s lines to report in %s", map[By]string{ByOp: "summary or interval", ByProc: "summary or interval", ByInterval: "interval", ByStep: "step"}[by], strings.Join(in.Files, ", "))
	}
	return rep, nil
}

type rowKey struct {
	op     string
	run    string
	proc   int
	bucket int
	step   int
}

type merger struct {
	rep     *Report
	rows    map[rowKey]*Row
	order   []rowKey
	opIndex map[string]int // first appearance of each op
	timed   []*Line        // summary and interval lines: when each source ran
}

func (m *merger) row(k rowKey) *Row {
	r, ok := m.rows[k]
	if !ok {
		r = &Row{Op: k.op, Run: k.run, Proc: k.proc, Step: k.step,
			Counts: map[string]int64{}, Rates: map[string]float64{}, Maxes: map[string]float64{},
			Values: map[string]float64{}, Hists: map[string]*hdrhistogram.Histogram{},
			Copied: map[string]Latency{}, Unmerged: map[string]bool{},
			acc: map[source]*srcAcc{}, lines: map[string][]*Line{}}
		m.rows[k] = r
		m.order = append(m.order, k)
		if _, ok := m.opIndex[k.op]; !ok {
			m.opIndex[k.op] = len(m.opIndex)
		}
	}
	return r
}

// add merges line l into row r with weight seconds (0: one unit).
func (m *merger) add(r *Row, l *Line, weight float64) error {
	src := source{l.Run, l.Proc}
	a := r.acc[src]
	if a == nil {
		a = &srcAcc{rates: map[string]float64{}, maxes: map[string]float64{}}
		r.acc[src] = a
	}
	if weight <= 0 {
		weight = 1
	}
	a.weight += weight
	r.Lines++
	if l.Time.After(r.End) {
		r.End = l.Time
	}
	for name, v := range l.F {
		x, ok := v.(float64)
		if !ok {
			continue
		}
		switch {
		case countSet[name]:
			r.Counts[name] += int64(x)
		case rateSet[name]:
			a.rates[name] += x * weight
		case maxSet[name]:
			a.maxes[name] = math.Max(a.maxes[name], x)
		case name == "proc" || name == "step":
		default:
			r.Values[name] = x
		}
	}
	for _, k := range HistKinds {
		enc, hasHist := l.F[k.Field].(string)
		_, hasSummary := l.F[k.Summary].(map[string]any)
		switch {
		case hasHist && enc != "":
			h, err := hdrhistogram.Decode([]byte(enc))
			if err != nil {
				return fmt.Errorf("%s:%d: %s: %v", l.File, l.N, k.Field, err)
			}
			if r.Hists[k.Field] == nil {
				r.Hists[k.Field] = h
			} else if dropped := r.Hists[k.Field].Merge(h); dropped != 0 {
				return fmt.Errorf("%s:%d: %s: %d values outside the merged histogram's range", l.File, l.N, k.Field, dropped)
			}
		case hasSummary:
			r.lines[k.Field] = append(r.lines[k.Field], l)
		}
	}
	return nil
}

// summaries groups summary lines by op (and by source with perSource);
// a source with no summary for an op contributes its interval lines.
func (m *merger) summaries(in *Input, perSource bool) error {
	type so struct {
		src source
		op  string
	}
	have := map[so]bool{}
	key := func(l *Line) rowKey {
		k := rowKey{op: opName(l)}
		if perSource {
			k.run, k.proc = l.Run, l.Proc
		}
		return k
	}
	for _, l := range in.Lines {
		if l.Event == "summary" && l.Proc >= 0 {
			have[so{source{l.Run, l.Proc}, opName(l)}] = true
			if err := m.add(m.row(key(l)), l, 0); err != nil {
				return err
			}
		}
	}
	for _, l := range in.Lines {
		if l.Event == "interval" && l.Proc >= 0 && !have[so{source{l.Run, l.Proc}, opName(l)}] {
			r := m.row(key(l))
			r.Partial = true
			secs, _ := l.Num("interval_s")
			if err := m.add(r, l, secs); err != nil {
				return err
			}
			a := r.acc[source{l.Run, l.Proc}]
			a.maxes["duration_s"] = a.weight
		}
	}
	return nil
}

// opName is a line's operation; calibrate's lines name a measurement by
// kind, measure, transport and size instead.
func opName(l *Line) string {
	if l.Op != "" {
		return l.Op
	}
	var parts []string
	for _, f := range []string{"kind", "measure", "transport"} {
		if s := l.Str(f); s != "" {
			parts = append(parts, s)
		}
	}
	if b, ok := l.Num("bytes"); ok && len(parts) > 0 {
		parts = append(parts, strconv.Itoa(int(b))+"B")
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, "/")
}

// intervals aligns interval lines on wall time: each line covers
// [time - interval_s, time], and goes to the bucket holding its midpoint.
func (m *merger) intervals(in *Input, opt Options) error {
	// A line is written after its tick, later still on a starved machine
	// (by hundreds of ms), while its t_s is the tick's exact offset from
	// its run's start: each source's start is its lines' time less t_s at
	// the least, and a line's interval ends at that start plus its t_s.
	began := map[source]time.Time{}
	var lines []*Line
	width := opt.Bucket.Seconds()
	for _, c := range in.Configs {
		if v, ok := c.Num("interval_s"); ok && opt.Bucket == 0 {
			width = math.Max(width, v)
		}
	}
	for _, l := range in.Lines {
		if l.Event != "interval" || l.Proc < 0 {
			continue
		}
		if ts, ok := l.Num("t_s"); ok {
			src, b := source{l.Run, l.Proc}, l.Time.Add(-time.Duration(ts*1e9))
			if e, ok := began[src]; !ok || b.Before(e) {
				began[src] = b
			}
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return nil
	}
	if width <= 0 {
		for _, l := range lines {
			v, _ := l.Num("interval_s")
			width = math.Max(width, v)
		}
	}
	if width <= 0 {
		return fmt.Errorf("interval lines without interval_s: cannot align them")
	}
	start := func(l *Line) time.Time {
		secs, _ := l.Num("interval_s")
		end := l.Time // a line without t_s: its own time
		if ts, ok := l.Num("t_s"); ok {
			end = began[source{l.Run, l.Proc}].Add(time.Duration(ts * 1e9))
		}
		return end.Add(-time.Duration(secs * 1e9))
	}
	origin := start(lines[0])
	for _, l := range lines {
		if s := start(l); s.Before(origin) {
			origin = s
		}
	}
	m.rep.Origin, m.rep.Bucket = origin, width
	firstStart := map[int]time.Time{}
	lastStart := map[int]time.Time{}
	for _, l := range lines {
		secs, _ := l.Num("interval_s")
		s := start(l)
		mid := s.Sub(origin).Seconds() + secs/2
		b := int(math.Floor(mid / width))
		r := m.row(rowKey{op: opName(l), bucket: b})
		r.T, r.Width = float64(b)*width, width
		r.Start = origin.Add(time.Duration(r.T * 1e9))
		if err := m.add(r, l, secs); err != nil {
			return err
		}
		if secs > width/2 { // the short last interval of a run is not a misalignment
			if f, ok := firstStart[b]; !ok || s.Before(f) {
				firstStart[b] = s
			}
			if f, ok := lastStart[b]; !ok || s.After(f) {
				lastStart[b] = s
			}
		}
	}
	for b, f := range firstStart {
		m.rep.Skew = math.Max(m.rep.Skew, lastStart[b].Sub(f).Seconds())
	}
	m.alignmentWarning(in, width)
	return nil
}

// steps groups sweep step lines by step number and op. A step line is
// either one operation's (it has "op") or the whole step's with an "ops"
// object or array of per-operation objects, which are flattened with the
// step's own numbers.
func (m *merger) steps(in *Input) error {
	count := map[source]int{}
	for _, l := range in.Lines {
		if l.Event != "step" || l.Proc < 0 {
			continue
		}
		src := source{l.Run, l.Proc}
		n, ok := l.Num("step")
		if !ok {
			n = float64(count[src])
		}
		count[src]++
		weight, _ := l.Num("duration_s")
		for _, sub := range flattenOps(l) {
			if err := m.add(m.row(rowKey{op: opName(sub), step: int(n)}), sub, weight); err != nil {
				return err
			}
		}
	}
	return nil
}

// flattenOps splits a step line carrying per-operation objects under
// "ops" into one line per operation.
func flattenOps(l *Line) []*Line {
	var subs []map[string]any
	var names []string
	switch ops := l.F["ops"].(type) {
	case map[string]any:
		for name, v := range ops {
			if o, ok := v.(map[string]any); ok {
				subs, names = append(subs, o), append(names, name)
			}
		}
	case []any:
		for _, v := range ops {
			if o, ok := v.(map[string]any); ok {
				name, _ := o["op"].(string)
				subs, names = append(subs, o), append(names, name)
			}
		}
	default:
		return []*Line{l}
	}
	out := make([]*Line, 0, len(subs))
	for i, o := range subs {
		c := *l
		c.F = map[string]any{}
		for k, v := range l.F {
			if k != "ops" {
				c.F[k] = v
			}
		}
		for k, v := range o {
			c.F[k] = v
		}
		c.Op = names[i]
		out = append(out, &c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// finish turns the accumulators into figures and orders the rows.
func (m *merger) finish() error {
	for _, k := range m.order {
		r := m.rows[k]
		r.Sources = len(r.acc)
		for _, a := range r.acc {
			if m.rep.By == ByInterval {
				r.Covered = math.Max(r.Covered, math.Min(a.weight, r.Width))
			}
			for name, v := range a.rates {
				r.Rates[name] += v / a.weight
			}
			for name, v := range a.maxes {
				r.Maxes[name] = math.Max(r.Maxes[name], v)
			}
		}
		if r.Lines > 1 {
			r.Values = map[string]float64{}
		}
		for _, kind := range HistKinds {
			missing := r.lines[kind.Field]
			switch {
			case len(missing) == 0:
			case r.Lines == 1:
				r.Copied[kind.Field] = latencyFromSummary(missing[0].F[kind.Summary].(map[string]any))
			default:
				r.Unmerged[kind.Field] = true
			}
		}
		r.acc, r.lines = nil, nil
		m.rep.Rows = append(m.rep.Rows, r)
	}
	for _, kind := range HistKinds {
		var ops []string
		for _, r := range m.rep.Rows {
			if r.Unmerged[kind.Field] && !contains(ops, r.Op) {
				ops = append(ops, r.Op)
			}
		}
		if len(ops) > 0 {
			m.rep.Warnings = append(m.rep.Warnings, fmt.Sprintf("%s lines with %s but no %s (an lmfast that did not write it): merged %s percentiles left out for %s",
				m.rep.By, kind.Summary, kind.Field, kind.Label, strings.Join(ops, ", ")))
		}
	}
	sort.SliceStable(m.rep.Rows, func(i, j int) bool {
		a, b := m.rep.Rows[i], m.rep.Rows[j]
		switch {
		case a.Run != b.Run:
			return a.Run < b.Run
		case a.Proc != b.Proc:
			return a.Proc < b.Proc
		case a.T != b.T:
			return a.T < b.T
		case a.Step != b.Step:
			return a.Step < b.Step
		}
		return m.opLess(a.Op, b.Op)
	})
	if by := m.rep.By; (by == ByOp || by == ByProc) && len(m.rep.Sources) > 1 {
		m.checkOverlap()
	}
	return nil
}

// opLess orders ops by first appearance, "all" last.
func (m *merger) opLess(a, b string) bool {
	if (a == "all") != (b == "all") {
		return b == "all"
	}
	return m.opIndex[a] < m.opIndex[b]
}

// checkOverlap warns when the sources did not run at the same time: rates
// are summed as for processes running side by side.
func (m *merger) checkOverlap() {
	first, last := map[source]time.Time{}, map[source]time.Time{}
	for _, l := range m.timed {
		s := source{l.Run, l.Proc}
		if f, ok := first[s]; !ok || l.Time.Before(f) {
			first[s] = l.Time
		}
		if f, ok := last[s]; !ok || l.Time.After(f) {
			last[s] = l.Time
		}
	}
	for _, c := range m.rep.Configs { // a run starts at its config line
		for s, f := range first {
			if s.run == c.Run && c.Time.Before(f) {
				first[s] = c.Time
			}
		}
	}
	var latestStart, earliestEnd time.Time
	for s, f := range first {
		if latestStart.IsZero() || f.After(latestStart) {
			latestStart = f
		}
		if e := last[s]; earliestEnd.IsZero() || e.Before(earliestEnd) {
			earliestEnd = e
		}
	}
	if latestStart.After(earliestEnd) {
		m.rep.Warnings = append(m.rep.Warnings, "the merged sources did not run at the same time: their rates are summed as if they had")
	}
}

func latencyFromSummary(s map[string]any) Latency {
	f := func(k string) float64 { v, _ := s[k].(float64); return v }
	return Latency{Count: int64(f("count")), Min: f("min"), Mean: f("mean"), P50: f("p50"), P90: f("p90"),
		P95: f("p95"), P99: f("p99"), P999: f("p999"), Max: f("max")}
}

func kindLabel(field string) string {
	for _, k := range HistKinds {
		if k.Field == field {
			return k.Label
		}
	}
	return field
}

func kindSummary(field string) string {
	for _, k := range HistKinds {
		if k.Field == field {
			return k.Summary
		}
	}
	return field
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
