package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/scrape"
	"github.com/lmfast/lmfast/refcontroller"
	"github.com/lmfast/lmfast/stats"
	"github.com/lmfast/lmfast/stream"
)

// scenarioRestartStorm is --scenario restart-storm.
const scenarioRestartStorm = "restart-storm"

// stormFlags are the restart-storm scenario's flags (--scenario itself is
// scenarioFlags').
type stormFlags struct {
	StormAt    seconds `name:"storm-at" placeholder:"D" help:"restart-storm: the steady phase before the restart (default: a third of --duration)."`
	RestartCmd string  `name:"restart-cmd" placeholder:"CMD" help:"restart-storm against an external controller: the shell command that restarts it (run with sh -c at the storm's start; the scenario waits for it)."`
}

// storm is a restart-storm in progress: it restarts the controller once
// the steady phase is over, then follows the controller's key count
// against what the workers hold, and the lookups, until the run ends.
type storm struct {
	out     *stream.Writer
	stderr  io.Writer
	at      time.Duration
	jitter  time.Duration
	linger  time.Duration // the storm's load is followed this long past the recovery (the request timeout)
	cmd     string
	server  *embeddedServer
	keys    func(context.Context) (int64, error)
	source  string
	workers chan *engine.Workers
	done    chan struct{}
	ended   chan struct{}

	mu        sync.Mutex
	inStorm   bool
	lookups   *hdrhistogram.Histogram // p2p_lookup latency over the storm's intervals
	lookupN   int64
	stormErrs int64
	stormReqs int64
}

// newStorm checks the scenario's flags and returns the storm, or nil
// without --scenario. metrics is --controller-metrics (nil: none).
func (c *controllerCmd) newStorm(a *app, out *stream.Writer, server *embeddedServer, metrics *scrape.Scraper, duration time.Duration) (*storm, error) {
	st := &storm{out: out, stderr: a.stderr, at: time.Duration(c.StormAt), jitter: time.Duration(c.StormJitter), cmd: c.RestartCmd, server: server,
		linger:  time.Duration(c.RequestTimeout),
		workers: make(chan *engine.Workers, 1), done: make(chan struct{}), ended: make(chan struct{}), lookups: stats.NewHistogram()}
	if st.at == 0 {
		st.at = duration / 3
	}
	switch {
	case server != nil:
		url := fmt.Sprintf("http://127.0.0.1:%d/controller/key-stats", server.srv.Ports().HTTP)
		st.keys, st.source = func(ctx context.Context) (int64, error) { return keyStats(ctx, url) }, url
	case metrics != nil:
		st.keys, st.source = externalKeys(metrics)
	}
	return st, nil
}

// externalKeys reads an external controller's key count from its
// /controller/key-stats (controller-server, LMCache's API server) when the
// host of --controller-metrics serves it, else from the kv_pool_keys_count
// gauge of --controller-metrics.
func externalKeys(metrics *scrape.Scraper) (func(context.Context) (int64, error), string) {
	u, err := url.Parse(metrics.URL())
	if err != nil {
		return metrics.Keys, metrics.URL()
	}
	u.Path, u.RawQuery = "/controller/key-stats", ""
	stats := u.String()
	var mu sync.Mutex
	useStats := true
	return func(ctx context.Context) (int64, error) {
		mu.Lock()
		try := useStats
		mu.Unlock()
		if try {
			n, err := keyStats(ctx, stats)
			if !errors.Is(err, errNoKeyStats) {
				return n, err
			}
			mu.Lock()
			useStats = false
			mu.Unlock()
		}
		return metrics.Keys(ctx)
	}, stats + " (else " + metrics.URL() + ")"
}

// errNoKeyStats is a controller without /controller/key-stats.
var errNoKeyStats = errors.New("no /controller/key-stats")

// checkStorm validates --scenario and its flags before anything runs.
func (c *controllerCmd) checkStorm(duration time.Duration) error {
	switch c.Scenario {
	case "":
		if c.StormAt != 0 || c.RestartCmd != "" {
			return badInput("--storm-at and --restart-cmd need --scenario restart-storm")
		}
		return nil
	case scenarioRestartStorm:
	default:
		if c.StormAt != 0 || c.RestartCmd != "" {
			return badInput("--storm-at and --restart-cmd need --scenario restart-storm")
		}
		return nil // another scenario (scenario.go)
	}
	switch {
	case c.Embedded && c.RestartCmd != "":
		return badInput("--scenario restart-storm: --restart-cmd restarts an external controller; --embedded is restarted in-process")
	case !c.Embedded && c.RestartCmd == "":
		return badInput("--scenario restart-storm needs --embedded or --restart-cmd CMD (the command that restarts the controller)")
	case !c.Embedded && c.ControllerMetrics == "":
		return badInput("--scenario restart-storm against an external controller needs --controller-metrics URL: its key count is read there")
	case c.NumProcesses > 1 || c.NumProcessesTotal > 1:
		return badInput("--scenario restart-storm runs in one process of one group (--num-processes 1)")
	case c.Sweep != "":
		return badInput("--scenario restart-storm and --sweep exclude each other")
	case time.Duration(c.StormAt) >= duration:
		return badInput("--storm-at %v is not before the end of --duration %v", time.Duration(c.StormAt), duration)
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = heartbeatInterval(engine.DefaultHeartbeatInterval)
	}
	return nil
}

// keyStats reads total_key_count from a /controller/key-stats page.
func keyStats(ctx context.Context, page string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page, nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0, errNoKeyStats
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: HTTP %s", page, resp.Status)
	}
	var v struct {
		Total int64 `json:"total_key_count"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&v); err != nil {
		return 0, errNoKeyStats // e.g. a metrics server that answers every path with /metrics
	}
	return v.Total, nil
}

// reporter wraps a group's Reporter to take the lookups of the storm.
func (st *storm) reporter(r engine.Reporter) engine.Reporter { return stormReporter{r, st} }

type stormReporter struct {
	engine.Reporter
	st *storm
}

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

// stormPoll is how often the storm reads the controller's key count.
const stormPoll = 100 * time.Millisecond

// recoveredShare is the share of the workers' keys the controller must
// hold again for the storm to count as recovered.
const recoveredShare = 0.99

// run is the storm's goroutine: wait for the workers (the timed run's
// start), the steady phase, restart, then follow the recovery until stop.
func (st *storm) run(ctx context.Context) {
	defer close(st.ended)
	var w *engine.Workers
	select {
	case w = <-st.workers:
	case <-st.done:
		return
	case <-ctx.Done():
		return
	}
	start := time.Now()
	mode := "embedded"
	if st.server == nil {
		mode = "command"
	}
	st.out.Event("scenario").Str("scenario", scenarioRestartStorm).Str("phase", "steady").Float64("storm_at_s", st.at.Seconds()).
		Float64("storm_jitter_s", st.jitter.Seconds()).Str("restart", mode).Str("keys_from", st.source).Int("workers", w.Count()).Send()
	fmt.Fprintf(st.stderr, "restart-storm: %d workers, steady phase %v, then the controller restarts (%s)\n", w.Count(), st.at, mode)
	if !sleepCtx(ctx, st.done, time.Until(start.Add(st.at))) {
		return
	}
	// The fresh controller asked every worker for a full sync at the
	// start; a worker still in it would ignore the restart's command.
	for w.Syncing() > 0 {
		if !sleepCtx(ctx, st.done, stormPoll) {
			st.out.Event("scenario").Str("scenario", scenarioRestartStorm).Str("phase", "end").Bool("restarted", false).
				Int("syncing", w.Syncing()).Send()
			fmt.Fprintf(st.stderr, "restart-storm: the run ended before the workers' first full syncs did (%d still syncing): no restart\n", w.Syncing())
			return
		}
	}
	waited := time.Since(start) - st.at
	keysBefore, errBefore := st.keys(ctx)
	heldBefore := w.HeldKeys()
	syncedBefore, cmdsBefore := w.SyncsEnded(), w.Commands()
	restartAt := time.Now()
	st.mu.Lock()
	st.inStorm = true
	st.mu.Unlock()
	restartErr := st.restart(ctx)
	restartTook := time.Since(restartAt)
	e := st.out.Event("scenario").Str("scenario", scenarioRestartStorm).Str("phase", "restart").
		Float64("t_s", restartAt.Sub(start).Seconds()).Int64("keys_before", keysBefore).Int64("held_before", heldBefore).
		Float64("restart_took_s", restartTook.Seconds()).Float64("waited_for_syncs_s", waited.Seconds())
	if errBefore != nil {
		e = e.Str("keys_before_error", errBefore.Error())
	}
	if restartErr != nil {
		e = e.Str("error", restartErr.Error())
	}
	e.Send()
	fmt.Fprintf(st.stderr, "restart-storm: controller restarted in %.2fs (it held %d keys, the workers %d)\n", restartTook.Seconds(), keysBefore, heldBefore)

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
		tick                         = time.NewTicker(stormPoll)
		stopReason                   = "run ended"
		syncEndsAfter                int64
	)
	defer tick.Stop()
	for {
		keys, err := st.keys(ctx)
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
				fmt.Fprintf(st.stderr, "restart-storm: the controller holds %d keys again (workers %d) %.2fs after the restart\n", keys, held, recovered.Seconds())
			}
		}
		if recovered >= 0 && time.Since(restartAt) > recovered+st.linger {
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
	e = st.out.Event("scenario").Str("scenario", scenarioRestartStorm).Str("phase", "end").Str("ended_by", stopReason).
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
	fmt.Fprintf(st.stderr, "restart-storm: recovered %v after %s; lookups during the storm: %d, p50 %.0f us, p99 %.0f us; errors %d of %d requests\n",
		recovered >= 0, fmtSecs(recovered), lookupN, float64(lookups.ValueAtQuantile(50))/1e3, float64(lookups.ValueAtQuantile(99))/1e3, errs, reqs+errs)
}

// secsOrNeg is d in seconds, or -1 for a time never reached.
func secsOrNeg(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return d.Seconds()
}

func fmtSecs(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// restart restarts the controller: the embedded one in-process on the
// same ports, an external one by --restart-cmd.
func (st *storm) restart(ctx context.Context) error {
	if st.server != nil {
		return st.server.restart()
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", st.cmd)
	cmd.Stdout, cmd.Stderr = st.stderr, st.stderr
	cmd.Env = os.Environ()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("--restart-cmd: %v", err)
	}
	return nil
}

// stop ends the storm's watch (the load stopped) and waits for its last line.
func (st *storm) stop() {
	select {
	case <-st.done:
	default:
		close(st.done)
	}
	<-st.ended
}

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

// restart closes the embedded controller and starts a fresh one on the
// same ports (retrying while the ports are still held), as a controller
// process that restarts: no worker, no key.
func (s *embeddedServer) restart() error {
	p := s.srv.Ports()
	s.before = append(s.before, s.srv.Counters())
	s.srv.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := refcontroller.Start(context.Background(), refcontroller.Config{
			Host: "127.0.0.1", PullPort: p.Pull, ReplyPort: p.Reply, HeartbeatPort: p.Heartbeat, HTTPPort: p.HTTP, Log: zerolog.Nop(),
		})
		if err == nil {
			s.srv = srv
			return nil
		}
		var be *refcontroller.BindError
		if !errors.As(err, &be) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
