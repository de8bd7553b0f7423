package engine

import (
	"cmp"
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/enginetest"
	"github.com/lmfast/lmfast/engine/shape"
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
// shape's mean over it, the requests intended by each interval's end
// follow the shape's integral, the warm-up runs at the first value, and
// the due requests are the integral over the measured time. Intended
// times are the pacer's, so the check holds however late a loaded
// machine completes them.
func TestRateScheduleIntervalsFollowTheShape(t *testing.T) {
	const T, warmup = 3 * time.Second, 300 * time.Millisecond
	for _, s := range []string{"step:100,400,200@1s", "ramp:50->450:3s", "sine:mean=250,amp=200,period=1.5s"} {
		t.Run(s, func(t *testing.T) {
			sh := parseShape(t, s)
			k := enginetest.Start(t)
			cfg := testConfig(k, "admit:100")
			cfg.RateSchedule, cfg.Duration, cfg.Warmup, cfg.LateGrace = sh, T, warmup, 10*time.Second
			cfg.Interval, cfg.Raw = 500*time.Millisecond, true
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
			if int64(len(rec.samples)) != sent || res.SamplesDropped != 0 {
				t.Fatalf("%d samples (%d lost) of %d requests", len(rec.samples), res.SamplesDropped, sent)
			}
			intended := make([]float64, len(rec.samples))
			for i, smp := range rec.samples {
				intended[i] = float64(smp.Intended-res.Start.UnixNano()) / 1e9
			}
			slices.Sort(intended)
			var total int64
			for _, iv := range rec.intervals {
				a, b := (iv.End - iv.Length).Seconds(), iv.End.Seconds()
				if want := sh.Mean(a, b); math.Abs(iv.TargetRate-want) > 1e-9*want {
					t.Fatalf("interval [%.3f, %.3f]: target %g, the shape's mean %g", a, b, iv.TargetRate, want)
				}
				req, _, _ := iv.Totals()
				total += req
				by, _ := slices.BinarySearch(intended, b)
				want := sh.Integral(min(b, T.Seconds()))
				t.Logf("[%.3f, %.3f] target %.1f/s: %d intended by its end (%.1f due), %d completed in it", a, b, iv.TargetRate, by, want, req)
				// Each sender's arrivals by b are its share of the
				// integral rounded either way, and one of them may fall
				// on b itself.
				if math.Abs(float64(by)-want) > 2*float64(cfg.Senders) {
					t.Errorf("by %.3f s: %d requests intended, the shape has %.1f due", b, by, want)
				}
			}
			if total != sent {
				t.Fatalf("the intervals hold %d requests, the summary %d", total, sent)
			}
		})
	}
}

// TestWorkerRateEachWorkerIsItsOwnProcess follows every worker's own
// operations: one sender's batches reach the stand-in controller in the
// order sent, which names each one's worker, and the --raw samples, in
// the same order, give each one's intended time. So each worker's
// intended times are its arrival process, and its latencies count from
// them: exactly 1/R apart for uniform; for poisson, gaps with the
// exponential's mean 1/R and variance 1/R².
func TestWorkerRateEachWorkerIsItsOwnProcess(t *testing.T) {
	const (
		instances, workers = 20, 2
		r                  = 10.0
		T                  = 5 * time.Second
	)
	for _, arrival := range []Arrival{ArrivalPoisson, ArrivalUniform} {
		t.Run(arrival.String(), func(t *testing.T) {
			k := enginetest.Start(t)
			k.KeepPullOrder()
			cfg := testConfig(k, "admit:100")
			cfg.NumInstances, cfg.NumWorkers, cfg.NumLocations, cfg.Senders = instances, workers, 1, 1
			cfg.WorkerRate, cfg.Arrival, cfg.Raw = r, arrival, true
			cfg.Duration, cfg.LateGrace = T, 20*time.Second
			rec := &recorder{}
			res, err := Run(context.Background(), cfg, rec, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			k.Settle()
			order := k.PullOrder()
			sent, dropped := res.Sent()
			if dropped != 0 || res.SamplesDropped != 0 || int64(len(rec.samples)) != sent || int64(len(order)) != sent {
				t.Fatalf("sent %d, dropped %d; %d samples (%d lost), the controller received %d batches", sent, dropped, len(rec.samples), res.SamplesDropped, len(order))
			}
			byWorker := map[string][]int64{}
			for i, s := range rec.samples {
				if i > 0 && s.Intended < rec.samples[i-1].Intended {
					t.Fatalf("sample %d intended before the one sent before it", i)
				}
				byWorker[order[i]] = append(byWorker[order[i]], s.Intended)
			}
			if len(byWorker) != instances*workers {
				t.Fatalf("%d workers sent, want %d", len(byWorker), instances*workers)
			}
			period := 1 / r
			start := res.Start.UnixNano()
			var n, sum, sum2 float64
			for w, times := range byWorker {
				if first := float64(times[0]-start) / 1e9; arrival == ArrivalUniform && (first < 0 || first >= period+1e-6) {
					t.Fatalf("worker %s: first intended %.6f s after the start, want within one period %g", w, first, period)
				}
				for i := 1; i < len(times); i++ {
					g := float64(times[i]-times[i-1]) / 1e9
					if arrival == ArrivalUniform && math.Abs(g-period) > 1e-6 {
						t.Fatalf("worker %s: intended %.6f s after its previous operation, want %g", w, g, period)
					}
					n, sum, sum2 = n+1, sum+g, sum2+g*g
				}
			}
			mean := sum / n
			cv2 := (sum2/n - mean*mean) / (mean * mean)
			t.Logf("%s: %.0f gaps over %d workers, mean %.4f s (1/R = %g), variance/mean² %.3f", arrival, n, len(byWorker), mean, period, cv2)
			if arrival == ArrivalPoisson {
				if z := (mean - period) / (period / math.Sqrt(n)); math.Abs(z) > 5 {
					t.Fatalf("mean gap %.4f s, want %g (z = %.1f)", mean, period, z)
				}
				if math.Abs(cv2-1) > 5*math.Sqrt(8/n) {
					t.Fatalf("gap variance/mean² %.3f, want 1 (exponential)", cv2)
				}
			}
		})
	}
}

// TestConcurrencyScheduleSetsTheLanes runs a closed loop of lookups on one
// sender with the lanes stepping 1, 4, 2 and replays its --raw samples:
// at every send, the requests in flight (sent, not yet answered) are at
// most the lanes in force, and each stretch reaches its lanes.
func TestConcurrencyScheduleSetsTheLanes(t *testing.T) {
	sh, err := shape.Parse("step:1,4,2@0.6s", shape.Concurrency)
	if err != nil {
		t.Fatal(err)
	}
	k := enginetest.Start(t)
	cfg := testConfig(k, "p2p_lookup:100")
	cfg.Senders, cfg.Concurrency, cfg.ConcurrencySchedule, cfg.Raw = 1, 4, sh, true
	cfg.Duration = 1800 * time.Millisecond
	rec := &recorder{}
	res, err := Run(context.Background(), cfg, rec, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, errs := res.Totals(); errs != 0 || res.SamplesDropped != 0 || len(rec.samples) == 0 {
		t.Fatalf("%d errors, %d samples (%d lost)", errs, len(rec.samples), res.SamplesDropped)
	}
	type event struct {
		at    int64
		delta int
	}
	var evs []event
	for _, s := range rec.samples {
		evs = append(evs, event{s.Sent, +1}, event{s.Done, -1})
	}
	slices.SortFunc(evs, func(a, b event) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return a.delta - b.delta // an answer before a send at the same instant
	})
	start := res.Start.UnixNano()
	const margin = 2e-3 // the lanes are read just before the send
	reached := map[int]int{}
	inFlight := 0
	for _, e := range evs {
		inFlight += e.delta
		if e.delta < 0 {
			continue
		}
		at := float64(e.at-start) / 1e9
		allowed := int(math.Round(max(sh.At(at), sh.At(at-margin))))
		if inFlight > allowed {
			t.Fatalf("%d requests in flight at %.4f s, the schedule allows %d", inFlight, at, allowed)
		}
		if lanes := int(math.Round(sh.At(at))); lanes == int(math.Round(sh.At(at-margin))) {
			reached[lanes] = max(reached[lanes], inFlight)
		}
	}
	t.Logf("%d lookups; most in flight per lanes: %v", len(rec.samples), reached)
	for _, lanes := range []int{1, 2, 4} {
		if reached[lanes] != lanes {
			t.Errorf("with %d lanes in force at most %d requests were in flight", lanes, reached[lanes])
		}
	}
}
