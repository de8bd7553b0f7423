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
