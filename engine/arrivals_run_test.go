package engine

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/enginetest"
)

// TestWorkerRateEachWorkerItsOwnRate runs 200 simulated workers at R
// operations per second each against the stand-in controller and counts
// what it received from each worker: every worker's count is near R·T,
// and their dispersion is a Poisson process's (χ² over the workers) for
// --arrival poisson and far smaller for uniform, where each worker gets
// R·T rounded down or up.
func TestWorkerRateEachWorkerItsOwnRate(t *testing.T) {
	const (
		instances, workers = 40, 5
		n                  = instances * workers
		r                  = 5.3 // per worker: R·T = 21.2
		T                  = 4 * time.Second
	)
	for _, arrival := range []Arrival{ArrivalPoisson, ArrivalUniform} {
		t.Run(arrival.String(), func(t *testing.T) {
			k := enginetest.Start(t)
			cfg := testConfig(k, "admit:70,p2p_lookup:30")
			cfg.NumInstances, cfg.NumWorkers, cfg.NumLocations = instances, workers, 1
			cfg.WorkerRate, cfg.Arrival, cfg.Concurrency = r, arrival, 4
			cfg.Duration, cfg.LateGrace, cfg.Interval = T, 20*time.Second, time.Second
			cfg.RegisterTimeout = 20 * time.Second
			rec := &recorder{}
			res, err := Run(context.Background(), cfg, rec, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			got := k.Settle()
			sent, dropped := res.Sent()
			req, _, errs := res.Totals()
			if dropped != 0 || errs != 0 || res.RegisteredOK != n {
				t.Fatalf("dropped %d, errors %d, registered %d of %d: the run did not deliver every arrival", dropped, errs, res.RegisteredOK, n)
			}
			if got.SeqGaps != 0 || got.DecodeErrors != 0 {
				t.Fatalf("%d sequence gaps, %d decode errors", got.SeqGaps, got.DecodeErrors)
			}
			if res.TargetRate != n*r {
				t.Errorf("target %g, want workers × R = %g", res.TargetRate, n*r)
			}
			var total int64
			counts := make([]float64, 0, n)
			for i := 0; i < instances; i++ {
				for w := 0; w < workers; w++ {
					c := got.ByWorker[enginetest.WorkerKey(InstanceID(0, i), int64(w))]
					counts = append(counts, float64(c))
					total += c
				}
			}
			if len(got.ByWorker) != n || total != sent || total != req || sent != res.Due {
				t.Fatalf("sink: %d workers, %d operations; engine: sent %d, completed %d, due %d", len(got.ByWorker), total, sent, req, res.Due)
			}
			mean := r * T.Seconds()
			// The total is Poisson(n·R·T) for poisson, n·R·T ± n for uniform.
			if z := (float64(total) - n*mean) / math.Sqrt(n*mean); math.Abs(z) > 5 {
				t.Fatalf("%d operations in %v, want %g ± 5σ (z = %.1f)", total, T, n*mean, z)
			}
			// Σ (c - R·T)² / R·T over the workers: χ² with n degrees of
			// freedom (mean n, sd √(2n)) when each count is Poisson(R·T).
			chi2 := 0.0
			for _, c := range counts {
				chi2 += (c - mean) * (c - mean) / mean
			}
			t.Logf("%s: %d operations from %d workers, χ² = %.1f (Poisson: %d ± %.0f)", arrival, total, n, chi2, n, math.Sqrt(2*n))
			switch arrival {
			case ArrivalPoisson:
				if math.Abs(chi2-n) > 5*math.Sqrt(2*n) {
					t.Fatalf("χ² = %.1f over %d workers: not Poisson dispersed (want %d ± %.0f)", chi2, n, n, 5*math.Sqrt(2*n))
				}
				for i, c := range counts {
					if math.Abs(c-mean) > 6*math.Sqrt(mean) {
						t.Fatalf("worker %d: %g operations, want %g ± 6σ", i, c, mean)
					}
				}
			case ArrivalUniform:
				lo, hi := math.Floor(mean), math.Ceil(mean)
				for i, c := range counts {
					if c < lo || c > hi {
						t.Fatalf("worker %d: %g operations, want %g or %g", i, c, lo, hi)
					}
				}
				if chi2 > n/10 {
					t.Fatalf("χ² = %.1f: uniform arrivals spread like random ones", chi2)
				}
			}
		})
	}
}

// TestRateScheduleIntervalsFollowTheShape runs each shape at rates a
// loaded 2-core machine keeps up with: every interval's target is the
// shape's mean over it, the requests completed by each interval's end
// follow the shape's integral, the warm-up runs at the first value, and
// the due requests are the integral over the measured time.
func TestRateScheduleIntervalsFollowTheShape(t *testing.T) {
	const T, warmup = 3 * time.Second, 300 * time.Millisecond
	for _, s := range []string{"step:100,400,200@1s", "ramp:50->450:3s", "sine:mean=250,amp=200,period=1.5s"} {
		t.Run(s, func(t *testing.T) {
			sh := parseShape(t, s)
			k := enginetest.Start(t)
			cfg := testConfig(k, "admit:100")
			cfg.RateSchedule, cfg.Duration, cfg.Warmup, cfg.LateGrace = sh, T, warmup, 10*time.Second
			cfg.Interval = 500 * time.Millisecond
			rec := &recorder{}
			res, err := Run(context.Background(), cfg, rec, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			got := k.Settle()
			sent, dropped := res.Sent()
			if dropped != 0 || sent != res.Due {
				t.Fatalf("sent %d, dropped %d, due %d", sent, dropped, res.Due)
			}
			if want := sh.Integral(T.Seconds()); math.Abs(float64(res.Due)-want) > float64(cfg.Senders) {
				t.Fatalf("due %d, the shape's integral over %v is %.1f", res.Due, T, want)
			}
			if want := sh.Mean(0, T.Seconds()); math.Abs(res.TargetRate-want) > 1e-9*want {
				t.Fatalf("summary target %g, the shape's mean is %g", res.TargetRate, want)
			}
			warm := got.ByType["BatchedKVOperationMsg"] - sent
			if want := sh.At(0) * warmup.Seconds(); math.Abs(float64(warm)-want) > float64(cfg.Senders) {
				t.Fatalf("%d operations in the %v warm-up, want %.1f at the shape's first value", warm, warmup, want)
			}
			// A request completes a little after its due time, and the
			// collector reads its counters a little after each interval's
			// end: by each interval's end the completed requests follow
			// the integral within a lag of lag either way, the whole
			// shape apart from a machine's hiccup.
			const lag = 0.3
			due := func(x float64) float64 { return sh.Integral(min(max(x, 0), T.Seconds())) }
			var total int64
			for _, iv := range rec.intervals {
				a, b := (iv.End - iv.Length).Seconds(), iv.End.Seconds()
				if want := sh.Mean(a, b); math.Abs(iv.TargetRate-want) > 1e-9*want {
					t.Fatalf("interval [%.3f, %.3f]: target %g, the shape's mean %g", a, b, iv.TargetRate, want)
				}
				req, _, _ := iv.Totals()
				total += req
				t.Logf("[%.3f, %.3f] target %.1f/s: %d completed (%d by its end), %.1f due by its end", a, b, iv.TargetRate, req, total, due(b))
				if c := float64(total); c < due(b-lag)-float64(cfg.Senders) || c > due(b+lag)+float64(cfg.Senders) {
					t.Errorf("by %.3f s: %d completed, the shape has %.1f due (%.1f to %.1f within %g s)", b, total, due(b), due(b-lag), due(b+lag), lag)
				}
			}
			if total != sent {
				t.Fatalf("the intervals hold %d requests, the summary %d", total, sent)
			}
		})
	}
}
