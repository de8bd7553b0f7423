package refcontroller

import (
	"math/rand/v2"
	"testing"

	"github.com/lmfast/lmfast/wire"
)

// TestKeySetKeepsSignsApart: a negative key and the positive key with the
// same 64 bits are different keys.
func TestKeySetKeepsSignsApart(t *testing.T) {
	s := newKeySet()
	neg, big := wire.IntOf(-1), wire.UintOf(1<<64-1) // both have Bits 0xffff...ffff
	s.add(neg)
	if !s.has(neg) || s.has(big) || s.len() != 1 {
		t.Fatal("negative key confused with its unsigned twin")
	}
	s.add(big)
	s.add(wire.IntOf(0))
	s.remove(neg)
	if s.has(neg) || !s.has(big) || !s.has(wire.IntOf(0)) || s.len() != 2 {
		t.Fatalf("after remove: len %d", s.len())
	}
	s.remove(wire.IntOf(-5)) // absent
	if s.len() != 2 {
		t.Fatal("removing an absent key changed the set")
	}
}

// TestKeySetMatchesMap runs random admits, evicts and lookups against a
// keySet and a Go map, checking membership and size after every step: key
// mixes that keep everything hashed, that grow the bitmap (moving hashed
// keys into it) and that straddle its limits.
func TestKeySetMatchesMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(r *rand.Rand) wire.Int
	}{
		{"dense 0..9999", func(r *rand.Rand) wire.Int { return wire.IntOf(int64(r.IntN(10_000))) }},
		{"dense 0..99 (the smallest bitmap)", func(r *rand.Rand) wire.Int { return wire.IntOf(int64(r.IntN(100))) }},
		{"hashes", func(r *rand.Rand) wire.Int { return wire.UintOf(r.Uint64()) }},
		{"zero among negatives, rarely one", func(r *rand.Rand) wire.Int {
			if r.IntN(1000) == 0 {
				return wire.IntOf(1)
			}
			return wire.IntOf(-int64(r.IntN(60)))
		}},
		{"mixed", func(r *rand.Rand) wire.Int {
			switch r.IntN(4) {
			case 0:
				return wire.IntOf(-int64(r.IntN(50)))
			case 1:
				return wire.UintOf(maxBitmapBits - 50 + uint64(r.IntN(100)))
			case 2:
				return wire.UintOf(r.Uint64())
			}
			return wire.IntOf(int64(r.IntN(1 << 16)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newKeySet()
			agreeWithMap(t, rand.New(rand.NewPCG(7, 8)), 3, 1, 5, tc.key, s)
			t.Logf("bitmap %d bits, %d keys hashed", len(s.small)*64, s.pos.len()+s.neg.len())
		})
	}
}

// TestKeySetBitmapTakesKeyZero: key 0, held apart by the hash set, moves
// into the bitmap when the bitmap first grows, even with no other
// non-negative key hashed (found in review: it stayed behind, counted
// twice and never removable).
func TestKeySetBitmapTakesKeyZero(t *testing.T) {
	s := newKeySet()
	s.add(wire.IntOf(0))
	for i := 1; i <= 40; i++ {
		s.add(wire.IntOf(-int64(i)))
	}
	s.add(wire.IntOf(1)) // grows the bitmap: 4096 <= 128*(41+1)
	if len(s.small) == 0 {
		t.Fatal("the bitmap did not grow: the test's premise is wrong")
	}
	if !s.has(wire.IntOf(0)) || s.len() != 42 {
		t.Fatalf("after growth: has(0) %v, len %d (want true, 42)", s.has(wire.IntOf(0)), s.len())
	}
	s.remove(wire.IntOf(0))
	if s.has(wire.IntOf(0)) || s.len() != 41 {
		t.Fatalf("after remove(0): has(0) %v, len %d (want false, 41)", s.has(wire.IntOf(0)), s.len())
	}
}
