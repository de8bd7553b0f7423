package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Format names an output format of Write.
type Format string

// The formats of `lmfast report --format`.
const (
	Text Format = "text" // LMCache's aggregated report (controller by op) or an aligned table
	JSON Format = "json" // one JSON object
	MD   Format = "md"   // a Markdown table
	CSV  Format = "csv"  // one row per op × group, with a header
	HLog Format = "hlog" // an HdrHistogram interval log
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Text, JSON, MD, CSV, HLog:
		return f, nil
	}
	return "", fmt.Errorf("--format %q: want text, json, md, csv or hlog", s)
}

// Write renders rep in format f.
func Write(w io.Writer, rep *Report, f Format) error {
	switch f {
	case Text:
		return writeText(w, rep)
	case JSON:
		return writeJSON(w, rep)
	case MD:
		return writeMD(w, rep)
	case CSV:
		return writeCSV(w, rep)
	case HLog:
		return writeHLog(w, rep)
	}
	return fmt.Errorf("unknown format %q", f)
}

// column is one field of a table row.
type column struct {
	name  string
	right bool // a number: right-aligned in Markdown
	get   func(*Row) string
}

// keyColumns are the columns that name a row under rep.By.
func keyColumns(rep *Report) []column {
	var cols []column
	switch rep.By {
	case ByProc:
		cols = append(cols, column{name: "run", get: func(r *Row) string { return r.Run }},
			column{name: "proc", right: true, get: func(r *Row) string { return strconv.Itoa(r.Proc) }})
	case ByInterval:
		cols = append(cols, column{name: "t_s", right: true, get: func(r *Row) string { return num(r.T) }},
			column{name: "start", get: func(r *Row) string { return r.Start.UTC().Format(time.RFC3339Nano) }},
			column{name: "interval_s", right: true, get: func(r *Row) string { return num(r.Width) }})
	case ByStep:
		cols = append(cols, column{name: "step", right: true, get: func(r *Row) string { return strconv.Itoa(r.Step) }})
	}
	return append(cols, column{name: "op", get: func(r *Row) string { return r.Op }},
		column{name: "sources", right: true, get: func(r *Row) string { return strconv.Itoa(r.Sources) }})
}

// present lists the names, in the order given, that some row has in pick.
func present[V any](rows []*Row, names []string, pick func(*Row) map[string]V) []string {
	var out []string
	for _, n := range names {
		for _, r := range rows {
			if _, ok := pick(r)[n]; ok {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// kindsPresent lists the histogram kinds some row has figures for.
func kindsPresent(rows []*Row) []HistKind {
	var out []HistKind
	for _, k := range HistKinds {
		for _, r := range rows {
			if _, ok := r.Latency(k.Field); ok {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// valueColumns are the counts, rates and durations present in rep.
func valueColumns(rep *Report) []column {
	var cols []column
	for _, n := range present(rep.Rows, countFields, func(r *Row) map[string]int64 { return r.Counts }) {
		cols = append(cols, column{name: n, right: true, get: func(r *Row) string {
			if v, ok := r.Counts[n]; ok {
				return strconv.FormatInt(v, 10)
			}
			return ""
		}})
	}
	for _, n := range present(rep.Rows, rateFields, func(r *Row) map[string]float64 { return r.Rates }) {
		cols = append(cols, column{name: n, right: true, get: func(r *Row) string {
			if v, ok := r.Rates[n]; ok {
				return fixed(v, 2)
			}
			return ""
		}})
	}
	for _, n := range present(rep.Rows, maxFields, func(r *Row) map[string]float64 { return r.Maxes }) {
		cols = append(cols, column{name: n, right: true, get: func(r *Row) string {
			if v, ok := r.Maxes[n]; ok {
				return fixed(v, 3)
			}
			return ""
		}})
	}
	return cols
}

// latencyColumns are stats of every histogram kind present, in µs (csv)
// or ms (tables).
func latencyColumns(rep *Report, stats []string, ms bool) []column {
	var cols []column
	for _, k := range kindsPresent(rep.Rows) {
		for _, s := range stats {
			name := k.Label + "_" + s + "_us"
			if s == "count" {
				name = k.Label + "_count"
			}
			if ms {
				name = k.Label + " " + strings.Replace(s, "p999", "p99.9", 1) + " ms"
			}
			cols = append(cols, column{name: name, right: true, get: func(r *Row) string {
				l, ok := r.Latency(k.Field)
				if !ok {
					return ""
				}
				v := l.stat(s)
				if s == "count" {
					return strconv.FormatInt(l.Count, 10)
				}
				if ms {
					return fixed(v/1e3, 3)
				}
				return fixed(v, 3)
			}})
		}
	}
	return cols
}

func (l Latency) stat(s string) float64 {
	switch s {
	case "min":
		return l.Min
	case "mean":
		return l.Mean
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p95":
		return l.P95
	case "p99":
		return l.P99
	case "p999":
		return l.P999
	case "max":
		return l.Max
	}
	return float64(l.Count)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func fixed(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// tableFields are the counts and rates the text and Markdown tables show;
// csv and json have them all.
var tableFields = toSet([]string{"requests", "messages", "errors", "dropped", "received_frames",
	"total_keys", "total_success", "failed_keys", "bytes_transferred",
	"rps", "qps", "received_fps", "target_rps", "achieved_rps", "target", "achieved", "throughput_avg_mbps", "duration_s"})

func tableColumns(rep *Report) []column {
	cols := keyColumns(rep)
	for _, c := range valueColumns(rep) {
		if tableFields[c.name] {
			cols = append(cols, c)
		}
	}
	return append(cols, latencyColumns(rep, []string{"p50", "p99", "p999", "max"}, true)...)
}

func writeCSV(w io.Writer, rep *Report) error {
	cols := append(keyColumns(rep), valueColumns(rep)...)
	cols = append(cols, column{name: "partial", get: func(r *Row) string { return strconv.FormatBool(r.Partial) }})
	cols = append(cols, latencyColumns(rep, []string{"count", "min", "mean", "p50", "p90", "p95", "p99", "p999", "max"}, false)...)
	cw := csv.NewWriter(w)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rep.Rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			rec[i] = c.get(r)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeMD(w io.Writer, rep *Report) error {
	cols := tableColumns(rep)
	var b strings.Builder
	fmt.Fprintf(&b, "lmfast %s: %d source(s) from %d file(s), by %s%s\n\n", rep.Cmd, len(rep.Sources), len(rep.Files), rep.By, labelNote(rep))
	b.WriteString("|")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", mdEscape(c.name))
	}
	b.WriteString("\n|")
	for _, c := range cols {
		if c.right {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range rep.Rows {
		b.WriteString("|")
		for _, c := range cols {
			fmt.Fprintf(&b, " %s |", mdEscape(c.get(r)))
		}
		b.WriteString("\n")
	}
	writeNotes(&b, rep, "\n- ")
	_, err := io.WriteString(w, b.String())
	return err
}

// labelNote is ", run label L" (or ", run labels L1, L2") for the run
// labels that tie the sources together, "" when none does.
func labelNote(rep *Report) string {
	labels := sharedLabels(rep)
	switch len(labels) {
	case 0:
		return ""
	case 1:
		return ", run label " + labels[0]
	}
	return ", run labels " + strings.Join(labels, ", ")
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// writeNotes lists warnings and problems, each after prefix.
func writeNotes(b *strings.Builder, rep *Report, prefix string) {
	for _, warn := range rep.Warnings {
		b.WriteString(prefix + "warning: " + warn)
	}
	if n := len(rep.Problems); n > 0 {
		fmt.Fprintf(b, "%s%d line(s) skipped: %s", prefix, n, rep.Problems[0])
		if n > 1 {
			b.WriteString(", ...")
		}
	}
	if len(rep.Warnings) > 0 || len(rep.Problems) > 0 {
		b.WriteString("\n")
	}
}

func writeTable(w io.Writer, rep *Report) error {
	cols := tableColumns(rep)
	var b strings.Builder
	fmt.Fprintf(&b, "lmfast %s: %d source(s) from %d file(s), by %s%s\n\n", rep.Cmd, len(rep.Sources), len(rep.Files), rep.By, labelNote(rep))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i, c := range cols {
		if i > 0 {
			tw.Write([]byte("\t"))
		}
		tw.Write([]byte(c.name))
	}
	tw.Write([]byte("\t\n"))
	for _, r := range rep.Rows {
		for i, c := range cols {
			if i > 0 {
				tw.Write([]byte("\t"))
			}
			v := c.get(r)
			if v == "" {
				v = "-"
			}
			tw.Write([]byte(v))
		}
		tw.Write([]byte("\t\n"))
	}
	tw.Flush()
	writeErrorsAndCarried(&b, rep)
	writeNotes(&b, rep, "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeErrorsAndCarried(b *strings.Builder, rep *Report) {
	if len(rep.Errors) > 0 {
		b.WriteString("\nErrors:\n")
		for _, e := range rep.Errors {
			fmt.Fprintf(b, "  %s: %s (%d)\n", e.Op, e.Error, e.Count)
		}
	}
	for _, l := range rep.Carried {
		if l.Event == "capacity" {
			raw, _ := json.Marshal(l.F)
			fmt.Fprintf(b, "\ncapacity (%s proc %d): %s\n", l.Run, l.Proc, raw)
		}
	}
}

// writeText prints LMCache's aggregated layout for a controller report by
// op, with the percentiles LMCache lacks; any other report as a table.
func writeText(w io.Writer, rep *Report) error {
	if rep.Cmd != "controller" || rep.By != ByOp {
		return writeTable(w, rep)
	}
	var b strings.Builder
	bar := strings.Repeat("=", 80)
	fmt.Fprintf(&b, "\n%s\nLMCache Controller ZMQ Benchmark - AGGREGATED RESULTS (%d processes)\n%s\n", bar, len(rep.Sources), bar)
	if len(rep.Configs) > 0 {
		c := rep.Configs[0]
		n := func(k string) int { v, _ := c.Num(k); return int(v) }
		fmt.Fprintf(&b, "\nConfiguration:\n")
		fmt.Fprintf(&b, "  Controller URL: %s:%d\n", c.Str("controller_host"), n("pull_port"))
		fmt.Fprintf(&b, "  Duration: %d seconds\n", n("duration_s"))
		fmt.Fprintf(&b, "  Batch Size: %d\n", n("batch_size"))
		fmt.Fprintf(&b, "  Operations: %s\n", pyDict(c.Str("operations")))
		fmt.Fprintf(&b, "  Instances per process: %d, Workers: %d, Locations: %d, Keys: %d\n", n("num_instances"), n("num_workers"), n("num_locations"), n("num_keys"))
		fmt.Fprintf(&b, "  Total Instances: %d\n", n("num_instances")*len(rep.Sources))
		if labels := sharedLabels(rep); len(labels) > 0 {
			fmt.Fprintf(&b, "  Run label: %s\n", strings.Join(labels, ", "))
		}
		for _, k := range []string{"duration_s", "batch_size", "operations", "num_instances", "num_workers", "num_locations", "num_keys", "controller_host", "pull_port"} {
			for _, o := range rep.Configs[1:] {
				if fmt.Sprint(o.F[k]) != fmt.Sprint(c.F[k]) {
					rep.Warnings = append(rep.Warnings, fmt.Sprintf("runs differ in %s (%v in %s, %v in %s): the configuration shows the first", k, c.F[k], c.Run, o.F[k], o.Run))
					break
				}
			}
		}
	}
	var all *Row
	var ops []*Row
	for _, r := range rep.Rows {
		if r.Op == "all" {
			all = r
		} else {
			ops = append(ops, r)
		}
	}
	var req, msg int64
	var rps, qps, secs float64
	for _, r := range ops {
		req += r.Counts["requests"]
		msg += r.Counts["messages"]
		rps += r.Rates["rps"]
		qps += r.Rates["qps"]
		secs = math.Max(secs, r.Maxes["duration_s"])
	}
	if all != nil {
		secs = math.Max(secs, all.Maxes["duration_s"])
	}
	fmt.Fprintf(&b, "\nAggregated Performance:\n")
	fmt.Fprintf(&b, "  Total Requests: %d\n", req)
	fmt.Fprintf(&b, "  Total Messages: %d\n", msg)
	fmt.Fprintf(&b, "  Total Time: %.2fs\n", secs)
	fmt.Fprintf(&b, "  Overall RPS (Requests/sec): %.2f\n", rps)
	fmt.Fprintf(&b, "  Overall QPS (Messages/sec): %.2f\n", qps)
	fmt.Fprintf(&b, "\nPer-Operation Performance (Aggregated):\n")
	for _, r := range ops {
		fmt.Fprintf(&b, "  %s:\n", r.Op)
		fmt.Fprintf(&b, "    RPS (Requests/sec): %.2f\n", r.Rates["rps"])
		fmt.Fprintf(&b, "    QPS (Messages/sec): %.2f\n", r.Rates["qps"])
		writeLatency(&b, r, "hdr", "Latency")
		if _, ok := r.Latency("hdr_corrected"); ok || r.Unmerged["hdr_corrected"] {
			writeLatency(&b, r, "hdr_corrected", "Latency from intended send")
		}
		fmt.Fprintf(&b, "    Errors: %d\n", r.Counts["errors"])
	}
	if rep.Memory != nil {
		fmt.Fprintf(&b, "\nSystem Metrics (All Processes):\n")
		fmt.Fprintf(&b, "  Memory Usage - Avg: %.1f%%, Max: %.1f%%\n", rep.Memory.Avg, rep.Memory.Max)
	}
	fmt.Fprintf(&b, "%s\n", bar)
	if all != nil {
		var extra []string
		for _, k := range []string{"push_frames_sent", "kv_ops_sent", "teardown_frames_sent", "registered", "register_failed", "samples_written", "samples_dropped", "controller_received_frames", "controller_received_requests"} {
			if v, ok := all.Counts[k]; ok {
				extra = append(extra, fmt.Sprintf("%s %d", k, v))
			}
		}
		if len(extra) > 0 {
			fmt.Fprintf(&b, "Totals: %s\n", strings.Join(extra, ", "))
		}
	}
	writeErrorsAndCarried(&b, rep)
	writeNotes(&b, rep, "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLatency(b *strings.Builder, r *Row, kind, title string) {
	l, ok := r.Latency(kind)
	if !ok {
		fmt.Fprintf(b, "    %s - not mergeable: some sources have no %s\n", title, kind)
		return
	}
	ms := func(us float64) float64 { return us / 1e3 }
	fmt.Fprintf(b, "    %s - Avg: %.3fms, Min: %.3fms, Max: %.3fms, P95: %.3fms\n", title, ms(l.Mean), ms(l.Min), ms(l.Max), ms(l.P95))
	fmt.Fprintf(b, "    %s percentiles - P50: %.3fms, P99: %.3fms, P99.9: %.3fms\n", title, ms(l.P50), ms(l.P99), ms(l.P999))
}

// pyDict renders "admit:35.0,evict:29.0" as Python prints the dict
// {'admit': 35.0, 'evict': 29.0}.
func pyDict(ops string) string {
	var parts []string
	for _, p := range strings.Split(ops, ",") {
		name, pct, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		parts = append(parts, fmt.Sprintf("'%s': %s", name, pct))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// jsonRow is a Row as the json format writes it.
type jsonRow struct {
	Op       string                 `json:"op"`
	Run      string                 `json:"run,omitempty"`
	Proc     *int                   `json:"proc,omitempty"`
	T        *float64               `json:"t_s,omitempty"`
	Start    string                 `json:"start,omitempty"`
	Width    float64                `json:"interval_s,omitempty"`
	Step     *int                   `json:"step,omitempty"`
	Sources  int                    `json:"sources"`
	Lines    int                    `json:"lines"`
	Partial  bool                   `json:"partial,omitempty"`
	Counts   map[string]int64       `json:"counts"`
	Rates    map[string]float64     `json:"rates,omitempty"`
	Maxes    map[string]float64     `json:"max,omitempty"`
	Values   map[string]float64     `json:"values,omitempty"`
	Latency  map[string]jsonLatency `json:"latency_us,omitempty"`
	Unmerged []string               `json:"unmerged,omitempty"`
}

type jsonLatency struct {
	Latency
	HDR string `json:"hdr,omitempty"` // the merged histogram, for further merging
}

func writeJSON(w io.Writer, rep *Report) error {
	out := struct {
		Schema   string           `json:"schema"`
		Cmd      string           `json:"cmd"`
		By       By               `json:"by"`
		Files    []string         `json:"files"`
		Sources  []SourceInfo     `json:"sources"`
		Rows     []jsonRow        `json:"rows"`
		Errors   []ErrorCount     `json:"errors"`
		Memory   *Memory          `json:"memory_pct,omitempty"`
		Carried  []map[string]any `json:"carried"`
		Events   map[string]int   `json:"events"`
		Samples  int64            `json:"samples"`
		Problems []Problem        `json:"problems"`
		Warnings []string         `json:"warnings"`
		Origin   string           `json:"origin,omitempty"`
		Bucket   float64          `json:"interval_s,omitempty"`
		SkewMs   *float64         `json:"alignment_skew_ms,omitempty"`
		Configs  []map[string]any `json:"configs"`
	}{Schema: "lmfast.report.v1", Cmd: rep.Cmd, By: rep.By, Files: rep.Files, Sources: rep.Sources,
		Errors: rep.Errors, Memory: rep.Memory, Events: rep.Events, Samples: rep.Samples,
		Problems: rep.Problems, Warnings: rep.Warnings}
	if out.Errors == nil {
		out.Errors = []ErrorCount{}
	}
	if out.Problems == nil {
		out.Problems = []Problem{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	out.Carried = []map[string]any{}
	for _, l := range rep.Carried {
		out.Carried = append(out.Carried, l.F)
	}
	out.Configs = []map[string]any{}
	for _, c := range rep.Configs {
		out.Configs = append(out.Configs, c.F)
	}
	if rep.By == ByInterval {
		out.Origin = rep.Origin.UTC().Format(time.RFC3339Nano)
		out.Bucket = rep.Bucket
		skew := rep.Skew * 1e3
		out.SkewMs = &skew
	}
	for _, r := range rep.Rows {
		jr := jsonRow{Op: r.Op, Sources: r.Sources, Lines: r.Lines, Partial: r.Partial, Counts: r.Counts,
			Rates: r.Rates, Maxes: r.Maxes, Values: r.Values, Latency: map[string]jsonLatency{}}
		switch rep.By {
		case ByProc:
			jr.Run, jr.Proc = r.Run, &r.Proc
		case ByInterval:
			jr.T, jr.Start, jr.Width = &r.T, r.Start.UTC().Format(time.RFC3339Nano), r.Width
		case ByStep:
			jr.Step = &r.Step
		}
		for _, k := range HistKinds {
			if l, ok := r.Latency(k.Field); ok {
				jl := jsonLatency{Latency: l}
				if h := r.Hists[k.Field]; h != nil {
					if enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err == nil {
						jl.HDR = string(enc)
					}
				}
				jr.Latency[k.Label] = jl
			}
		}
		for k := range r.Unmerged {
			jr.Unmerged = append(jr.Unmerged, kindLabel(k))
		}
		sort.Strings(jr.Unmerged)
		out.Rows = append(out.Rows, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeHLog writes every merged histogram as one interval of an
// HdrHistogram interval log (format version 1.3): timestamps in seconds
// from the #[BaseTime], maxima in milliseconds (the values are
// nanoseconds), each interval tagged op[.corrected|.service][@run/proc |
// @stepN].
func writeHLog(w io.Writer, rep *Report) error {
	type entry struct {
		tag        string
		start, len float64 // seconds since the epoch, seconds
		h          *hdrhistogram.Histogram
	}
	var entries []entry
	starts := map[source]float64{} // ByOp, ByProc: every row of a source starts with it
	for _, r := range rep.Rows {
		start, _ := rowSpan(rep, r)
		k := source{r.Run, r.Proc}
		if s, ok := starts[k]; !ok || start < s {
			starts[k] = start
		}
	}
	for _, r := range rep.Rows {
		start, length := rowSpan(rep, r)
		if rep.By == ByOp || rep.By == ByProc {
			start = starts[source{r.Run, r.Proc}]
		}
		for _, k := range HistKinds {
			h := r.Hists[k.Field]
			if h == nil || r.Unmerged[k.Field] {
				continue
			}
			tag := r.Op
			if k.Field != "hdr" {
				tag += "." + k.Label
			}
			switch rep.By {
			case ByProc:
				tag += fmt.Sprintf("@%s/%d", r.Run, r.Proc)
			case ByStep:
				tag += fmt.Sprintf("@step%d", r.Step)
			}
			entries = append(entries, entry{tag: strings.Map(tagRune, tag), start: start, len: length, h: h})
		}
	}
	if len(entries) == 0 {
		return fmt.Errorf("no histograms to log: the %s lines carry no hdr fields (an older lmfast?); try --by op", rep.By)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].start < entries[j].start })
	base := entries[0].start
	var b strings.Builder
	b.WriteString("#[Histogram log format version 1.3]\n")
	fmt.Fprintf(&b, "#[lmfast report of lmfast %s, by %s, %d source(s); values in ns, maxima in ms]\n", rep.Cmd, rep.By, len(rep.Sources))
	secs, frac := math.Modf(base)
	fmt.Fprintf(&b, "#[StartTime: %.3f (seconds since epoch), %s]\n", base, time.Unix(int64(secs), int64(frac*1e9)).UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "#[BaseTime: %.3f (seconds since epoch)]\n", base)
	b.WriteString(`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"` + "\n")
	for _, e := range entries {
		enc, err := e.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "Tag=%s,%.3f,%.3f,%.3f,%s\n", e.tag, e.start-base, e.len, float64(e.h.Max())/1e6, enc)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tagRune keeps a tag free of the separators the log format forbids.
func tagRune(r rune) rune {
	if r == ',' || r == ' ' || r == '\r' || r == '\n' || r == '\t' {
		return '_'
	}
	return r
}

// rowSpan is the wall-clock span a row covers, in seconds since the epoch.
func rowSpan(rep *Report, r *Row) (start, length float64) {
	if rep.By == ByInterval {
		return float64(r.Start.UnixNano()) / 1e9, r.Width
	}
	length = r.Maxes["duration_s"]
	end := float64(r.End.UnixNano()) / 1e9
	return end - length, length
}
