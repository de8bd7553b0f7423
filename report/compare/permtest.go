package compare

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Hist is one interval's latency histogram as the permutation test uses
// it: the distinct values recorded (nanoseconds, each bucket's highest
// equivalent value, the value hdrhistogram reports a percentile as) in
// increasing order, and how many requests had each.
type Hist struct {
	Values []int64
	Counts []int64
}

// HistOf returns h's recorded buckets.
func HistOf(h *hdrhistogram.Histogram) Hist {
	var out Hist
	if h == nil {
		return out
	}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			out.Values = append(out.Values, b.To)
			out.Counts = append(out.Counts, b.Count)
		}
	}
	return out
}

// MergeHists adds histograms bucket by bucket.
func MergeHists(hs []Hist) Hist {
	counts := map[int64]int64{}
	for _, h := range hs {
		for i, v := range h.Values {
			counts[v] += h.Counts[i]
		}
	}
	var out Hist
	for v := range counts {
		out.Values = append(out.Values, v)
	}
	sort.Slice(out.Values, func(i, j int) bool { return out.Values[i] < out.Values[j] })
	out.Counts = make([]int64, len(out.Values))
	for i, v := range out.Values {
		out.Counts[i] = counts[v]
	}
	return out
}

// Total is the number of requests in the histogram.
func (h Hist) Total() int64 {
	n := int64(0)
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// PermResult is the outcome of PercentileTest.
type PermResult struct {
	A, B  []int64   // each percentile of all of a's (b's) intervals merged, ns
	P     []float64 // two-sided p-value of each percentile's difference
	Exact bool      // every split of the intervals was evaluated (else Splits random ones)
	// Splits is how many splits of the pooled intervals were evaluated
	// (random ones: until every percentile had enoughHits, at most the
	// number asked for).
	Splits int
}

// PercentileTest is a two-sided permutation test of the difference
// between the percentiles qs (0..100) of a's intervals merged and of b's
// intervals merged. The unit is the interval, not the request: requests
// of one interval share its conditions (a stall, a busy neighbour), so
// they are not independent, while intervals are taken as exchangeable
// under H0 (both sets measure one system). The pooled intervals are split
// into a group of len(a) and a group of len(b), each group's histograms
// merged exactly, and the difference of each percentile recomputed; the
// p-value is the share of splits whose difference is at least as large in
// absolute value as the observed one. Every split is evaluated when there
// are at most splits of them; otherwise up to splits random ones are
// drawn (seeded by seed, so the result is reproducible) and p = (1 + hits)
// / (1 + splits), which keeps the test's size at or below its level, or
// enoughHits / drawn when enoughHits were as extreme before the end.
// Intervals without requests must be left out by the caller; either side
// empty gives p = 1 and zero percentiles for that side.
func PercentileTest(a, b []Hist, qs []float64, splits int, seed uint64) PermResult {
	res := PermResult{A: make([]int64, len(qs)), B: make([]int64, len(qs)), P: make([]float64, len(qs))}
	for i := range res.P {
		res.P[i] = 1
	}
	// The union of every recorded value, and each interval as indices
	// into it.
	var vals []int64
	for _, h := range append(append([]Hist(nil), a...), b...) {
		vals = append(vals, h.Values...)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	vals = uniq(vals)
	index := make(map[int64]int32, len(vals))
	for i, v := range vals {
		index[v] = int32(i)
	}
	type entry struct {
		i int32
		c int64
	}
	pooled := make([][]entry, 0, len(a)+len(b))
	totals := make([]int64, 0, len(a)+len(b))
	all := make([]int64, len(vals))
	for _, h := range append(append([]Hist(nil), a...), b...) {
		es := make([]entry, len(h.Values))
		for k, v := range h.Values {
			es[k] = entry{index[v], h.Counts[k]}
			all[es[k].i] += h.Counts[k]
		}
		pooled = append(pooled, es)
		totals = append(totals, h.Total())
	}
	nA, nB := len(a), len(b)
	group := make([]int64, len(vals))
	// diffs computes both groups' percentiles when the intervals chosen
	// are group A, and writes B − A into d.
	qa, qb := make([]int64, len(qs)), make([]int64, len(qs))
	diffs := func(chosen []int, d []int64) {
		clear(group)
		ta := int64(0)
		for _, k := range chosen {
			for _, e := range pooled[k] {
				group[e.i] += e.c
			}
			ta += totals[k]
		}
		tb := sum(totals) - ta
		quantiles(vals, ta, qs, qa, func(i int) int64 { return group[i] })
		quantiles(vals, tb, qs, qb, func(i int) int64 { return all[i] - group[i] })
		for i := range d {
			d[i] = qb[i] - qa[i]
		}
	}
	observed := make([]int64, len(qs))
	first := make([]int, nA)
	for i := range first {
		first[i] = i
	}
	diffs(first, observed)
	copy(res.A, qa)
	copy(res.B, qb)
	if nA == 0 || nB == 0 {
		return res
	}
	hits := make([]int, len(qs))
	d := make([]int64, len(qs))
	count := func() {
		for i := range d {
			if abs64(d[i]) >= abs64(observed[i]) {
				hits[i]++
			}
		}
	}
	if binomial(nA+nB, nA) <= float64(splits) {
		res.Exact = true
		c := append([]int(nil), first...)
		for {
			diffs(c, d)
			count()
			res.Splits++
			if !nextCombination(c, nA+nB) {
				break
			}
		}
		for i := range res.P {
			res.P[i] = float64(hits[i]) / float64(res.Splits)
		}
		return res
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c6d66617374)) // "lmfast"
	perm := make([]int, nA+nB)
	for i := range perm {
		perm[i] = i
	}
	stoppedAt := make([]int, len(qs)) // splits drawn when a percentile reached enoughHits
	open := len(qs)
	r := 0
	for r < splits && open > 0 {
		// A partial Fisher–Yates shuffle: perm[:nA] is a uniform random
		// nA-subset.
		for i := 0; i < nA; i++ {
			j := i + rng.IntN(nA+nB-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		diffs(perm[:nA], d)
		count()
		r++
		for i := range hits {
			if stoppedAt[i] == 0 && hits[i] == enoughHits {
				stoppedAt[i] = r
				open--
			}
		}
	}
	res.Splits = r
	for i := range res.P {
		if stoppedAt[i] > 0 {
			res.P[i] = float64(enoughHits) / float64(stoppedAt[i])
		} else {
			res.P[i] = float64(1+hits[i]) / float64(1+r)
		}
	}
	return res
}

// enoughHits ends the random splits early for a percentile once this many
// were at least as extreme as the observed one: its p-value is then
// enoughHits / splits drawn (Besag and Clifford's sequential Monte Carlo
// p-value, valid as the fixed-count one), large, and known well enough.
// A comparison of equal builds so costs a few dozen splits, not
// thousands; a percentile that stays rare runs all of them.
const enoughHits = 20

// quantiles writes into out the value at each percentile qs of the
// histogram whose count at vals[i] is count(i) and whose total is total,
// as hdrhistogram's ValueAtPercentile does: the rank round(q/100·total),
// at least 1 and at most total, and the first value whose cumulative
// count reaches it. An empty histogram gives zeros.
func quantiles(vals []int64, total int64, qs []float64, out []int64, count func(int) int64) {
	clear(out)
	if total == 0 {
		return
	}
	order := make([]int, len(qs))
	ranks := make([]int64, len(qs))
	for i, q := range qs {
		order[i] = i
		ranks[i] = rankOf(q, total)
	}
	sort.Slice(order, func(x, y int) bool { return ranks[order[x]] < ranks[order[y]] })
	next, cum := 0, int64(0)
	for i := range vals {
		cum += count(i)
		for next < len(order) && cum >= ranks[order[next]] {
			out[order[next]] = vals[i]
			next++
		}
		if next == len(order) {
			return
		}
	}
}

// rankOf is hdrhistogram's rank of percentile q among total values.
func rankOf(q float64, total int64) int64 {
	q = math.Min(q, 100)
	r := q/100*float64(total) + 0.5
	if !(r >= 1) {
		return 1
	}
	if r >= float64(total) {
		return total
	}
	return int64(r)
}

// nextCombination advances c, an increasing k-subset of 0..n-1, to the
// next one in lexicographic order; false after the last.
func nextCombination(c []int, n int) bool {
	k := len(c)
	i := k - 1
	for i >= 0 && c[i] == n-k+i {
		i--
	}
	if i < 0 {
		return false
	}
	c[i]++
	for j := i + 1; j < k; j++ {
		c[j] = c[j-1] + 1
	}
	return true
}

// binomial is C(n, k) as a float64 (+Inf once beyond its range).
func binomial(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	k = min(k, n-k)
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return math.Round(r)
}

func uniq(s []int64) []int64 {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func sum(s []int64) int64 {
	n := int64(0)
	for _, v := range s {
		n += v
	}
	return n
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
