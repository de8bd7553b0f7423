package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/calibrate"
	enginejsonl "github.com/lmfast/lmfast/engine/jsonl"
	"github.com/lmfast/lmfast/engine/keydist"
	"github.com/lmfast/lmfast/engine/scenario"
	"github.com/lmfast/lmfast/engine/scenario/storm"
	"github.com/lmfast/lmfast/engine/scrape"
	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/engine/sweep"
	"github.com/lmfast/lmfast/internal/cpus"
	"github.com/lmfast/lmfast/internal/pyfmt"
	"github.com/lmfast/lmfast/stream"
)

// controllerCmd is `lmfast controller`: LMCache's controller benchmark flag
// for flag, plus lmfast's own flags. It only parses and wires; the work is
// in engine/.
type controllerCmd struct {
	ControllerHost  string        `name:"controller-host" default:"127.0.0.1" help:"Controller host (0.0.0.0 means 127.0.0.1)."`
	MonitorPorts    string        `name:"monitor-ports" default:"{\"pull\":8100,\"reply\":8101}" help:"Controller ports as JSON: pull (8100 when left out), reply (needed by register and p2p_lookup), heartbeat (else learned from the first RegisterRetMsg)."`
	Duration        seconds       `default:"60" help:"Run length: seconds, or a Go duration such as 90s or 2m."`
	BatchSize       int           `name:"batch-size" default:"50" help:"KV operations per BatchedKVOperationMsg."`
	Operations      string        `default:"admit:70,evict:25,heartbeat:5" help:"Operation mix name:percent,... (admit, evict, heartbeat, p2p_lookup, register, deregister); must sum to 100."`
	NumInstances    int           `name:"num-instances" default:"10" help:"Simulated instances per process."`
	NumWorkers      int           `name:"num-workers" default:"1" help:"Workers per instance."`
	NumLocations    int           `name:"num-locations" default:"1" help:"Storage locations."`
	NumKeys         int           `name:"num-keys" default:"10000" help:"Key space 0..N-1."`
	NumHashes       int           `name:"num-hashes" default:"100" help:"Hashes per p2p_lookup."`
	KeyDist         string        `name:"key-dist" default:"uniform" help:"Keys of admits, evicts and lookups: uniform, zipf:S (key k has weight 1/(k+1)^S), hotspot:P (a fraction P of draws hit the first (1-P) of the keys) or hotspot:P:H (hot set: the first fraction H)."`
	NumProcesses    int           `name:"num-processes" default:"1" help:"Independent engine groups (LMCache's processes), each with its own ZMQ context and instance names."`
	NoRegisterFirst bool          `name:"no-register-first" help:"Skip pre-registering the workers."`
	RegisterTimeout seconds       `name:"register-timeout" default:"10s" help:"Longest time the whole pre-registration may take (every worker, many requests in flight)."`
	PinCPUs         string        `name:"pin-cpus" help:"Run one sender per listed CPU, pinned (taskset syntax: 0-7, 0,2,4)."`
	Senders         int           `help:"Unpinned senders per process when --pin-cpus is not given (default: half the CPUs, at least 1)."`
	Rate            float64       `default:"0" help:"Target requests/s over all senders and processes (all --num-processes-total of them); 0 runs a closed loop."`
	Requests        int64         `default:"0" help:"Stop after this many measured requests (after --warmup) over the whole run (all processes and groups); with --duration, whichever comes first (0: no limit)."`
	Concurrency     int           `default:"1" help:"Request/reply operations in flight per sender."`
	Seed            uint64        `default:"0" help:"Seed of the message stream (0: pick one and print it)."`
	Out             string        `help:"Write the JSONL stream to this file instead of stdout."`
	Interval        seconds       `default:"1s" help:"Period of the JSONL interval lines."`
	Raw             bool          `help:"Also write one JSONL sample line per operation."`
	Embedded        bool          `help:"Start the reference controller in-process on free 127.0.0.1 ports and target it (its /metrics is --controller-metrics)."`
	DrainTimeout    seconds       `name:"drain-timeout" default:"10s" help:"How long queued messages may take to reach the controller after the run."`
	NoHeadroom      bool          `name:"no-headroom" help:"Skip the calibrated ZMQ ceiling (no headroom figure)."`
	Warmup          secondsOrZero `default:"2s" help:"Excluded start of the run and of each --sweep step: sent, not measured (0: none)."`
	LateGrace       secondsOrZero `name:"late-grace" default:"2s" help:"Open loop: a request due before the deadline and still unsent this long after its intended time is dropped, its lateness recorded."`
	RequestTimeout  seconds       `name:"request-timeout" default:"5s" help:"How long a request waits for its reply before it is an error (LMCache's 5 s)."`
	Sweep           string        `placeholder:"DIM=VALUES" help:"Run steps of rising load: rate=1000:64000:x2, rate=1000,2000,5000, rate=1000:5000:+1000 or concurrency=1:64:x2."`
	StepDuration    seconds       `name:"step-duration" default:"10s" help:"Measured length of each --sweep step, after its --warmup."`
	SLO             string        `name:"slo" placeholder:"TERMS" help:"With --sweep: what a step must meet, e.g. 'p2p_lookup.p99<2ms,errors<0.1%,dropped<1%'; a rate sweep then bisects to the highest passing rate."`
	Precision       string        `default:"5%" help:"With --slo: bisect until the lowest failing rate is within this of the highest passing one."`
	FailIf          string        `name:"fail-if" placeholder:"TERMS" help:"Thresholds on the run, in --slo's terms: each term's outcome is in the summary; a violated term exits 99 once all output is written."`

	processFlags  `embed:""` // --process-id, --num-processes-total, --run-label, --start-at (multiproc.go)
	scenarioFlags `embed:""` // --scenario, --churn-rate, --lookup-hit-rate (scenario.go)
	shapeFlags    `embed:""` // --worker-rate, --arrival, --rate-schedule, --concurrency-schedule (shapes.go)
	workerFlags   `embed:""` // --heartbeat-interval, --storm-jitter (workers.go)
	stormFlags    `embed:""` // --storm-at, --restart-cmd: the restart-storm scenario (storm.go)

	// ControllerMetrics is the controller's Prometheus page to reconcile with.
	ControllerMetrics string `name:"controller-metrics" placeholder:"URL" help:"The controller's Prometheus /metrics page (http://host:port/metrics): its received counts are read before the run, every --interval and after the drain, and reconciled with what was sent; exit 1 if they differ. Valid while lmfast is the controller's only sender."`
	// ControllerMetricsIdle reads that page only before and after the load.
	ControllerMetricsIdle bool `name:"controller-metrics-idle" help:"Read --controller-metrics only before the run and after the drain, never during the load (no controller figures in the interval lines): LMCache's controller can stop receiving when its /metrics is read under load (README, Reconciliation)."`
}

// monitorPorts is the --monitor-ports JSON.
type monitorPorts struct {
	Pull, Reply, Heartbeat int
}

func parseMonitorPorts(s string) (monitorPorts, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return monitorPorts{}, fmt.Errorf("--monitor-ports: invalid JSON: %v", err)
	}
	mp := monitorPorts{Pull: 8100}
	for k, v := range raw {
		var port int
		if err := json.Unmarshal(v, &port); err != nil {
			return mp, fmt.Errorf("--monitor-ports: %q must be a port number", k)
		}
		if port < 1 || port > 65535 {
			return mp, fmt.Errorf("--monitor-ports: %s port %d out of range 1-65535", k, port)
		}
		switch k {
		case "pull":
			mp.Pull = port
		case "reply":
			mp.Reply = port
		case "heartbeat":
			mp.Heartbeat = port
		default:
			return mp, fmt.Errorf("--monitor-ports: unknown key %q (pull, reply, heartbeat)", k)
		}
	}
	return mp, nil
}

// Run checks every flag, measures the headroom ceiling, runs the engine
// groups, and writes the summaries, the reports and (--embedded) the
// verification.
func (c *controllerCmd) Run(a *app) error {
	// Flags first: every bad value is exit 2 before anything starts.
	sc, err := c.scenario(c)
	if err != nil {
		return err
	}
	mix, err := engine.ParseOperations(scenarioOperations(sc, c.Operations))
	if err != nil {
		return badInput("--operations: %v", err)
	}
	keyDist, err := keydist.Parse(c.KeyDist)
	if err != nil {
		return badInput("--key-dist: %v", err)
	}
	ports, err := parseMonitorPorts(c.MonitorPorts)
	if err != nil {
		return badInput("%v", err)
	}
	duration, interval := time.Duration(c.Duration), time.Duration(c.Interval)
	drain, registerTimeout := time.Duration(c.DrainTimeout), time.Duration(c.RegisterTimeout)
	if err := c.checkStorm(duration); err != nil {
		return err
	}
	if c.NumProcesses < 1 {
		return badInput("--num-processes must be at least 1")
	}
	place, startAt, err := c.placement(c.NumProcesses, c.Embedded)
	if err != nil {
		return err
	}
	var pinned []int
	if c.PinCPUs != "" {
		if pinned, err = cpus.Parse(c.PinCPUs); err != nil {
			return badInput("--pin-cpus: %v", err)
		}
		if err := cpus.Validate(pinned); err != nil {
			return badInput("--pin-cpus: %v", err)
		}
		if len(pinned) < c.NumProcesses {
			return badInput("--pin-cpus lists %d CPUs for %d processes; each process needs one", len(pinned), c.NumProcesses)
		}
	}
	if c.Senders < 0 {
		return badInput("--senders must not be negative")
	}
	warmup, grace, requestTimeout := time.Duration(c.Warmup), time.Duration(c.LateGrace), time.Duration(c.RequestTimeout)
	sloOps := engine.SLOOps(mix)
	var failIf slo.Spec
	if c.FailIf != "" {
		if failIf, err = slo.Parse(c.FailIf, sloOps); err != nil {
			return badInput("--fail-if: %v", err)
		}
	}
	shapes, err := c.shapeFlags.check(c.Rate, c.Concurrency, c.Sweep)
	if err != nil {
		return err
	}
	plan, err := c.sweepPlan(sloOps)
	if err != nil {
		return err
	}
	if plan != nil && place.Processes > 1 {
		return badInput("--sweep runs in one lmfast process (its groups meet after every step to pick the next): leave out --num-processes-total, use --num-processes")
	}
	switch {
	case c.Requests < 0:
		return badInput("--requests must not be negative")
	case c.Requests > 0 && plan != nil:
		return badInput("--requests ends a single run: leave it out with --sweep (each step lasts --step-duration)")
	}
	var requests *engine.RequestBudget
	if c.Requests > 0 {
		requests = engine.NewRequestBudget(place.ProcessRequests(c.Requests))
	}
	concurrency, rate := c.Concurrency, c.Rate
	if plan != nil {
		duration = plan.StepDuration
		if plan.Spec.Dim == sweep.Concurrency {
			concurrency = int(plan.Spec.Values[len(plan.Spec.Values)-1])
		}
		plan.Warmup, plan.Rate, plan.Concurrency, plan.Groups = warmup, c.Rate, c.Concurrency, c.NumProcesses
	}
	metrics, err := c.metricsFlag()
	if err != nil {
		return err
	}
	seed := c.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}

	host := c.ControllerHost
	if host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	var server *embeddedServer
	if c.Embedded {
		if server, err = startEmbedded(a); err != nil {
			return failed("--embedded: %v", err)
		}
		defer server.Close()
		host, ports = "127.0.0.1", server.ports
	}
	endpoint := func(port int) string {
		if port == 0 {
			return ""
		}
		return fmt.Sprintf("tcp://%s:%d", host, port)
	}
	base := engine.Config{
		PullEndpoint: endpoint(ports.Pull), ReplyEndpoint: endpoint(ports.Reply), HeartbeatEndpoint: endpoint(ports.Heartbeat),
		Duration: duration, BatchSize: c.BatchSize, Mix: mix,
		NumInstances: c.NumInstances, NumWorkers: c.NumWorkers, NumLocations: c.NumLocations,
		NumKeys: c.NumKeys, NumHashes: c.NumHashes, KeyDist: keyDist, NumProcesses: place.TotalGroups(), StartAt: startAt,
		RegisterFirst: !c.NoRegisterFirst, Rate: place.GroupRate(rate), Concurrency: concurrency,
		Seed: seed, Interval: interval, Raw: c.Raw, DrainTimeout: drain,
		RegisterTimeout: registerTimeout, Registering: &engine.RegisterProgress{},
		Warmup: warmup, LateGrace: grace, RequestTimeout: requestTimeout, FailIf: failIf, Requests: requests,
	}
	shapes.apply(&base, c.WorkerRate)
	c.workerFlags.apply(&base)
	groups, asked, err := engine.Groups(base, c.NumProcesses, pinned, c.Senders, runtime.NumCPU())
	if err != nil {
		return badInput("%v", err)
	}
	if pairs := groups[0].Senders; asked > pairs && (pinned != nil || c.Senders > 0) {
		fmt.Fprintf(a.stderr, "lmfast: warning: %d senders per process for %d (instance, worker) pairs: %d run\n", asked, pairs, pairs)
	}
	for g := range groups {
		groups[g].Proc = place.Proc(g)
	}
	if !c.Embedded {
		if err := checkEndpoints(a.ctx, host, ports); err != nil {
			return err
		}
	}
	if c.Scenario == scenarioRestartStorm {
		// Not read before the run: a /metrics reading before the workers
		// register pins LMCache's full-sync worker list empty for 30 s.
	} else if metrics, err = checkMetrics(a.ctx, metrics, server); err != nil {
		return err
	}
	shapes.warn(a.stderr, duration)
	runID := stream.NewRunID()
	sink, outName, closeOut, err := openRunOut(a, c.Out, runID)
	if err != nil {
		return err
	}
	defer closeOut()
	out := stream.New(sink, "controller", runID)
	if sc != nil {
		env := scenario.Env{Out: out.ForProc(groups[0].Proc), Log: a.stderr, HTTP: controllerHTTP(server, c.ControllerMetrics)}
		if err := sc.Prepare(&groups[0], env); err != nil {
			return badInput("%v", err)
		}
	}
	var sw *engine.Sweep
	if plan != nil {
		plan.Reporter = enginejsonl.New(out.ForProc(mergedProc(len(groups))))
		if sw, err = engine.NewSweep(*plan); err != nil {
			return badInput("%v", err)
		}
		for g := range groups {
			groups[g].Sweep = sw
		}
	}
	c.writeConfig(out, groups, ports, host, seed, place, plan, metrics, shapes)
	if err := out.Err(); err != nil {
		return outputError(err, outName, "nothing was sent")
	}
	if !c.NoHeadroom {
		if err := c.measureCeiling(a, groups, seed); err != nil {
			return err
		}
	}

	// A lost output stops the run as an interrupt does: nobody would read
	// what it measures.
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	go func() {
		select {
		case <-out.Failed():
			cancel()
		case <-ctx.Done():
		}
	}()

	var st *storm.Storm
	if c.Scenario == scenarioRestartStorm {
		st = c.newStorm(a, out, server, metrics, duration)
		groups[0].Workers = st.Workers
		go st.Run(ctx)
		defer st.Stop()
		metrics = nil // a restart loses frames by design: the key count is read, not reconciled
	}
	var intake *engine.Intake
	if metrics != nil {
		intake = engine.NewIntake(ctx, metrics)
		intake.IdleOnly = c.ControllerMetricsIdle
		for g := range groups {
			groups[g].Intake = intake
		}
		if err := intake.Baseline(); err != nil {
			if a.ctx.Err() != nil {
				return errInterrupted
			}
			return badInput("--controller-metrics: %v", err)
		}
	}

	var scRun *scenarioRun
	scFinished := false
	if sc != nil {
		if err := sc.Setup(ctx); err != nil {
			_ = sc.Finish(ctx, nil, true)
			if a.ctx.Err() != nil {
				return errInterrupted
			}
			return failed("%s", scenarioError(sc, err))
		}
		scRun = newScenarioRun(ctx, sc, warmup+duration)
		defer scRun.stop()
		// A run that ends early still lets the scenario deregister its
		// workers (Finish below sets scFinished).
		defer func() {
			if !scFinished {
				scRun.stop()
				_ = sc.Finish(ctx, nil, true)
			}
		}()
	}

	progress := io.Writer(nil)
	if isTerminal(a.stderr) {
		progress = a.stderr
	}
	results := make([]*engine.Result, len(groups))
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	groups[0].Progress = progress // one progress line, not one per group
	view := &registrationView{w: a.stderr, p: base.Registering, total: int64(c.NumInstances * c.NumWorkers * len(groups)), start: time.Now()}
	var agree *registerBarrier
	agree = newRegisterBarrier(len(groups), func() {
		view.show(true)
		if agree.starts() {
			announceStart(a.stderr, startAt)
		}
	})
	viewDone := make(chan struct{})
	go func() {
		defer close(viewDone)
		if base.RegisterFirst {
			view.tick(agree.done)
		}
	}()
	for g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hooks := engine.Hooks{Registered: func(ok, failed int64) bool { return agree.arrive(g, ok, failed, true) }}
			var rep engine.Reporter = enginejsonl.New(out.ForProc(groups[g].Proc))
			if scRun != nil {
				hooks.Started, rep = scRun.start, scenarioReporter{Reporter: rep, sc: sc}
			}
			if st != nil {
				rep = st.Reporter(rep)
				hooks.Stopped = func(int64) { st.Stop() }
			}
			results[g], errs[g] = engine.Run(ctx, groups[g], rep, hooks)
			agree.arrive(g, 0, 0, false) // a group that ended before registering
		}()
	}
	wg.Wait()
	if scRun != nil {
		scRun.stop()
	}
	<-viewDone
	if progress != nil {
		fmt.Fprintln(progress)
	}
	if err := out.Err(); err != nil {
		merged := engine.Merge(nonNil(results))
		return outputError(err, outName, fmt.Sprintf("stopped the run after %.1fs; DeRegisterMsg sent for %d workers",
			merged.Elapsed.Seconds(), merged.TeardownFrames))
	}
	if err := registerFailure(out, errs); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return failed("%v", err)
		}
	}

	merged := engine.Merge(results)
	merged.Intake = settleIntake(intake, results, merged, drain)
	if len(failIf) > 0 {
		merged.FailIf = slo.Evaluate(failIf, merged.Observed())
	}
	if len(results) > 1 {
		enginejsonl.New(out.ForProc(-1)).Summary(merged)
	}
	for _, r := range results {
		_ = engine.WriteReport(a.stderr, r)
	}
	if len(results) > 1 {
		_ = engine.WriteAggregatedReport(a.stderr, merged, len(results))
	}

	_ = engine.WriteHeadroom(a.stderr, merged)
	if sw != nil {
		_ = engine.WriteSweepReport(a.stderr, sw.Steps(), sw.Capacity())
	}
	_ = engine.WriteFailIf(a.stderr, merged.FailIf)
	writeIntakeReport(a.stderr, merged.Intake)

	var scErr error
	var extraFrames, extraKV int64
	if sc != nil {
		scErr, scFinished = sc.Finish(ctx, merged, a.ctx.Err() != nil), true
		extraFrames, extraKV = sc.Extra()
	}
	var verdict error
	if server != nil && st == nil {
		verdict = server.verify(out, merged, extraFrames, extraKV)
	}
	if scErr != nil && verdict == nil {
		verdict = failed("%s", scenarioError(sc, scErr))
	}
	if st != nil && verdict == nil {
		st.Stop()
		if err := st.Err(); err != nil {
			verdict = failed("--scenario %s: %v", scenarioRestartStorm, err)
		}
	}
	if r := merged.Intake; r != nil && !r.Reconciled && verdict == nil && !merged.Interrupted {
		verdict = failed("%s (%s)", r.Verdict(), engine.ReconcileScope)
	}
	if merged.RegisterFailed > 0 && verdict == nil {
		verdict = failed("pre-registration failed for %d of %d workers; the run loaded the %d registered",
			merged.RegisterFailed, merged.RegisteredOK+merged.RegisterFailed, merged.RegisteredOK)
	}
	if !merged.Drained && merged.Interrupted {
		out.Event("error").Str("error", "drain cut short by the interrupt: queued messages may not have reached the controller").Send()
	} else if !merged.Drained {
		out.Event("error").Str("error", fmt.Sprintf("drain incomplete: queued messages still unsent after --drain-timeout %s", drain)).Send()
		if verdict == nil {
			verdict = failed("drain incomplete after %s: some sent messages may not have reached the controller", drain)
		}
	}
	if err := out.Err(); err != nil {
		return outputError(err, outName, "the summary was lost")
	}
	if a.ctx.Err() != nil {
		return errInterrupted
	}
	if verdict != nil {
		return verdict
	}
	if bad := merged.FailIf.Failed(); len(bad) > 0 {
		return thresholdsViolated("--fail-if: %d of %d terms violated: %s", len(bad), len(merged.FailIf), bad[0])
	}
	return nil
}

// mergedProc is the proc of lines about the whole run: -1 with several
// groups, else the one group's 0.
func mergedProc(groups int) int {
	if groups > 1 {
		return -1
	}
	return 0
}

// sweepPlan reads --sweep, --step-duration, --slo and --precision; nil
// without --sweep.
func (c *controllerCmd) sweepPlan(ops []slo.Op) (*engine.SweepConfig, error) {
	if c.Sweep == "" {
		if c.SLO != "" {
			return nil, badInput("--slo needs --sweep (--fail-if checks a single run)")
		}
		return nil, nil
	}
	spec, err := sweep.Parse(c.Sweep)
	if err != nil {
		return nil, badInput("--sweep: %v", err)
	}
	if spec.Dim == sweep.Rate && c.Rate > 0 {
		return nil, badInput("--sweep %s sets each step's rate: leave out --rate", c.Sweep)
	}
	stepDuration := time.Duration(c.StepDuration)
	plan := &engine.SweepConfig{Spec: spec, StepDuration: stepDuration}
	if c.SLO != "" {
		if plan.SLO, err = slo.Parse(c.SLO, ops); err != nil {
			return nil, badInput("--slo: %v", err)
		}
		if plan.Precision, err = sweep.ParsePrecision(c.Precision); err != nil {
			return nil, badInput("--precision: %v", err)
		}
	}
	return plan, nil
}

// headroomDuration is how long each pre-run ceiling measurement sends.
const headroomDuration = time.Second

// measureCeiling measures this machine's ZMQ ceiling for the run's own
// traffic (the run's batch bytes, senders, pinning and request lanes; raw
// pebbe/zmq4 and lmfast's engine, see engine/calibrate) and gives each
// group its share by senders, so every summary can report its headroom.
func (c *controllerCmd) measureCeiling(a *app, groups []engine.Config, seed uint64) error {
	senders, lanes := engine.TotalSenders(groups), groups[0].RequestLanes()
	fmt.Fprintf(a.stderr, "lmfast: measuring this machine's ZMQ ceiling for the headroom figure (%s; --no-headroom skips it)\n",
		headroomDuration*time.Duration(2+2*min(lanes, 1)))
	common := calibrate.Common{Transport: "tcp", Senders: senders, CPUs: engine.PinnedCPUs(groups), Duration: headroomDuration}
	ceiling, err := calibrate.Ceiling(a.ctx, common, c.BatchSize, c.NumKeys, c.NumHashes, lanes, seed)
	if a.ctx.Err() != nil {
		return errInterrupted // nothing was sent yet
	}
	if err != nil {
		return failed("measuring the ZMQ ceiling: %v (--no-headroom skips it)", err)
	}
	engine.ShareCeiling(groups, ceiling)
	return nil
}

// writeConfig writes the run's config line: every effective setting.
func (c *controllerCmd) writeConfig(out *stream.Writer, groups []engine.Config, ports monitorPorts, host string, seed uint64, place engine.Placement, plan *engine.SweepConfig, metrics *scrape.Scraper, shapes loadShapes) {
	ops := make([]string, 0, len(groups[0].Mix))
	for _, m := range groups[0].Mix {
		ops = append(ops, m.Op.String()+":"+pyfmt.Float(m.Pct))
	}
	senders := 0
	var pinned []string
	for _, g := range groups {
		senders += g.Senders
		for _, cpu := range g.CPUs {
			pinned = append(pinned, strconv.Itoa(cpu))
		}
	}
	g := groups[0]
	var stepDuration, precision float64
	if plan != nil {
		stepDuration, precision = plan.StepDuration.Seconds(), plan.Precision
	}
	e := withMachine(out.Event("config")).Str("libzmq", libzmqVersion()).
		Str("controller_host", host).Int("pull_port", ports.Pull).Int("reply_port", ports.Reply).Int("heartbeat_port", ports.Heartbeat).
		Bool("embedded", c.Embedded).
		Float64("duration_s", g.Duration.Seconds()).Int("batch_size", g.BatchSize).Str("operations", strings.Join(ops, ",")).
		Int("num_instances", g.NumInstances).Int("num_workers", g.NumWorkers).Int("num_locations", g.NumLocations).
		Int("num_keys", g.NumKeys).Str("key_dist", g.KeyDist.String()).Int("num_hashes", g.NumHashes).Int("num_processes", len(groups)).
		Bool("register_first", g.RegisterFirst).Int("senders", senders).Str("pin_cpus", strings.Join(pinned, ",")).
		Float64("rate", c.Rate).Int64("requests", c.Requests).Int("concurrency", g.Concurrency).Uint64("seed", seed).
		Float64("interval_s", g.Interval.Seconds()).Bool("raw", g.Raw).Float64("drain_timeout_s", g.DrainTimeout.Seconds()).
		Float64("warmup_s", g.Warmup.Seconds()).Float64("late_grace_s", g.LateGrace.Seconds()).
		Float64("request_timeout_s", g.RequestTimeout.Seconds()).Str("fail_if", g.FailIf.String()).
		Str("sweep", c.Sweep).Float64("step_duration_s", stepDuration).Str("slo", c.SLO).Float64("precision", precision).
		Str("scenario", c.Scenario).Float64("churn_rate", c.ChurnRate).Float64("lookup_hit_rate", c.LookupHitRate).
		Func(func(e *zerolog.Event) { c.fields(e, place, out.Run(), g.StartAt, c.Rate) }).
		Func(c.workerFlags.configFields)
	if metrics != nil {
		e = e.Str("controller_metrics", metrics.URL()).Bool("controller_metrics_idle", c.ControllerMetricsIdle)
	}
	c.shapeFields(e, shapes).Send()
}
