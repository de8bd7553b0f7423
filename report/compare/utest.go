package compare

import (
	"math"
	"sort"
)

// UTest is the outcome of a two-sided Mann–Whitney U test.
type UTest struct {
	U     float64 // U of the first sample: pairs (a, b) with a > b, ties counting one half
	P     float64 // two-sided p-value
	Exact bool    // P is from U's exact distribution (no ties, small samples), else the normal approximation
}

// MannWhitney tests whether the values of a tend to be larger or smaller
// than those of b (H0: both samples come from one distribution). It ranks
// the pooled values (ties share their mean rank) and returns U of a and
// the two-sided p-value. Either sample empty gives P = 1.
func MannWhitney(a, b []float64) UTest {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return UTest{P: 1}
	}
	type v struct {
		x     float64
		fromA bool
	}
	all := make([]v, 0, n+m)
	for _, x := range a {
		all = append(all, v{x, true})
	}
	for _, x := range b {
		all = append(all, v{x, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].x < all[j].x })
	rankA, tieSum := 0.0, 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].x == all[i].x {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].fromA {
				rankA += mid
			}
		}
		if t := float64(j - i); t > 1 {
			tieSum += t*t*t - t
		}
		i = j
	}
	u := rankA - float64(n*(n+1))/2
	if tieSum == 0 && n+m <= exactULimit {
		return UTest{U: u, P: exactUP(n, m, int(math.Round(u))), Exact: true}
	}
	N := float64(n + m)
	mean := float64(n*m) / 2
	variance := float64(n*m) / 12 * ((N + 1) - tieSum/(N*(N-1)))
	if variance <= 0 { // every value equal: no evidence either way
		return UTest{U: u, P: 1}
	}
	z := (math.Abs(u-mean) - 0.5) / math.Sqrt(variance)
	if z < 0 {
		z = 0
	}
	return UTest{U: u, P: math.Min(1, math.Erfc(z/math.Sqrt2))}
}

// exactULimit is the largest pooled sample size whose U distribution is
// computed exactly; beyond it, and whenever values tie, the normal
// approximation (with the tie and continuity corrections) is used, as R's
// wilcox.test and SciPy's mannwhitneyu do.
const exactULimit = 50

// exactUP is the two-sided p-value of U = u for samples of n and m values
// without ties: twice the smaller tail of U's distribution, which is
// symmetric about n·m/2. The distribution is built by the recurrence
// P(n, m, u) = n/(n+m)·P(n−1, m, u−m) + m/(n+m)·P(n, m−1, u) (the largest
// pooled value is from the first sample, or from the second).
func exactUP(n, m, u int) float64 {
	// dist[i][j] is the distribution of U for i and j values.
	dist := make([][][]float64, n+1)
	for i := range dist {
		dist[i] = make([][]float64, m+1)
		for j := range dist[i] {
			d := make([]float64, i*j+1)
			switch {
			case i == 0 || j == 0:
				d[0] = 1
			default:
				pa, pb := float64(i)/float64(i+j), float64(j)/float64(i+j)
				for k := range d {
					if k-j >= 0 && k-j < len(dist[i-1][j]) {
						d[k] += pa * dist[i-1][j][k-j]
					}
					if k < len(dist[i][j-1]) {
						d[k] += pb * dist[i][j-1][k]
					}
				}
			}
			dist[i][j] = d
		}
	}
	d := dist[n][m]
	lo, hi := 0.0, 0.0
	for k, p := range d {
		if k <= u {
			lo += p
		}
		if k >= u {
			hi += p
		}
	}
	return math.Min(1, 2*math.Min(lo, hi))
}
