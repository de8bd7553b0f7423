package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/wire"
)

func init() {
	register("churn", func(p Params) Scenario { return &churn{params: p} })
}

// churn runs beside the engine's steady load: at --churn-rate events per
// second a worker of its own ("churn_p{proc}_{n}", worker 0) joins or
// leaves. A join is a RegisterMsg answered on its DEALER, then one admit
// batch of the worker's own churnKeys keys in location_0; a leave is a
// DeRegisterMsg on its PUSH socket. Each event is a join or a leave with
// even odds; a join when none is joined, a leave when as many are joined
// as the run has instance × worker pairs.
//
// lmfast's model of who is registered is checked three ways:
//   - lookups: after a join, a lookup of the worker's keys (from an
//     instance no worker belongs to, so nobody is skipped) must answer
//     exactly that worker, location_0 and churnKeys hits once its admit is
//     applied (a miss until then); after a leave it must answer the miss
//     tuple once the DeRegisterMsg is applied (that worker until then).
//     Anything else is an error at once; a state not reached within the
//     request timeout is an error too.
//   - the registered count over time: every interval, the controller's
//     worker list (GET /controller/workers) against the model.
//   - the end state: once the engine deregistered its workers, the
//     controller's list of the run's workers must equal the model's
//     joined churn workers (waiting up to churnSettle for the PUSH
//     messages to apply); after the scenario deregisters those, it must
//     hold none of them.
type churn struct {
	params Params
	env    Env
	cfg    engine.Config
	cl     *client
	sent   sent
	rng    *rand.Rand
	prefix string // churn workers' instance prefix
	own    string // the engine's instance prefix

	pool   []*churnWorker // joined and not left, in join order
	cap    int
	next   int
	checks []*churnCheck
	errs   *errorLog

	joins, leaves, lookups atomic.Int64
	visible                visibleStats

	ivJoins, ivLeaves int64 // at the previous interval line (Interval's own)
	started           time.Time
	ranFor            time.Duration
}

// churnWorker is one worker the scenario joined.
type churnWorker struct {
	n    int
	name workerName
	peer string
	keys []wire.Int
}

// churnCheck awaits a worker's join or leave seen by lookups.
type churnCheck struct {
	w        *churnWorker
	leave    bool
	since    time.Time
	deadline time.Time
}

// visibleStats is how long joins took to be seen by a lookup.
type visibleStats struct {
	n        int64
	sum, max time.Duration
}

// churnKeys is how many keys a churn worker admits.
const churnKeys = 4

// churnKeyBase is the first churn worker's first key: far above any
// --num-keys, so no other worker holds them.
const churnKeyBase = 1 << 50

// churnSettle bounds the wait for the controller's worker list to match
// when the run has no --drain-timeout.
const churnSettle = 10 * time.Second

func (c *churn) Name() string { return "churn" }

// Prepare needs the reply socket and the controller's HTTP API.
func (c *churn) Prepare(cfg *engine.Config, env Env) error {
	if c.params.ChurnRate <= 0 {
		return fmt.Errorf("--scenario churn needs --churn-rate above 0 (joins and leaves per second)")
	}
	if cfg.ReplyEndpoint == "" {
		return fmt.Errorf("--scenario churn needs the controller's reply port in --monitor-ports (joins are RegisterMsg)")
	}
	if env.HTTP == "" {
		return fmt.Errorf("--scenario churn reads the controller's worker list: use --embedded, or --controller-metrics http://HOST:PORT/metrics (that HOST:PORT serves /controller/workers)")
	}
	c.env, c.cfg = env, *cfg
	c.rng = rand.New(rand.NewPCG(cfg.Seed, 0x636875726e))
	c.prefix = fmt.Sprintf("churn_p%d_", cfg.Proc)
	c.own = strings.TrimSuffix(engine.InstanceID(cfg.Proc, 0), "0")
	c.cap = max(1, cfg.NumInstances*cfg.NumWorkers)
	c.errs = newErrorLog("churn")
	cfg.ExtraFrames = &c.sent.frames
	return nil
}

// Setup opens the scenario's sockets and checks that none of its workers
// is registered already.
func (c *churn) Setup(ctx context.Context) error {
	var err error
	if c.cl, err = newClient(c.cfg.PullEndpoint, c.cfg.ReplyEndpoint, requestTimeout(c.cfg), &c.sent); err != nil {
		return err
	}
	list, err := listWorkers(ctx, c.env.HTTP)
	if err != nil {
		return fmt.Errorf("churn: reading the controller's worker list: %v", err)
	}
	if ours := c.ours(list, false); len(ours) > 0 {
		return fmt.Errorf("churn: the controller already has %d churn workers of this process, e.g. %s (left by another run?)", len(ours), ours[0])
	}
	c.env.Out.Event("scenario").Str("scenario", c.Name()).Str("phase", "start").
		Float64("churn_rate", c.params.ChurnRate).Int("max_joined", c.cap).Int("keys_per_worker", churnKeys).Send()
	fmt.Fprintf(c.env.Log, "lmfast: scenario churn: %g joins or leaves per second, at most %d joined at once\n", c.params.ChurnRate, c.cap)
	return nil
}

// ours returns the listed workers of this run: the churn workers, and
// with engine the engine's workers too.
func (c *churn) ours(list []workerName, engine bool) []workerName {
	var out []workerName
	for _, w := range list {
		if strings.HasPrefix(w.Instance, c.prefix) || engine && strings.HasPrefix(w.Instance, c.own) {
			out = append(out, w)
		}
	}
	return out
}

// Run churns until ctx ends. Event k is due at k/--churn-rate seconds
// after the start; events that fell behind (a slow registration, a round
// of check lookups) are run back to back, so the rate achieved is the
// rate asked for unless the controller's answers cannot keep up (the end
// line's achieved_rate says).
func (c *churn) Run(ctx context.Context) {
	c.started = time.Now()
	defer func() { c.ranFor = time.Since(c.started) }()
	period := time.Duration(float64(time.Second) / c.params.ChurnRate)
	timer := time.NewTimer(period)
	defer timer.Stop()
	for k := int64(1); ; {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		for ran := 0; ctx.Err() == nil && ran < maxCatchUp && !time.Now().Before(c.started.Add(time.Duration(k)*period)); ran++ {
			c.event(ctx)
			k++
		}
		c.runChecks(ctx, time.Now())
		timer.Reset(max(0, time.Until(c.started.Add(time.Duration(k)*period))))
	}
}

// maxCatchUp bounds the late events run before the checks get a turn.
const maxCatchUp = 64

// event joins or leaves one worker.
func (c *churn) event(ctx context.Context) {
	if len(c.pool) == 0 || len(c.pool) < c.cap && c.rng.IntN(2) == 0 {
		c.join(ctx)
	} else {
		c.leave(c.rng.IntN(len(c.pool)))
	}
}

func (c *churn) join(ctx context.Context) {
	n := c.next
	c.next++
	w := &churnWorker{n: n, name: workerName{Instance: fmt.Sprintf("%s%d", c.prefix, n)},
		peer: fmt.Sprintf("tcp://%s:20000", engine.WorkerIP(n))}
	for j := 0; j < churnKeys; j++ {
		w.keys = append(w.keys, wire.IntOf(churnKeyBase+int64(n*churnKeys+j)))
	}
	peer := w.peer
	reply, err := c.cl.request(ctx, wire.RegisterMsg{InstanceID: w.name.Instance, WorkerID: 0, IP: engine.WorkerIP(n),
		Port: 20000, PeerInitURL: &peer}.AppendMsgpack(nil))
	why := ""
	if err != nil {
		why = err.Error()
	} else {
		why = registerReply(reply)
	}
	if why != "" {
		if ctx.Err() == nil {
			c.errs.add("churn: join failed: " + why)
		}
		return
	}
	c.pool = append(c.pool, w)
	c.joins.Add(1)
	batch := wire.NewBatchEncoder(w.name.Instance, 0, engine.LocationName(0)).AppendKeys(nil, wire.OpAdmit, w.keys, 0)
	if err := c.cl.send(batch, len(w.keys)); err != nil {
		c.errs.add("churn: admit of a joined worker's keys not sent: " + err.Error())
		return
	}
	now := time.Now()
	c.checks = append(c.checks, &churnCheck{w: w, since: now, deadline: now.Add(requestTimeout(c.cfg))})
}

func (c *churn) leave(i int) {
	w := c.pool[i]
	c.pool = append(c.pool[:i], c.pool[i+1:]...)
	c.leaves.Add(1)
	if err := c.cl.send(c.deregister(w), 0); err != nil {
		c.errs.add("churn: DeRegisterMsg not sent: " + err.Error())
	}
	kept := c.checks[:0]
	for _, ch := range c.checks {
		if ch.w != w { // its join needs no more checking
			kept = append(kept, ch)
		}
	}
	c.checks = kept
	now := time.Now()
	c.checks = append(c.checks, &churnCheck{w: w, leave: true, since: now, deadline: now.Add(requestTimeout(c.cfg))})
}

func (c *churn) deregister(w *churnWorker) []byte {
	return wire.DeRegisterMsg{InstanceID: w.name.Instance, WorkerID: 0, IP: engine.WorkerIP(w.n), Port: 20000}.AppendMsgpack(nil)
}

// maxChecksPerEvent bounds the lookups sent after one event.
const maxChecksPerEvent = 64

// runChecks looks up the keys of the workers awaiting a check and settles
// those whose lookup shows the event applied, or wrong, or whose time ran
// out.
func (c *churn) runChecks(ctx context.Context, now time.Time) {
	n := min(len(c.checks), maxChecksPerEvent)
	if n == 0 {
		return
	}
	batch := c.checks[:n]
	payloads := make([][]byte, n)
	for i, ch := range batch {
		payloads[i] = wire.BatchedP2PLookupMsg{Hashes: ch.w.keys, InstanceID: probeInstance}.AppendMsgpack(nil)
	}
	replies, errs := c.cl.requests(ctx, payloads, n)
	var kept []*churnCheck
	for i, ch := range batch {
		if errs[i] != nil {
			if ctx.Err() == nil {
				c.errs.add("churn: check lookup failed: " + errs[i].Error())
			}
			continue
		}
		c.lookups.Add(1)
		if !c.settle(ch, replies[i], now) {
			kept = append(kept, ch)
		}
	}
	c.checks = append(kept, c.checks[n:]...)
}

// settle judges one check's lookup reply; it reports whether the check is
// over.
func (c *churn) settle(ch *churnCheck, m wire.Msg, now time.Time) bool {
	r, ok := m.(*wire.BatchedP2PLookupRetMsg)
	if !ok || len(r.LayoutInfo) != 1 {
		c.errs.add("churn: unexpected reply " + m.TypeName() + " to a lookup")
		return true
	}
	got := r.LayoutInfo[0]
	held := wire.LayoutInfo{InstanceID: ch.w.name.Instance, Location: engine.LocationName(0), NumHitChunks: churnKeys, PeerInitURL: ch.w.peer}
	miss := wire.LayoutInfo{}
	done, pending := held, miss // a join: done once held
	if ch.leave {
		done, pending = miss, held
	}
	switch got {
	case done:
		if !ch.leave {
			d := now.Sub(ch.since)
			c.visible.n++
			c.visible.sum += d
			c.visible.max = max(c.visible.max, d)
		}
		return true
	case pending:
		if now.Before(ch.deadline) {
			return false
		}
		if ch.leave {
			c.errs.add(fmt.Sprintf("churn: a worker that left is still returned by lookups %s after its DeRegisterMsg", requestTimeout(c.cfg)))
		} else {
			c.errs.add(fmt.Sprintf("churn: a joined worker's keys are not found by lookups %s after its admit", requestTimeout(c.cfg)))
		}
		return true
	}
	what := "joined"
	if ch.leave {
		what = "left"
	}
	c.errs.add(fmt.Sprintf("churn: a lookup of the keys of %s (%s) answered %s, want %s or %s", ch.w.name, what, tuple(got), tuple(done), tuple(pending)))
	return true
}

// Interval writes the joins, leaves and errors of the interval and the
// registered churn workers, lmfast's count and the controller's list read
// right after it (a DeRegisterMsg still on its way shows as a difference).
func (c *churn) Interval(end time.Duration) {
	joins, leaves := c.joins.Load(), c.leaves.Load()
	dj, dl := joins-c.ivJoins, leaves-c.ivLeaves
	c.ivJoins, c.ivLeaves = joins, leaves
	serverChurn, serverTotal, readErr := -1, 0, ""
	if list, err := listWorkers(context.Background(), c.env.HTTP); err != nil {
		readErr = err.Error()
	} else {
		serverChurn, serverTotal = len(c.ours(list, false)), len(list)
	}
	e := c.env.Out.Event("scenario").Str("scenario", c.Name()).Str("phase", "interval").Float64("t_s", end.Seconds()).
		Int64("joins", dj).Int64("leaves", dl).Int64("joins_total", joins).Int64("leaves_total", leaves).
		Int64("registered", joins-leaves).Int64("errors_total", c.errs.total.Load()).Int64("lookups_total", c.lookups.Load())
	if serverChurn >= 0 {
		e = e.Int("registered_server", serverChurn).Int("registered_server_all", serverTotal)
	}
	if readErr != "" {
		e = e.Str("read_error", readErr)
	}
	e.Send()
}

// Finish settles the pending checks, compares the controller's worker
// list with the model, deregisters the churn workers and checks that the
// controller let them all go.
func (c *churn) Finish(ctx context.Context, res *engine.Result, interrupted bool) error {
	if c.cl == nil {
		return nil
	}
	settle := c.cfg.DrainTimeout
	if settle <= 0 {
		settle = churnSettle
	}
	if interrupted {
		// One reading of each state, within the second an interrupted
		// run has; a difference then may be messages still on their way.
		settle = 0
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 300*time.Millisecond)
		defer cancel()
	}
	// Checks still open: look again until each is settled or its time is up.
	for until := time.Now().Add(requestTimeout(c.cfg)); len(c.checks) > 0 && !interrupted; {
		now := time.Now()
		c.runChecks(ctx, now)
		if now.After(until) || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	model := make([]workerName, 0, len(c.pool))
	for _, w := range c.pool {
		model = append(model, w.name)
	}
	endMissing, endExtra, endWait, endErr := c.await(ctx, model, settle)
	if endErr == nil && (len(endMissing) > 0 || len(endExtra) > 0) && !interrupted {
		c.errs.add("churn: after the run the controller's worker list differs from lmfast's model")
	}
	for _, w := range c.pool {
		_ = c.cl.send(c.deregister(w), 0)
	}
	downMissing, downExtra, downWait, downErr := c.await(ctx, nil, settle)
	if downErr == nil && len(downExtra) > 0 && !interrupted {
		c.errs.add("churn: after the churn workers' DeRegisterMsg the controller still lists some of them")
	}
	for _, err := range []error{endErr, downErr} {
		if err != nil && !interrupted {
			c.errs.add("churn: reading the controller's worker list: " + err.Error())
		}
	}
	linger := c.cfg.DrainTimeout
	if interrupted {
		linger = 200 * time.Millisecond
	}
	c.cl.close(linger)
	_ = downMissing
	c.errs.write(c.env.Out)
	joins, leaves, errs := c.joins.Load(), c.leaves.Load(), c.errs.total.Load()
	rate := 0.0
	if c.ranFor > 0 {
		rate = float64(joins+leaves) / c.ranFor.Seconds()
	}
	equal := endErr == nil && len(endMissing) == 0 && len(endExtra) == 0
	e := c.env.Out.Event("scenario").Str("scenario", c.Name()).Str("phase", "end").
		Int64("joins", joins).Int64("leaves", leaves).Int64("errors", errs).Float64("churn_rate", c.params.ChurnRate).
		Float64("achieved_rate", rate).Int64("lookups", c.lookups.Load()).
		Int("registered_model", len(model)).Bool("state_equal", equal).
		Strs("missing", names(endMissing, 10)).Strs("extra", names(endExtra, 10)).Float64("state_wait_s", endWait.Seconds()).
		Bool("teardown_equal", downErr == nil && len(downExtra) == 0).Float64("teardown_wait_s", downWait.Seconds()).
		Bool("interrupted", interrupted)
	if c.visible.n > 0 {
		e = e.Float64("join_visible_mean_ms", float64(c.visible.sum.Microseconds())/1e3/float64(c.visible.n)).
			Float64("join_visible_max_ms", float64(c.visible.max.Microseconds())/1e3)
	}
	e.Bool("ok", errs == 0).Send()
	fmt.Fprintf(c.env.Log, "lmfast: scenario churn: %d joins, %d leaves (%.1f/s), %d lookups checked, %d errors; worker list equal to lmfast's model at the end: %v (%d workers)\n",
		joins, leaves, rate, c.lookups.Load(), errs, equal, len(model))
	if errs > 0 {
		return fmt.Errorf("churn: %d checks failed (see the error lines)", errs)
	}
	return nil
}

// await reads the controller's worker list until this run's workers in it
// (churn and engine) are exactly want, or settle passed; it returns the
// last difference and how long it waited.
func (c *churn) await(ctx context.Context, want []workerName, settle time.Duration) (missing, extra []workerName, waited time.Duration, err error) {
	start := time.Now()
	for {
		var list []workerName
		if list, err = listWorkers(ctx, c.env.HTTP); err == nil {
			missing, extra = setDiff(want, c.ours(list, true))
			if len(missing) == 0 && len(extra) == 0 {
				return nil, nil, time.Since(start), nil
			}
		}
		if time.Since(start) >= settle || ctx.Err() != nil {
			return missing, extra, time.Since(start), err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Extra returns the frames the scenario pushed.
func (c *churn) Extra() (int64, int64) { return c.sent.frames.Load(), c.sent.kvOps.Load() }
