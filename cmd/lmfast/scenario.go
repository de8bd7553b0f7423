package main

// The --scenario flags of `lmfast controller` and the wiring of
// engine/scenario around the engine's run.

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/scenario"
)

// scenarioFlags are embedded in controllerCmd.
type scenarioFlags struct {
	Scenario      string  `name:"scenario" placeholder:"NAME" help:"Play a cluster scenario beside (or instead of) the steady mix, reported in 'scenario' lines: churn, p2p-stress (checked against lmfast's model of the cluster), restart-storm (the controller restarts after --storm-at; every worker's next heartbeat brings a full sync)."`
	ChurnRate     float64 `name:"churn-rate" default:"10" help:"--scenario churn: worker joins and leaves per second (each event one or the other)."`
	LookupHitRate float64 `name:"lookup-hit-rate" default:"0.5" help:"--scenario p2p-stress: fraction of lookups (0..1) asking for a prefix another instance's worker holds; the rest ask for keys nobody holds."`
}

// scenario returns the --scenario named, its flags checked (nil without
// --scenario).
func (f *scenarioFlags) scenario(c *controllerCmd) (scenario.Scenario, error) {
	if f.Scenario == "" || f.Scenario == scenarioRestartStorm {
		return nil, nil // restart-storm is storm.go's
	}
	switch {
	case math.IsNaN(f.ChurnRate) || math.IsInf(f.ChurnRate, 0) || f.ChurnRate < 0:
		return nil, badInput("--churn-rate must be a non-negative number")
	case math.IsNaN(f.LookupHitRate) || f.LookupHitRate < 0 || f.LookupHitRate > 1:
		return nil, badInput("--lookup-hit-rate must be a number in 0..1")
	}
	sc, err := scenario.New(f.Scenario, scenario.Params{ChurnRate: f.ChurnRate, LookupHitRate: f.LookupHitRate})
	if err != nil {
		names := append(scenario.Names(), scenarioRestartStorm)
		sort.Strings(names)
		return nil, badInput("--scenario: unknown scenario %q (known: %s)", f.Scenario, strings.Join(names, ", "))
	}
	switch {
	case c.NumProcesses != 1 || c.NumProcessesTotal > 1:
		return nil, badInput("--scenario %s runs in one engine group: leave out --num-processes and --num-processes-total", f.Scenario)
	case c.Sweep != "":
		return nil, badInput("--scenario %s is one run: leave out --sweep", f.Scenario)
	}
	return sc, nil
}

// scenarioOperations is the --operations mix to parse: the scenario's
// own default when the flag was left at the command's.
func scenarioOperations(sc scenario.Scenario, given string) string {
	if sc != nil && given == defaultOperations {
		if d := scenario.DefaultOperations(sc); d != "" {
			return d
		}
	}
	return given
}

// defaultOperations is --operations' default (LMCache's mix).
const defaultOperations = "admit:70,evict:25,heartbeat:5"

// controllerHTTP is the controller's HTTP base URL: the embedded one's,
// or --controller-metrics' scheme and host; "" when neither is given.
func controllerHTTP(server *embeddedServer, metricsURL string) string {
	if server != nil {
		return fmt.Sprintf("http://127.0.0.1:%d", server.srv.Ports().HTTP)
	}
	if metricsURL == "" {
		return ""
	}
	u, err := url.Parse(metricsURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// scenarioRun runs a scenario beside the engine group: Run from the
// timed run's start for its warm-up and duration (or until the run
// ends), Interval after each interval line.
type scenarioRun struct {
	sc     scenario.Scenario
	ctx    context.Context
	length time.Duration
	once   sync.Once
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newScenarioRun(ctx context.Context, sc scenario.Scenario, length time.Duration) *scenarioRun {
	return &scenarioRun{sc: sc, ctx: ctx, length: length, cancel: func() {}}
}

// start starts the scenario's Run (the engine's Started hook).
func (r *scenarioRun) start() {
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(r.ctx, r.length)
		r.cancel = cancel
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.sc.Run(ctx)
		}()
	})
}

// stop ends Run and waits for it.
func (r *scenarioRun) stop() {
	r.once.Do(func() {}) // no start after a stop
	r.cancel()
	r.wg.Wait()
}

// scenarioReporter adds the scenario's interval lines to the group's.
type scenarioReporter struct {
	engine.Reporter
	sc scenario.Scenario
}

func (r scenarioReporter) Interval(iv *engine.Interval) {
	r.Reporter.Interval(iv)
	r.sc.Interval(iv.End)
}

// scenarioError is a scenario's error as the one stderr line says it:
// prefixed with the scenario's name unless the text starts with it.
func scenarioError(sc scenario.Scenario, err error) string {
	if msg := err.Error(); strings.HasPrefix(msg, sc.Name()+":") {
		return msg
	}
	return sc.Name() + ": " + err.Error()
}
