package keydist

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	p := 0.8
	good := map[string]Dist{
		"":                 {Kind: Uniform},
		"uniform":          {Kind: Uniform},
		"zipf:1.1":         {Kind: Zipf, S: 1.1},
		"zipf:0.8":         {Kind: Zipf, S: 0.8},
		"hotspot:0.8":      {Kind: Hotspot, P: 0.8, H: 1 - p},
		"hotspot:0.9:0.05": {Kind: Hotspot, P: 0.9, H: 0.05},
	}
	for spec, want := range good {
		got, err := Parse(spec)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	bad := map[string]string{ // spec → the part the error must name
		"zipf":            "zipf:S",
		"zipf:0":          `"0"`,
		"zipf:-1":         `"-1"`,
		"zipf:NaN":        `"NaN"`,
		"zipf:x":          `"x"`,
		"zipf:1:2":        "zipf:S",
		"hotspot":         "hotspot:P",
		"hotspot:1":       `fraction P "1"`,
		"hotspot:0":       `fraction P "0"`,
		"hotspot:0.8:1.5": `H "1.5"`,
		"hotspot:0.8:Inf": `H "Inf"`,
		"uniform:3":       `"3"`,
		"pareto:1":        `"pareto"`,
	}
	for spec, part := range bad {
		_, err := Parse(spec)
		if err == nil || !strings.Contains(err.Error(), part) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) error %v; want one line naming %s", spec, err, part)
		}
	}
}

type pcg struct{ r *rand.Rand }

func (p pcg) Uint64() uint64 { return p.r.Uint64() }

func source(seed uint64) Source { return pcg{rand.New(rand.NewPCG(seed, 7))} }

// chiSquare draws draws keys and compares their counts with Prob by
// Pearson's χ² over bins of consecutive keys, each expecting at least 20
// draws; it returns the statistic and its degrees of freedom.
func chiSquare(t *testing.T, s *Sampler, draws int, seed uint64) (float64, int) {
	t.Helper()
	counts := make([]int, s.N())
	src := source(seed)
	for i := 0; i < draws; i++ {
		k := s.Key(src)
		if k >= s.N() {
			t.Fatalf("key %d outside 0..%d", k, s.N()-1)
		}
		counts[k]++
	}
	var chi, exp, obs float64
	bins := 0
	for k := uint64(0); k < s.N(); k++ {
		exp += s.Prob(k) * float64(draws)
		obs += float64(counts[k])
		if exp >= 20 || k == s.N()-1 {
			chi += (obs - exp) * (obs - exp) / exp
			bins++
			exp, obs = 0, 0
		}
	}
	return chi, bins - 1
}

// critical is χ²'s 0.999 quantile for df degrees of freedom
// (Wilson–Hilferty).
func critical(df int) float64 {
	k := float64(df)
	z := 3.090232 // the standard normal's 0.999 quantile
	c := 1 - 2/(9*k) + z*math.Sqrt(2/(9*k))
	return k * c * c * c
}

func TestDistributionsMatch(t *testing.T) {
	for _, spec := range []string{"uniform", "zipf:0.8", "zipf:1", "zipf:1.1", "zipf:2", "hotspot:0.8", "hotspot:0.9:0.01"} {
		d, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		s := NewSampler(d, 1000)
		sum := 0.0
		for k := uint64(0); k < s.N(); k++ {
			sum += s.Prob(k)
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: probabilities sum to %v", spec, sum)
		}
		chi, df := chiSquare(t, s, 400_000, 42)
		if chi > critical(df) {
			t.Errorf("%s: χ² = %.1f over %d degrees of freedom, above the 0.999 quantile %.1f", spec, chi, df, critical(df))
		}
	}
}

// TestChiSquareSeesAWrongDistribution makes sure the check above can
// fail: zipf:1.1's draws are far from zipf:1's and from uniform.
func TestChiSquareSeesAWrongDistribution(t *testing.T) {
	d11, _ := Parse("zipf:1.1")
	draw := NewSampler(d11, 1000)
	for _, other := range []string{"zipf:1", "uniform", "hotspot:0.8"} {
		d, _ := Parse(other)
		model := NewSampler(d, 1000)
		counts := make([]int, 1000)
		src := source(42)
		const draws = 400_000
		for i := 0; i < draws; i++ {
			counts[draw.Key(src)]++
		}
		var chi, exp, obs float64
		bins := 0
		for k := uint64(0); k < 1000; k++ {
			exp += model.Prob(k) * draws
			obs += float64(counts[k])
			if exp >= 20 || k == 999 {
				chi += (obs - exp) * (obs - exp) / exp
				bins++
				exp, obs = 0, 0
			}
		}
		if chi <= critical(bins-1) {
			t.Errorf("zipf:1.1's draws pass as %s: χ² = %.1f", other, chi)
		}
	}
}

func TestHotspotShare(t *testing.T) {
	d, _ := Parse("hotspot:0.9")
	s := NewSampler(d, 10_000) // hot set: keys 0..999
	src := source(1)
	hot := 0
	const draws = 1_000_000
	for i := 0; i < draws; i++ {
		if s.Key(src) < 1000 {
			hot++
		}
	}
	// 0.9 ± 5 standard deviations (0.0003).
	if got := float64(hot) / draws; math.Abs(got-0.9) > 0.0015 {
		t.Errorf("hot share %.4f, want 0.9", got)
	}
}

func TestZipfLargeKeySpaceRankFrequency(t *testing.T) {
	// No table: a key space of 2^40 costs nothing. Rank-frequency: the
	// hottest keys' shares are 1/H(n,S), 2^-S/H(n,S), ...
	d, _ := Parse("zipf:1.2")
	s := NewSampler(d, 1<<40)
	src := source(3)
	const draws = 1_000_000
	counts := map[uint64]int{}
	for i := 0; i < draws; i++ {
		counts[s.Key(src)]++
	}
	// H(2^40, 1.2) by the integral tail bound is within 1e-3 of ζ(1.2)
	// minus the tail; compare ratios instead: count(k)/count(0) ≈ (k+1)^-1.2.
	for _, k := range []uint64{1, 3, 9} {
		want := math.Pow(float64(k+1), -1.2)
		got := float64(counts[k]) / float64(counts[0])
		if math.Abs(got-want) > 0.05*want+0.005 {
			t.Errorf("count(%d)/count(0) = %.4f, want %.4f", k, got, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, spec := range []string{"uniform", "zipf:1.1", "hotspot:0.8"} {
		d, _ := Parse(spec)
		s := NewSampler(d, 5000)
		a, b, c := source(9), source(9), source(10)
		same, differ := true, false
		for i := 0; i < 1000; i++ {
			x, y, z := s.Key(a), s.Key(b), s.Key(c)
			same = same && x == y
			differ = differ || x != z
		}
		if !same || !differ {
			t.Errorf("%s: same seed same keys %v, other seed other keys %v", spec, same, differ)
		}
	}
}
