package engine

import "sync/atomic"

// RequestBudget is --requests: how many more measured requests (those
// intended after the warm-up) the groups sharing it may send. Each sender
// takes one before it sends or drops a measured request and stops, its step
// over, when none is left; so the run's measured requests, sent and
// dropped, add up to the budget exactly unless --duration (or an
// interrupt) ends it first.
type RequestBudget struct {
	left atomic.Int64
}

// NewRequestBudget returns a budget of n requests (n > 0).
func NewRequestBudget(n int64) *RequestBudget {
	b := &RequestBudget{}
	b.left.Store(n)
	return b
}

// Spent reports whether every request of the budget was taken.
func (b *RequestBudget) Spent() bool { return b != nil && b.left.Load() <= 0 }

// take takes one request; false when none is left. A nil budget has no
// limit.
func (b *RequestBudget) take() bool {
	if b == nil {
		return true
	}
	if b.left.Add(-1) >= 0 {
		return true
	}
	b.left.Add(1)
	return false
}

// giveBack returns a request taken but neither sent nor dropped.
func (b *RequestBudget) giveBack() {
	if b != nil {
		b.left.Add(1)
	}
}

// ProcessRequests is this process's share of a --requests total given for
// the whole run: total / Processes, the first total % Processes processes
// one more, so that the shares add up to total.
func (p Placement) ProcessRequests(total int64) int64 {
	share := total / int64(p.Processes)
	if int64(p.ProcessID) < total%int64(p.Processes) {
		share++
	}
	return share
}
