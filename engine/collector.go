package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/internal/cpus"
	"github.com/lmfast/lmfast/stats"
)

// collector turns the senders' counters and histograms into Interval
// values while each step runs, into each step's figures at its end, and
// into the final Result, and hands them to the group's Reporter.
type collector struct {
	g    *group
	rep  Reporter
	ops  []Op
	open bool // the run is paced: corrected histograms, due and dropped
	// The run so far (measured time only).
	service, correct [numOps]*hdrhistogram.Histogram
	sent, dropped    [numOps]int64
	due              int64
	elapsed, cpu     time.Duration
	start            time.Time // the first step's measured start
	// The step being collected.
	stepIndex                int              // its Index (0 outside a sweep)
	set                      stepSetting      // its setting
	from, last               time.Time        // its measured start; the previous interval's end
	prev                     [numOps][3]int64 // requests, messages, errors at the previous interval
	atStart                  [numOps][3]int64 // the same at the step's start
	clock                    cpuClock         // the reading the step started at
	stepService, stepCorrect [numOps]*hdrhistogram.Histogram
	// ivService and ivCorrect hold one interval's histograms, reused.
	ivService, ivCorrect [numOps]*hdrhistogram.Histogram
	mem                  []float64
	raw                  *rawWriter
}

func newCollector(g *group, rep Reporter) *collector {
	c := &collector{g: g, rep: rep, open: g.cfg.openLoop()}
	for _, m := range g.cfg.Mix {
		c.ops = append(c.ops, m.Op)
	}
	for _, op := range c.ops {
		c.service[op], c.ivService[op] = stats.NewHistogram(), stats.NewHistogram()
		if c.open {
			c.correct[op], c.ivCorrect[op] = stats.NewHistogram(), stats.NewHistogram()
		}
	}
	if g.cfg.Raw {
		c.raw = newRawWriter(rep, g.senders)
	}
	return c
}

// begin starts collecting a step, before the senders are handed it;
// clock is the reading the step's start was taken from.
func (c *collector) begin(st *stepRun, set stepSetting, clock cpuClock) {
	c.stepIndex, c.from, c.last, c.clock, c.set = set.index, st.measureFrom, st.measureFrom, clock, set
	if c.start.IsZero() {
		c.start = st.measureFrom
	}
	for _, op := range c.ops {
		r, m, e := c.counts(op)
		c.prev[op] = [3]int64{r, m, e}
		c.stepService[op] = stats.NewHistogram()
		if c.open {
			c.stepCorrect[op] = stats.NewHistogram()
		}
	}
	c.atStart = c.prev
}

// step collects one step (begun) until the senders finished it (done): an
// Interval every --interval once the warm-up is over, memory every
// second. On ctx's end it interrupts the group and stops the senders. It
// returns the step's figures and adds them to the run's.
func (c *collector) step(ctx context.Context, st *stepRun, set stepSetting, done <-chan struct{}) *Result {
	warm := time.NewTimer(time.Until(st.measureFrom))
	defer warm.Stop()
	var (
		tick      <-chan time.Time
		measuring bool
		cpuFrom   time.Duration
	)
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	// The CPU time is read when the measured time starts: with no warm-up,
	// in the same reading as the step's start; else when the warm-up's
	// timer fires, a scheduler's wake-up after it.
	// During a warm-up the controller's counts are still read every
	// --interval, unreported: a restart then is seen, and the first
	// measured interval receives only what followed the warm-up.
	var warmTick <-chan time.Time
	if set.warmup > 0 && c.readsIntake() {
		t := time.NewTicker(c.g.cfg.Interval)
		defer t.Stop()
		warmTick = t.C
	}
	measure := func() {
		warmTick = nil
		measuring, cpuFrom = true, cpus.ProcessTime()
		if set.warmup == 0 {
			cpuFrom = c.clock.cpu
		}
		ticker = time.NewTicker(c.g.cfg.Interval)
		tick = ticker.C
	}
	memTick := time.NewTicker(time.Second)
	defer memTick.Stop()
	progTick := time.NewTicker(time.Second)
	defer progTick.Stop()
	var rawTick <-chan time.Time
	if c.raw != nil {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		rawTick = t.C
	}
	ctxDone := ctx.Done()
	for {
		select {
		case <-ctxDone:
			ctxDone = nil
			c.g.stop.interrupt() // before the senders see stop: they read its budget
			close(st.stop)
		case <-warm.C:
			measure()
		case now := <-tick:
			c.interval(now)
		case <-warmTick:
			c.received()
		case <-memTick.C:
			if p, ok := MemoryPercent(); ok {
				c.mem = append(c.mem, p)
			}
		case <-progTick.C:
			c.progress(set, measuring)
		case <-rawTick:
			c.raw.drain()
		case <-done:
			// The measured time lasts at least the step's duration: an open
			// loop's last request may be answered before the deadline.
			// A run ended by --requests lasts until its last answer.
			clock := readCPUClock()
			end := clock.wall
			if end.Before(st.deadline) && !c.g.stop.isInterrupted() && !c.g.cfg.Requests.Spent() {
				end = st.deadline
			}
			if c.raw != nil {
				c.raw.drain()
			}
			if !measuring && !end.Before(st.measureFrom) {
				measure()
			}
			target, _ := c.g.targets(set, 0, set.duration)
			r := &Result{Config: c.g.reportConfig(), TargetRate: target, PoissonTarget: c.g.poissonTarget(), OpenLoop: c.open, Warmup: set.warmup,
				Ceiling: c.g.cfg.Ceiling, Start: st.measureFrom}
			if c.start.IsZero() {
				c.start = st.measureFrom
			}
			if measuring {
				c.interval(end) // the last, partial interval
				r.Elapsed, r.ProcessCPU = end.Sub(st.measureFrom), clock.cpu-cpuFrom
			}
			c.stepResult(r)
			return r
		}
	}
}

// stepResult fills r with the step's counts, histograms, sent, dropped
// and due, and adds them to the run's.
func (c *collector) stepResult(r *Result) {
	start := &c.atStart
	for _, op := range c.ops {
		req, msg, errs := c.counts(op)
		o := OpResult{Op: op, Requests: req - start[op][0], Messages: msg - start[op][1], Errors: errs - start[op][2],
			Service: c.stepService[op], Corrected: c.stepCorrect[op], ErrorCounts: map[string]int64{}}
		for _, s := range c.g.senders {
			o.Sent += s.stepSent[op]
			o.Dropped += s.stepDropped[op]
		}
		c.service[op].Merge(o.Service)
		if c.open {
			c.correct[op].Merge(o.Corrected)
		}
		c.sent[op] += o.Sent
		c.dropped[op] += o.Dropped
		r.Ops = append(r.Ops, o)
	}
	for _, s := range c.g.senders {
		r.Due += s.stepDue
	}
	c.due += r.Due
	c.elapsed += r.Elapsed
	c.cpu += r.ProcessCPU
}

// counts sums one op's counters over all senders.
func (c *collector) counts(op Op) (req, msg, errs int64) {
	for _, s := range c.g.senders {
		req += s.counts[op].requests.Load()
		msg += s.counts[op].messages.Load()
		errs += s.counts[op].errors.Load()
	}
	return
}

func (c *collector) interval(now time.Time) {
	secs := now.Sub(c.last).Seconds()
	if secs <= 0 {
		return
	}
	iv := &Interval{Proc: c.g.cfg.Proc, Step: c.stepIndex, End: now.Sub(c.start), Length: now.Sub(c.last), Received: c.received()}
	iv.TargetRate, iv.TargetConcurrency = c.g.targets(c.set, c.last.Sub(c.from), now.Sub(c.from))
	for _, op := range c.ops {
		svc := c.ivService[op]
		svc.Reset()
		var cor *hdrhistogram.Histogram
		if c.correct[op] != nil {
			cor = c.ivCorrect[op]
			cor.Reset()
		}
		for _, s := range c.g.senders {
			svc.Merge(s.service[op].TakeInterval())
			if cor != nil {
				cor.Merge(s.corrected[op].TakeInterval())
			}
		}
		c.stepService[op].Merge(svc)
		if cor != nil {
			c.stepCorrect[op].Merge(cor)
		}
		req, msg, errs := c.counts(op)
		iv.Ops = append(iv.Ops, OpInterval{Op: op, Requests: req - c.prev[op][0], Messages: msg - c.prev[op][1], Errors: errs - c.prev[op][2],
			Service: svc, Corrected: cor})
		c.prev[op] = [3]int64{req, msg, errs}
	}
	c.rep.Interval(iv)
	c.last = now
}

// received reads the controller's counts for an interval ending at now:
// the run's Intake, read by the group with Proc 0 only (it counts what
// every group sent); nil otherwise.
func (c *collector) received() *Received {
	if c.readsIntake() {
		return c.g.cfg.Intake.interval()
	}
	return nil
}

// readsIntake reports whether this group reads the run's Intake.
func (c *collector) readsIntake() bool {
	return c.g.cfg.Intake != nil && !c.g.cfg.Intake.IdleOnly && c.g.cfg.Proc == 0
}

// progress writes the human progress line of the step being run.
func (c *collector) progress(set stepSetting, measuring bool) {
	w := c.g.cfg.Progress
	if w == nil {
		return
	}
	step := ""
	if set.index > 0 {
		step = fmt.Sprintf(" step %d", set.index)
	}
	if !measuring {
		fmt.Fprintf(w, "\r[proc %d]%s warming up (%s, excluded)   ", c.g.cfg.Proc, step, set.warmup)
		return
	}
	var req, msg, errs int64
	for _, op := range c.ops {
		r, m, e := c.counts(op)
		req, msg, errs = req+r-c.atStart[op][0], msg+m-c.atStart[op][1], errs+e-c.atStart[op][2]
	}
	el := time.Since(c.from).Seconds()
	fmt.Fprintf(w, "\r[proc %d]%s %5.0fs  %d requests (%.0f/s)  %d messages (%.0f/s)  %d errors   ",
		c.g.cfg.Proc, step, el, req, float64(req)/el, msg, float64(msg)/el, errs)
}

// finish fills res with the run's totals (the sum of its steps, plus what
// the senders counted around them: registrations, teardown, frames sent
// during warm-ups), evaluates --fail-if and hands the errors and the
// summary to the Reporter.
func (c *collector) finish(res *Result) {
	cfg := c.g.cfg
	res.Elapsed, res.ProcessCPU, res.Start = c.elapsed, c.cpu, c.start
	res.OpenLoop, res.Due, res.TargetRate, res.Warmup = c.open, c.due, cfg.Rate, cfg.Warmup
	res.PoissonTarget = c.g.poissonTarget()
	if cfg.Sweep != nil {
		res.Warmup = cfg.Sweep.warmup
	} else {
		res.TargetRate, _ = c.g.targets(stepSetting{rate: cfg.Rate}, 0, cfg.Duration)
	}
	res.MemSamples = c.mem
	errs := map[errKey]int64{}
	first := map[errKey]time.Time{}
	for _, s := range c.g.senders {
		res.PushFrames += s.pushes
		res.KVOpsSent += s.kvOps
		res.PushBytes += s.pushBytes
		res.TeardownFrames += s.teardown.Load()
		if s == c.g.senders[0] && res.Workers != nil {
			res.PushFrames += res.Workers.SyncFrames
		}
		s.errMu.Lock()
		for k, v := range s.errs {
			errs[k] += v
			if t, ok := first[k]; !ok || s.firstE[k].Before(t) {
				first[k] = s.firstE[k]
			}
		}
		s.errMu.Unlock()
		if s.samples != nil {
			res.SamplesDropped += s.samplesDropped.Load()
		}
		res.SenderCPUs = append(res.SenderCPUs, s.ranOn)
	}
	if c.raw != nil {
		res.SamplesWritten = c.raw.written
		res.SamplesDropped += c.raw.lost
	}
	for _, op := range c.ops {
		req, msg, n := c.counts(op)
		o := OpResult{Op: op, Requests: req, Messages: msg, Errors: n, Service: c.service[op], Corrected: c.correct[op],
			ErrorCounts: map[string]int64{}, Sent: c.sent[op], Dropped: c.dropped[op]}
		for k, v := range errs {
			if k.op == op {
				o.ErrorCounts[k.msg] += v
			}
		}
		res.Ops = append(res.Ops, o)
	}
	if len(cfg.FailIf) > 0 {
		res.FailIf = slo.Evaluate(cfg.FailIf, res.Observed())
	}
	// Pre-registration errors are counted under "register" even when the
	// mix has no register op.
	for k, n := range errs {
		res.Errors = append(res.Errors, ErrorCount{Op: k.op, Text: k.msg, Count: n, First: first[k]})
	}
	sortErrors(res.Errors)
	c.rep.Errors(res.Errors)
	c.rep.Summary(res)
}
