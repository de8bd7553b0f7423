package main

import (
	"bufio"
	"fmt"
	"time"

	"github.com/lmfast/lmfast/report"
)

// reportCmd is `lmfast report`: merge JSONL files into one table. It only
// parses flags and wires the report package.
type reportCmd struct {
	Files  []string `arg:"" name:"FILE" help:"lmfast JSONL files (- for stdin)."`
	Format string   `default:"text" enum:"text,json,md,csv,hlog" help:"Output: text (LMCache's aggregated layout), json, md, csv, hlog (HdrHistogram interval log)."`
	By     string   `default:"op" enum:"op,proc,interval,step" help:"One row per op, per process (run and proc) and op, per wall-time interval and op, or per sweep step and op."`
	Bucket string   `placeholder:"DURATION" help:"Interval width for --by interval (default: the runs' --interval)."`
	Strict bool     `help:"Exit 2 if any line is truncated or not an lmfast line (they are otherwise counted, named on stderr and skipped)."`
}

// maxProblemsShown bounds the problem lines on stderr.
const maxProblemsShown = 10

func (c *reportCmd) Run(a *app) error {
	format, err := report.ParseFormat(c.Format)
	if err != nil {
		return badInput("%v", err)
	}
	by, err := report.ParseBy(c.By)
	if err != nil {
		return badInput("%v", err)
	}
	var opt report.Options
	if c.Bucket != "" {
		d, err := time.ParseDuration(c.Bucket)
		if err != nil || d <= 0 {
			return badInput("--bucket: %q is not a positive duration", c.Bucket)
		}
		opt.Bucket = d
	}
	in, err := report.Read(c.Files, a.stdin)
	if err != nil { // a file that cannot be read, or files that must not be merged
		return badInput("report: %v", err)
	}
	for i, p := range in.Problems {
		if i == maxProblemsShown {
			fmt.Fprintf(a.stderr, "lmfast: report: ... and %d more skipped lines\n", len(in.Problems)-i)
			break
		}
		fmt.Fprintf(a.stderr, "lmfast: report: skipped %s\n", p)
	}
	if c.Strict && len(in.Problems) > 0 {
		return badInput("report: --strict: %d line(s) could not be read, the first %s", len(in.Problems), in.Problems[0])
	}
	rep, err := report.Merge(in, by, opt)
	if err != nil {
		return badInput("report: %v", err)
	}
	w := bufio.NewWriter(a.stdout)
	if err := report.Write(w, rep, format); err != nil {
		return badInput("report: %v", err)
	}
	if err := w.Flush(); err != nil {
		return failed("report: writing: %v", err)
	}
	if format != report.Text && format != report.MD {
		for _, warn := range rep.Warnings {
			fmt.Fprintf(a.stderr, "lmfast: report: warning: %s\n", warn)
		}
	}
	return nil
}
