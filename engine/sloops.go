package engine

import "github.com/lmfast/lmfast/engine/slo"

// SLOOps returns the operations of mix as --slo and --fail-if terms may
// name them, PUSH ones marked (a latency term on one is refused).
func SLOOps(mix []OpShare) []slo.Op {
	out := make([]slo.Op, len(mix))
	for i, m := range mix {
		out[i] = slo.Op{Name: m.Op.String(), Push: m.Op.IsPush()}
	}
	return out
}
