package l2

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// MB is LMCache's megabyte: 2^20 bytes.
const MB = 1 << 20

// PyRound is Python's round(x, n): correctly rounded on the exact binary
// value, ties to even. ±Inf and NaN pass through.
func PyRound(x float64, n int) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', n, 64), 64)
	return r
}

// PyFloat is Python's repr(float): the shortest round-trip form, always
// with a decimal point or an exponent ("0.0", "512.0", "1e-05", "inf").
func PyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes 1e-05 as "1e-05" and 1.5e16 as "1.5e+16", as Python does.
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

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
