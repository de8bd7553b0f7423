package shape

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is what a shape's values are.
type Kind uint8

// The kinds of shapes.
const (
	Rate        Kind = iota // requests per second: values of 0 or more, not all 0
	Concurrency             // request lanes per sender: values of 1 or more
)

// Shape is a parsed load shape: a target as a function of the time t (in
// seconds) since the measured run began. Its methods are pure and safe for
// concurrent use.
type Shape struct {
	text string
	kind string // const, step, ramp or sine
	// Piecewise linear shapes (const, step, ramp): segments back to back
	// from t = 0, then the last value held.
	segs []segment
	end  float64 // the last segment's end (seconds)
	hold float64 // the value from end on
	cum  float64 // the integral up to end
	// sine
	mean, amp, period float64
}

// segment is one linear piece: v0 at t0 to v1 at t1, with the integral
// from 0 to t0 in cum and from 0 to t1 in cum1.
type segment struct {
	t0, t1, v0, v1, cum, cum1 float64
}

// Error is a shape that does not parse; Part is the piece at fault,
// exactly as written.
type Error struct {
	Shape, Part, Reason string
}

func (e *Error) Error() string {
	if e.Part == "" || e.Part == e.Shape {
		return fmt.Sprintf("%q: %s", e.Shape, e.Reason)
	}
	return fmt.Sprintf("%q: %q %s", e.Shape, e.Part, e.Reason)
}

// maxSegments bounds the steps or ramps of one shape.
const maxSegments = 10000

// Parse reads a shape of kind k (see the package documentation for the
// grammar). The error names the part at fault.
func Parse(s string, k Kind) (*Shape, error) {
	sh := &Shape{text: s}
	bad := func(part, format string, args ...any) (*Shape, error) {
		return nil, &Error{Shape: s, Part: part, Reason: fmt.Sprintf(format, args...)}
	}
	kind, args, ok := strings.Cut(strings.TrimSpace(s), ":")
	kind = strings.TrimSpace(kind)
	if !ok {
		return bad("", "want KIND:ARGS with KIND const, step, ramp or sine (e.g. ramp:1000->20000:30s)")
	}
	args = strings.TrimSpace(args)
	if args == "" {
		return bad("", "nothing after %s:", kind)
	}
	sh.kind = kind
	value := func(part string) (float64, error) {
		return parseValue(s, part, k)
	}
	var err error
	switch kind {
	case "const":
		v, err := value(args)
		if err != nil {
			return nil, err
		}
		sh.hold = v
	case "step":
		err = sh.parseSteps(args, value)
	case "ramp":
		err = sh.parseRamps(args, value)
	case "sine":
		err = sh.parseSine(args, k)
	default:
		return bad(kind, "is not a shape (const, step, ramp, sine)")
	}
	if err != nil {
		return nil, err
	}
	if k == Rate && sh.Max() == 0 {
		return bad("", "every rate is 0: nothing would be sent")
	}
	return sh, nil
}

// parseValue reads one target value of kind k.
func parseValue(s, part string, k Kind) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return 0, &Error{Shape: s, Part: part, Reason: "is not a number"}
	case k == Rate && v < 0:
		return 0, &Error{Shape: s, Part: part, Reason: "is a negative rate"}
	case k == Concurrency && v < 1:
		return 0, &Error{Shape: s, Part: part, Reason: "is below 1 request lane"}
	case k == Concurrency && v > 1<<16:
		return 0, &Error{Shape: s, Part: part, Reason: "is more than 65536 request lanes"}
	}
	return v, nil
}

// parseDuration reads a stage's duration: seconds, or a Go duration.
func parseDuration(s, part string) (float64, error) {
	p := strings.TrimSpace(part)
	if f, err := strconv.ParseFloat(p, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > 1e9 {
			return 0, &Error{Shape: s, Part: part, Reason: "is not a positive duration"}
		}
		return f, nil
	}
	d, err := time.ParseDuration(p)
	if err != nil || d <= 0 {
		return 0, &Error{Shape: s, Part: part, Reason: "is not a positive duration (10s, 1m30s, or seconds)"}
	}
	return d.Seconds(), nil
}

// parseSteps reads "V,V,V@D" (every value for D) or "V@D,V@D".
func (sh *Shape) parseSteps(args string, value func(string) (float64, error)) error {
	items := strings.Split(args, ",")
	if len(items) > maxSegments {
		return &Error{Shape: sh.text, Reason: fmt.Sprintf("more than %d steps", maxSegments)}
	}
	_, common, shared := strings.Cut(items[len(items)-1], "@")
	for _, it := range items[:len(items)-1] {
		if strings.Contains(it, "@") {
			shared = false
		}
	}
	for i, it := range items {
		v, d, has := strings.Cut(it, "@")
		switch {
		case strings.TrimSpace(it) == "":
			return &Error{Shape: sh.text, Part: args, Reason: fmt.Sprintf("has an empty step (number %d)", i+1)}
		case !has && !shared:
			return &Error{Shape: sh.text, Part: it, Reason: "has no @DURATION (give each step one, or only the last for all)"}
		case !has:
			d = common
		}
		val, err := value(v)
		if err != nil {
			return err
		}
		dur, err := parseDuration(sh.text, d)
		if err != nil {
			return err
		}
		sh.add(val, val, dur)
	}
	return nil
}

// parseRamps reads "A->B:D[,A->B:D...]".
func (sh *Shape) parseRamps(args string, value func(string) (float64, error)) error {
	items := strings.Split(args, ",")
	if len(items) > maxSegments {
		return &Error{Shape: sh.text, Reason: fmt.Sprintf("more than %d ramps", maxSegments)}
	}
	for _, it := range items {
		fromTo, d, ok := strings.Cut(it, ":")
		from, to, arrow := strings.Cut(fromTo, "->")
		if !ok || !arrow {
			return &Error{Shape: sh.text, Part: it, Reason: "is not FROM->TO:DURATION"}
		}
		a, err := value(from)
		if err != nil {
			return err
		}
		b, err := value(to)
		if err != nil {
			return err
		}
		dur, err := parseDuration(sh.text, d)
		if err != nil {
			return err
		}
		sh.add(a, b, dur)
	}
	return nil
}

// parseSine reads "mean=M,amp=A,period=D" (any order, each once).
func (sh *Shape) parseSine(args string, k Kind) error {
	seen := map[string]bool{}
	for _, it := range strings.Split(args, ",") {
		key, v, ok := strings.Cut(it, "=")
		key = strings.TrimSpace(key)
		if !ok {
			return &Error{Shape: sh.text, Part: it, Reason: "is not KEY=VALUE (mean, amp, period)"}
		}
		if seen[key] {
			return &Error{Shape: sh.text, Part: key, Reason: "is given twice"}
		}
		seen[key] = true
		var err error
		switch key {
		case "mean":
			sh.mean, err = parseValue(sh.text, v, k)
		case "amp":
			sh.amp, err = parseValue(sh.text, v, Rate) // 0 or more, whatever the kind
		case "period":
			sh.period, err = parseDuration(sh.text, v)
		default:
			return &Error{Shape: sh.text, Part: key, Reason: "is not a sine parameter (mean, amp, period)"}
		}
		if err != nil {
			return err
		}
	}
	for _, key := range []string{"mean", "amp", "period"} {
		if !seen[key] {
			return &Error{Shape: sh.text, Reason: fmt.Sprintf("sine needs %s= (mean=M,amp=A,period=D)", key)}
		}
	}
	low := 0.0
	if k == Concurrency {
		low = 1
	}
	if sh.mean-sh.amp < low {
		return &Error{Shape: sh.text, Part: "amp=" + strconv.FormatFloat(sh.amp, 'g', -1, 64),
			Reason: fmt.Sprintf("takes the target below %g (mean-amp must be at least %g)", low, low)}
	}
	return nil
}

// add appends a linear segment from a to b lasting d seconds.
func (sh *Shape) add(a, b, d float64) {
	g := segment{t0: sh.end, t1: sh.end + d, v0: a, v1: b, cum: sh.cum, cum1: sh.cum + d*(a+b)/2}
	sh.segs = append(sh.segs, g)
	sh.end, sh.cum = g.t1, g.cum1
	sh.hold = b
}

// String returns the shape as given.
func (sh *Shape) String() string { return sh.text }

// Kind returns the shape's kind as written: const, step, ramp or sine.
func (sh *Shape) Kind() string { return sh.kind }

// Length is when the last step or ramp ends (0 for const and sine, which
// never end); the last value holds after it.
func (sh *Shape) Length() time.Duration {
	return time.Duration(sh.end * float64(time.Second))
}

// Max is the highest target the shape ever sets.
func (sh *Shape) Max() float64 {
	if sh.kind == "sine" {
		return sh.mean + sh.amp
	}
	m := sh.hold
	for _, g := range sh.segs {
		m = max(m, g.v0, g.v1)
	}
	return m
}

// At is the target at t seconds (t < 0 reads as 0).
func (sh *Shape) At(t float64) float64 {
	t = max(t, 0)
	if sh.kind == "sine" {
		return sh.mean + sh.amp*math.Sin(2*math.Pi*t/sh.period)
	}
	if t >= sh.end {
		return sh.hold
	}
	g := sh.segs[sh.find(t)]
	return g.v0 + (g.v1-g.v0)*(t-g.t0)/(g.t1-g.t0)
}

// find returns the segment holding t (0 <= t < end).
func (sh *Shape) find(t float64) int {
	i := sort.Search(len(sh.segs), func(i int) bool { return sh.segs[i].t1 > t })
	return min(i, len(sh.segs)-1)
}

// Integral is the integral of the target from 0 to t seconds (0 for t <=
// 0): for a rate, the requests due by t.
func (sh *Shape) Integral(t float64) float64 {
	if t <= 0 {
		return 0
	}
	if sh.kind == "sine" {
		w := 2 * math.Pi / sh.period
		return sh.mean*t + sh.amp/w*(1-math.Cos(w*t))
	}
	if t >= sh.end {
		return sh.cum + (t-sh.end)*sh.hold
	}
	g := sh.segs[sh.find(t)]
	return g.cum + (t-g.t0)*(g.v0+sh.At(t))/2
}

// Mean is the mean target from a to b seconds (the target at a when b <=
// a).
func (sh *Shape) Mean(a, b float64) float64 {
	if b <= a {
		return sh.At(a)
	}
	return (sh.Integral(b) - sh.Integral(a)) / (b - a)
}

// Inverse is the last time at which the integral is still at most n (n >=
// 0), in seconds: the time the rate schedule's request number n (0-based)
// is due, so that a stretch at rate 0 holds requests back until it ends.
// It is +Inf when the integral never exceeds n. Inverse never decreases
// as n grows.
func (sh *Shape) Inverse(n float64) float64 { return sh.InverseNear(n, -1) }

// InverseNear is Inverse, computed faster when near is a time close to
// the answer (such as the answer for n a little smaller); a negative near
// is no hint. The answer does not depend on the hint beyond the solver's
// precision (a millionth of a request).
func (sh *Shape) InverseNear(n, near float64) float64 {
	n = max(n, 0)
	if sh.kind == "sine" {
		return sh.sineInverse(n, near)
	}
	if n >= sh.cum {
		if sh.hold <= 0 {
			return math.Inf(1)
		}
		return sh.end + (n-sh.cum)/sh.hold
	}
	// The first segment whose integral reaches past n.
	i := sort.Search(len(sh.segs), func(i int) bool { return sh.segs[i].cum1 > n })
	g := sh.segs[i]
	m := n - g.cum
	a := (g.v1 - g.v0) / (g.t1 - g.t0)
	// Solve a/2·τ² + v0·τ = m for the smallest τ >= 0, in the form that
	// keeps its precision whatever the sign of a.
	disc := max(g.v0*g.v0+2*a*m, 0)
	den := g.v0 + math.Sqrt(disc)
	tau := 0.0
	if den > 0 {
		tau = 2 * m / den
	}
	return min(g.t0+tau, g.t1)
}

// sineInverse solves Integral(t) = n for the sine: Newton's method inside
// a bracket, bisecting when a step would leave it, until the integral is
// within a millionth of a request of n or the bracket is closed. The
// integral is within 2·amp/w of mean·t, which gives the first bracket.
func (sh *Shape) sineInverse(n, near float64) float64 {
	if n == 0 {
		return 0
	}
	w := 2 * math.Pi / sh.period
	c := 2 * sh.amp / w
	lo, hi := max(0, (n-c)/sh.mean), (n+c)/sh.mean
	t := n / sh.mean
	if near >= 0 {
		t = near
	}
	t = min(max(t, lo), hi)
	for range 200 {
		f := sh.Integral(t) - n
		if math.Abs(f) <= 1e-6+n*1e-12 {
			return t
		}
		if f > 0 {
			hi = t
		} else {
			lo = t
		}
		if hi-lo <= 1e-13*max(1, hi) {
			return hi
		}
		next := t - f/sh.At(t)
		if math.IsNaN(next) || math.IsInf(next, 0) || next <= lo || next >= hi {
			next = (lo + hi) / 2
		}
		t = next
	}
	return t
}
