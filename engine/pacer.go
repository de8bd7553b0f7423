package engine

import "time"

// A Pacer decides when request number k (0-based, per sender) is meant to
// go, relative to the start of the run. A closed loop has no pacer.
type Pacer interface {
	// Due returns the intended send offset of request k.
	Due(k uint64) time.Duration
}

// ConstantPacer spaces requests evenly at Rate requests per second, the
// open-loop schedule of wrk2: a request's latency counts from its due time,
// so a stalled target shows up in the percentiles instead of silently
// slowing the load (coordinated omission).
type ConstantPacer struct {
	Rate float64 // requests per second, > 0
}

// Due implements Pacer.
func (p ConstantPacer) Due(k uint64) time.Duration {
	return time.Duration(float64(k) * 1e9 / p.Rate)
}

// waitUntil sleeps until t, spinning for the last stretch so that requests
// leave close to their due time without burning a core between them.
func waitUntil(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		if d > 200*time.Microsecond {
			time.Sleep(d - 100*time.Microsecond)
			continue
		}
		// spin
	}
}
