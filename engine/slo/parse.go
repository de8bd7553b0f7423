package slo

import (
	"fmt"
	"strconv"
	"strings"
)

// Stat is what a term measures.
type Stat uint8

// String returns the stat as terms name it.
func (s Stat) String() string {
	if s < numStats {
		return statNames[s]
	}
	return "stat" + strconv.Itoa(int(s))
}

// IsLatency reports whether s is a latency statistic.
func (s Stat) IsLatency() bool { return s <= Mean }

// Cmp is a term's comparator.
type Cmp uint8

// String returns the comparator as written.
func (c Cmp) String() string {
	switch c {
	case Less:
		return "<"
	case LessEq:
		return "<="
	case Greater:
		return ">"
	case GreaterEq:
		return ">="
	}
	return "?"
}

// Holds reports whether v c threshold.
func (c Cmp) Holds(v, threshold float64) bool {
	switch c {
	case Less:
		return v < threshold
	case LessEq:
		return v <= threshold
	case Greater:
		return v > threshold
	case GreaterEq:
		return v >= threshold
	}
	return false
}

// Term is one objective.
type Term struct {
	Text string // the term as written, outer spaces trimmed
	Op   string // the operation it covers; "" for all of the run's
	Stat Stat
	Cmp  Cmp
	// Threshold is in the base unit of its stat: nanoseconds for a latency,
	// a fraction (0.001 for 0.1%) for a ratio, a count, or requests per
	// second.
	Threshold float64
	// Unit is the unit the threshold was written in (canonical: "µs" is
	// "us"); results are shown in it.
	Unit string
}

// IsRatio reports whether the term compares errors or dropped as a ratio.
func (t Term) IsRatio() bool { return (t.Stat == Errors || t.Stat == Dropped) && t.Unit == UnitPercent }

// Spec is a parsed specification: its terms in the order written.
type Spec []Term

// String returns the terms as written, joined by commas.
func (s Spec) String() string {
	texts := make([]string, len(s))
	for i, t := range s {
		texts[i] = t.Text
	}
	return strings.Join(texts, ",")
}

// Op is an operation a term may name.
type Op struct {
	Name string
	// Push is set for operations sent on the PUSH socket: no reply, so no
	// controller latency to hold them to.
	Push bool
}

// TermError is a term that does not parse or is not allowed.
type TermError struct {
	Term   string // the term as written ("" for an empty one)
	Reason string
}

func (e *TermError) Error() string {
	if e.Term == "" {
		return e.Reason
	}
	return fmt.Sprintf("term %q: %s", e.Term, e.Reason)
}

// Parse reads a specification such as `p2p_lookup.p99<2ms,errors<0.1%`.
// ops are the operations terms may name (a run's --operations). A term
// that does not parse, names an unknown operation or statistic, has a
// missing or wrong unit, or puts a latency on a PUSH operation is a
// *TermError naming it exactly as written.
func Parse(spec string, ops []Op) (Spec, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, &TermError{Reason: "no terms"}
	}
	var out Spec
	for i, raw := range strings.Split(spec, ",") {
		text := strings.TrimSpace(raw)
		if text == "" {
			return nil, &TermError{Reason: fmt.Sprintf("term %d of %q is empty", i+1, spec)}
		}
		t, err := parseTerm(text, ops)
		if err != nil {
			return nil, &TermError{Term: text, Reason: err.Error()}
		}
		out = append(out, t)
	}
	return out, nil
}

// The statistics a term can name. The latency ones come first.
const (
	P50 Stat = iota
	P90
	P95
	P99
	P999
	Max
	Mean
	Errors
	Dropped
	Rate
	numStats
)

var statNames = [numStats]string{"p50", "p90", "p95", "p99", "p999", "max", "mean", "errors", "dropped", "rate"}

func statByName(name string) (Stat, bool) {
	if name == "p99.9" {
		return P999, true
	}
	for i, n := range statNames {
		if n == name {
			return Stat(i), true
		}
	}
	return 0, false
}

// The comparators.
const (
	Less Cmp = iota
	LessEq
	Greater
	GreaterEq
)

// Units of a term's threshold and value, canonical spelling.
const (
	UnitNs      = "ns"
	UnitUs      = "us"
	UnitMs      = "ms"
	UnitS       = "s"
	UnitPercent = "%"  // a ratio, given in percent
	UnitCount   = ""   // errors or dropped as a count
	UnitPerSec  = "/s" // rate
)

// unitScale is how many base units (ns, fractions, counts, requests/s) one
// of each unit is.
var unitScale = map[string]float64{
	UnitNs: 1, UnitUs: 1e3, UnitMs: 1e6, UnitS: 1e9,
	UnitPercent: 0.01, UnitCount: 1, UnitPerSec: 1,
}

func parseTerm(text string, ops []Op) (Term, error) {
	t := Term{Text: text}
	at := strings.IndexAny(text, "<>")
	if at < 0 {
		if strings.Contains(text, "=") {
			return t, fmt.Errorf("comparator must be <, <=, > or >=")
		}
		return t, fmt.Errorf("no comparator (<, <=, > or >=)")
	}
	name, rest := strings.TrimSpace(text[:at]), text[at:]
	switch {
	case strings.HasPrefix(rest, "<="):
		t.Cmp, rest = LessEq, rest[2:]
	case strings.HasPrefix(rest, ">="):
		t.Cmp, rest = GreaterEq, rest[2:]
	case rest[0] == '<':
		t.Cmp, rest = Less, rest[1:]
	default:
		t.Cmp, rest = Greater, rest[1:]
	}
	if strings.ContainsAny(name, "=!") {
		return t, fmt.Errorf("comparator must be <, <=, > or >=")
	}
	if name == "" {
		return t, fmt.Errorf("nothing before %s: want [op.]stat", t.Cmp)
	}
	op, push, err := splitName(name, ops, &t)
	if err != nil {
		return t, err
	}
	t.Op = op
	if err := parseValue(strings.TrimSpace(rest), &t); err != nil {
		return t, err
	}
	if t.Stat.IsLatency() {
		if t.Op == "" {
			return t, fmt.Errorf("a latency term names its operation, e.g. p2p_lookup.%s", t.Stat)
		}
		if push {
			return t, fmt.Errorf("%s is sent on the PUSH socket: its latency is the local enqueue time, not the controller's (use errors or rate)", t.Op)
		}
	}
	return t, nil
}

// splitName reads [op.]stat into t.Stat and returns the op and whether it
// is a PUSH op.
func splitName(name string, ops []Op, t *Term) (string, bool, error) {
	opName, statName, dotted := strings.Cut(name, ".")
	if !dotted {
		s, ok := statByName(name)
		if !ok {
			return "", false, unknownStat(name)
		}
		t.Stat = s
		return "", false, nil
	}
	for _, o := range ops {
		if o.Name == opName {
			s, ok := statByName(statName)
			if !ok {
				return "", false, unknownStat(statName)
			}
			t.Stat = s
			return o.Name, o.Push, nil
		}
	}
	if s, ok := statByName(name); ok { // "p99.9" without an op
		t.Stat = s
		return "", false, nil
	}
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = o.Name
	}
	return "", false, fmt.Errorf("unknown operation %q (this run's: %s)", opName, strings.Join(names, ", "))
}

func unknownStat(name string) error {
	return fmt.Errorf("unknown statistic %q (known: %s)", name, strings.Join(statNames[:], ", "))
}

// parseValue reads "2ms", "0.1%", "5", "5000/s" into t.Threshold and
// t.Unit, checking the unit against t.Stat.
func parseValue(v string, t *Term) error {
	end := 0
	for end < len(v) && (v[end] >= '0' && v[end] <= '9' || v[end] == '.') {
		end++
	}
	if end == 0 {
		return fmt.Errorf("bad value %q: want a number and a unit", v)
	}
	x, err := strconv.ParseFloat(v[:end], 64)
	if err != nil {
		return fmt.Errorf("bad value %q: want a number and a unit", v)
	}
	unit := strings.TrimSpace(v[end:])
	switch unit {
	case "µs", "μs": // micro sign and Greek mu
		unit = UnitUs
	}
	switch {
	case t.Stat.IsLatency():
		switch unit {
		case UnitNs, UnitUs, UnitMs, UnitS:
		case "":
			return fmt.Errorf("a latency needs a unit (ns, us, µs, ms, s)")
		default:
			return fmt.Errorf("bad latency unit %q (ns, us, µs, ms, s)", unit)
		}
	case t.Stat == Errors || t.Stat == Dropped:
		switch unit {
		case UnitPercent:
			if x > 100 {
				return fmt.Errorf("%s above 100%%", v)
			}
		case UnitCount:
		default:
			return fmt.Errorf("bad unit %q for %s: %% for a ratio, none for a count", unit, t.Stat)
		}
	case t.Stat == Rate:
		if unit != UnitCount && unit != UnitPerSec {
			return fmt.Errorf("bad unit %q for rate: requests per second, no unit or /s", unit)
		}
		unit = UnitPerSec
	}
	t.Unit = unit
	t.Threshold = x * unitScale[unit]
	return nil
}
