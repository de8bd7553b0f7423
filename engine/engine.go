package engine

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// group is one engine group's shared state.
type group struct {
	cfg     *Config
	zctx    *zmq.Context
	hbURL   atomic.Pointer[string]
	senders []*sender
	agent   *agent // the workers' heartbeats and full syncs; nil without
	stop    *stopState
	joined  bool // it took part in its sweep (or left it)
}

func (g *group) heartbeatURL() string {
	if p := g.hbURL.Load(); p != nil {
		return *p
	}
	return ""
}

// learnHeartbeatURL records the heartbeat URL from the first RegisterRetMsg
// that carries one, normalised as LMCache's tool does (docs/protocol.md, "Benchmark sockets"): strip
// "tcp://", and when the pull endpoint is on loopback but the returned host
// is not, use 127.0.0.1.
func (g *group) learnHeartbeatURL(raw string) {
	if g.hbURL.Load() != nil {
		return
	}
	u := NormalizeHeartbeatURL(raw, g.cfg.PullEndpoint)
	g.hbURL.CompareAndSwap(nil, &u)
}

// NormalizeHeartbeatURL turns a controller-given heartbeat URL into a ZMQ
// endpoint (docs/protocol.md, "Benchmark sockets").
func NormalizeHeartbeatURL(raw, pullEndpoint string) string {
	hostport := strings.TrimPrefix(raw, "tcp://")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "tcp://" + hostport
	}
	pullHost := ""
	if u, err := url.Parse(pullEndpoint); err == nil {
		pullHost = u.Hostname()
	}
	if (pullHost == "127.0.0.1" || pullHost == "localhost") && host != "127.0.0.1" && host != "localhost" {
		host = "127.0.0.1"
	}
	return "tcp://" + net.JoinHostPort(host, port)
}

// IOThreads is the number of libzmq I/O threads the engine gives a group
// of senders: one per two senders, at least one.
func IOThreads(senders int) int { return max(1, (senders+1)/2) }

// Hooks lets a caller observe a run as it goes.
type Hooks struct {
	// Started is called once the timed run starts (after pre-registration).
	Started func()
	// Stopped is called once the load and the workers' heartbeats and
	// syncs stopped, before the workers are deregistered, with the PUSH
	// frames sent until then.
	Stopped func(framesSent int64)
	// Registered is called once the pre-registration is over (also when
	// there was none) with the group's counts; the timed run starts only
	// if it returns true. Without it, the run starts unless every
	// pre-registration failed. Several groups can agree through it on one
	// decision for the whole run.
	Registered func(ok, failed int64) bool
}

// RegisterError is Run's error when no worker could be pre-registered, so
// no load was sent.
type RegisterError struct {
	Failed int64  // registrations that failed
	Reason string // the most frequent error text
}

func (e *RegisterError) Error() string {
	return fmt.Sprintf("pre-registration failed for all %d workers: %s", e.Failed, e.Reason)
}

// Run executes one engine group: pre-registration, the timed run, the
// end-of-run deregistration and the drain, handing what it measures to rep
// as it goes and returning the final figures. Cancelling ctx stops the group early,
// whatever it is doing: within StopBudget it deregisters the workers it
// registered, lets its queues drain, and returns everything measured until
// then with Interrupted set.
func Run(ctx context.Context, cfg Config, rep Reporter, hooks Hooks) (*Result, error) {
	var g *group
	if sw := cfg.Sweep; sw != nil {
		defer func() {
			if g == nil || !g.joined {
				sw.leave() // the other groups do not wait for this one
			}
		}()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RingSize == 0 {
		cfg.RingSize = 1024
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.RegisterTimeout == 0 {
		cfg.RegisterTimeout = 10 * time.Second
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("zmq context: %w", err)
	}
	_ = zctx.SetIoThreads(IOThreads(cfg.Senders))
	g = &group{cfg: &cfg, zctx: zctx, stop: newStopState()}
	if cfg.HeartbeatEndpoint != "" {
		hb := cfg.HeartbeatEndpoint
		g.hbURL.Store(&hb)
	}

	// Partition the (instance, worker) pairs across senders.
	nSenders := min(cfg.Senders, cfg.pairsCount())
	insts := newInstances(&cfg)
	parts := make([][][2]int, nSenders)
	n := 0
	for i := 0; i < cfg.NumInstances; i++ {
		for w := 0; w < cfg.NumWorkers; w++ {
			parts[n%nSenders] = append(parts[n%nSenders], [2]int{i, w})
			n++
		}
	}
	for i := 0; i < nSenders; i++ {
		cpu := -1
		if cfg.CPUs != nil {
			cpu = cfg.CPUs[i]
		}
		s, err := newSender(i, &cfg, g, cpu, newPairs(&cfg, insts, parts[i]))
		parts[i] = nil
		if err != nil {
			zctx.Term()
			return nil, err
		}
		g.senders = append(g.senders, s)
	}
	if cfg.Intake != nil {
		cfg.Intake.add(g)
	}
	unwatch := context.AfterFunc(ctx, g.stop.interrupt)
	defer unwatch()
	return g.run(ctx, rep, hooks)
}

func (g *group) run(ctx context.Context, rep Reporter, hooks Hooks) (*Result, error) {
	cfg := g.cfg
	res := &Result{Config: g.reportConfig(), Ceiling: cfg.Ceiling}

	// Every sender's goroutine owns its sockets from creation to close, so a
	// pinned sender keeps them on its CPU's thread. It runs the steps it is
	// handed, then deregisters its workers and closes its sockets.
	var (
		setupDone   = make(chan error, len(g.senders))
		regDone     sync.WaitGroup
		finished    sync.WaitGroup
		regStart    = time.Now()
		regDeadline = regStart.Add(cfg.RegisterTimeout)
	)
	regDone.Add(len(g.senders))
	finished.Add(len(g.senders))
	for _, s := range g.senders {
		go func() {
			defer finished.Done()
			err := s.pin()
			if err == nil {
				err = s.openSockets()
			}
			if err == nil && cfg.RegisterFirst {
				s.register(regDeadline)
			}
			regDone.Done()
			regDone.Wait() // the heartbeat URL is known after every sender registered
			if err == nil {
				if hb := g.heartbeatURL(); hb != "" && hasOp(cfg.Mix, OpHeartbeat) {
					err = s.openHeartbeat(hb)
				}
			}
			setupDone <- err
			for st := range s.steps {
				if err == nil && len(s.load) > 0 {
					s.runStep(st)
				}
				st.done.Done()
			}
			if s.push != nil {
				t0 := time.Now()
				s.deregisterAll()
				s.teardownTime = time.Since(t0)
			}
			s.closeSockets()
		}()
	}
	endSteps := func() {
		for _, s := range g.senders {
			close(s.steps)
		}
	}
	var setupErr error
	for range g.senders {
		if err := <-setupDone; err != nil && setupErr == nil {
			setupErr = err
		}
	}
	for _, s := range g.senders {
		res.RegisteredOK += int64(s.regOK)
		res.RegisterFailed += int64(s.regFailed)
	}
	if cfg.RegisterFirst {
		res.RegisterTime = time.Since(regStart)
	}
	proceed := setupErr == nil
	if hooks.Registered != nil {
		proceed = hooks.Registered(res.RegisteredOK, res.RegisterFailed) && proceed
	} else if cfg.RegisterFirst && res.RegisteredOK == 0 && res.RegisterFailed > 0 {
		proceed = false
	}
	if g.stop.isInterrupted() && setupErr == nil {
		proceed = true // no load, but a summary of what was done
	}
	if !proceed {
		err := setupErr
		if err == nil {
			err = g.registerError()
		}
		// Deregister what may have been registered, quickly, and leave.
		g.stop.hurryBy(time.Now().Add(StopBudget))
		endSteps()
		finished.Wait()
		g.terminate()
		return nil, err
	}
	prodStop := make(chan struct{})
	var prodDone sync.WaitGroup
	if !g.stop.isInterrupted() {
		g.assignLoad()
		g.startProducers(prodStop, &prodDone)
	}

	if cfg.HeartbeatInterval > 0 && !g.stop.isInterrupted() {
		if err := g.startAgent(); err != nil {
			g.stop.hurryBy(time.Now().Add(StopBudget))
			endSteps()
			finished.Wait()
			close(prodStop)
			prodDone.Wait()
			g.terminate()
			return nil, err
		}
	}

	// --start-at: every process of the run starts its load at one instant.
	// Stopped while waiting, the group sends no load, as when stopped
	// during registration.
	if !waitForStart(ctx, g.stop.interrupted, cfg.StartAt) {
		for _, s := range g.senders {
			s.load = nil
		}
	}

	// The steps: one, or a sweep's.
	col := newCollector(g, rep)
	g.joined = true
	var (
		prev    *Result
		prevSet stepSetting
	)
	for first := true; ; first = false {
		set, ok := g.nextStep(prev, first)
		if prev != nil && cfg.Sweep != nil {
			cfg.Sweep.reportGroup(rep, prev, prevSet.index)
		}
		if !ok {
			break
		}
		prev, prevSet = g.runStep(ctx, col, set, hooks, first), set
	}
	if g.agent != nil { // before the deregistration: a heartbeat would register again
		res.Workers = g.agent.close()
		for _, s := range g.senders {
			res.Workers.FrozenSkipped += s.frozenSkipped.Load()
		}
	}
	if hooks.Stopped != nil {
		hooks.Stopped(g.framesSent())
	}
	endSteps()
	finished.Wait() // deregistered, sockets closed
	for _, s := range g.senders {
		res.TeardownTime = max(res.TeardownTime, s.teardownTime)
	}
	close(prodStop)
	prodDone.Wait()

	// Drain: closing the context waits until every PUSH socket handed its
	// queue to the network, its linger (DrainTimeout, or what is left of
	// the stop budget) ran out, or the stop budget ran out.
	drainStart := time.Now()
	res.Drained = g.terminate()
	res.DrainTime = time.Since(drainStart)
	res.Interrupted = g.stop.isInterrupted()
	if in := cfg.Intake; in != nil && cfg.NumProcesses <= 1 {
		res.Intake = in.Settle(g.framesSent(), g.settleTimeout())
	}

	col.finish(res)
	return res, nil
}

// reportConfig is the part of the configuration the human report prints.
func (g *group) reportConfig() ReportConfig {
	cfg := g.cfg
	return ReportConfig{PullURL: strings.TrimPrefix(cfg.PullEndpoint, "tcp://"), Duration: cfg.Duration,
		BatchSize: cfg.BatchSize, Mix: cfg.Mix, NumInstances: cfg.NumInstances, NumWorkers: cfg.NumWorkers,
		NumLocations: cfg.NumLocations, NumKeys: cfg.NumKeys, NumProcesses: max(1, cfg.NumProcesses), Proc: cfg.Proc,
		Pacing: g.pacing()}
}

// nextStep returns the group's next step: without a sweep, the one step
// of Duration (none when interrupted first); with one, what the sweep
// decides once every group finished the step before (prev).
func (g *group) nextStep(prev *Result, first bool) (stepSetting, bool) {
	cfg := g.cfg
	if cfg.Sweep != nil {
		return cfg.Sweep.next(prev, g.stop.isInterrupted())
	}
	if !first || g.stop.isInterrupted() {
		return stepSetting{}, false
	}
	return stepSetting{rate: cfg.Rate, concurrency: cfg.Concurrency, warmup: cfg.Warmup, duration: cfg.Duration}, true
}

// runStep runs one step on every sender and returns its figures.
func (g *group) runStep(ctx context.Context, col *collector, set stepSetting, hooks Hooks, first bool) *Result {
	cfg := g.cfg
	clock := readCPUClock()
	start := clock.wall
	st := &stepRun{start: start, measureFrom: start.Add(set.warmup), lanes: set.concurrency, grace: cfg.LateGrace,
		stop: make(chan struct{}), pacers: make([]Pacer, len(g.senders))}
	st.deadline = st.measureFrom.Add(set.duration)
	g.pace(st, set)
	if first && hooks.Started != nil {
		hooks.Started()
	}
	col.begin(st, set, clock)
	st.done.Add(len(g.senders))
	for _, s := range g.senders {
		s.steps <- st
	}
	done := make(chan struct{})
	go func() { st.done.Wait(); close(done) }()
	return col.step(ctx, st, set, done)
}

// registerError describes a pre-registration in which every worker failed,
// by its most frequent error.
func (g *group) registerError() *RegisterError {
	e := &RegisterError{}
	counts := map[string]int64{}
	for _, s := range g.senders {
		e.Failed += int64(s.regFailed)
		s.errMu.Lock()
		for k, n := range s.errs {
			if k.op == OpRegister {
				counts[k.msg] += n
			}
		}
		s.errMu.Unlock()
	}
	for msg, n := range counts {
		if n > counts[e.Reason] || (n == counts[e.Reason] && msg < e.Reason) {
			e.Reason = msg
		}
	}
	e.Reason = strings.TrimPrefix(e.Reason, preRegistration)
	return e
}

// assignLoad decides which workers each sender loads. When no
// registration failed (every worker was registered, or there was no reply
// endpoint to register on) each sender keeps its own. Otherwise
// the registered workers of the whole group are dealt round-robin, in
// their original order, so that the load goes only to registered workers
// and stays spread over the senders. A sender then deregisters at the end
// exactly the workers it loaded, so that each DeRegisterMsg follows that
// worker's last batch on the same PUSH socket.
func (g *group) assignLoad() {
	failed := 0
	for _, s := range g.senders {
		failed += s.regFailed
	}
	if !g.cfg.RegisterFirst || failed == 0 { // all registered, or nothing to register on
		for _, s := range g.senders {
			s.load = s.pairs
		}
		return
	}
	var registered []*pair
	for k := 0; ; k++ {
		more := false
		for _, s := range g.senders {
			if k < len(s.pairs) {
				more = true
				if s.pairs[k].registered {
					registered = append(registered, s.pairs[k])
				}
			}
		}
		if !more {
			break
		}
	}
	for _, s := range g.senders {
		s.load = nil
	}
	for i, p := range registered {
		s := g.senders[i%len(g.senders)]
		s.load = append(s.load, p)
	}
	for _, s := range g.senders {
		s.registered = s.load
	}
}

// startProducers starts a producer for every sender with workers to load
// and waits (at most a second) until their rings are full, so that the
// timed run starts with operations ready as a run without pre-registration
// does.
func (g *group) startProducers(stop <-chan struct{}, done *sync.WaitGroup) {
	cfg := g.cfg
	for i, s := range g.senders {
		if len(s.load) == 0 {
			continue
		}
		p := newProducer(cfg, s.load, cfg.Seed+uint64(cfg.Proc)*1_000_003+uint64(i)*7919)
		s.schedule = p.schedule // read-only from here on
		if cfg.WorkerRate > 0 {
			s.arrivals = newWorkerArrivals(cfg.Arrival, len(s.load), cfg.WorkerRate, cfg.Seed+uint64(cfg.Proc)*1_000_003+uint64(i)*7919)
			p.cycle = s.arrivals.cycle()
		}
		done.Add(1)
		go func() {
			defer done.Done()
			produce(s, p, stop)
		}()
	}
	limit := time.Now().Add(time.Second)
	for _, s := range g.senders {
		for len(s.load) > 0 && s.queue.Len() < s.queue.Cap() && time.Now().Before(limit) {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

func hasOp(mix []OpShare, op Op) bool {
	for _, m := range mix {
		if m.Op == op && m.Pct > 0 {
			return true
		}
	}
	return false
}

// produce keeps a sender's ring full of encoded operations until stop.
// Once the ring is full it waits until the sender has taken half of it
// before refilling, sleeping about as long as the sender needs for that at
// the rate it drains the ring: a couple of wake-ups per half ring, not one
// per freed slot. On a machine with few cores every wake-up costs CPU time
// that the sender and libzmq's I/O threads need.
func produce(s *sender, p *producer, stop <-chan struct{}) {
	const minWait, maxWait = 20 * time.Microsecond, 2 * time.Millisecond
	half := s.queue.Cap() / 2
	perItem := time.Microsecond // the sender's drain time per item, learned
	for {
		for {
			it, ok := s.queue.Reserve()
			if !ok {
				break
			}
			p.fill(it)
			s.queue.Publish()
		}
		for n := s.queue.Len(); n > half; {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			time.Sleep(min(max(time.Duration(n-half)*perItem, minWait), maxWait))
			left := s.queue.Len()
			if taken := n - left; taken > 0 {
				perItem = time.Since(t0) / time.Duration(taken)
			} else {
				perItem = min(2*perItem, maxWait)
			}
			n = left
		}
	}
}
