package engine

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/lmfast/lmfast/wire"
)

// heldKeys is the set of keys one simulated worker holds per location,
// as the batches it sent left it (an admit adds a key, an evict removes
// it): what the worker reports in a full sync. Keys are below NumKeys,
// so each location is a bitmap of NumKeys bits, allocated on first use.
type heldKeys struct {
	mu    sync.Mutex
	nkeys int
	locs  [][]uint64
}

func newHeldKeys(locations, nkeys int) *heldKeys {
	return &heldKeys{nkeys: nkeys, locs: make([][]uint64, locations)}
}

// applyLocked records a batch that was sent; h.mu is held.
func (h *heldKeys) applyLocked(loc int, admit bool, keys []wire.Int) {
	set := h.locs[loc]
	if set == nil {
		if !admit {
			return
		}
		set = make([]uint64, (h.nkeys+63)/64)
		h.locs[loc] = set
	}
	for _, k := range keys {
		v, ok := k.Int64()
		if !ok || v < 0 || v >= int64(h.nkeys) {
			continue
		}
		if admit {
			set[v>>6] |= 1 << (v & 63)
		} else {
			set[v>>6] &^= 1 << (v & 63)
		}
	}
}

// freeze sets the worker's freeze mode and returns the keys it holds per
// location at that moment: no batch of it is being sent meanwhile.
func (h *heldKeys) freeze(frozen *atomic.Bool) [][]wire.Int {
	h.mu.Lock()
	defer h.mu.Unlock()
	frozen.Store(true)
	out := make([][]wire.Int, len(h.locs))
	for loc := range h.locs {
		out[loc] = h.keysLocked(loc)
	}
	return out
}

// keysLocked returns the keys held in location loc, ascending; h.mu is held.
func (h *heldKeys) keysLocked(loc int) []wire.Int {
	var out []wire.Int
	for i, w := range h.locs[loc] {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, wire.IntOf(int64(i*64+b)))
			w &= w - 1
		}
	}
	return out
}

// count returns how many keys the worker holds over all locations.
func (h *heldKeys) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.locs {
		for _, w := range set {
			n += bits.OnesCount64(w)
		}
	}
	return n
}
