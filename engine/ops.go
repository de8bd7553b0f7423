// Package engine is lmfast's controller load engine: it turns a mix of
// LMCache controller operations into pre-encoded messages (producers), paces
// them (a Pacer decides when the next request goes), sends them from pinned
// sender workers over ZMQ, and measures what happened (a collector that
// hands interval values and the final figures to a Reporter; engine/jsonl
// writes them as JSONL).
package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/lmfast/lmfast/internal/pyfmt"
)

// Op is one kind of controller operation, as named on the command line.
type Op uint8

// The operations of LMCache's controller benchmark (docs/protocol.md, "Operations").
const (
	OpAdmit Op = iota
	OpEvict
	OpHeartbeat
	OpP2PLookup
	OpRegister
	OpDeregister
	numOps
)

var opNames = [numOps]string{"admit", "evict", "heartbeat", "p2p_lookup", "register", "deregister"}

// String returns the operation's command-line name.
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "op" + strconv.Itoa(int(o))
}

// IsPush reports whether o is sent over the PUSH socket (no reply); the
// others are request/reply over a DEALER socket.
func (o Op) IsPush() bool { return o == OpAdmit || o == OpEvict || o == OpDeregister }

// OpByName returns the Op named s.
func OpByName(s string) (Op, bool) {
	for i, n := range opNames {
		if n == s {
			return Op(i), true
		}
	}
	return 0, false
}

// OpShare is one entry of the operation mix: an op and its percentage.
type OpShare struct {
	Op  Op
	Pct float64
}

// ParseOperations reads the --operations mix "name:pct,name:pct,...".
// Unlike LMCache's tool, which ignores items without ':' and only warns at
// run time about unknown names, every item must be a known op with a
// percentage, each op may appear once, and the percentages must sum to 100
// (within 0.01, as LMCache checks).
func ParseOperations(s string) ([]OpShare, error) {
	var out []OpShare
	seen := map[Op]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, pctText, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not name:percent", item)
		}
		name = strings.TrimSpace(name)
		op, known := OpByName(name)
		if !known {
			return nil, fmt.Errorf("unknown operation %q (known: %s)", name, strings.Join(opNames[:], ", "))
		}
		if seen[op] {
			return nil, fmt.Errorf("operation %q given twice", name)
		}
		seen[op] = true
		pct, err := strconv.ParseFloat(strings.TrimSpace(pctText), 64)
		if err != nil || pct < 0 || math.IsNaN(pct) || math.IsInf(pct, 0) {
			return nil, fmt.Errorf("bad percentage %q for %s", pctText, name)
		}
		out = append(out, OpShare{Op: op, Pct: pct})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no operations given")
	}
	sum := 0.0
	for _, o := range out {
		sum += o.Pct
	}
	if sum-100 > 0.01 || 100-sum > 0.01 {
		return nil, fmt.Errorf("operation percentages must sum to 100, got %s", strconv.FormatFloat(sum, 'f', -1, 64))
	}
	return out, nil
}

// ScheduleBase is the length of the op schedule before truncation, as in
// LMCache's DEFAULT_OP_DISTRIBUTION_BASE.
const ScheduleBase = 1000

// BuildSchedule returns LMCache's op schedule: for each share in order,
// int(1000*pct/100) copies of its op (truncated, so the list may be shorter
// than 1000), shuffled with rng (left in order when rng is nil). The engine cycles through it.
func BuildSchedule(mix []OpShare, rng *rand.Rand) []Op {
	var s []Op
	for _, m := range mix {
		n := int(ScheduleBase * m.Pct / 100)
		for i := 0; i < n; i++ {
			s = append(s, m.Op)
		}
	}
	if rng != nil {
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	}
	return s
}

// PythonDictRepr renders the mix as LMCache prints its operations dict,
// e.g. {'admit': 70.0, 'evict': 25.0, 'heartbeat': 5.0}.
func PythonDictRepr(mix []OpShare) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range mix {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "'%s': %s", m.Op, pyfmt.Float(m.Pct))
	}
	b.WriteByte('}')
	return b.String()
}
