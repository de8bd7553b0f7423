package refcontroller

import "github.com/lmfast/lmfast/wire"

// keySet is one location's set of KV chunk keys. Keys span msgpack's whole
// integer range, [-2^63, 2^64-1], so a wire.Int is split by its sign into
// two uint64 sets (a negative key and the positive key with the same 64
// bits are different keys).
type keySet struct {
	pos, neg u64set
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
