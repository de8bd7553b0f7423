package main

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/lmfast/lmfast/report/compare"
)

// compareCmd is `lmfast compare A B`: set B's runs against set A's, op by
// op, with significance tests. It only parses flags and wires the
// report/compare package.
type compareCmd struct {
	A            string  `arg:"" name:"A" help:"The baseline: a JSONL file, or several as one comma-separated list (a1.jsonl,a2.jsonl); - for stdin."`
	B            string  `arg:"" name:"B" help:"The candidate, as A."`
	Format       string  `default:"text" enum:"text,md,json" help:"Output: text (an aligned table), md (Markdown), json."`
	Threshold    string  `default:"5%" help:"A significant change beyond this share (5% or 0.05) is a regression when worse (lower rate, higher latency): exit 99."`
	Alpha        float64 `default:"0.05" help:"Significance level, for all rows together (Holm) unless --no-correction."`
	Percentiles  string  `default:"50,90,99,99.9" help:"Latency percentiles compared."`
	Latency      string  `default:"auto" enum:"auto,corrected,service" help:"Latency compared: corrected (from the intended send time, open loop), service, or auto (corrected where both sets have it)."`
	Unit         string  `default:"interval" enum:"interval,run" help:"The tests' samples: every interval, or each run (for sets of repeated runs whose conditions vary from run to run)."`
	NoCorrection bool    `help:"Judge each row at --alpha on its own (no Holm adjustment over the rows)."`
	Strict       bool    `help:"Exit 2 if any line is truncated or not an lmfast line (they are otherwise counted, named on stderr and skipped)."`
}

func (c *compareCmd) Run(a *app) error {
	format, err := compare.ParseFormat(c.Format)
	if err != nil {
		return badInput("%v", err)
	}
	opt := compare.Options{Alpha: c.Alpha, Latency: c.Latency, Unit: c.Unit, NoCorrection: c.NoCorrection}
	if math.IsNaN(c.Alpha) || c.Alpha <= 0 || c.Alpha >= 1 {
		return badInput("--alpha %v: want a level above 0 and below 1, such as 0.05", c.Alpha)
	}
	if opt.Threshold, err = parseThreshold(c.Threshold); err != nil {
		return badInput("--threshold %q: want a share such as 5%% or 0.05, at least 0", c.Threshold)
	}
	if opt.Percentiles, err = parsePercentiles(c.Percentiles); err != nil {
		return badInput("--percentiles %q: %v", c.Percentiles, err)
	}
	filesA, err := fileList("A", c.A)
	if err != nil {
		return badInput("compare: %v", err)
	}
	filesB, err := fileList("B", c.B)
	if err != nil {
		return badInput("compare: %v", err)
	}
	if slices.Contains(filesA, "-") && slices.Contains(filesB, "-") {
		return badInput("compare: stdin (-) can be one set's file, not both sets'")
	}
	setA, err := compare.Load("A", filesA, a.stdin)
	if err != nil {
		return badInput("compare: %v", err)
	}
	setB, err := compare.Load("B", filesB, a.stdin)
	if err != nil {
		return badInput("compare: %v", err)
	}
	problems := append(append([]any(nil), anySlice(setA.Problems)...), anySlice(setB.Problems)...)
	for i, p := range problems {
		if i == maxProblemsShown {
			fmt.Fprintf(a.stderr, "lmfast: compare: ... and %d more skipped lines\n", len(problems)-i)
			break
		}
		fmt.Fprintf(a.stderr, "lmfast: compare: skipped %s\n", p)
	}
	if c.Strict && len(problems) > 0 {
		return badInput("compare: --strict: %d line(s) could not be read, the first %s", len(problems), problems[0])
	}
	res, err := compare.Compare(setA, setB, opt)
	if err != nil {
		return badInput("compare: %v", err)
	}
	w := bufio.NewWriter(a.stdout)
	err = compare.Write(w, res, format)
	if err == nil {
		err = w.Flush()
	}
	if errors.Is(err, syscall.EPIPE) {
		return outputError(err, "stdout", "the comparison was not written")
	}
	if err != nil {
		return failed("compare: writing the comparison to stdout: %v", err)
	}
	if format == compare.JSON {
		for _, warn := range res.Warnings {
			fmt.Fprintf(a.stderr, "lmfast: compare: warning: %s\n", warn)
		}
	}
	if res.Regressions > 0 {
		return thresholdsViolated("compare: %s", res.Summary())
	}
	return nil
}

// fileList splits a set's comma-separated file list.
func fileList(set, s string) ([]string, error) {
	var files []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			return nil, fmt.Errorf("%s: an empty file name in %q", set, s)
		}
		files = append(files, f)
	}
	return files, nil
}

// parseThreshold reads --threshold: a percentage or a fraction, ≥ 0.
func parseThreshold(s string) (float64, error) {
	t, scale := strings.TrimSpace(s), 1.0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, scale = strings.TrimSpace(p), 0.01
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("not a share")
	}
	return v * scale, nil
}

// parsePercentiles reads a comma-separated list of percentiles in (0, 100].
func parsePercentiles(s string) ([]float64, error) {
	var qs []float64
	for _, f := range strings.Split(s, ",") {
		q, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(f), "p")), 64)
		if err != nil || math.IsNaN(q) || q <= 0 || q > 100 {
			return nil, fmt.Errorf("%q is not a percentile above 0 and at most 100", f)
		}
		qs = append(qs, q)
	}
	return qs, nil
}

func anySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
