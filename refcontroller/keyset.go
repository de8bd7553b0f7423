package refcontroller

import "github.com/lmfast/lmfast/wire"

// keySet is one location's set of KV chunk keys. Keys span msgpack's whole
// integer range, [-2^63, 2^64-1], so a wire.Int is split by its sign into
// two uint64 sets (a negative key and the positive key with the same 64
// bits are different keys).
// touchMinSlots is the table size (8-byte slots) from which touch pays:
// 512 KiB, a common L2 cache.
const touchMinSlots = 1 << 16

type keySet struct {
	pos, neg u64set
	touched  uint64 // keeps touch's loads from being optimised away
}

func newKeySet() *keySet { return &keySet{} }

func (s *keySet) part(k wire.Int) *u64set {
	if k.Neg {
		return &s.neg
	}
	return &s.pos
}

func (s *keySet) add(k wire.Int)      { s.part(k).add(k.Bits) }
func (s *keySet) remove(k wire.Int)   { s.part(k).remove(k.Bits) }
func (s *keySet) has(k wire.Int) bool { return s.part(k).has(k.Bits) }
func (s *keySet) len() int            { return s.pos.len() + s.neg.len() }

// touch loads the home slot of every op's key before a batch is applied:
// the loads are independent, so their cache misses overlap (a software
// prefetch) instead of stalling the apply loop one after another, which
// dominated applying batches of random keys to sets larger than the cache.
// It changes nothing; a set that grows meanwhile only loses the hint. A
// set that fits in a core's L2 cache is not touched (there it only costs:
// BenchmarkWorkerApply, 1M keys ~100 -> ~65 ns per op, 10k keys +2 ns).
func (s *keySet) touch(ops []wire.KVOpEvent) {
	if len(s.pos.slots)+len(s.neg.slots) < touchMinSlots {
		return
	}
	var x uint64
	for i := range ops {
		k := ops[i].Key
		p := &s.pos
		if k.Neg {
			p = &s.neg
		}
		if len(p.slots) > 0 {
			x ^= p.slots[p.home(k.Bits)&uint64(len(p.slots)-1)]
		}
	}
	s.touched = x
}
