package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/stats"
	"github.com/lmfast/lmfast/stream"
)

// collector turns the senders' counters and histograms into interval
// lines while the run goes, and into the final Result.
type collector struct {
	g       *group
	out     *stream.Writer
	start   time.Time
	last    time.Time
	ops     []Op
	prev    [numOps][3]int64 // requests, messages, errors at the previous interval
	service [numOps]*hdrhistogram.Histogram
	correct [numOps]*hdrhistogram.Histogram
	mem     []float64
	raw     *rawWriter
	cpu0    time.Duration // the process's CPU time at start
	cpuUsed time.Duration // the process's CPU time from start to the last interval
}

// newCollector starts collecting at clock's reading: the run's start, and
// the process's CPU time then.
func newCollector(g *group, out *stream.Writer, clock cpuClock) *collector {
	c := &collector{g: g, out: out, start: clock.wall, last: clock.wall, cpu0: clock.cpu}
	for _, m := range g.cfg.Mix {
		c.ops = append(c.ops, m.Op)
	}
	for op := range c.service {
		c.service[op] = stats.NewHistogram()
		if g.cfg.Rate > 0 {
			c.correct[op] = stats.NewHistogram()
		}
	}
	if g.cfg.Raw {
		c.raw = newRawWriter(out, g.senders)
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
			c.raw.drain(false)
		case <-sendersDone:
			halt()
			if c.raw != nil {
				c.raw.drain(true)
			}
			end := readCPUClock()
			c.interval(end.wall) // the last, partial interval
			c.cpuUsed = end.cpu - c.cpu0
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
	var allReq, allMsg, allErr int64
	for _, op := range c.ops {
		svc := stats.NewHistogram()
		var cor *hdrhistogram.Histogram
		if c.correct[op] != nil {
			cor = stats.NewHistogram()
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
		dReq, dMsg, dErr := req-c.prev[op][0], msg-c.prev[op][1], errs-c.prev[op][2]
		c.prev[op] = [3]int64{req, msg, errs}
		allReq, allMsg, allErr = allReq+dReq, allMsg+dMsg, allErr+dErr
		e := c.out.Event("interval").
			Str("op", op.String()).
			Float64("t_s", now.Sub(c.start).Seconds()).
			Float64("interval_s", secs).
			Int64("requests", dReq).Int64("messages", dMsg).Int64("errors", dErr).
			Float64("rps", float64(dReq)/secs).Float64("qps", float64(dMsg)/secs).
			Object("latency_us", stats.Summarize(svc))
		if cor != nil {
			e = e.Object("corrected_us", stats.Summarize(cor))
		}
		e.Send()
	}
	c.out.Event("interval").Str("op", "all").
		Float64("t_s", now.Sub(c.start).Seconds()).Float64("interval_s", secs).
		Int64("requests", allReq).Int64("messages", allMsg).Int64("errors", allErr).
		Float64("rps", float64(allReq)/secs).Float64("qps", float64(allMsg)/secs).Send()
	c.last = now
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
	res.ProcessCPU = c.cpuUsed // over the same window as Elapsed
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
	for k, n := range errs {
		res.Errors = append(res.Errors, ErrorCount{Op: k.op, Text: k.msg, Count: n, First: first[k]})
	}
	sortErrors(res.Errors)
	for _, e := range res.Errors {
		c.out.Event("error").Str("op", e.Op.String()).Str("error", e.Text).Int64("count", e.Count).
			Str("first_at", e.First.UTC().Format(time.RFC3339Nano)).Send()
	}
	res.TargetRate = cfg.Rate
	WriteSummaries(c.out, res)
}

// WriteSummaries writes one summary line per op and one for all ops
// ("op":"all") of res to out.
func WriteSummaries(out *stream.Writer, res *Result) {
	secs := res.Elapsed.Seconds()
	per := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	for _, o := range res.Ops {
		kind := "round_trip"
		if o.Op.IsPush() {
			kind = "enqueue"
		}
		e := out.Event("summary").Str("op", o.Op.String()).
			Int64("requests", o.Requests).Int64("messages", o.Messages).Int64("errors", o.Errors).
			Float64("duration_s", secs).Float64("rps", per(o.Requests)).Float64("qps", per(o.Messages)).
			Str("latency_kind", kind).
			Object("latency_us", stats.Summarize(o.Service))
		if enc, err := stats.Encode(o.Service); err == nil {
			e = e.Str("hdr", enc)
		}
		if o.Corrected != nil {
			e = e.Object("corrected_us", stats.Summarize(o.Corrected))
			if enc, err := stats.Encode(o.Corrected); err == nil {
				e = e.Str("hdr_corrected", enc)
			}
		}
		e.Send()
	}
	req, msg, errs := res.Totals()
	e := out.Event("summary").Str("op", "all").
		Int64("requests", req).Int64("messages", msg).Int64("errors", errs).
		Float64("duration_s", secs).Float64("rps", per(req)).Float64("qps", per(msg)).
		Int64("push_frames_sent", res.PushFrames).Int64("kv_ops_sent", res.KVOpsSent).Int64("push_bytes_sent", res.PushBytes).
		Int64("teardown_frames_sent", res.TeardownFrames).
		Int64("registered", res.RegisteredOK).Int64("register_failed", res.RegisterFailed).
		Ints("sender_cpus", res.SenderCPUs).
		Float64("process_cpu_s", res.ProcessCPU.Seconds())
	if util, ok := cpuUtil(res.ProcessCPU, res.Elapsed); ok {
		e = e.Float64("process_cpu_util", util)
	} else {
		e = e.RawJSON("process_cpu_util", []byte("null")) // too short a window to measure
	}
	e = e.Bool("drained", res.Drained).Float64("drain_ms", float64(res.DrainTime.Microseconds())/1e3).
		Bool("interrupted", res.Interrupted)
	if res.TargetRate > 0 {
		e = e.Float64("target_rps", res.TargetRate).Float64("achieved_rps", per(req+errs))
	}
	if res.SamplesWritten > 0 || res.SamplesDropped > 0 {
		e = e.Int64("samples_written", res.SamplesWritten).Int64("samples_dropped", res.SamplesDropped)
	}
	if len(res.MemSamples) > 0 {
		sum, peak := 0.0, 0.0
		for _, v := range res.MemSamples {
			sum += v
			peak = max(peak, v)
		}
		e = e.Dict("memory_pct", zerolog.Dict().Float64("avg", sum/float64(len(res.MemSamples))).Float64("max", peak))
	}
	if h, ok := res.Headroom(); ok {
		e = e.Object("headroom", h)
	}
	e.Send()
}
