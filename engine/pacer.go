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
// leave close to their due time without burning a core between them. It
// returns false, early, when stop is closed (looked at every 50 ms).
func waitUntil(t time.Time, stop <-chan struct{}) bool {
	for {
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		if d > 200*time.Microsecond {
			if stopped(stop) {
				return false
			}
			time.Sleep(min(d-100*time.Microsecond, 50*time.Millisecond))
			continue
		}
		// spin
	}
}
