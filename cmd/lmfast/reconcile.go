package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/scrape"
)

// metricsTimeout bounds each reading of the controller's /metrics page.
const metricsTimeout = 2 * time.Second

// metricsFlag checks --controller-metrics and returns the scraper of its
// page (nil without one).
func (c *controllerCmd) metricsFlag() (*scrape.Scraper, error) {
	if c.ControllerMetrics == "" {
		if c.ControllerMetricsIdle && !c.Embedded {
			return nil, badInput("--controller-metrics-idle needs --controller-metrics URL (or --embedded)")
		}
		return nil, nil
	}
	if c.Embedded {
		return nil, badInput("--controller-metrics with --embedded: the embedded controller's own /metrics is read")
	}
	if c.NumProcessesTotal > 1 {
		return nil, badInput("--controller-metrics with --num-processes-total %d: the controller counts what every process sent, which one process cannot reconcile", c.NumProcessesTotal)
	}
	sc, err := scrape.New(c.ControllerMetrics, metricsTimeout)
	if err != nil {
		return nil, badInput("--controller-metrics: %v", err)
	}
	return sc, nil
}

// checkMetrics returns the scraper of the page the run reconciles with:
// sc (--controller-metrics), or the embedded controller's own page; nil
// when there is none. The page is read once here, so that a wrong URL or
// a page without LMCache's counts is exit 2 before anything is sent.
func checkMetrics(ctx context.Context, sc *scrape.Scraper, server *embeddedServer) (*scrape.Scraper, error) {
	if server != nil {
		var err error
		if sc, err = scrape.New(server.metricsURL(), metricsTimeout); err != nil {
			return nil, failed("--embedded: %v", err)
		}
	}
	if sc == nil {
		return nil, nil
	}
	if _, err := sc.Read(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, errInterrupted
		}
		return nil, badInput("--controller-metrics: %v", err)
	}
	return sc, nil
}

// settleIntake reconciles a run of several groups with the controller's
// counts after every group drained (a run of one group did so itself);
// it returns the reconciliation for the merged summary.
func settleIntake(in *engine.Intake, results []*engine.Result, merged *engine.Result, drain time.Duration) *engine.IntakeResult {
	if in == nil {
		return nil
	}
	if len(results) == 1 {
		return results[0].Intake
	}
	if merged.Interrupted {
		drain = 0
	}
	return in.Settle(merged.PushFrames+merged.TeardownFrames, drain)
}

// writeIntakeReport prints the reconciliation's line of the human report.
func writeIntakeReport(w io.Writer, r *engine.IntakeResult) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "Controller counts (%s): %s; %s\n", r.URL, r.Verdict(), engine.ReconcileScope)
}
