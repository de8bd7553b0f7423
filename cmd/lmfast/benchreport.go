package main

import (
	"fmt"
	"os"

	"github.com/lmfast/lmfast/l2/benchreport"
)

// benchReportCmd is `lmfast bench-report`: the reports of `make bench`,
// rendered from the rows its scripts record. It is hidden from the help: a
// tool of this repository's benchmark scripts, which only run the tools
// and record what they measured.
type benchReportCmd struct {
	L2 benchL2Cmd `cmd:"" name:"l2" help:"The report of scripts/bench-l2.sh (lmfast l2 against fio)."`
}

type benchL2Cmd struct {
	Render     benchL2RenderCmd     `cmd:"" help:"Write the markdown report of a bench-l2 JSONL to stdout."`
	BestEngine benchL2BestEngineCmd `cmd:"" name:"best-engine" help:"Print the fio engine with the highest median at a point (nothing if none ran there)."`
}

// benchL2RenderCmd renders the report. The settings flags are the
// script's (from its environment or defaults); the JSONL's settings line
// wins where it has them.
type benchL2RenderCmd struct {
	JSONL     string `arg:"" name:"jsonl" help:"The bench's JSONL: its settings line and one line per run."`
	Date      string `required:"" help:"The report's label: the title and the name l2-DATE.jsonl."`
	Machine   string `required:"" help:"The machine paragraph (one or more lines)."`
	Reps      string `default:"5" help:"L2_BENCH_REPS, where the JSONL does not say."`
	MiB       string `name:"mib" default:"1024" help:"L2_BENCH_MIB, where the JSONL does not say."`
	Pairs     string `default:"8" help:"L2_BENCH_PAIRS, where the JSONL does not say."`
	HugePages string `name:"hugepages" default:"1" help:"L2_BENCH_HUGEPAGES, where the JSONL does not say."`
	Idle      string `default:"1" help:"L2_BENCH_IDLE, where the JSONL does not say."`
	Setup     string `default:"1.5" help:"L2_BENCH_SETUP, where the JSONL does not say."`
}

func (c *benchL2RenderCmd) Run(a *app) error {
	d, err := readBenchL2(c.JSONL)
	if err != nil {
		return err
	}
	opt := benchreport.Options{Date: c.Date, Machine: c.Machine, Fallback: benchreport.Settings{
		Reps: c.Reps, MiB: c.MiB, Pairs: c.Pairs, HugePages: c.HugePages, Idle: c.Idle, Setup: c.Setup}}
	if err := benchreport.Render(a.stdout, d, opt); err != nil {
		return failed("writing the report: %v", err)
	}
	return nil
}

type benchL2BestEngineCmd struct {
	JSONL  string `arg:"" name:"jsonl" help:"The bench's JSONL."`
	Op     string `arg:"" help:"store or load."`
	KB     int    `arg:"" name:"payload-kb" help:"Payload per key, KiB."`
	QD     int    `arg:"" name:"qd" help:"Queue depth."`
	Direct int    `arg:"" help:"O_DIRECT: 1 or 0."`
}

func (c *benchL2BestEngineCmd) Run(a *app) error {
	d, err := readBenchL2(c.JSONL)
	if err != nil {
		return err
	}
	if e := d.BestEngine(c.Op, benchreport.Point{KB: c.KB, QD: c.QD, Direct: c.Direct}); e != "" {
		_, err = fmt.Fprintln(a.stdout, e)
	}
	return err
}

func readBenchL2(path string) (*benchreport.Data, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, badInput("%v", err)
	}
	defer f.Close()
	d, err := benchreport.Read(f)
	if err != nil {
		return nil, badInput("%s: %v", path, err)
	}
	return d, nil
}
