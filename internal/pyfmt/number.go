package pyfmt

import (
	"math"
	"strconv"
	"strings"
)

// Float is Python's repr(float): the shortest digits that round-trip,
// positional with a decimal point for magnitudes in [1e-4, 1e16) ("0.0",
// "512.0", "2.5"), exponent form outside ("1e-05", "1.5e+16"), and "inf",
// "-inf", "nan".
func Float(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'g', -1, 64) // Go and Python agree here: "1e-05", "1.5e+16"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// Round is Python's round(x, n): correctly rounded on the exact binary
// value, ties to even. ±Inf and NaN pass through.
func Round(x float64, n int) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', n, 64), 64)
	return r
}
