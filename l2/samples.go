package l2

import (
	"strconv"
	"time"
)

// sample is what a --raw sample line says about one key, kept compact so
// that window mode can hold every measured key in memory (48 bytes each)
// and write the lines after the operation, outside the timed window.
//
// bytes are the key's bytes its round's bytes count, so a round's samples
// add up to it; a key that finished after its round timed out (late) has
// bytes 0 and what it really moved in lateBytes.
type sample struct {
	idx                   uint64
	submitted, start, end int64
	bytes                 int32
	round                 int32
	lateBytes             int32
	status                Status
	direct                bool
	late                  bool
}

// flushSamples writes the kept samples as sample lines, a few thousand per
// write, and forgets them.
func (r *runner) flushSamples(o *OpResult) {
	const batch = 4096
	for lo := 0; lo < len(r.samples); lo += batch {
		b := r.raw[:0]
		for _, s := range r.samples[lo:min(lo+batch, len(r.samples))] {
			b = r.appendSample(b, o.Op, &s)
		}
		_ = r.out.WriteLines(b)
		r.raw = b[:0]
	}
	o.SamplesWritten += int64(len(r.samples))
	r.samples = r.samples[:0]
}

// appendSample renders one sample line.
func (r *runner) appendSample(b []byte, op Op, s *sample) []byte {
	b = r.out.AppendPrefix(b, "sample", epoch.Add(time.Duration(s.end)))
	b = append(b, `,"op":"`...)
	b = append(b, op.String()...)
	b = append(b, `","round":`...)
	b = appendInt(b, int64(s.round))
	b = append(b, `,"idx":`...)
	b = appendUint(b, s.idx)
	b = append(b, `,"status":"`...)
	b = append(b, statusNames[s.status]...)
	b = append(b, `","bytes":`...)
	b = appendInt(b, int64(s.bytes))
	if s.late {
		b = append(b, `,"late_bytes":`...)
		b = appendInt(b, int64(s.lateBytes))
	}
	b = append(b, `,"direct":`...)
	b = appendBool(b, s.direct)
	b = append(b, `,"latency_us":`...)
	b = appendMicros(b, s.end-s.submitted)
	b = append(b, `,"service_us":`...)
	b = appendMicros(b, s.end-s.start)
	return append(b, "}\n"...)
}

var statusNames = [...]string{OK: "ok", Skipped: "skipped", Missing: "missing", Failed: "failed", Cancelled: "cancelled", Late: "timed_out"}

func appendInt(b []byte, v int64) []byte   { return strconv.AppendInt(b, v, 10) }
func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }
func appendBool(b []byte, v bool) []byte   { return strconv.AppendBool(b, v) }

// appendMicros appends ns as microseconds with 3 decimals.
func appendMicros(b []byte, ns int64) []byte {
	return strconv.AppendFloat(b, float64(ns)/1e3, 'f', 3, 64)
}
