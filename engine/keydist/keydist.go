package keydist

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Kind is a distribution's family.
type Kind uint8

// The families of --key-dist.
const (
	Uniform Kind = iota
	Zipf
	Hotspot
)

// Dist is a parsed --key-dist: a family and its parameters.
type Dist struct {
	Kind Kind
	S    float64 // Zipf's exponent
	P    float64 // Hotspot: the fraction of draws that hit the hot set
	H    float64 // Hotspot: the hot set's fraction of the keys
}

// Parse reads a --key-dist specification (see the package comment). The
// empty string is uniform. An error names the part at fault.
func Parse(spec string) (Dist, error) {
	parts := strings.Split(strings.TrimSpace(spec), ":")
	switch name := parts[0]; name {
	case "", "uniform":
		if len(parts) > 1 {
			return Dist{}, fmt.Errorf("uniform takes no parameter, got %q", strings.Join(parts[1:], ":"))
		}
		return Dist{Kind: Uniform}, nil
	case "zipf":
		if len(parts) != 2 {
			return Dist{}, fmt.Errorf("zipf needs one exponent, zipf:S (e.g. zipf:1.1), got %q", spec)
		}
		s, err := number(parts[1])
		if err != nil || s <= 0 || s > 100 {
			return Dist{}, fmt.Errorf("zipf exponent %q is not a number in (0, 100]", parts[1])
		}
		return Dist{Kind: Zipf, S: s}, nil
	case "hotspot":
		if len(parts) != 2 && len(parts) != 3 {
			return Dist{}, fmt.Errorf("hotspot needs hotspot:P or hotspot:P:H (e.g. hotspot:0.8), got %q", spec)
		}
		p, err := number(parts[1])
		if err != nil || p <= 0 || p >= 1 {
			return Dist{}, fmt.Errorf("hotspot fraction P %q is not a number in (0, 1)", parts[1])
		}
		h := 1 - p
		if len(parts) == 3 {
			if h, err = number(parts[2]); err != nil || h <= 0 || h >= 1 {
				return Dist{}, fmt.Errorf("hotspot hot-set fraction H %q is not a number in (0, 1)", parts[2])
			}
		}
		return Dist{Kind: Hotspot, P: p, H: h}, nil
	default:
		return Dist{}, fmt.Errorf("unknown distribution %q (uniform, zipf:S, hotspot:P[:H])", name)
	}
}

func number(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
		err = fmt.Errorf("not finite")
	}
	return v, err
}

// String returns the specification in Parse's form.
func (d Dist) String() string {
	switch d.Kind {
	case Zipf:
		return "zipf:" + strconv.FormatFloat(d.S, 'g', -1, 64)
	case Hotspot:
		return "hotspot:" + strconv.FormatFloat(d.P, 'g', -1, 64) + ":" + strconv.FormatFloat(d.H, 'g', -1, 64)
	}
	return "uniform"
}

// IsUniform reports whether d is the uniform distribution.
func (d Dist) IsUniform() bool { return d.Kind == Uniform }

// Source gives uniformly distributed 64-bit values.
type Source interface{ Uint64() uint64 }

// Sampler draws keys 0..n-1 by a Dist. It holds no state of its own (the
// Source has it), so one Sampler may serve several goroutines, each with
// its own Source.
type Sampler struct {
	d Dist
	n uint64
	// Hotspot: the hot keys are 0..hot-1; a draw below pHot (a fraction
	// of 2^64) goes to them.
	hot, pHot uint64
	// Zipf by rejection-inversion (Hörmann and Derflinger, "Rejection-
	// inversion to generate variates from monotone discrete
	// distributions", 1996): O(1) per draw, no table, for any n and S > 0.
	hx1, hn, sc float64
}

// NewSampler returns a sampler of d over the keys 0..n-1 (n ≥ 1).
func NewSampler(d Dist, n uint64) *Sampler {
	s := &Sampler{d: d, n: max(n, 1)}
	switch d.Kind {
	case Hotspot:
		s.hot = min(max(uint64(math.Ceil(d.H*float64(s.n))), 1), s.n)
		s.pHot = uint64(d.P * (1 << 63) * 2)
		if s.hot == s.n {
			s.pHot = math.MaxUint64
		}
	case Zipf:
		s.hx1 = s.hIntegral(1.5) - 1
		s.hn = s.hIntegral(float64(s.n) + 0.5)
		s.sc = 2 - s.hIntegralInv(s.hIntegral(2.5)-s.h(2))
	}
	return s
}

// N returns the size of the key space.
func (s *Sampler) N() uint64 { return s.n }

// Key draws one key.
func (s *Sampler) Key(src Source) uint64 {
	switch s.d.Kind {
	case Hotspot:
		if src.Uint64() < s.pHot {
			return below(src.Uint64(), s.hot)
		}
		return s.hot + below(src.Uint64(), s.n-s.hot)
	case Zipf:
		return s.zipf(src)
	}
	return below(src.Uint64(), s.n)
}

// Prob returns the probability that Key draws k.
func (s *Sampler) Prob(k uint64) float64 {
	if k >= s.n {
		return 0
	}
	switch s.d.Kind {
	case Hotspot:
		p := float64(s.pHot) / math.Exp2(64)
		if s.hot == s.n {
			return 1 / float64(s.n)
		}
		if k < s.hot {
			return p / float64(s.hot)
		}
		return (1 - p) / float64(s.n-s.hot)
	case Zipf:
		return math.Pow(float64(k+1), -s.d.S) / s.harmonic()
	}
	return 1 / float64(s.n)
}

// harmonic is the generalised harmonic number H(n, S), summed from the
// smallest term up for accuracy.
func (s *Sampler) harmonic() float64 {
	sum := 0.0
	for k := s.n; k >= 1; k-- {
		sum += math.Pow(float64(k), -s.d.S)
	}
	return sum
}

// below maps a uniform 64-bit value to [0, n) by Lemire's multiply-shift.
func below(x, n uint64) uint64 {
	hi, _ := bits.Mul64(x, n)
	return hi
}

// unit maps a uniform 64-bit value to [0, 1).
func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }

func (s *Sampler) zipf(src Source) uint64 {
	for {
		u := s.hn + unit(src.Uint64())*(s.hx1-s.hn)
		x := s.hIntegralInv(u)
		k := math.Floor(x + 0.5)
		if k < 1 {
			k = 1
		} else if k > float64(s.n) {
			k = float64(s.n)
		}
		if k-x <= s.sc || u >= s.hIntegral(k+0.5)-s.h(k) {
			return uint64(k) - 1
		}
	}
}

// h is the unnormalised density x^-S.
func (s *Sampler) h(x float64) float64 { return math.Exp(-s.d.S * math.Log(x)) }

// hIntegral is an antiderivative of h: (x^(1-S) - 1)/(1-S), log x at S = 1.
func (s *Sampler) hIntegral(x float64) float64 {
	lx := math.Log(x)
	return expm1Over((1-s.d.S)*lx) * lx
}

// hIntegralInv inverts hIntegral.
func (s *Sampler) hIntegralInv(x float64) float64 {
	t := max(x*(1-s.d.S), -1)
	return math.Exp(log1pOver(t) * x)
}

// expm1Over is (e^x - 1)/x, 1 at 0.
func expm1Over(x float64) float64 {
	if math.Abs(x) > 1e-8 {
		return math.Expm1(x) / x
	}
	return 1 + x/2*(1+x/3*(1+x/4))
}

// log1pOver is log(1+x)/x, 1 at 0.
func log1pOver(x float64) float64 {
	if math.Abs(x) > 1e-8 {
		return math.Log1p(x) / x
	}
	return 1 - x*(1.0/2-x*(1.0/3-x/4))
}
