package l2

import (
	"math"
	"sort"
)

// MB is LMCache's megabyte: 2^20 bytes.
const MB = 1 << 20

// mean is statistics.mean; 0 for no values.
func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func minMax(v []float64) (lo, hi float64) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi = v[0], v[0]
	for _, x := range v[1:] {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// stdev is statistics.stdev (sample, n−1) for n > 1, else 0. Where LMCache
// crashes (an infinite value), it returns +Inf.
func stdev(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m := mean(v)
	if math.IsInf(m, 0) {
		return math.Inf(1)
	}
	ss := 0.0
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(v)-1))
}

// percentile is LMCache's nearest-rank percentile (result.py _percentile):
// rank = max(1, int(p/100·n + 0.999999)), capped at n, on sorted values.
func percentile(v []float64, p float64) float64 {
	n := len(v)
	switch n {
	case 0:
		return 0
	case 1:
		return v[0]
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	rank := max(1, int(p/100*float64(n)+0.999999))
	return s[min(rank, n)-1]
}
