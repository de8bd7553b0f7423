package sweep_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/lmfast/lmfast/engine/sweep"
)

func TestParseSpecs(t *testing.T) {
	tests := []struct {
		in   string
		dim  sweep.Dim
		want []float64
	}{
		{"rate=1000:64000:x2", sweep.Rate, []float64{1000, 2000, 4000, 8000, 16000, 32000, 64000}},
		{"rate=1000:50000:x2", sweep.Rate, []float64{1000, 2000, 4000, 8000, 16000, 32000}},
		{"rate=1000,2000,5000", sweep.Rate, []float64{1000, 2000, 5000}},
		{" rate = 1000 , 2500.5 ", sweep.Rate, []float64{1000, 2500.5}},
		{"rate=1000:5000:+1000", sweep.Rate, []float64{1000, 2000, 3000, 4000, 5000}},
		{"rate=0.1:0.3:+0.1", sweep.Rate, []float64{0.1, 0.2, 0.30000000000000004}}, // float steps, end kept
		{"rate=500:500:x2", sweep.Rate, []float64{500}},
		{"concurrency=1:64:x2", sweep.Concurrency, []float64{1, 2, 4, 8, 16, 32, 64}},
		{"concurrency=1:8:x1.5", sweep.Concurrency, []float64{1, 2, 3, 5, 8}},
		{"concurrency=1:10:+3", sweep.Concurrency, []float64{1, 4, 7, 10}},
		{"concurrency=4", sweep.Concurrency, []float64{4}},
	}
	for _, tc := range tests {
		s, err := sweep.Parse(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if s.Dim != tc.dim || !reflect.DeepEqual(s.Values, tc.want) || s.Text != tc.in {
			t.Errorf("%q: %v %v, want %v %v", tc.in, s.Dim, s.Values, tc.dim, tc.want)
		}
	}
}

// TestParseErrorsNameThePart: each bad specification is an error naming
// the part at fault as written.
func TestParseErrorsNameThePart(t *testing.T) {
	tests := []struct{ in, part, reason string }{
		{"rate", "", "want rate=VALUES"},
		{"speed=1,2", "speed", "is not a dimension"},
		{"rate=", "", "no values"},
		{"rate=1000:64000:x1", "x1", "more than 1"},
		{"rate=1000:64000:x0.5", "x0.5", "more than 1"},
		{"rate=1000:64000:*2", "*2", "xFACTOR or +STEP"},
		{"rate=1000:64000:xx", "xx", "xFACTOR or +STEP"},
		{"rate=1000:64000:+0", "+0", "more than 0"},
		{"rate=1000:64000", "1000:64000", "start:end:xFACTOR"},
		{"rate=64000:1000:x2", "64000:1000:x2", "ends below its start"},
		{"rate=abc:1000:x2", "abc", "not a number"},
		{"rate=1000:1e400:x2", "1e400", "not a number"},
		{"rate=0:1000:+100", "0", "above 0"},
		{"rate=1000,500", "500", "must increase"},
		{"rate=1000,1000", "1000", "must increase"},
		{"rate=1000,,2000", "1000,,2000", "empty value"},
		{"rate=1000,-5", "-5", "above 0"},
		{"concurrency=1.5,2", "1.5", "whole number"},
		{"concurrency=1:64:+1.5", "+1.5", "whole number"},
		{"rate=1:1e9:+1", "1:1e9:+1", "more than 1000 steps"},
		{"concurrency=1:64:x1.0000001", "1:64:x1.0000001", "more than 1000 steps"},
	}
	for _, tc := range tests {
		_, err := sweep.Parse(tc.in)
		var se *sweep.SpecError
		if !errors.As(err, &se) || se.Part != tc.part || !strings.Contains(err.Error(), tc.reason) ||
			!strings.Contains(err.Error(), fmt.Sprintf("sweep %q", tc.in)) {
			t.Errorf("%q: %v (part %q); want part %q, %q", tc.in, err, partOf(se), tc.part, tc.reason)
		}
	}
}

func partOf(e *sweep.SpecError) string {
	if e == nil {
		return "<none>"
	}
	return e.Part
}

func TestParsePrecision(t *testing.T) {
	for in, want := range map[string]float64{"5%": 0.05, "0.05": 0.05, " 1 % ": 0.01, "100%": 1, "0.5": 0.5} {
		if got, err := sweep.ParsePrecision(in); err != nil || math.Abs(got-want) > 1e-15 {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5", "0", "0%", "-1%", "101%", "x%", "NaN"} {
		if _, err := sweep.ParsePrecision(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// run drives a planner against a server of the given capacity: a step
// passes when its setting is at most capacity.
func run(p *sweep.Planner, capacity float64) []float64 {
	var tried []float64
	for {
		v, _, ok := p.Next()
		if !ok {
			return tried
		}
		tried = append(tried, v)
		p.Record(sweep.Outcome{Pass: v <= capacity, Achieved: math.Min(v, capacity)})
	}
}

// TestBisectionFindsCapacityWithinPrecision: for many capacities and
// precisions, the planner ends with the highest pass at or below the
// capacity and the lowest failure above it, the two within precision, in
// few steps, and runs no coarse step after the first that fails.
func TestBisectionFindsCapacityWithinPrecision(t *testing.T) {
	spec, err := sweep.Parse("rate=1000:64000:x2")
	if err != nil {
		t.Fatal(err)
	}
	for _, precision := range []float64{0.2, 0.05, 0.01} {
		for capacity := 1100.0; capacity < 64000; capacity *= 1.37 {
			p := sweep.NewPlanner(spec, true, precision)
			tried := run(p, capacity)
			c := p.Capacity()
			steps := p.Steps()
			if c.Pass < 0 || c.Fail < 0 {
				t.Fatalf("capacity %v: %+v in %v", capacity, c, tried)
			}
			lo, hi := steps[c.Pass].Value, steps[c.Fail].Value
			if lo > capacity || hi <= capacity || hi > lo*(1+precision) {
				t.Errorf("precision %v capacity %v: pass %v fail %v (tried %v)", precision, capacity, lo, hi, tried)
			}
			coarse, coarseFails := 0, 0
			for _, s := range steps {
				if s.Phase == sweep.Coarse {
					coarse++
					if coarseFails > 0 {
						t.Errorf("coarse step %v run after a coarse failure (%v)", s.Value, tried)
					}
					if !s.Pass {
						coarseFails++
					}
				}
			}
			// log2(ln 2 / ln(1+p)) halvings of a factor-2 bracket, plus one for rounding.
			if bisect := len(steps) - coarse; float64(bisect) > math.Ceil(math.Log2(math.Ln2/math.Log1p(precision)))+1 {
				t.Errorf("precision %v capacity %v: %d bisection steps (%v)", precision, capacity, bisect, tried)
			}
		}
	}
}

// TestPlannerEdges: a first step that fails, a sweep that never fails, no
// SLO, and a concurrency sweep (never bisected; best achieved pass).
func TestPlannerEdges(t *testing.T) {
	spec, _ := sweep.Parse("rate=1000:8000:x2")
	p := sweep.NewPlanner(spec, true, 0.05)
	if tried := run(p, 500); !reflect.DeepEqual(tried, []float64{1000}) || p.Capacity() != (sweep.Capacity{Pass: -1, Fail: 0}) {
		t.Errorf("first fails: tried %v, %+v", tried, p.Capacity())
	}
	p = sweep.NewPlanner(spec, true, 0.05)
	if tried := run(p, 1e9); len(tried) != 4 || p.Capacity() != (sweep.Capacity{Pass: 3, Fail: -1}) {
		t.Errorf("never fails: tried %v, %+v", tried, p.Capacity())
	}
	p = sweep.NewPlanner(spec, false, 0.05)
	if tried := run(p, 3000); !reflect.DeepEqual(tried, []float64{1000, 2000, 4000, 8000}) {
		t.Errorf("no SLO: tried %v", tried)
	}
	cs, _ := sweep.Parse("concurrency=1:16:x2")
	p = sweep.NewPlanner(cs, true, 0.05)
	for v, _, ok := p.Next(); ok; v, _, ok = p.Next() {
		achieved := map[float64]float64{1: 100, 2: 190, 4: 300, 8: 290, 16: 250}[v]
		p.Record(sweep.Outcome{Pass: v != 16, Achieved: achieved})
	}
	if c := p.Capacity(); len(p.Steps()) != 5 || c != (sweep.Capacity{Pass: 2, Fail: 4}) {
		t.Errorf("concurrency: %+v after %+v", c, p.Steps())
	}
}

// TestNextIsIdempotentUntilRecorded: asking twice does not skip a step.
func TestNextIsIdempotentUntilRecorded(t *testing.T) {
	spec, _ := sweep.Parse("rate=1,2")
	p := sweep.NewPlanner(spec, false, 0.05)
	a, _, _ := p.Next()
	b, _, _ := p.Next()
	p.Record(sweep.Outcome{Pass: true})
	c, _, _ := p.Next()
	if a != 1 || b != 1 || c != 2 {
		t.Fatalf("%v %v %v", a, b, c)
	}
}

// TestBoundsIgnoresPassAboveFailure: a noisy pass above the lowest failure
// is not capacity.
func TestBoundsIgnoresPassAboveFailure(t *testing.T) {
	steps := []sweep.Outcome{{Value: 1000, Pass: true}, {Value: 2000, Pass: false}, {Value: 4000, Pass: true}, {Value: 8000, Pass: false}}
	if c := sweep.Bounds(steps); c != (sweep.Capacity{Pass: 0, Fail: 1}) {
		t.Fatalf("%+v", c)
	}
	if r, ok := sweep.NextRate(steps, 0.05); !ok || r != 1414 {
		t.Fatalf("next %v %v; want 1414 (geometric midpoint of 1000 and 2000)", r, ok)
	}
}

func ExamplePlanner() {
	spec, _ := sweep.Parse("rate=1000:64000:x2")
	p := sweep.NewPlanner(spec, true, 0.05)
	const capacity = 5000 // a server that answers at most 5000 requests/s
	for rate, phase, ok := p.Next(); ok; rate, phase, ok = p.Next() {
		pass := rate <= capacity
		fmt.Printf("%-6s %5.0f pass=%v\n", phase, rate, pass)
		o := sweep.Outcome{Pass: pass}
		if !pass {
			o.Failed = []string{"p2p_lookup.p99<2ms"}
		}
		p.Record(o)
	}
	c := p.Capacity()
	fmt.Printf("capacity %.0f; first failing %.0f (%s)\n", p.Steps()[c.Pass].Value, p.Steps()[c.Fail].Value, p.Steps()[c.Fail].Failed[0])
	// Output:
	// coarse  1000 pass=true
	// coarse  2000 pass=true
	// coarse  4000 pass=true
	// coarse  8000 pass=false
	// bisect  5657 pass=false
	// bisect  4757 pass=true
	// bisect  5188 pass=false
	// bisect  4968 pass=true
	// capacity 4968; first failing 5188 (p2p_lookup.p99<2ms)
}
