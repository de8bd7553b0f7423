package compare

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/stats"
)

// TestMannWhitneyExact checks U and the exact two-sided p-value against
// values counted by hand: for 3+3 values U takes 0..9 with frequencies
// 1,1,2,3,3,3,3,2,1,1 out of C(6,3) = 20 orderings.
func TestMannWhitneyExact(t *testing.T) {
	for _, tc := range []struct {
		a, b []float64
		u, p float64
	}{
		{[]float64{1, 2, 3}, []float64{4, 5, 6}, 0, 2.0 / 20},
		{[]float64{4, 5, 6}, []float64{1, 2, 3}, 9, 2.0 / 20},
		{[]float64{1, 3, 5}, []float64{2, 4, 6}, 3, 2 * 7.0 / 20},
		{[]float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 0, 2.0 / 252},
		{[]float64{1}, []float64{2}, 0, 1},
	} {
		got := MannWhitney(tc.a, tc.b)
		if !got.Exact || got.U != tc.u || math.Abs(got.P-tc.p) > 1e-12 {
			t.Errorf("MannWhitney(%v, %v) = %+v; want U %g, exact p %g", tc.a, tc.b, got, tc.u, tc.p)
		}
	}
	if got := MannWhitney(nil, []float64{1}); got.P != 1 {
		t.Errorf("empty sample: %+v, want p 1", got)
	}
}

// TestMannWhitneyExactMatchesEnumeration counts, over every split of 15
// distinct values into 6 and 9, how often U is at least as far from its
// mean as the observed U: the exact two-sided p-value by brute force.
func TestMannWhitneyExactMatchesEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pool := rng.Perm(15)
	vals := make([]float64, 15)
	for i, v := range pool {
		vals[i] = float64(v) + rng.Float64()/2
	}
	for _, obs := range [][]int{{0, 1, 2, 3, 4, 5}, {0, 2, 4, 6, 8, 10}, {1, 5, 7, 9, 12, 14}} {
		split := func(idx []int) (a, b []float64) {
			in := map[int]bool{}
			for _, i := range idx {
				in[i] = true
			}
			for i, v := range vals {
				if in[i] {
					a = append(a, v)
				} else {
					b = append(b, v)
				}
			}
			return a, b
		}
		a, b := split(obs)
		got := MannWhitney(a, b)
		mean := 6.0 * 9 / 2
		hits, total := 0, 0
		c := []int{0, 1, 2, 3, 4, 5}
		for {
			x, y := split(c)
			if math.Abs(MannWhitney(x, y).U-mean) >= math.Abs(got.U-mean)-1e-9 {
				hits++
			}
			total++
			if !nextCombination(c, 15) {
				break
			}
		}
		want := float64(hits) / float64(total)
		if total != 5005 || !got.Exact || math.Abs(got.P-want) > 1e-9 {
			t.Errorf("split %v: p %g (exact %v), enumeration %d/%d = %g", obs, got.P, got.Exact, hits, total, want)
		}
	}
}

// TestMannWhitneyTies checks the normal approximation with ties, worked
// by hand: A = {1, 2, 2}, B = {2, 3, 3, 4}; mid-ranks 1, 3, 3 | 3, 5.5,
// 5.5, 7; U_A = 7 − 6 = 1, mean 6; tie term Σ(t³ − t) = 24 + 6 = 30;
// σ² = 3·4/12 · (8 − 30/42) = 7.2857; z = (5 − 0.5)/2.6992 = 1.6672;
// p = erfc(z/√2) = 0.09548.
func TestMannWhitneyTies(t *testing.T) {
	got := MannWhitney([]float64{1, 2, 2}, []float64{2, 3, 3, 4})
	if got.Exact || got.U != 1 || math.Abs(got.P-0.09548) > 5e-5 {
		t.Errorf("got %+v; want U 1, approximate p 0.09548", got)
	}
	if got := MannWhitney([]float64{5, 5}, []float64{5, 5, 5}); got.P != 1 {
		t.Errorf("all equal: %+v, want p 1", got)
	}
}

// TestPercentileTestMatchesHDR: the percentiles the test computes from
// its sparse histograms are hdrhistogram's own of the merged histograms,
// which is what `lmfast report` prints.
func TestPercentileTestMatchesHDR(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	qs := []float64{0.1, 50, 90, 95, 99, 99.9, 100}
	var a, b []Hist
	ma, mb := stats.NewHistogram(), stats.NewHistogram()
	for i := range 7 {
		h := stats.NewHistogram()
		for range 50 + rng.IntN(500) {
			h.RecordValue(int64(rng.ExpFloat64()*2e5) + 1000)
		}
		if i%2 == 0 {
			a = append(a, HistOf(h))
			ma.Merge(h)
		} else {
			b = append(b, HistOf(h))
			mb.Merge(h)
		}
	}
	res := PercentileTest(a, b, qs, 1000, 1)
	for i, q := range qs {
		if res.A[i] != ma.ValueAtQuantile(q) || res.B[i] != mb.ValueAtQuantile(q) {
			t.Errorf("q %g: got %d, %d; hdrhistogram %d, %d", q, res.A[i], res.B[i], ma.ValueAtQuantile(q), mb.ValueAtQuantile(q))
		}
	}
	if !res.Exact || res.Splits != 35 { // C(7, 4)
		t.Errorf("exact %v, %d splits; want every one of 35", res.Exact, res.Splits)
	}
}

// one is a histogram holding a single value.
func one(v int64) Hist {
	h := hdrhistogram.New(stats.LowestNs, stats.HighestNs, stats.SigFigs)
	h.RecordValue(v)
	return HistOf(h)
}

// TestPercentileTestExactSmall works every split by hand: intervals of one
// request each, A = {10}, {20}, B = {30}, {40} (ns, exact in HDR). The p50
// of two values is the lower one (rank round(0.5·2 + 0.5) = 1). Observed
// B − A = 30 − 10 = 20; the six splits give 20, 10, 10, −10, −10, −20, so
// two of six are as extreme: p = 1/3.
func TestPercentileTestExactSmall(t *testing.T) {
	res := PercentileTest([]Hist{one(10), one(20)}, []Hist{one(30), one(40)}, []float64{50}, 100, 1)
	if res.A[0] != 10 || res.B[0] != 30 || !res.Exact || res.Splits != 6 || math.Abs(res.P[0]-1.0/3) > 1e-12 {
		t.Errorf("got %+v; want A 10, B 30, exact p 1/3 over 6 splits", res)
	}
}

// TestPercentileTestShiftAndNull: a 20 % latency shift over 12+12
// intervals of 200 requests is found (the smallest p a Monte Carlo run of
// 2000 splits can give), and the same intervals on both sides give p = 1.
func TestPercentileTestShiftAndNull(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gen := func(scale float64) []Hist {
		var out []Hist
		for range 12 {
			h := stats.NewHistogram()
			for range 200 {
				h.RecordValue(int64(scale * (1e6 + 1e5*rng.NormFloat64())))
			}
			out = append(out, HistOf(h))
		}
		return out
	}
	a, b := gen(1), gen(1.2)
	qs := []float64{50, 90, 99}
	res := PercentileTest(a, b, qs, 2000, 1)
	for i := range qs {
		if res.P[i] != 1.0/2001 || res.Exact {
			t.Errorf("q %g: p %g; want 1/2001 (no split as extreme)", qs[i], res.P[i])
		}
		if r := float64(res.B[i]) / float64(res.A[i]); r < 1.15 || r > 1.25 {
			t.Errorf("q %g: B/A %.3f; want about 1.2", qs[i], r)
		}
	}
	same := PercentileTest(a, a, qs, 2000, 1)
	if same.Splits != enoughHits {
		t.Errorf("identical sets: %d splits drawn; want to stop at %d, every split being as extreme", same.Splits, enoughHits)
	}
	for i := range qs {
		if same.P[i] != 1 || same.A[i] != same.B[i] {
			t.Errorf("identical sets, q %g: %d vs %d, p %g; want equal, p 1", qs[i], same.A[i], same.B[i], same.P[i])
		}
	}
}

// TestHolm checks the adjusted p-values worked by hand: p = 0.01, 0.04,
// 0.03, 0.005 over m = 4 rows sort to 0.005·4 = 0.02, 0.01·3 = 0.03,
// 0.03·2 = 0.06, 0.04·1 = 0.04 → 0.06 (kept monotone).
func TestHolm(t *testing.T) {
	res := &Result{Options: withDefaults(Options{Threshold: 0.05})}
	for _, p := range []float64{0.01, 0.04, 0.03, 0.005} {
		res.Rows = append(res.Rows, Row{P: p, A: 1, B: 2, Delta: 1, worse: +1})
	}
	judge(res)
	want := []float64{0.03, 0.06, 0.06, 0.02}
	verdicts := []string{Regression, NoChange, NoChange, Regression}
	for i, r := range res.Rows {
		if math.Abs(r.PAdj-want[i]) > 1e-12 || r.Verdict != verdicts[i] {
			t.Errorf("row %d (p %g): adjusted %g, %q; want %g, %q", i, r.P, r.PAdj, r.Verdict, want[i], verdicts[i])
		}
	}
	if res.Regressions != 2 {
		t.Errorf("%d regressions, want 2", res.Regressions)
	}
	res = &Result{Options: withDefaults(Options{NoCorrection: true, Threshold: 0.05})}
	res.Rows = []Row{{P: 0.04, A: 1, B: 1.01, Delta: 0.01, worse: +1}}
	judge(res)
	if r := res.Rows[0]; r.PAdj != 0.04 || r.Verdict != WithinThreshold {
		t.Errorf("no correction: %+v; want adjusted 0.04, within threshold", r)
	}
}

// BenchmarkPercentileTest: 120+120 intervals of 500 requests each, four
// percentiles, 10 000 random splits (a 30 s run at --interval 250ms).
func BenchmarkPercentileTest(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func() []Hist {
		var out []Hist
		for range 120 {
			h := stats.NewHistogram()
			for range 500 {
				h.RecordValue(int64(rng.ExpFloat64()*5e5) + 5e4)
			}
			out = append(out, HistOf(h))
		}
		return out
	}
	a, c := gen(), gen()
	b.ResetTimer()
	for range b.N {
		PercentileTest(a, c, DefaultPercentiles, 10000, 1)
	}
}

// TestNullCalibration: tests of two sets drawn from one distribution
// reject at α = 0.05 at most 5 % of the time, as valid tests must. U:
// over all C(16, 8) = 12870 orderings of 8 values against 8, exactly
// 4.988 % are rejected (the exact test's size: the largest below 5 % its
// discrete distribution allows). Percentiles: 200 comparisons of 8
// intervals against 8, each interval with its own random load level as a
// noisy machine makes them, at most 20 rejected (twice the 10 expected; a
// calibrated test exceeds it with probability below 0.1 %). The seeds are
// fixed: the outcome is the same on every run.
func TestNullCalibration(t *testing.T) {
	rejU, total := 0, 0
	c := []int{0, 1, 2, 3, 4, 5, 6, 7}
	for {
		var a, b []float64
		for i, k := 0, 0; i < 16; i++ {
			if k < len(c) && c[k] == i {
				a = append(a, float64(i))
				k++
			} else {
				b = append(b, float64(i))
			}
		}
		if MannWhitney(a, b).P < 0.05 {
			rejU++
		}
		total++
		if !nextCombination(c, 16) {
			break
		}
	}
	if size := float64(rejU) / float64(total); total != 12870 || math.Abs(size-0.04988) > 5e-5 {
		t.Errorf("U: %d of %d orderings rejected (%.5f); want the exact size 0.04988", rejU, total, size)
	}

	rng := rand.New(rand.NewPCG(11, 12))
	gen := func() []Hist {
		var hs []Hist
		for range 8 {
			level := math.Exp(rng.NormFloat64() * 0.3) // the interval's conditions
			h := hdrhistogram.New(1, 1e9, 3)
			for range 50 + rng.IntN(100) {
				h.RecordValue(int64(level * rng.ExpFloat64() * 1e6))
			}
			hs = append(hs, HistOf(h))
		}
		return hs
	}
	qs := []float64{50, 99}
	rejP := make([]int, len(qs))
	const trials = 200
	for i := range trials {
		res := PercentileTest(gen(), gen(), qs, 1000, uint64(i+1))
		for k := range qs {
			if res.P[k] < 0.05 {
				rejP[k]++
			}
		}
	}
	t.Logf("permutation test: p50 %d and p99 %d of %d null comparisons rejected at 0.05", rejP[0], rejP[1], trials)
	if rejP[0] > 20 || rejP[1] > 20 {
		t.Errorf("rejections of a true null: p50 %d, p99 %d of %d; want at most 20", rejP[0], rejP[1], trials)
	}
}
