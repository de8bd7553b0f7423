package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmfast/lmfast/report"
	"github.com/lmfast/lmfast/report/chart"
)

// plotCmd is `lmfast plot`: draw JSONL files as a picture. It only parses
// flags and wires the report and chart packages.
type plotCmd struct {
	Files []string `arg:"" name:"FILE" help:"lmfast JSONL files (- for stdin)."`
	Out   string   `short:"o" required:"" placeholder:"OUT.svg|OUT.png|OUT.html" help:"The picture to write; its extension chooses the format."`
}

func (c *plotCmd) Run(a *app) error {
	format := chart.Format(strings.TrimPrefix(strings.ToLower(filepath.Ext(c.Out)), "."))
	switch format {
	case chart.SVG, chart.PNG, chart.HTML:
	default:
		return badInput("plot: -o %s: the extension must be .svg, .png or .html", c.Out)
	}
	in, err := report.Read(c.Files, a.stdin)
	if err != nil {
		return badInput("plot: %v", err)
	}
	for i, p := range in.Problems {
		if i == maxProblemsShown {
			fmt.Fprintf(a.stderr, "lmfast: plot: ... and %d more skipped lines\n", len(in.Problems)-i)
			break
		}
		fmt.Fprintf(a.stderr, "lmfast: plot: skipped %s\n", p)
	}
	ch, err := chart.Build(in)
	if errors.Is(err, chart.ErrNoData) {
		return badInput("plot: %s: %v", strings.Join(c.Files, ", "), err)
	}
	if err != nil {
		return badInput("plot: %v", err)
	}
	var buf bytes.Buffer
	if err := chart.Render(&buf, ch, format); err != nil {
		return failed("plot: %v", err)
	}
	if err := os.WriteFile(c.Out, buf.Bytes(), 0o644); err != nil {
		return badInput("plot: -o: %v", err)
	}
	fmt.Fprintf(a.stderr, "lmfast: plot: wrote %s (%s)\n", c.Out, strings.Join(ch.Names(), "; "))
	return nil
}
