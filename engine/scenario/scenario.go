package scenario

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/stream"
)

// Scenario is one --scenario's life beside the engine group it shapes. The
// command calls Prepare, then Setup, then starts the engine and Run (which
// returns when its context ends), Interval at each interval line, and
// Finish once the engine returned.
type Scenario interface {
	// Name returns the scenario's --scenario name.
	Name() string
	// Prepare checks the run's settings against the scenario (an error is
	// bad input, exit 2) and adjusts the engine group's configuration.
	Prepare(cfg *engine.Config, env Env) error
	// Setup runs before the load; an error fails the run.
	Setup(ctx context.Context) error
	// Run runs beside the load until ctx ends.
	Run(ctx context.Context)
	// Interval is called after each of the engine's interval lines, with
	// the interval's end since the start of measurement.
	Interval(end time.Duration)
	// Finish checks the end state once the engine's run is over and Run
	// returned (res nil: the run failed), writes the "end" line and
	// returns the checks that failed (nil: all held). interrupted asks it
	// to be quick (within a second).
	Finish(ctx context.Context, res *engine.Result, interrupted bool) error
	// Extra returns the PUSH frames and KV operations the scenario sent
	// itself, which the controller's counts include.
	Extra() (frames, kvOps int64)
}

// Params are the scenario flags.
type Params struct {
	ChurnRate     float64 // --churn-rate: joins and leaves per second (churn)
	LookupHitRate float64 // --lookup-hit-rate: fraction of lookups that hit (p2p-stress)
}

// Env is what a scenario is given of the run.
type Env struct {
	Out  *stream.Writer // the run's JSONL (the group's proc)
	Log  io.Writer      // stderr: one human line per phase
	HTTP string         // the controller's HTTP base URL (http://host:port), "" when unknown
}

var makers = map[string]func(Params) Scenario{}

// register makes a scenario known by name; each scenario's file calls it
// from init.
func register(name string, make func(Params) Scenario) { makers[name] = make }

// Names returns the scenario names, sorted.
func Names() []string {
	out := make([]string, 0, len(makers))
	for n := range makers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// New returns the scenario named name.
func New(name string, p Params) (Scenario, error) {
	m, ok := makers[name]
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return m(p), nil
}

// errorLog aggregates a scenario's errors by text, as the engine's error
// lines do.
type errorLog struct {
	op     string
	total  atomic.Int64
	counts map[string]*errCount
	order  []string
}

type errCount struct {
	n     int64
	first time.Time
}

func newErrorLog(op string) *errorLog { return &errorLog{op: op, counts: map[string]*errCount{}} }

// add counts one error; it is called from one goroutine.
func (l *errorLog) add(text string) {
	l.total.Add(1)
	c := l.counts[text]
	if c == nil {
		c = &errCount{first: time.Now()}
		l.counts[text] = c
		l.order = append(l.order, text)
	}
	c.n++
}

// write writes one "error" line per distinct text, most frequent first.
func (l *errorLog) write(out *stream.Writer) {
	texts := append([]string(nil), l.order...)
	sort.SliceStable(texts, func(i, j int) bool { return l.counts[texts[i]].n > l.counts[texts[j]].n })
	for _, t := range texts {
		c := l.counts[t]
		out.Event("error").Str("op", l.op).Str("error", t).Int64("count", c.n).
			Str("first_at", c.first.UTC().Format(time.RFC3339Nano)).Send()
	}
}

// DefaultOperations returns the --operations mix a scenario runs when the
// user left the flag at its default ("": the command's default).
func DefaultOperations(sc Scenario) string {
	if d, ok := sc.(interface{ defaultOperations() string }); ok {
		return d.defaultOperations()
	}
	return ""
}
