package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Format names an output format of Write.
type Format string

// The formats of `lmfast compare --format`.
const (
	Text Format = "text" // an aligned table, benchstat's way
	MD   Format = "md"   // a Markdown table
	JSON Format = "json" // one JSON object (schema lmfast.compare.v1)
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Text, MD, JSON:
		return f, nil
	}
	return "", fmt.Errorf("--format %q: want text, md or json", s)
}

// Write renders res in format f.
func Write(w io.Writer, res *Result, f Format) error {
	switch f {
	case Text:
		return writeTable(w, res, false)
	case MD:
		return writeTable(w, res, true)
	case JSON:
		return writeJSON(w, res)
	}
	return fmt.Errorf("unknown format %q", f)
}

// Summary is the one-line outcome: the regressions found, or that there
// are none.
func (res *Result) Summary() string {
	var regs []string
	for _, r := range res.Rows {
		if r.Verdict == Regression {
			regs = append(regs, fmt.Sprintf("%s %s %s (p=%s)", r.Op, r.Metric, fmtDelta(r.Delta), fmtP(r.P)))
		}
	}
	if len(regs) == 0 {
		return fmt.Sprintf("no significant regression beyond %s", fmtPct(res.Options.Threshold))
	}
	return fmt.Sprintf("%d significant regression(s) beyond %s: %s", len(regs), fmtPct(res.Options.Threshold), strings.Join(regs, ", "))
}

func writeTable(w io.Writer, res *Result, md bool) error {
	var b strings.Builder
	opt := res.Options
	for _, s := range []*Set{res.A, res.B} {
		line := fmt.Sprintf("%s: %s (%s, %d run(s), %d intervals)", s.Name, strings.Join(s.Files, ", "), s.Cmd, len(s.Runs), s.Count())
		if md {
			fmt.Fprintf(&b, "- %s\n", mdEscape(line))
		} else {
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\n")
	header := []string{"op", "metric", "A", "B", "delta", "p", "n", "verdict"}
	rows := make([][]string, 0, len(res.Rows))
	for _, r := range res.Rows {
		metric := r.Metric
		if r.Latency != "" {
			metric += " " + r.Latency
		}
		d := NoChange
		if r.Significant {
			d = fmtDelta(r.Delta)
		}
		verdict := ""
		if r.Verdict != NoChange {
			verdict = r.Verdict
		}
		if r.MinP > opt.Alpha {
			verdict = strings.TrimSpace(verdict + " (too few samples to be significant)")
		}
		rows = append(rows, []string{r.Op, metric, fmtValue(r.A, r.Unit), fmtValue(r.B, r.Unit), d, fmtP(r.P),
			fmt.Sprintf("%d+%d", r.NA, r.NB), verdict})
	}
	if md {
		b.WriteString("| " + strings.Join(header, " | ") + " |\n|---|---|---:|---:|---:|---:|---:|---|\n")
		for _, r := range rows {
			for i := range r {
				r[i] = mdEscape(r[i])
			}
			b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		}
	} else {
		var t strings.Builder
		tw := tabwriter.NewWriter(&t, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		tw.Flush()
		for _, l := range strings.SplitAfter(t.String(), "\n") {
			body, nl := strings.CutSuffix(l, "\n")
			b.WriteString(strings.TrimRight(body, " "))
			if nl {
				b.WriteString("\n")
			}
		}
	}
	b.WriteString("\n")
	notes := []string{method(res)}
	for _, warn := range res.Warnings {
		notes = append(notes, "warning: "+warn)
	}
	notes = append(notes, res.Summary())
	for _, n := range notes {
		if md {
			b.WriteString("- " + mdEscape(n) + "\n")
		} else {
			b.WriteString(n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// method says how the rows were judged.
func method(res *Result) string {
	opt := res.Options
	adj := fmt.Sprintf("Holm-adjusted over the %d rows", len(res.Rows))
	if opt.NoCorrection {
		adj = "each row on its own"
	}
	return fmt.Sprintf("significant: p < %g, %s; n: %ss of each set; rate: Mann-Whitney U over per-%s rates; percentiles: permutation test of whole %ss "+
		"on the merged histograms; a significant change beyond %s is a regression when worse (lower rate, higher latency); ~ is no significant change",
		opt.Alpha, adj, opt.Unit, opt.Unit, opt.Unit, fmtPct(opt.Threshold))
}

// jsonRow is a Row as written by the json format.
type jsonRow struct {
	Op          string   `json:"op"`
	Metric      string   `json:"metric"`
	Unit        string   `json:"unit"`
	Latency     string   `json:"latency,omitempty"`
	A           float64  `json:"a"`
	B           float64  `json:"b"`
	Delta       *float64 `json:"delta"`
	Test        string   `json:"test"`
	P           float64  `json:"p"`
	PAdj        float64  `json:"p_adjusted"`
	Exact       bool     `json:"exact"`
	MinP        float64  `json:"min_p"`
	NA          int      `json:"n_a"`
	NB          int      `json:"n_b"`
	Significant bool     `json:"significant"`
	Verdict     string   `json:"verdict"`
}

type jsonSet struct {
	Files     []string         `json:"files"`
	Cmd       string           `json:"cmd"`
	Runs      []string         `json:"runs"`
	Intervals int              `json:"intervals"`
	Problems  []any            `json:"problems"`
	Configs   []map[string]any `json:"configs"`
}

func writeJSON(w io.Writer, res *Result) error {
	opt := res.Options
	set := func(s *Set) jsonSet {
		js := jsonSet{Files: s.Files, Cmd: s.Cmd, Runs: s.Runs, Intervals: s.Count(), Problems: []any{}, Configs: []map[string]any{}}
		for _, p := range s.Problems {
			js.Problems = append(js.Problems, p)
		}
		for _, c := range s.Configs {
			js.Configs = append(js.Configs, c.F)
		}
		return js
	}
	out := struct {
		Schema       string    `json:"schema"`
		A            jsonSet   `json:"a"`
		B            jsonSet   `json:"b"`
		Alpha        float64   `json:"alpha"`
		Threshold    float64   `json:"threshold"`
		Correction   string    `json:"correction"`
		Percentiles  []float64 `json:"percentiles"`
		Latency      string    `json:"latency"`
		Unit         string    `json:"unit"`
		Splits       int       `json:"splits"`
		Rows         []jsonRow `json:"rows"`
		Regressions  int       `json:"regressions"`
		Improvements int       `json:"improvements"`
		Summary      string    `json:"summary"`
		Warnings     []string  `json:"warnings"`
	}{Schema: "lmfast.compare.v1", A: set(res.A), B: set(res.B), Alpha: opt.Alpha, Threshold: opt.Threshold,
		Correction: "holm", Percentiles: opt.Percentiles, Latency: opt.Latency, Unit: opt.Unit, Splits: opt.Splits,
		Rows: []jsonRow{}, Regressions: res.Regressions, Improvements: res.Improvements, Summary: res.Summary(), Warnings: res.Warnings}
	if opt.NoCorrection {
		out.Correction = "none"
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, r := range res.Rows {
		jr := jsonRow{Op: r.Op, Metric: r.Metric, Unit: r.Unit, Latency: r.Latency, A: r.A, B: r.B, Test: r.Test,
			P: r.P, PAdj: r.PAdj, Exact: r.Exact, MinP: r.MinP, NA: r.NA, NB: r.NB, Significant: r.Significant, Verdict: r.Verdict}
		if !math.IsNaN(r.Delta) {
			d := r.Delta
			jr.Delta = &d
		}
		out.Rows = append(out.Rows, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// fmtValue prints a rate with one decimal and a latency in µs with three
// significant digits, in the unit that keeps it short.
func fmtValue(v float64, unit string) string {
	if unit != "us" {
		return fmt.Sprintf("%.1f/s", v)
	}
	switch {
	case v >= 1e6:
		return trim3(v/1e6) + "s"
	case v >= 1e3:
		return trim3(v/1e3) + "ms"
	}
	return trim3(v) + "µs"
}

func trim3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtDelta(d float64) string {
	if math.IsNaN(d) {
		return "new"
	}
	return fmt.Sprintf("%+.1f%%", d*100)
}

func fmtPct(f float64) string {
	return fmt.Sprintf("%g%%", math.Round(f*1e8)/1e6)
}

// fmtP prints a p-value with two significant digits (benchstat prints
// three decimals, which hides the 1e-4 of a clear change).
func fmtP(p float64) string {
	if p >= 0.01 {
		return fmt.Sprintf("%.3f", p)
	}
	return fmt.Sprintf("%.1e", p)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
