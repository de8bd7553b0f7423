package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine/stats"
)

// collector turns the senders' counters and histograms into Interval
// values while the run goes, and into the final Result, and hands them to
// the group's Reporter.
type collector struct {
	g       *group
	rep     Reporter
	start   time.Time
	last    time.Time
	ops     []Op
	prev    [numOps][3]int64 // requests, messages, errors at the previous interval
	service [numOps]*hdrhistogram.Histogram
	correct [numOps]*hdrhistogram.Histogram
	// ivService and ivCorrect hold one interval's histograms, reused.
	ivService, ivCorrect [numOps]*hdrhistogram.Histogram
	mem                  []float64
	raw                  *rawWriter
}

func newCollector(g *group, rep Reporter, start time.Time) *collector {
	c := &collector{g: g, rep: rep, start: start, last: start}
	for _, m := range g.cfg.Mix {
		c.ops = append(c.ops, m.Op)
	}
	for _, op := range c.ops {
		c.service[op], c.ivService[op] = stats.NewHistogram(), stats.NewHistogram()
		if g.cfg.Rate > 0 {
			c.correct[op], c.ivCorrect[op] = stats.NewHistogram(), stats.NewHistogram()
		}
	}
	if g.cfg.Raw {
		c.raw = newRawWriter(rep, g.senders)
	}
	return c
}

// loop emits an interval line every Interval and samples memory every
// second, until the senders are done. It closes stop at the deadline or
// when ctx is cancelled.
func (c *collector) loop(ctx context.Context, deadline time.Time, stop chan struct{}, sendersDone <-chan struct{}) {
	tick := time.NewTicker(c.g.cfg.Interval)
	defer tick.Stop()
	memTick := time.NewTicker(time.Second)
	defer memTick.Stop()
	progTick := time.NewTicker(time.Second)
	defer progTick.Stop()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var rawTick <-chan time.Time
	if c.raw != nil {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		rawTick = t.C
	}
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
		}
	}
	done := ctx.Done()
	for {
		select {
		case <-done:
			done = nil
			c.g.stop.interrupt() // before the senders see stop: they read its budget
			halt()
		case <-timer.C:
			halt()
		case now := <-tick.C:
			c.interval(now)
		case <-memTick.C:
			if p, ok := MemoryPercent(); ok {
				c.mem = append(c.mem, p)
			}
		case <-progTick.C:
			c.progress()
		case <-rawTick:
			c.raw.drain()
		case <-sendersDone:
			halt()
			if c.raw != nil {
				c.raw.drain()
			}
			c.interval(time.Now()) // the last, partial interval
			return
		}
	}
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
	iv := &Interval{Proc: c.g.cfg.Proc, End: now.Sub(c.start), Length: now.Sub(c.last), Received: c.received(now)}
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
		c.service[op].Merge(svc)
		if cor != nil {
			c.correct[op].Merge(cor)
		}
		req, msg, errs := c.counts(op)
		iv.Ops = append(iv.Ops, OpInterval{Op: op, Requests: req - c.prev[op][0], Messages: msg - c.prev[op][1], Errors: errs - c.prev[op][2],
			Service: svc, Corrected: cor})
		c.prev[op] = [3]int64{req, msg, errs}
	}
	c.rep.Interval(iv)
	c.last = now
}

// received reads the controller's counts for an interval ending at now;
// nil unless the run scrapes them.
func (c *collector) received(now time.Time) *Received {
	return nil
}

func (c *collector) progress() {
	w := c.g.cfg.Progress
	if w == nil {
		return
	}
	var req, msg, errs int64
	for _, op := range c.ops {
		r, m, e := c.counts(op)
		req, msg, errs = req+r, msg+m, errs+e
	}
	el := time.Since(c.start).Seconds()
	fmt.Fprintf(w, "\r[proc %d] %5.0fs  %d requests (%.0f/s)  %d messages (%.0f/s)  %d errors   ",
		c.g.cfg.Proc, el, req, float64(req)/el, msg, float64(msg)/el, errs)
}

// finish fills res with the run's totals and writes the error and summary
// lines of this group.
func (c *collector) finish(res *Result) {
	cfg := c.g.cfg
	res.Elapsed = c.last.Sub(c.start)
	res.MemSamples = c.mem
	errs := map[errKey]int64{}
	first := map[errKey]time.Time{}
	for _, s := range c.g.senders {
		res.PushFrames += s.pushes
		res.KVOpsSent += s.kvOps
		res.PushBytes += s.pushBytes
		res.TeardownFrames += s.teardown
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
		o := OpResult{Op: op, Requests: req, Messages: msg, Errors: n, Service: c.service[op], Corrected: c.correct[op], ErrorCounts: map[string]int64{}}
		for k, v := range errs {
			if k.op == op {
				o.ErrorCounts[k.msg] += v
			}
		}
		res.Ops = append(res.Ops, o)
	}
	// Pre-registration errors are counted under "register" even when the
	// mix has no register op.
	list := make([]ErrorCount, 0, len(errs))
	for k, n := range errs {
		list = append(list, ErrorCount{Op: k.op, Text: k.msg, Count: n, First: first[k]})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Count > list[j].Count })
	c.rep.Errors(list)
	res.TargetRate = cfg.Rate
	c.rep.Summary(res)
}
