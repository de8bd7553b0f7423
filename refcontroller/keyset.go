package refcontroller

import (
	"math/bits"

	"github.com/lmfast/lmfast/wire"
)

// keySet is one location's set of KV chunk keys. Keys span msgpack's whole
// integer range, [-2^63, 2^64-1]. Small non-negative keys, the dense
// integers 0..N-1 that lmfast and LMCache's benchmark send, are bits of a
// bitmap (one load and store per operation, no branch on the outcome);
// every other key is in a hash set, split by sign (a negative key and the
// positive key with the same 64 bits are different keys). Each key is in
// exactly one place: the bitmap covers [0, 64*len(small)) and nothing in
// that range is ever in pos.
//
// The bitmap grows (by doubling, moving the keys it now covers out of pos)
// only while it costs no more memory than the hash set would (at most
// bitmapBitsPerKey bits per key held) and up to maxBitmapBits, so a few
// scattered large keys never make it big. A bit costs a fraction of a
// hash-set operation and stays as cheap when the key space outgrows the
// cache; BenchmarkWorkerApply compares the two (docs/performance.md).
type keySet struct {
	small    []uint64 // bit k: key k is present
	nsmall   int      // bits set in small
	pos, neg u64set
	touched  uint64 // keeps touch's loads from being optimised away
}

const (
	// bitmapBitsPerKey bounds the bitmap's size by the keys held: a hash
	// set takes 16 to 32 bytes (128 to 256 bits) per key.
	bitmapBitsPerKey = 128
	// minBitmapBits is the bitmap's first size (512 bytes).
	minBitmapBits = 4096
	// maxBitmapBits bounds one location's bitmap (2^24 bits: 2 MiB).
	maxBitmapBits = 1 << 24
)

func newKeySet() *keySet { return &keySet{} }

func (s *keySet) part(k wire.Int) *u64set {
	if k.Neg {
		return &s.neg
	}
	return &s.pos
}

// inBitmap reports whether k belongs to the bitmap, growing it first when
// k is just past its end and the growth is affordable.
func (s *keySet) inBitmap(k wire.Int, grow bool) bool {
	if k.Neg {
		return false
	}
	if k.Bits < uint64(len(s.small))*64 {
		return true
	}
	if !grow || k.Bits >= maxBitmapBits {
		return false
	}
	want := max(uint64(minBitmapBits), uint64(1)<<bits.Len64(k.Bits)) // a power of two > k
	if want > uint64(bitmapBitsPerKey*(s.len()+1)) {
		return false
	}
	s.growBitmap(int(want))
	return true
}

// growBitmap extends the bitmap to n bits and moves the keys of pos it now
// covers into it.
func (s *keySet) growBitmap(n int) {
	small := make([]uint64, n/64)
	copy(small, s.small)
	old := uint64(len(s.small)) * 64
	s.small = small
	if s.pos.len() == 0 { // len, not n: n leaves out the key 0
		return
	}
	var moved []uint64
	for _, k := range s.pos.slots {
		if k != 0 && k >= old && k < uint64(n) { // 0: an empty slot
			moved = append(moved, k)
		}
	}
	if s.pos.hasZero && old == 0 {
		moved = append(moved, 0)
	}
	for _, k := range moved {
		s.pos.remove(k)
		s.setBit(k, 1)
	}
}

// setBit sets bitmap bit k to v (1: present, 0: absent) and keeps nsmall,
// without a branch on either.
func (s *keySet) setBit(k, v uint64) {
	w := &s.small[k>>6]
	present := *w >> (k & 63) & 1
	*w = *w&^(1<<(k&63)) | v<<(k&63)
	s.nsmall += int(v) - int(present)
}

func (s *keySet) add(k wire.Int) {
	if s.inBitmap(k, true) {
		s.setBit(k.Bits, 1)
		return
	}
	s.part(k).add(k.Bits)
}

func (s *keySet) remove(k wire.Int) {
	if s.inBitmap(k, false) {
		s.setBit(k.Bits, 0)
		return
	}
	s.part(k).remove(k.Bits)
}

func (s *keySet) has(k wire.Int) bool {
	if s.inBitmap(k, false) {
		return s.small[k.Bits>>6]>>(k.Bits&63)&1 == 1
	}
	return s.part(k).has(k.Bits)
}

func (s *keySet) len() int { return s.nsmall + s.pos.len() + s.neg.len() }

// apply applies a batch's admits and evicts in order and counts them. A
// key in the bitmap is one branch-free update (a batch's random mix of
// admits and evicts, present and absent keys, would mispredict a branch on
// either); the rest go through add and remove.
func (s *keySet) apply(ops []wire.KVOpEvent) (admits, evicts int64) {
	for i := range ops {
		op := &ops[i]
		var admit uint64 // 1 for an admit, 0 for an evict
		if op.OpType != wire.OpEvict {
			admit = 1
		}
		admits += int64(admit)
		if k := op.Key.Bits; !op.Key.Neg && k < uint64(len(s.small))*64 {
			s.setBit(k, admit)
			continue
		}
		if admit == 1 {
			s.add(op.Key)
		} else {
			s.remove(op.Key)
		}
	}
	return admits, int64(len(ops)) - admits
}

// touchMinSlots is the hash table size (8-byte slots) from which touch
// pays: 512 KiB, a common L2 cache.
const touchMinSlots = 1 << 16

// touch loads the home slot of every op's hashed key before a batch is
// applied: the loads are independent, so their cache misses overlap (a
// software prefetch) instead of stalling the apply loop one after another,
// which dominated applying batches of random keys to sets larger than the
// cache. It changes nothing; a set that grows meanwhile only loses the
// hint. Tables that fit in a core's L2 cache are not touched: their loads
// hit the cache anyway, so the pass would only cost (BenchmarkWorkerApply
// measures both sides).
func (s *keySet) touch(ops []wire.KVOpEvent) {
	if len(s.pos.slots)+len(s.neg.slots) < touchMinSlots {
		return
	}
	var x uint64
	limit := uint64(len(s.small)) * 64
	for i := range ops {
		k := ops[i].Key
		p := &s.pos
		if k.Neg {
			p = &s.neg
		} else if k.Bits < limit {
			continue
		}
		if len(p.slots) > 0 {
			x ^= p.slots[p.home(k.Bits)&uint64(len(p.slots)-1)]
		}
	}
	s.touched = x
}
