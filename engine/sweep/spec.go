package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Dim is what a sweep varies.
type Dim uint8

// The dimensions of a sweep.
const (
	Rate        Dim = iota // the open loop's target, requests per second
	Concurrency            // requests in flight (closed loop)
)

// String returns the dimension as a specification names it.
func (d Dim) String() string {
	if d == Concurrency {
		return "concurrency"
	}
	return "rate"
}

// MaxSteps bounds the coarse steps of one specification.
const MaxSteps = 1000

// Spec is a parsed sweep specification.
type Spec struct {
	Text   string // as given
	Dim    Dim
	Values []float64 // strictly increasing; whole numbers for Concurrency
}

// SpecError is a specification that does not parse; Part is the piece at
// fault, exactly as written.
type SpecError struct {
	Spec, Part, Reason string
}

func (e *SpecError) Error() string {
	if e.Part == "" || e.Part == e.Spec {
		return fmt.Sprintf("sweep %q: %s", e.Spec, e.Reason)
	}
	return fmt.Sprintf("sweep %q: %q %s", e.Spec, e.Part, e.Reason)
}

// Parse reads a sweep specification such as "rate=1000:64000:x2",
// "rate=1000,2000,5000", "rate=1000:5000:+1000" or "concurrency=1:64:x2".
func Parse(s string) (Spec, error) {
	spec := Spec{Text: s}
	bad := func(part, format string, args ...any) (Spec, error) {
		return Spec{}, &SpecError{Spec: s, Part: part, Reason: fmt.Sprintf(format, args...)}
	}
	dim, list, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return bad("", "want rate=VALUES or concurrency=VALUES")
	}
	switch dim = strings.TrimSpace(dim); dim {
	case "rate":
		spec.Dim = Rate
	case "concurrency":
		spec.Dim = Concurrency
	default:
		return bad(dim, "is not a dimension (rate, concurrency)")
	}
	list = strings.TrimSpace(list)
	if list == "" {
		return bad("", "no values after %s=", dim)
	}
	number := func(part string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		switch {
		case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
			return 0, &SpecError{Spec: s, Part: part, Reason: "is not a number"}
		case v <= 0:
			return 0, &SpecError{Spec: s, Part: part, Reason: "must be above 0"}
		case spec.Dim == Concurrency && v != math.Trunc(v):
			return 0, &SpecError{Spec: s, Part: part, Reason: "is not a whole number (concurrency)"}
		}
		return v, nil
	}
	if strings.Contains(list, ":") {
		parts := strings.Split(list, ":")
		if len(parts) != 3 {
			return bad(list, "is not start:end:xFACTOR or start:end:+STEP")
		}
		start, err := number(parts[0])
		if err != nil {
			return Spec{}, err
		}
		end, err := number(parts[1])
		if err != nil {
			return Spec{}, err
		}
		if end < start {
			return bad(list, "ends below its start")
		}
		step := strings.TrimSpace(parts[2])
		if len(step) < 2 || (step[0] != 'x' && step[0] != '+') {
			return bad(parts[2], "is not xFACTOR or +STEP")
		}
		by, err := strconv.ParseFloat(step[1:], 64)
		if err != nil || math.IsNaN(by) || math.IsInf(by, 0) {
			return bad(parts[2], "is not xFACTOR or +STEP")
		}
		switch {
		case step[0] == 'x' && by <= 1:
			return bad(parts[2], "must multiply by more than 1")
		case step[0] == '+' && by <= 0:
			return bad(parts[2], "must add more than 0")
		case step[0] == '+' && spec.Dim == Concurrency && by != math.Trunc(by):
			return bad(parts[2], "is not a whole number (concurrency)")
		}
		for i := 0; ; i++ {
			v := start + float64(i)*by
			if step[0] == 'x' {
				v = start * math.Pow(by, float64(i))
			}
			if v > end*(1+1e-12) {
				break
			}
			if i == 100*MaxSteps { // a factor so close to 1 that rounding repeats
				return bad(list, "has more than %d steps", MaxSteps)
			}
			if spec.Dim == Concurrency {
				v = math.Round(v)
			}
			if n := len(spec.Values); n > 0 && v <= spec.Values[n-1] {
				continue // a factor below 2 rounds to the same concurrency
			}
			if len(spec.Values) == MaxSteps {
				return bad(list, "has more than %d steps", MaxSteps)
			}
			spec.Values = append(spec.Values, v)
		}
		return spec, nil
	}
	for _, part := range strings.Split(list, ",") {
		if strings.TrimSpace(part) == "" {
			return bad(list, "has an empty value")
		}
		v, err := number(part)
		if err != nil {
			return Spec{}, err
		}
		if n := len(spec.Values); n > 0 && v <= spec.Values[n-1] {
			return bad(part, "is not above the value before it (values must increase)")
		}
		if len(spec.Values) == MaxSteps {
			return bad(list, "has more than %d steps", MaxSteps)
		}
		spec.Values = append(spec.Values, v)
	}
	return spec, nil
}

// ParsePrecision reads --precision: a percentage ("5%") or a fraction
// ("0.05"), above 0 and at most 100 %.
func ParsePrecision(s string) (float64, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if strings.HasSuffix(t, "%") {
		t, scale = strings.TrimSpace(strings.TrimSuffix(t, "%")), 0.01
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("precision %q: want a percentage like 5%% or a fraction like 0.05", s)
	}
	v *= scale
	if v <= 0 || v > 1 {
		return 0, fmt.Errorf("precision %q: must be above 0 and at most 100%%", s)
	}
	return v, nil
}
