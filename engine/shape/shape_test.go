package shape

import (
	"math"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, s string, k Kind) *Shape {
	t.Helper()
	sh, err := Parse(s, k)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return sh
}

func TestParseErrorsNameThePart(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		want string
	}{
		{"5000", Rate, "want KIND:ARGS"},
		{"const:", Rate, "nothing after const:"},
		{"square:5", Rate, `"square" is not a shape`},
		{"const:abc", Rate, `"abc" is not a number`},
		{"const:NaN", Rate, `"NaN" is not a number`},
		{"const:-5", Rate, `"-5" is a negative rate`},
		{"const:0", Rate, "every rate is 0"},
		{"const:0.5", Concurrency, `"0.5" is below 1 request lane`},
		{"step:1000,5x00,3@10s", Rate, `"5x00" is not a number`},
		{"step:1000@10s,5000", Rate, `"5000" has no @DURATION`},
		{"step:1000,,5000@10s", Rate, "has an empty step (number 2)"},
		{"step:1000,5000@soon", Rate, `"soon" is not a positive duration`},
		{"step:1000,5000@0s", Rate, `"0s" is not a positive duration`},
		{"step:1000,5000@-3", Rate, `"-3" is not a positive duration`},
		{"ramp:1000-20000:30s", Rate, `"1000-20000:30s" is not FROM->TO:DURATION`},
		{"ramp:1000->20000", Rate, `"1000->20000" is not FROM->TO:DURATION`},
		{"ramp:1000->x:30s", Rate, `"x" is not a number`},
		{"ramp:1000->2000:30q", Rate, `"30q" is not a positive duration`},
		{"ramp:0->0:10s", Rate, "every rate is 0"},
		{"sine:mean=5000,amp=3000", Rate, "sine needs period="},
		{"sine:mean=5000,amp=6000,period=20s", Rate, `"amp=6000" takes the target below 0`},
		{"sine:mean=4,amp=4,period=20s", Concurrency, `"amp=4" takes the target below 1`},
		{"sine:mean=5000,amp=3000,period=20s,mean=1", Rate, `"mean" is given twice`},
		{"sine:mean=5000,amplitude=3000,period=20s", Rate, `"amplitude" is not a sine parameter`},
		{"sine:mean=5000,amp,period=20s", Rate, `"amp" is not KEY=VALUE`},
	}
	for _, tc := range tests {
		_, err := Parse(tc.in, tc.kind)
		if err == nil {
			t.Errorf("Parse(%q) accepted", tc.in)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("Parse(%q) = %q, want it to contain %q", tc.in, msg, tc.want)
		}
	}
}

func TestParseShapes(t *testing.T) {
	tests := []struct {
		in       string
		length   time.Duration
		max      float64
		at       []float64 // At(0), At(5), At(15), At(100)
		integral float64   // Integral(30)
	}{
		{"const:5000", 0, 5000, []float64{5000, 5000, 5000, 5000}, 150000},
		{"step:1000,5000,10000@10s", 30 * time.Second, 10000, []float64{1000, 1000, 5000, 10000}, 160000},
		{"step:1000@5s,5000@20s", 25 * time.Second, 5000, []float64{1000, 5000, 5000, 5000}, 5000 + 100000 + 25000},
		{"ramp:1000->21000:20s", 20 * time.Second, 21000, []float64{1000, 6000, 16000, 21000}, 220000 + 210000},
		{"ramp:0->100:10s,100->100:10s,100->0:10s", 30 * time.Second, 100, []float64{0, 50, 100, 0}, 2000},
		{"sine:mean=5000,amp=3000,period=20s", 0, 8000, []float64{5000, 8000, 2000, 5000}, 150000 + 3000*20/(2*math.Pi)*(1-math.Cos(3*math.Pi))},
	}
	for _, tc := range tests {
		sh := mustParse(t, tc.in, Rate)
		if sh.Length() != tc.length || sh.Max() != tc.max {
			t.Errorf("%s: length %v max %g, want %v %g", tc.in, sh.Length(), sh.Max(), tc.length, tc.max)
		}
		for i, x := range []float64{0, 5, 15, 100} {
			if got := sh.At(x); math.Abs(got-tc.at[i]) > 1e-6*tc.max {
				t.Errorf("%s: At(%g) = %g, want %g", tc.in, x, got, tc.at[i])
			}
		}
		if got := sh.Integral(30); math.Abs(got-tc.integral) > 1e-6*tc.integral {
			t.Errorf("%s: Integral(30) = %g, want %g", tc.in, got, tc.integral)
		}
	}
}

// TestIntegralMatchesAt: the closed-form integral of every shape equals a
// fine numerical integration of At, and Mean is its ratio.
func TestIntegralMatchesAt(t *testing.T) {
	for _, s := range []string{"const:7", "step:1,5,0,3@2s", "step:4@1.5s,9@0.25s", "ramp:0->10:3s,10->2:2s",
		"ramp:5->5:1s,0->8:2s", "sine:mean=10,amp=10,period=3s", "sine:mean=10,amp=2,period=0.7"} {
		sh := mustParse(t, s, Rate)
		const dt = 1e-4
		sum := 0.0
		for i := 0; i < 80000; i++ {
			x := (float64(i) + 0.5) * dt
			sum += sh.At(x) * dt
			if i%5000 == 4999 {
				end := float64(i+1) * dt
				if got := sh.Integral(end); math.Abs(got-sum) > 1e-5*max(1, sum) {
					t.Fatalf("%s: Integral(%g) = %.9g, numerically %.9g", s, end, got, sum)
				}
			}
		}
		if m := sh.Mean(2, 6); math.Abs(m-(sh.Integral(6)-sh.Integral(2))/4) > 1e-12 {
			t.Fatalf("%s: Mean(2,6) = %g", s, m)
		}
	}
}

// TestInverse: Inverse is the right inverse of Integral, never decreases,
// holds requests back through a stretch at rate 0, and is +Inf past the
// end of a shape that ends at 0.
func TestInverse(t *testing.T) {
	for _, s := range []string{"const:1000", "step:100,0,300@1s", "ramp:0->1000:2s,1000->0:2s,0->50:1s",
		"ramp:300->10:1s", "sine:mean=1000,amp=1000,period=1s", "sine:mean=200,amp=50,period=0.3s"} {
		sh := mustParse(t, s, Rate)
		prev := -1.0
		for k := 0; k < 3000; k++ {
			x := sh.Inverse(float64(k))
			if x < prev {
				t.Fatalf("%s: Inverse(%d) = %g < Inverse(%d) = %g", s, k, x, k-1, prev)
			}
			prev = x
			if math.IsInf(x, 1) {
				if sh.Integral(1e6) > float64(k)+1e-6 {
					t.Fatalf("%s: Inverse(%d) = +Inf but the integral reaches %g", s, k, sh.Integral(1e6))
				}
				continue
			}
			if got := sh.Integral(x); math.Abs(got-float64(k)) > 1e-6 {
				t.Fatalf("%s: Integral(Inverse(%d) = %g) = %g", s, k, x, got)
			}
			// The last such time: a moment later the integral is past k.
			if later := sh.Integral(x + 1e-6); later <= float64(k) {
				t.Fatalf("%s: Inverse(%d) = %g is not the last time at k (Integral a µs later %g)", s, k, x, later)
			}
		}
	}
	if got := mustParse(t, "step:0,10@2s", Rate).Inverse(0); got != 2 {
		t.Fatalf("step:0,10@2s: request 0 due at %g, want 2 (after the stretch at 0)", got)
	}
	if got := mustParse(t, "step:10,0@1s", Rate).Inverse(10); !math.IsInf(got, 1) {
		t.Fatalf("step:10,0@1s: request 10 due at %g, want never", got)
	}
	if got := mustParse(t, "const:250", Rate).Inverse(1000); got != 4 {
		t.Fatalf("const:250: request 1000 due at %g, want 4", got)
	}
}
