package refcontroller

import "github.com/lmfast/lmfast/wire"

// keySet is one location's set of KV chunk keys. Keys span msgpack's whole
// integer range, [-2^63, 2^64-1], so a wire.Int is split by its sign into
// two uint64-keyed maps: the runtime's fast 64-bit map paths, where a
// struct key would hash and compare through generic code (a third of the
// apply time, measured with BenchmarkApplyBatches).
type keySet struct {
	pos map[uint64]struct{} // keys >= 0
	neg map[uint64]struct{} // keys < 0, as uint64(int64); allocated on first use
}

func newKeySet(hint int) *keySet { return &keySet{pos: make(map[uint64]struct{}, hint)} }

func (s *keySet) add(k wire.Int) {
	if !k.Neg {
		s.pos[k.Bits] = struct{}{}
		return
	}
	if s.neg == nil {
		s.neg = map[uint64]struct{}{}
	}
	s.neg[k.Bits] = struct{}{}
}

func (s *keySet) remove(k wire.Int) {
	if k.Neg {
		delete(s.neg, k.Bits) // a no-op on a nil map
		return
	}
	delete(s.pos, k.Bits)
}

func (s *keySet) has(k wire.Int) bool {
	var ok bool
	if k.Neg {
		_, ok = s.neg[k.Bits]
	} else {
		_, ok = s.pos[k.Bits]
	}
	return ok
}

func (s *keySet) len() int { return len(s.pos) + len(s.neg) }
