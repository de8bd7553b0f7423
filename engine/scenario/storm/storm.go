package storm

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/stats"
	"github.com/lmfast/lmfast/stream"
)

// Name is the scenario's --scenario name.
const Name = "restart-storm"

// Restart modes, the "restart" field of the "steady" line.
const (
	RestartEmbedded = "embedded" // the command's in-process controller
	RestartCommand  = "command"  // an external controller, by --restart-cmd
)

// Restarter restarts the controller and returns once the fresh one serves
// (or it failed: the error goes on the "restart" line).
type Restarter func(ctx context.Context) error

// Command returns the Restarter of an external controller: the shell
// command cmd (sh -c, the process's environment, its output on log), run
// to its end.
func Command(cmd string, log io.Writer) Restarter {
	return func(ctx context.Context) error {
		c := exec.CommandContext(ctx, "sh", "-c", cmd)
		c.Stdout, c.Stderr = log, log
		c.Env = os.Environ()
		if err := c.Run(); err != nil {
			return fmt.Errorf("--restart-cmd: %v", err)
		}
		return nil
	}
}

// Config is a storm's settings and its connections to the run.
type Config struct {
	Out      *stream.Writer // the run's JSONL (the group's proc)
	Log      io.Writer      // stderr: one human line per phase
	At       time.Duration  // --storm-at: the steady phase before the restart (0: a third of Duration)
	Duration time.Duration  // --duration
	Jitter   time.Duration  // --storm-jitter, reported on the "steady" line
	// Linger is how long the storm's load is followed past the recovery
	// (the request timeout: a request sent before it has its answer).
	Linger    time.Duration
	Restart   Restarter // restarts the controller
	RestartBy string    // RestartEmbedded or RestartCommand
	Keys      KeyReader // the controller's key count
	KeysFrom  string    // where Keys reads, for the "keys_from" field
}

// Storm is a restart-storm in progress: it restarts the controller once
// the steady phase is over, then follows the controller's key count
// against what the workers hold, and the lookups, until the run ends.
type Storm struct {
	cfg     Config
	workers chan *engine.Workers
	done    chan struct{}
	ended   chan struct{}

	mu        sync.Mutex
	inStorm   bool
	lookups   *hdrhistogram.Histogram // p2p_lookup latency over the storm's intervals
	lookupN   int64
	stormErrs int64
	stormReqs int64
	err       error // why no recovery was measured (Err)
}

// New returns the storm of cfg; Run starts it.
func New(cfg Config) *Storm {
	if cfg.At == 0 {
		cfg.At = cfg.Duration / 3
	}
	return &Storm{cfg: cfg, workers: make(chan *engine.Workers, 1), done: make(chan struct{}), ended: make(chan struct{}),
		lookups: stats.NewHistogram()}
}

// Err says, once Stop has returned, why the storm measured no recovery:
// the run ended before the restart, the restart failed, or the controller
// did not hold its workers' keys again before the run ended. It is nil
// after a recovery, and when ctx ended the storm (an interrupt).
func (st *Storm) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

// fail records why no recovery was measured, unless ctx ended the storm.
func (st *Storm) fail(ctx context.Context, format string, args ...any) {
	if ctx.Err() != nil {
		return
	}
	st.mu.Lock()
	st.err = fmt.Errorf(format, args...)
	st.mu.Unlock()
}

// Workers hands the storm the engine group's workers at the timed run's
// start (the engine Config's Workers hook); it is called once.
func (st *Storm) Workers(w *engine.Workers) { st.workers <- w }

// Reporter wraps a group's Reporter to take the lookups of the storm.
func (st *Storm) Reporter(r engine.Reporter) engine.Reporter { return stormReporter{r, st} }

// Run is the storm's goroutine: wait for the workers (the timed run's
// start), the steady phase, restart, then follow the recovery until Stop
// or ctx ends, and write the "end" line.
func (st *Storm) Run(ctx context.Context) {
	defer close(st.ended)
	var w *engine.Workers
	select {
	case w = <-st.workers:
	case <-st.done:
		st.fail(ctx, "the run ended before its timed phase began: no restart")
		return
	case <-ctx.Done():
		return
	}
	start := time.Now()
	out, log := st.cfg.Out, st.cfg.Log
	out.Event("scenario").Str("scenario", Name).Str("phase", "steady").Float64("storm_at_s", st.cfg.At.Seconds()).
		Float64("storm_jitter_s", st.cfg.Jitter.Seconds()).Str("restart", st.cfg.RestartBy).Str("keys_from", st.cfg.KeysFrom).Int("workers", w.Count()).Send()
	fmt.Fprintf(log, "restart-storm: %d workers, steady phase %v, then the controller restarts (%s)\n", w.Count(), st.cfg.At, st.cfg.RestartBy)
	if !sleepCtx(ctx, st.done, time.Until(start.Add(st.cfg.At))) {
		st.fail(ctx, "the run ended %.1fs into its %v steady phase: no restart", time.Since(start).Seconds(), st.cfg.At)
		return
	}
	// The fresh controller asked every worker for a full sync at the
	// start; a worker still in it would ignore the restart's command.
	// The count is the one read before the run ended: its end abandons
	// the syncs still running.
	for syncing := w.Syncing(); syncing > 0; syncing = w.Syncing() {
		if !sleepCtx(ctx, st.done, poll) {
			out.Event("scenario").Str("scenario", Name).Str("phase", "end").Bool("restarted", false).
				Int("syncing", syncing).Send()
			why := fmt.Sprintf("the run ended before the workers' first full syncs did (%d still syncing): no restart", syncing)
			fmt.Fprintf(log, "restart-storm: %s\n", why)
			st.fail(ctx, "%s", why)
			return
		}
	}
	waited := time.Since(start) - st.cfg.At
	keysBefore, errBefore := st.cfg.Keys(ctx)
	heldBefore := w.HeldKeys()
	syncedBefore, cmdsBefore := w.SyncsEnded(), w.Commands()
	restartAt := time.Now()
	st.mu.Lock()
	st.inStorm = true
	st.mu.Unlock()
	restartErr := st.cfg.Restart(ctx)
	restartTook := time.Since(restartAt)
	e := out.Event("scenario").Str("scenario", Name).Str("phase", "restart").
		Float64("t_s", restartAt.Sub(start).Seconds()).Int64("keys_before", keysBefore).Int64("held_before", heldBefore).
		Float64("restart_took_s", restartTook.Seconds()).Float64("waited_for_syncs_s", waited.Seconds())
	if errBefore != nil {
		e = e.Str("keys_before_error", errBefore.Error())
	}
	if restartErr != nil {
		e = e.Str("error", restartErr.Error())
	}
	e.Send()
	fmt.Fprintf(log, "restart-storm: controller restarted in %.2fs (it held %d keys, the workers %d)\n", restartTook.Seconds(), keysBefore, heldBefore)

	// The first reading waits for a worker's re-registration: LMCache's
	// controller caches its worker list for 30 s on a /metrics reading,
	// and a list read empty would hold every worker in freeze mode.
	for w.Commands() == cmdsBefore {
		if !sleepCtx(ctx, st.done, 10*time.Millisecond) {
			break
		}
	}
	var (
		recovered                    time.Duration = -1
		minKeys                      int64         = -1
		lastKeys, lastHeld           int64
		readErrs, reads              int64
		maxSyncing                   int
		dipped                       bool
		allSyncedAt                  time.Duration = -1
		recoveredKeys, recoveredHeld int64
		workersCount                 = int64(w.Count())
		tick                         = time.NewTicker(poll)
		stopReason                   = "run ended"
		syncEndsAfter                int64
	)
	defer tick.Stop()
	for {
		keys, err := st.cfg.Keys(ctx)
		held := w.HeldKeys()
		reads++
		if err != nil {
			readErrs++
		} else {
			lastKeys, lastHeld = keys, held
			if minKeys < 0 || keys < minKeys {
				minKeys = keys
			}
			if float64(keys) < recoveredShare*float64(held) {
				dipped = true
			} else if dipped && recovered < 0 {
				recovered, recoveredKeys, recoveredHeld = time.Since(restartAt), keys, held
				fmt.Fprintf(log, "restart-storm: the controller holds %d keys again (workers %d) %.2fs after the restart\n", keys, held, recovered.Seconds())
			}
		}
		if recovered >= 0 && time.Since(restartAt) > recovered+st.cfg.Linger {
			st.mu.Lock()
			st.inStorm = false // a request sent before the recovery has its answer or its timeout
			st.mu.Unlock()
		}
		maxSyncing = max(maxSyncing, w.Syncing())
		syncEndsAfter = w.SyncsEnded() - syncedBefore
		if allSyncedAt < 0 && syncEndsAfter >= workersCount {
			allSyncedAt = time.Since(restartAt)
		}
		select {
		case <-tick.C:
			continue
		case <-st.done:
		case <-ctx.Done():
			stopReason = "interrupted"
		}
		break
	}
	st.mu.Lock()
	st.inStorm = false
	lookups, lookupN, reqs, errs := st.lookups, st.lookupN, st.stormReqs, st.stormErrs
	st.mu.Unlock()
	e = out.Event("scenario").Str("scenario", Name).Str("phase", "end").Str("ended_by", stopReason).
		Bool("recovered", recovered >= 0).Float64("recovered_after_s", secsOrNeg(recovered)).
		Float64("restart_took_s", restartTook.Seconds()).Float64("recovered_after_up_s", secsOrNeg(max(-1, recovered-restartTook))).
		Float64("recovery_share", recoveredShare).Int64("keys_before", keysBefore).Int64("held_before", heldBefore).
		Int64("min_keys", minKeys).Int64("keys_at_recovery", recoveredKeys).Int64("held_at_recovery", recoveredHeld).
		Int64("keys_at_end", lastKeys).Int64("held_at_end", lastHeld).
		Int64("syncs_ended_after_restart", syncEndsAfter).Float64("all_synced_after_s", secsOrNeg(allSyncedAt)).
		Int("max_syncing", maxSyncing).Int64("key_reads", reads).Int64("key_read_errors", readErrs).
		Int64("storm_requests", reqs).Int64("storm_errors", errs).Int64("storm_lookups", lookupN).
		Object("storm_lookup_us", stream.Latency(stats.Summarize(lookups)))
	e.Send()
	switch {
	case restartErr != nil:
		st.fail(ctx, "the restart failed: %v", restartErr)
	case recovered < 0:
		st.fail(ctx, "the controller did not hold %.0f%% of the workers' keys again before the run ended (%d of %d at the end, %.1fs after the restart)",
			100*recoveredShare, lastKeys, lastHeld, time.Since(restartAt).Seconds())
	}
	fmt.Fprintf(log, "restart-storm: recovered %v after %s; lookups during the storm: %d, p50 %.0f us, p99 %.0f us; errors %d of %d requests\n",
		recovered >= 0, fmtSecs(recovered), lookupN, float64(lookups.ValueAtQuantile(50))/1e3, float64(lookups.ValueAtQuantile(99))/1e3, errs, reqs+errs)
}

// Stop ends the storm's watch (the load stopped) and waits for its last
// line. It may be called more than once, but only after Run was started.
func (st *Storm) Stop() {
	select {
	case <-st.done:
	default:
		close(st.done)
	}
	<-st.ended
}

// poll is how often the storm reads the controller's key count.
const poll = 100 * time.Millisecond

// recoveredShare is the share of the workers' keys the controller must
// hold again for the storm to count as recovered.
const recoveredShare = 0.99

type stormReporter struct {
	engine.Reporter
	st *Storm
}

// Interval adds the interval's requests, errors and p2p_lookup latencies
// to the storm's while the storm lasts, then passes the interval on.
func (r stormReporter) Interval(iv *engine.Interval) {
	r.st.mu.Lock()
	if r.st.inStorm {
		for _, o := range iv.Ops {
			r.st.stormReqs += o.Requests
			r.st.stormErrs += o.Errors
			if o.Op != engine.OpP2PLookup {
				continue
			}
			h := o.Corrected
			if h == nil {
				h = o.Service
			}
			if h != nil {
				r.st.lookups.Merge(h)
				r.st.lookupN += o.Requests
			}
		}
	}
	r.st.mu.Unlock()
	r.Reporter.Interval(iv)
}

// secsOrNeg is d in seconds, or -1 for a time never reached.
func secsOrNeg(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return d.Seconds()
}

// fmtSecs is d in seconds for stderr, or "never" for a time never reached.
func fmtSecs(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// sleepCtx sleeps d and reports true, or false as soon as done closes or
// ctx ends.
func sleepCtx(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	case <-ctx.Done():
		return false
	}
}
