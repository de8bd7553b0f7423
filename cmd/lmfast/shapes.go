package main

// The flags of `lmfast controller` that set the load over time and per
// worker: --worker-rate and --arrival (every simulated worker its own
// arrival process), --rate-schedule and --concurrency-schedule (load
// shapes). The engine paces them; this file only reads and checks them.

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/shape"
)

// shapeFlags are embedded in controllerCmd.
type shapeFlags struct {
	WorkerRate          float64 `name:"worker-rate" placeholder:"R" help:"Open loop per worker: every simulated worker (instance × worker) sends its own arrival process of R operations/s (--arrival), so the offered load is workers × R. Not with --rate, --sweep or --rate-schedule."`
	Arrival             string  `name:"arrival" placeholder:"PROCESS" help:"With --worker-rate: how each worker's operations are spaced: poisson (default; independent exponential gaps) or uniform (1/R apart, each worker at its own random phase)."`
	RateSchedule        string  `name:"rate-schedule" placeholder:"SHAPE" help:"Target requests/s over the measured time (whole run, as --rate): const:5000, step:1000,5000,10000@10s, ramp:1000->20000:30s (ramps in turn: ramp:0->5000:10s,5000->5000:20s) or sine:mean=5000,amp=3000,period=20s; the last value holds after a step or ramp ends, the warm-up runs at the first. Not with --rate or --sweep."`
	ConcurrencySchedule string  `name:"concurrency-schedule" placeholder:"SHAPE" help:"Request lanes per sender over the measured time, in --rate-schedule's shapes (ramp:1->64:30s; rounded, at least 1); closed loop unless --rate, --worker-rate or --rate-schedule paces it. Not with --concurrency or --sweep."`
}

// loadShapes are the checked shape flags.
type loadShapes struct {
	rate, concurrency *shape.Shape
	arrival           engine.Arrival
}

// check reads the shape flags against the rest of the command line: one
// clear error (exit 2) for a bad value or for two flags that set the same
// load. rate and concurrency are --rate and --concurrency, sweep --sweep.
func (f *shapeFlags) check(rate float64, concurrency int, sweep string) (loadShapes, error) {
	var ls loadShapes
	switch {
	case f.WorkerRate < 0:
		return ls, badInput("--worker-rate must not be negative")
	case f.WorkerRate > 0 && rate > 0:
		return ls, badInput("--worker-rate and --rate both set the load: give one (--worker-rate R offers workers × R)")
	case f.WorkerRate > 0 && sweep != "":
		return ls, badInput("--worker-rate and --sweep both set the load: give one")
	case f.WorkerRate > 0 && f.RateSchedule != "":
		return ls, badInput("--worker-rate and --rate-schedule both set the load: give one")
	case f.Arrival != "" && f.WorkerRate == 0:
		return ls, badInput("--arrival needs --worker-rate (it spaces each worker's own operations)")
	case f.RateSchedule != "" && rate > 0:
		return ls, badInput("--rate-schedule sets the rate over time: leave out --rate")
	case f.RateSchedule != "" && sweep != "":
		return ls, badInput("--rate-schedule and --sweep both set the load over time: give one")
	case f.ConcurrencySchedule != "" && sweep != "":
		return ls, badInput("--concurrency-schedule and --sweep both set the load over time: give one")
	case f.ConcurrencySchedule != "" && concurrency != 1:
		return ls, badInput("--concurrency-schedule sets the request lanes over time: leave out --concurrency")
	}
	var err error
	if f.Arrival != "" {
		if ls.arrival, err = engine.ParseArrival(f.Arrival); err != nil {
			return ls, badInput("--arrival: %v", err)
		}
	}
	if f.RateSchedule != "" {
		if ls.rate, err = shape.Parse(f.RateSchedule, shape.Rate); err != nil {
			return ls, badInput("--rate-schedule %v", err)
		}
	}
	if f.ConcurrencySchedule != "" {
		if ls.concurrency, err = shape.Parse(f.ConcurrencySchedule, shape.Concurrency); err != nil {
			return ls, badInput("--concurrency-schedule %v", err)
		}
	}
	return ls, nil
}

// apply sets the shapes in the run's base configuration; the request
// lanes opened are the concurrency schedule's highest.
func (ls loadShapes) apply(cfg *engine.Config, workerRate float64) {
	cfg.RateSchedule, cfg.ConcurrencySchedule = ls.rate, ls.concurrency
	cfg.WorkerRate, cfg.Arrival = workerRate, ls.arrival
	if ls.concurrency != nil {
		cfg.Concurrency = int(math.Ceil(ls.concurrency.Max()))
	}
}

// warn notes on stderr a schedule that the run's --duration cuts short.
func (ls loadShapes) warn(w io.Writer, duration time.Duration) {
	for _, s := range []struct {
		flag string
		sh   *shape.Shape
	}{{"--rate-schedule", ls.rate}, {"--concurrency-schedule", ls.concurrency}} {
		if s.sh != nil && s.sh.Length() > duration {
			fmt.Fprintf(w, "lmfast: warning: --duration %s ends the run before %s's %s\n", duration, s.flag, s.sh.Length())
		}
	}
}

// shapeFields adds the shape flags to the config line ("" and 0 when unset).
func (f *shapeFlags) shapeFields(e *zerolog.Event, ls loadShapes) *zerolog.Event {
	arrival := ""
	if f.WorkerRate > 0 {
		arrival = ls.arrival.String()
	}
	return e.Float64("worker_rate", f.WorkerRate).Str("arrival", arrival).
		Str("rate_schedule", f.RateSchedule).Str("concurrency_schedule", f.ConcurrencySchedule)
}
