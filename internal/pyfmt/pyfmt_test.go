package pyfmt

import (
	"fmt"
	"math"
	"testing"
)

func TestFloat(t *testing.T) {
	for in, want := range map[float64]string{70: "70.0", 33.3: "33.3", 0.5: "0.5", 0: "0.0", 1e-5: "1e-05", 1e16: "1e+16",
		12.25: "12.25", 1.5e16: "1.5e+16", -2: "-2.0", 512: "512.0", math.Inf(1): "inf", math.Inf(-1): "-inf"} {
		if got := Float(in); got != want {
			t.Errorf("Float(%v) = %q, want %q", in, got, want)
		}
	}
	if got := Float(math.NaN()); got != "nan" {
		t.Errorf("Float(NaN) = %q", got)
	}
}

// TestRound: ties go to even on the exact binary value, as Python's
// round does (2.675 is 2.67499999... in binary).
func TestRound(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		n    int
		want float64
	}{{2.675, 2, 2.67}, {0.125, 2, 0.12}, {0.375, 2, 0.38}, {2.5, 0, 2}, {3.5, 0, 4}, {519.6249, 2, 519.62}, {1.0005, 3, 1.0}} {
		if got := Round(tc.x, tc.n); got != tc.want {
			t.Errorf("Round(%v, %d) = %v, want %v", tc.x, tc.n, got, tc.want)
		}
	}
	if !math.IsInf(Round(math.Inf(1), 2), 1) {
		t.Error("Round(+Inf) is not +Inf")
	}
}

func ExampleFloat() {
	fmt.Println(Float(70), Float(1e-5), Float(512.5))
	// Output: 70.0 1e-05 512.5
}
