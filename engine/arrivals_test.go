package engine

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/shape"
)

// searchOnly hides a Pacer's own count, so that firstDue searches Due.
type searchOnly struct{ p Pacer }

func (s searchOnly) Due(k uint64) time.Duration { return s.p.Due(k) }

func parseShape(t *testing.T, s string) *shape.Shape {
	t.Helper()
	sh, err := shape.Parse(s, shape.Rate)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestSchedulePacerFollowsTheIntegral: for every shape, with and without
// a warm-up head and for a sender's share of the target, Due never
// decreases and the requests due in every stretch are the integral of
// the target over it (within one), the warm-up running at the first value.
func TestSchedulePacerFollowsTheIntegral(t *testing.T) {
	for _, s := range []string{"const:900", "step:300,0,1200@0.7s", "ramp:0->2000:1.5s,2000->100:1s",
		"ramp:500->500:1s", "sine:mean=1000,amp=1000,period=0.9s", "sine:mean=700,amp=200,period=2s"} {
		sh := parseShape(t, s)
		for _, head := range []time.Duration{0, 400 * time.Millisecond} {
			for _, share := range []float64{1, 1.0 / 3} {
				p := &SchedulePacer{Shape: sh, Share: share, Head: head}
				// The whole-run count of requests due by t after the start.
				due := func(t time.Duration) float64 {
					h := min(t, head).Seconds() * sh.At(0)
					return share * (h + sh.Integral((t - head).Seconds()))
				}
				var prev time.Duration
				for k := uint64(0); k < 2000; k++ {
					d := p.Due(k)
					if d < prev {
						t.Fatalf("%s head %v share %g: Due(%d) = %v < Due(%d) = %v", s, head, share, k, d, k-1, prev)
					}
					prev = d
				}
				edges := []time.Duration{0}
				for e := 50 * time.Millisecond; e <= 4*time.Second; e += 50 * time.Millisecond {
					edges = append(edges, e)
				}
				for i := 1; i < len(edges); i++ {
					a, b := edges[i-1], edges[i]
					got := float64(dueBetween(p, a, b))
					if want := due(b) - due(a); math.Abs(got-want) > 1.0001 {
						t.Fatalf("%s head %v share %g: %v due in [%v, %v), the integral says %.3f", s, head, share, got, a, b, want)
					}
				}
				if got, want := float64(dueBetween(p, 0, 4*time.Second)), due(4*time.Second); math.Abs(got-want) > 1.0001 {
					t.Fatalf("%s: %v due in 4 s, the integral says %.3f", s, got, want)
				}
			}
		}
	}
}

// TestUniformArrivals: each worker's arrivals are exactly 1/R apart from
// a phase in [0, 1/R), the workers take turns in the cycle, and over any
// T every worker has R·T arrivals rounded down or up.
func TestUniformArrivals(t *testing.T) {
	const n, r = 37, 13.0
	u := newWorkerArrivals(ArrivalUniform, n, r, 7)
	cyc := u.cycle()
	if len(cyc) != n {
		t.Fatalf("cycle of %d workers, want %d", len(cyc), n)
	}
	last := make([]time.Duration, n)
	count := make([]int, n)
	period := seconds(1 / r)
	horizon := 3100 * time.Millisecond
	var prev time.Duration
	for k := uint64(0); ; k++ {
		d := u.Due(k)
		if d < prev {
			t.Fatalf("Due(%d) = %v < Due(%d) = %v", k, d, k-1, prev)
		}
		prev = d
		if d >= horizon {
			break
		}
		w := cyc[k%n]
		if count[w] == 0 && d >= period {
			t.Fatalf("worker %d starts at %v, after one period %v", w, d, period)
		}
		if count[w] > 0 {
			if gap := d - last[w]; gap < period-2 || gap > period+2 {
				t.Fatalf("worker %d: gap %v, want %v", w, gap, period)
			}
		}
		last[w] = d
		count[w]++
	}
	lo, hi := int(math.Floor(r*horizon.Seconds())), int(math.Ceil(r*horizon.Seconds()))
	for w, c := range count {
		if c < lo || c > hi {
			t.Fatalf("worker %d: %d arrivals in %v, want %d or %d", w, c, horizon, lo, hi)
		}
	}
}

// TestPoissonArrivals: the merged process of n workers at R each is a
// Poisson process of rate n·R: its count over T is within counting
// noise of n·R·T, its gaps have the exponential's mean and variance, its
// counts over short windows are Poisson-dispersed; and random access
// (Due out of order, dueBefore) agrees with the sequence.
func TestPoissonArrivals(t *testing.T) {
	const n, r = 250, 20.0
	lambda := n * r // 5000/s
	p := newWorkerArrivals(ArrivalPoisson, n, r, 99)
	if p.cycle() != nil {
		t.Fatal("poisson arrivals have a cycle: the worker of each arrival must be drawn")
	}
	const horizon = 20 * time.Second
	var times []time.Duration
	for k := uint64(0); ; k++ {
		d := p.Due(k)
		if len(times) > 0 && d < times[len(times)-1] {
			t.Fatalf("Due(%d) = %v < Due(%d)", k, d, k-1)
		}
		if d >= horizon {
			break
		}
		times = append(times, d)
	}
	N := float64(len(times))
	mean := lambda * horizon.Seconds()
	if z := (N - mean) / math.Sqrt(mean); math.Abs(z) > 5 {
		t.Fatalf("%v arrivals in %v, want %v ± 5σ (z = %.1f)", N, horizon, mean, z)
	}
	var sum, sum2 float64
	for i := 1; i < len(times); i++ {
		g := (times[i] - times[i-1]).Seconds()
		sum += g
		sum2 += g * g
	}
	m := sum / (N - 1)
	v := sum2/(N-1) - m*m
	if z := (m - 1/lambda) / (1 / lambda / math.Sqrt(N)); math.Abs(z) > 5 {
		t.Fatalf("mean gap %v, want %v (z = %.1f)", m, 1/lambda, z)
	}
	// The exponential's variance is its mean squared; the sample ratio's
	// standard error is about sqrt(8/N).
	if ratio := v / (m * m); math.Abs(ratio-1) > 5*math.Sqrt(8/N) {
		t.Fatalf("gap variance / mean² = %.3f, want 1 (exponential gaps)", ratio)
	}
	// Counts in windows of 20 ms (100 expected): index of dispersion ~ 1.
	const win = 20 * time.Millisecond
	bins := make([]float64, horizon/win)
	for _, d := range times {
		bins[d/win]++
	}
	var bm, bv float64
	for _, c := range bins {
		bm += c
	}
	bm /= float64(len(bins))
	for _, c := range bins {
		bv += (c - bm) * (c - bm)
	}
	bv /= float64(len(bins) - 1)
	if d := bv / bm; math.Abs(d-1) > 5*math.Sqrt(2/float64(len(bins))) {
		t.Fatalf("window counts' variance/mean = %.3f, want 1 (Poisson)", d)
	}
	// Random access: a fresh pacer of the same seed, read out of order,
	// gives the same times; its own count agrees with a search of Due.
	q := newWorkerArrivals(ArrivalPoisson, n, r, 99)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		k := rng.Uint64N(uint64(len(times)))
		if got := q.Due(k); got != times[k] {
			t.Fatalf("Due(%d) out of order = %v, in order %v", k, got, times[k])
		}
		at := time.Duration(rng.Int64N(int64(horizon)))
		if got, want := firstDue(q, at), firstDue(searchOnly{q}, at); got != want {
			t.Fatalf("dueBefore(%v) = %d, a search of Due says %d", at, got, want)
		}
	}
}

// BenchmarkPacerDue is each pacer's cost per request, read in order as a
// sender does: the sender's time between two requests.
func BenchmarkPacerDue(b *testing.B) {
	mk := func(s string) *shape.Shape {
		sh, err := shape.Parse(s, shape.Rate)
		if err != nil {
			b.Fatal(err)
		}
		return sh
	}
	pacers := []struct {
		name string
		p    func() Pacer
	}{
		{"constant", func() Pacer { return ConstantPacer{Rate: 50000} }},
		{"step", func() Pacer { return &SchedulePacer{Shape: mk("step:10000,50000,20000@10s"), Share: 1} }},
		{"ramp", func() Pacer { return &SchedulePacer{Shape: mk("ramp:1000->100000:30s"), Share: 1} }},
		{"sine", func() Pacer { return &SchedulePacer{Shape: mk("sine:mean=50000,amp=30000,period=20s"), Share: 1} }},
		{"uniform-workers", func() Pacer { return newWorkerArrivals(ArrivalUniform, 100000, 0.5, 1) }},
		{"poisson-workers", func() Pacer { return newWorkerArrivals(ArrivalPoisson, 100000, 0.5, 1) }},
	}
	for _, pc := range pacers {
		b.Run(pc.name, func(b *testing.B) {
			p := pc.p()
			var sink time.Duration
			for k := 0; b.Loop(); k++ {
				sink += p.Due(uint64(k))
			}
			_ = sink
		})
	}
}

// TestMetTargetPoisson: Poisson arrivals (mean 10 000 over the run) that
// had 9 300 due, all sent on time, met their target; a run of fixed
// arrivals as short did not, and neither did Poisson arrivals with a
// count beyond five standard deviations (500) of 95 %.
func TestMetTargetPoisson(t *testing.T) {
	for _, tc := range []struct {
		poisson  bool
		requests int64
		met      bool
	}{{true, 9300, true}, {false, 9300, false}, {true, 8900, false}} {
		r := &Result{TargetRate: 1000, PoissonTarget: tc.poisson, OpenLoop: true, Elapsed: 10 * time.Second, Due: tc.requests,
			Ops: []OpResult{{Op: OpAdmit, Requests: tc.requests, Sent: tc.requests}}}
		if r.MetTarget() != tc.met {
			t.Errorf("poisson %v, %d of a mean of 10000: met %v, want %v", tc.poisson, tc.requests, r.MetTarget(), tc.met)
		}
	}
}
