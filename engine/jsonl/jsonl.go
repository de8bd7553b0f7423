package jsonl

import (
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/stats"
	"github.com/lmfast/lmfast/stream"
)

// Reporter writes an engine group's values to a stream.Writer, whose proc
// the lines carry.
type Reporter struct {
	out *stream.Writer
	buf []byte // rendered sample lines
}

// New returns a Reporter writing to out.
func New(out *stream.Writer) *Reporter { return &Reporter{out: out} }

var _ engine.Reporter = (*Reporter)(nil)

// Interval writes one "interval" line per op and one for op "all".
func (r *Reporter) Interval(iv *engine.Interval) {
	t, secs := iv.End.Seconds(), iv.Length.Seconds()
	per := func(n int64) float64 { return float64(n) / secs }
	for _, o := range iv.Ops {
		e := r.out.Event("interval").
			Str("op", o.Op.String()).
			Float64("t_s", t).
			Float64("interval_s", secs).
			Int64("requests", o.Requests).Int64("messages", o.Messages).Int64("errors", o.Errors).
			Float64("rps", per(o.Requests)).Float64("qps", per(o.Messages)).
			Object("latency_us", latency(o.Service))
		if o.Corrected != nil {
			e = e.Object("corrected_us", latency(o.Corrected))
		}
		e = hdr(e, "hdr", o.Service)
		if o.Corrected != nil {
			e = hdr(e, "hdr_corrected", o.Corrected)
		}
		if iv.Step > 0 {
			e = e.Int("step", iv.Step)
		}
		targets(e, iv).Send()
	}
	req, msg, errs := iv.Totals()
	e := r.out.Event("interval").Str("op", "all").
		Float64("t_s", t).Float64("interval_s", secs).
		Int64("requests", req).Int64("messages", msg).Int64("errors", errs).
		Float64("rps", per(req)).Float64("qps", per(msg))
	if iv.Step > 0 {
		e = e.Int("step", iv.Step)
	}
	if rc := iv.Received; rc != nil {
		e = received(e, rc)
	}
	targets(e, iv).Send()
}

// targets adds an interval's targets in force: target_rps in an open
// loop, target_concurrency when the lanes are set over time.
func targets(e *zerolog.Event, iv *engine.Interval) *zerolog.Event {
	if iv.TargetRate > 0 {
		e = e.Float64("target_rps", iv.TargetRate)
	}
	if iv.TargetConcurrency > 0 {
		e = e.Float64("target_concurrency", iv.TargetConcurrency)
	}
	return e
}

// Errors writes one "error" line per distinct error.
func (r *Reporter) Errors(list []engine.ErrorCount) {
	for _, x := range list {
		r.out.Event("error").Str("op", x.Op.String()).Str("error", x.Text).Int64("count", x.Count).
			Str("first_at", x.First.UTC().Format(time.RFC3339Nano)).Send()
	}
}

// Summary writes one "summary" line per op and one for op "all".
func (r *Reporter) Summary(res *engine.Result) {
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
		e := r.out.Event("summary").Str("op", o.Op.String()).
			Int64("requests", o.Requests).Int64("messages", o.Messages).Int64("errors", o.Errors).
			Float64("duration_s", secs).Float64("rps", per(o.Requests)).Float64("qps", per(o.Messages)).
			Str("latency_kind", kind).
			Object("latency_us", latency(o.Service))
		e = hdr(e, "hdr", o.Service)
		if o.Corrected != nil {
			e = e.Object("corrected_us", latency(o.Corrected))
			e = hdr(e, "hdr_corrected", o.Corrected)
		}
		e = e.Int64("sent", o.Sent)
		if res.OpenLoop {
			e = e.Int64("due", o.Due()).Int64("dropped", o.Dropped)
		}
		e.Send()
	}
	req, msg, errs := res.Totals()
	e := r.out.Event("summary").Str("op", "all").
		Int64("requests", req).Int64("messages", msg).Int64("errors", errs).
		Float64("duration_s", secs).Float64("rps", per(req)).Float64("qps", per(msg)).
		Int64("push_frames_sent", res.PushFrames).Int64("kv_ops_sent", res.KVOpsSent).Int64("push_bytes_sent", res.PushBytes).
		Int64("teardown_frames_sent", res.TeardownFrames).
		Int64("registered", res.RegisteredOK).Int64("register_failed", res.RegisterFailed).
		Float64("register_s", res.RegisterTime.Seconds()).Float64("teardown_s", res.TeardownTime.Seconds()).
		Ints("sender_cpus", res.SenderCPUs).
		Float64("process_cpu_s", res.ProcessCPU.Seconds())
	e = cpuUtil(e, res).
		Bool("drained", res.Drained).Float64("drain_ms", float64(res.DrainTime.Microseconds())/1e3).
		Bool("interrupted", res.Interrupted)
	if res.TargetRate > 0 {
		e = e.Float64("target_rps", res.TargetRate).Float64("achieved_rps", per(req+errs))
	}
	sent, dropped := res.Sent()
	e = e.Int64("sent", sent)
	if res.OpenLoop {
		e = e.Int64("due", res.Due).Int64("dropped", dropped)
	}
	if res.TargetRate > 0 {
		e = e.Str("limited_by", res.LimitedBy())
	}
	e = e.Float64("warmup_s", res.Warmup.Seconds())
	if res.FailIf != nil {
		e = e.Array("fail_if", res.FailIf).Bool("fail_if_pass", res.FailIf.Pass())
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
		e = e.Object("headroom", headroom(h))
	}
	if in := res.Intake; in != nil {
		e = intake(e, in)
	}
	if w := res.Workers; w != nil {
		e = e.Dict("workers", workers(w))
	}
	e.Send()
}

// workers is the simulated workers' heartbeats and full syncs.
func workers(w *engine.WorkerStats) *zerolog.Event {
	cmds := zerolog.Dict()
	for k, v := range w.Commands {
		cmds = cmds.Int64(k, v)
	}
	return zerolog.Dict().Int64("heartbeats", w.Heartbeats).Int64("heartbeat_replies", w.HeartbeatReplies).
		Int64("heartbeat_errors", w.HeartbeatErrors).Int64("heartbeats_cut_off", w.HeartbeatsCutOff).Dict("full_sync_commands", cmds).
		Int64("syncs_started", w.SyncsStarted).Int64("syncs_skipped", w.SyncsSkipped).
		Int64("sync_starts_rejected", w.StartsRejected).Int64("syncs_abandoned", w.SyncsAbandoned).
		Int64("syncs_done", w.SyncsDone).Int64("syncs_poll_timeout", w.SyncsPollTimeout).
		Int64("sync_batches", w.SyncBatches).Int64("sync_keys", w.SyncKeys).Int64("sync_ends", w.SyncEnds).
		Int64("status_polls", w.StatusPolls).Int64("sync_frames", w.SyncFrames).
		Int64("frozen_skipped", w.FrozenSkipped).Int64("held_keys", w.HeldKeys)
}

// received adds an interval's reading of the controller's counts.
func received(e *zerolog.Event, rc *engine.Received) *zerolog.Event {
	if rc.Err != nil {
		return e.Str("received_error", rc.Err.Error())
	}
	e = e.Int64("received_frames", rc.Frames)
	if rc.Span > 0 {
		e = e.Float64("received_fps", rc.FramesPerSec())
	}
	e = e.Int64("backlog_frames", rc.Backlog)
	if rc.Restarts > 0 {
		e = e.Int("controller_restarts", rc.Restarts)
	}
	return e
}

// intake adds a run's reconciliation with the controller's counts.
func intake(e *zerolog.Event, r *engine.IntakeResult) *zerolog.Event {
	e = e.Str("controller_metrics", r.URL).Bool("reconciled", r.Reconciled).Str("reconcile_scope", engine.ReconcileScope)
	if r.Err != nil {
		return e.Str("controller_metrics_error", r.Err.Error())
	}
	return e.Int64("controller_received_frames", r.Received).Int64("controller_received_requests", r.Requests).
		Int64("frames_missing", r.Missing).Int("controller_restarts", r.Restarts)
}

// Step writes one "step" line: the step's setting, totals, per-op figures
// with their histograms, CPU, headroom and SLO outcome.
func (r *Reporter) Step(st *engine.StepResult) {
	res := st.Result
	secs := res.Elapsed.Seconds()
	req, _, errs := res.Totals()
	e := r.out.Event("step").Int("step", st.Index).Str("phase", st.Phase).Str("dim", st.Dim).Float64("value", st.Value).
		Float64("target_rps", st.Rate).Int("concurrency", st.Concurrency).
		Float64("warmup_s", st.Warmup.Seconds()).Float64("duration_s", secs).
		Int64("requests", req).Int64("errors", errs).Float64("achieved_rps", rate(req+errs, secs))
	sent, dropped := res.Sent()
	e = e.Int64("sent", sent)
	if res.OpenLoop {
		e = e.Int64("due", res.Due).Int64("dropped", dropped)
	}
	if res.TargetRate > 0 {
		e = e.Str("limited_by", res.LimitedBy())
	}
	e = e.Array("ops", opsArray(res.Ops)).
		Float64("process_cpu_s", res.ProcessCPU.Seconds())
	e = cpuUtil(e, res)
	if h, ok := res.Headroom(); ok {
		e = e.Object("headroom", headroom(h)).Bool("lmfast_limited", h.LimitedBy == engine.LimitedByGenerator)
	}
	if st.SLO != nil {
		e = e.Array("slo", st.SLO)
	}
	e.Bool("pass", st.Pass).Send()
}

// Capacity writes the "capacity" line ending a sweep.
func (r *Reporter) Capacity(c *engine.CapacityResult) {
	e := r.out.Event("capacity").Str("dim", c.Dim).Str("slo", c.SLO.String()).Float64("precision", c.Precision).
		Int("steps", c.Steps).Bool("found", c.Pass != nil).Bool("interrupted", c.Interrupted)
	if p := c.Pass; p != nil {
		req, _, errs := p.Result.Totals()
		e = e.Float64("capacity", p.Value).Int("pass_step", p.Index).
			Float64("pass_achieved_rps", rate(req+errs, p.Result.Elapsed.Seconds()))
		if p.SLO != nil {
			e = e.Array("pass_slo", p.SLO)
		}
	}
	if f := c.Fail; f != nil {
		req, _, errs := f.Result.Totals()
		failed := zerolog.Arr()
		for _, t := range f.SLO.Failed() {
			failed = failed.Str(t.Text)
		}
		e = e.Float64("first_fail", f.Value).Int("fail_step", f.Index).
			Float64("fail_achieved_rps", rate(req+errs, f.Result.Elapsed.Seconds())).
			Array("failed_terms", failed).Array("fail_slo", f.SLO)
	}
	e.Send()
}

// Samples writes one "sample" line per operation, in one write.
func (r *Reporter) Samples(batch []engine.Sample) error {
	b := r.buf[:0]
	for i := range batch {
		b = r.appendSample(b, &batch[i])
	}
	r.buf = b
	return r.out.WriteLines(b)
}

func (r *Reporter) appendSample(b []byte, s *engine.Sample) []byte {
	b = r.out.AppendPrefix(b, "sample", time.Unix(0, s.Done))
	b = append(b, `,"op":"`...)
	b = append(b, s.Op.String()...)
	b = append(b, `","ok":`...)
	b = strconv.AppendBool(b, s.OK)
	b = append(b, `,"intended_ns":`...)
	b = strconv.AppendInt(b, s.Intended, 10)
	b = append(b, `,"sent_ns":`...)
	b = strconv.AppendInt(b, s.Sent, 10)
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendFloat(b, float64(s.Done-s.Intended)/1e3, 'f', 3, 64)
	b = append(b, `,"service_us":`...)
	b = strconv.AppendFloat(b, float64(s.Done-s.Sent)/1e3, 'f', 3, 64)
	return append(b, "}\n"...)
}

// latency is h's microsecond summary as a JSON object.
func latency(h *hdrhistogram.Histogram) stream.Latency {
	return stream.Latency(stats.Summarize(h))
}

// hdr adds h's encoded form under key (nothing when it cannot be encoded).
func hdr(e *zerolog.Event, key string, h *hdrhistogram.Histogram) *zerolog.Event {
	if enc, err := stats.Encode(h); err == nil {
		return e.Str(key, enc)
	}
	return e
}

// cpuUtil adds process_cpu_util: null for a window too short to measure.
func cpuUtil(e *zerolog.Event, res *engine.Result) *zerolog.Event {
	if util, ok := res.CPUUtil(); ok {
		return e.Float64("process_cpu_util", util)
	}
	return e.RawJSON("process_cpu_util", []byte("null"))
}

func rate(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// headroom is the summary's and a step's "headroom" object.
type headroom engine.Headroom

func (h headroom) MarshalZerologObject(e *zerolog.Event) {
	c := h.Ceiling
	e.Str("ceiling_transport", c.Transport).Int("ceiling_bytes", c.PushBytes).
		Float64("push_fps", h.PushPerSec).Float64("push_ceiling_fps", c.PushPerSec).
		Float64("engine_push_ceiling_fps", c.EnginePushPerSec).Float64("push_fraction", h.PushFraction).
		Float64("request_rps", h.RequestsPerSec).Float64("request_ceiling_rps", c.RoundTripPerSec).
		Float64("engine_request_ceiling_rps", c.EngineRoundTripPerSec).Float64("request_fraction", h.RequestFraction).
		Float64("load", h.Load).Float64("engine_load", h.EngineLoad).Str("limited_by", h.LimitedBy)
}

// opsArray is a step's per-op figures.
func opsArray(ops []engine.OpResult) *zerolog.Array {
	a := zerolog.Arr()
	for i := range ops {
		a = a.Object(stepOp(ops[i]))
	}
	return a
}

type stepOp engine.OpResult

func (o stepOp) MarshalZerologObject(e *zerolog.Event) {
	e.Str("op", o.Op.String()).Int64("requests", o.Requests).Int64("messages", o.Messages).Int64("errors", o.Errors).
		Int64("sent", o.Sent)
	if o.Corrected != nil {
		e.Int64("dropped", o.Dropped)
	}
	e.Object("latency_us", latency(o.Service))
	hdr(e, "hdr", o.Service)
	if o.Corrected != nil {
		e.Object("corrected_us", latency(o.Corrected))
		hdr(e, "hdr_corrected", o.Corrected)
	}
}
