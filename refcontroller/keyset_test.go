package refcontroller

import (
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
