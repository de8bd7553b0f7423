package refcontroller

// u64set is an open-addressing hash set of uint64 keys: linear probing in
// a power-of-two table kept at most half full, Fibonacci hashing (good for
// dense small keys and random 64-bit hashes alike), and backward-shift
// deletion, so there are no tombstones and a probe never runs past the
// first empty slot. 0 marks an empty slot, so the key 0 is kept aside.
//
// It exists because the controller's hot path is one set operation per KV
// op, and Go's generic maps (mapassign / mapdelete) cost more than twice
// as much per operation there; BenchmarkKeySet compares the two.
type u64set struct {
	slots   []uint64
	shift   uint8 // 64 - log2(len(slots))
	n       int   // keys in slots
	hasZero bool
}

const fibonacci = 0x9e3779b97f4a7c15

func (s *u64set) home(k uint64) uint64 { return (k * fibonacci) >> s.shift }

func (s *u64set) init(size int) {
	s.slots = make([]uint64, size)
	s.shift = uint8(64 - bitsLen(size-1))
	s.n = 0
}

func bitsLen(x int) int {
	n := 0
	for ; x > 0; x >>= 1 {
		n++
	}
	return n
}

// add inserts k.
func (s *u64set) add(k uint64) {
	if k == 0 {
		s.hasZero = true
		return
	}
	if s.slots == nil {
		s.init(16)
	}
	mask := uint64(len(s.slots) - 1)
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return
		case 0:
			s.slots[i] = k
			if s.n++; 2*s.n > len(s.slots) {
				s.grow()
			}
			return
		}
	}
}

func (s *u64set) grow() {
	old := s.slots
	s.init(2 * len(old))
	for _, k := range old {
		if k != 0 {
			s.add(k)
		}
	}
}

// remove deletes k (absent keys are a no-op) and shifts the entries after
// it back so that every key stays reachable from its home slot.
func (s *u64set) remove(k uint64) {
	if k == 0 {
		s.hasZero = false
		return
	}
	if s.n == 0 {
		return
	}
	mask := uint64(len(s.slots) - 1)
	i := s.home(k)
	for s.slots[i] != k {
		if s.slots[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	s.slots[i] = 0
	s.n--
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		h := s.home(s.slots[j])
		// The entry at j may fill the hole at i unless its home lies in
		// the cyclic range (i, j].
		if i <= j && (h <= i || h > j) || i > j && h <= i && h > j {
			s.slots[i], s.slots[j] = s.slots[j], 0
			i = j
		}
	}
}

// has reports whether k is in the set.
func (s *u64set) has(k uint64) bool {
	if k == 0 {
		return s.hasZero
	}
	if s.n == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

func (s *u64set) len() int {
	if s.hasZero {
		return s.n + 1
	}
	return s.n
}
