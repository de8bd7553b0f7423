package l2

import (
	"errors"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/stats"
)

// tally accumulates one finished key into its round's counts. What the
// op's histograms, error counts and samples get of it is recorded only once
// its round is reported (record).
func (r *runner) tally(op Op, rd *Round, j *Job) {
	rd.Bytes += int64(j.Out.Bytes)
	switch j.Out.Status {
	case OK:
		rd.Success++
		if op == Store {
			rd.Written++
		}
	case Skipped:
		rd.Success++
		rd.Skipped++
	case Missing:
		rd.Missing++
	case Failed, Cancelled:
		rd.Failed++
	}
}

// errLate is the error counted for a key that finished after its round
// timed out.
var errLate = errors.New("timed out: finished after the round's timeout")

// markLate handles a key that finished after its round timed out: the
// round counts it as failed, and its status becomes Late (unless it failed
// on its own), so that record puts its latency up to its real completion
// into the histograms, counts its error and writes its sample as
// "timed_out" — the key latencies show the stall, and the error counts and
// samples add up to the failed keys. The bytes it moved are not in the
// round's bytes (the round counts what finished within its time): its
// sample says 0 bytes and the real size as late_bytes.
func markLate(j *Job) {
	j.late = true
	if j.Out.Status != Failed {
		j.Out.Status, j.Out.Err = Late, errLate
	}
}

// keyRec is one finished key, kept until its round is reported.
type keyRec struct {
	sample
	err    error
	hasBuf bool // a transfer (store or load), not a lookup
	warmup bool // of a warmup round: only its failure is recorded
}

// newKeyRec keeps j's outcome. A late key's bytes (markLate) go to
// lateBytes, not bytes: a sample's bytes are what its round's bytes count.
func newKeyRec(round int, j *Job, warmup bool) keyRec {
	k := keyRec{sample: sample{idx: j.Idx, submitted: j.Submitted, start: j.Start, end: j.Done,
		bytes: int32(j.Out.Bytes), round: int32(round), status: j.Out.Status, direct: j.Out.Direct},
		err: j.Out.Err, hasBuf: j.Op != Lookup, warmup: warmup}
	if j.late {
		k.late, k.lateBytes, k.bytes = true, k.bytes, 0
	}
	return k
}

// record puts one key of a reported, measured round into the op's
// histograms, error counts, direct/buffered counts and, with --raw, its
// samples; of a key of a warmup round, only a failure, counted apart from
// the measured rounds' (warmup rounds are in no statistic, but their
// failures fail the run and must say why). Only keys of reported rounds
// are recorded (a round cut short by a Ctrl-C is not): every key in a
// histogram, an error line or a sample belongs to a round the summary
// counts.
func (r *runner) record(o *OpResult, k *keyRec) {
	failed := k.status == Failed || k.status == Cancelled || k.status == Late
	if k.warmup {
		if failed {
			r.countError(o, k.err, k.idx, true)
		}
		return
	}
	if k.status == OK && k.hasBuf {
		if k.direct {
			o.DirectKeys++
		} else {
			o.BufferedKeys++
		}
	}
	recordNs(o.Latency, k.end-k.submitted)
	recordNs(o.Service, k.end-k.start)
	if failed {
		r.countError(o, k.err, k.idx, false)
	}
	if r.cfg.Raw {
		r.samples = append(r.samples, k.sample)
	}
}

func recordNs(h *hdrhistogram.Histogram, ns int64) {
	_ = h.RecordValue(min(max(ns, stats.LowestNs), stats.HighestNs))
}

func (r *runner) countError(o *OpResult, err error, idx uint64, warmup bool) {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	key := o.Op.String() + "\x00" + msg
	if warmup {
		key += "\x00warmup"
	}
	if i, ok := r.errIdx[key]; ok {
		o.Errors[i].Count++
		return
	}
	r.errIdx[key] = len(o.Errors)
	o.Errors = append(o.Errors, ErrorCount{Error: msg, Count: 1, FirstKey: idx, Warmup: warmup})
}

// progress writes the round's progress line (window mode: at most one a
// second, and every timed-out round).
func (r *runner) progress(o *OpResult, rd *Round) {
	verb := [...]string{Store: "success_keys", Lookup: "found", Load: "loaded"}[o.Op]
	if r.cfg.Mode == Window && !rd.TimedOut {
		if time.Since(r.lastLog) < time.Second {
			return
		}
		r.lastLog = time.Now()
	}
	if rd.TimedOut {
		r.log(fmt.Sprintf("  [%s] Round %d: TIMEOUT (%d/%d tasks completed, %s=%d/%d)", o.Op.Label(), rd.Number, rd.Submits, r.cfg.InFlight, verb, rd.Success, rd.Keys))
	} else {
		r.log(fmt.Sprintf("  [%s] Round %d: %.2f ms, %s=%d/%d", o.Op.Label(), rd.Number, float64(rd.Duration)/1e6, verb, rd.Success, rd.Keys))
	}
}

// roundEvent writes the round's JSONL line (window mode: all of them after
// the operation, outside the timed window).
func (r *runner) roundEvent(o *OpResult, rd *Round) {
	e := r.out.Event("round").Str("op", o.Op.String()).Int("round", rd.Number).Bool("warmup", rd.Warmup).
		Bool("timed_out", rd.TimedOut)
	if rd.TimedOut {
		e = e.Interface("duration_ms", nil)
	} else {
		e = e.Float64("duration_ms", float64(rd.Duration)/1e6)
	}
	e = e.Int("keys", rd.Keys).Int("success", rd.Success).Int("failed", rd.Failed).Int("submits_completed", rd.Submits)
	switch o.Op {
	case Store:
		e = e.Int("written", rd.Written).Int("skipped_existing", rd.Skipped)
	case Lookup:
		e = e.Int("missing", rd.Missing)
	case Load:
		e = e.Int("evicted_misses", rd.Missing)
	}
	if o.Op != Lookup {
		e = e.Int64("bytes", rd.Bytes).Int64("bytes_requested", rd.Requested)
		if !rd.TimedOut && rd.Duration > 0 {
			e = e.Float64("mbps", float64(rd.Bytes)/MB/rd.Duration.Seconds())
		}
	}
	e.Send()
}
