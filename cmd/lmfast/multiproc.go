package main

// The flags of `lmfast controller` that make one run of several separately
// started processes (pods of an Indexed Job, hosts): where this process
// stands, the label their files share, and the instant they start at.

import (
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/internal/clock"
)

// processFlags are embedded in controllerCmd.
type processFlags struct {
	ProcessID         int    `name:"process-id" default:"0" help:"This process's number K among --num-processes-total separately started ones (0..M-1): its groups are K·N+g of the run, with their own instance names (instance_p{K·N+g}_{i}) and seeds."`
	NumProcessesTotal int    `name:"num-processes-total" default:"1" help:"Separately started lmfast processes (pods, hosts) that make the run; --rate is shared among them."`
	RunLabel          string `name:"run-label" env:"LMFAST_RUN_LABEL" help:"A label the processes of one run share on their config lines, so lmfast report ties their files together (default: $LMFAST_RUN_LABEL, else this run's id)."`
	StartAt           string `name:"start-at" placeholder:"TIME" help:"Start the load at this wall-clock instant, once registered (RFC 3339 or Unix seconds), so processes started apart load together."`
}

// placement checks the flags against the groups per process.
func (f *processFlags) placement(groups int, embedded bool) (engine.Placement, time.Time, error) {
	p := engine.Placement{ProcessID: f.ProcessID, Processes: f.NumProcessesTotal, Groups: groups}
	if err := p.Validate(); err != nil {
		return p, time.Time{}, badInput("%v", err)
	}
	if embedded && p.Processes > 1 {
		return p, time.Time{}, badInput("--embedded starts a controller of this process's own; --num-processes-total is for processes sharing one controller")
	}
	var at time.Time
	if f.StartAt != "" {
		t, err := engine.ParseStartAt(f.StartAt, time.Now())
		if err != nil {
			return p, time.Time{}, badInput("%v", err)
		}
		at = t
	}
	return p, at, nil
}

// label is the run label: --run-label / $LMFAST_RUN_LABEL, else run.
func (f *processFlags) label(run string) string {
	if f.RunLabel != "" {
		return f.RunLabel
	}
	return run
}

// fields adds to a config line where this process stands, its run label,
// its start instant and its host's clock error (null when the kernel's
// clock is not synchronised, so alignment with other hosts is unknown).
func (f *processFlags) fields(e *zerolog.Event, p engine.Placement, run string, at time.Time, rate float64) *zerolog.Event {
	e = e.Str("run_label", f.label(run)).Int("process_id", p.ProcessID).Int("num_processes_total", p.Processes).
		Float64("process_rate", p.ProcessRate(rate))
	if at.IsZero() {
		e = e.RawJSON("start_at", []byte("null"))
	} else {
		e = e.Str("start_at", at.UTC().Format(time.RFC3339Nano))
	}
	if ce, err := clock.Read(); err == nil && ce.Synced {
		e = e.Float64("clock_esterror_us", float64(ce.Est.Microseconds())).Float64("clock_maxerror_us", float64(ce.Max.Microseconds()))
	} else {
		e = e.RawJSON("clock_esterror_us", []byte("null")).RawJSON("clock_maxerror_us", []byte("null"))
	}
	return e
}

// announceStart tells the terminal how long the registered run waits for
// --start-at, or that the instant had passed.
func announceStart(w io.Writer, at time.Time) {
	if at.IsZero() {
		return
	}
	switch left := time.Until(at); {
	case left > 0:
		fmt.Fprintf(w, "lmfast: registered; the load starts at %s (--start-at), in %.1fs\n", at.UTC().Format(time.RFC3339Nano), left.Seconds())
	default:
		fmt.Fprintf(w, "lmfast: warning: --start-at %s passed %.1fs ago, before registration ended: the load starts now\n", at.UTC().Format(time.RFC3339Nano), -left.Seconds())
	}
}
