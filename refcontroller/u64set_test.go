package refcontroller

import (
	"math/rand/v2"
	"testing"
)

// TestU64SetAgreesWithMap drives a u64set and a Go map with the same long
// random sequence of adds, removes and lookups (keys from small dense
// ranges, where probes collide and deletions shift, and full 64-bit
// values, 0 included) and requires the same answers and sizes throughout.
func TestU64SetAgreesWithMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(*rand.Rand) uint64
	}{
		{"dense 0..63", func(r *rand.Rand) uint64 { return r.Uint64N(64) }},
		{"dense 0..9999", func(r *rand.Rand) uint64 { return r.Uint64N(10000) }},
		{"full range", func(r *rand.Rand) uint64 { return r.Uint64() }},
		{"multiples of 2^32", func(r *rand.Rand) uint64 { return r.Uint64N(300) << 32 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s u64set
			agreeWithMap(t, rand.New(rand.NewPCG(1, 2)), 1, 1, 3, tc.key, &s)
		})
	}
}

// BenchmarkKeySet is the apply loop's set traffic: a 2:1 mix of adds and
// removes of keys in 0..9999, on a u64set and on a Go map.
func BenchmarkKeySet(b *testing.B) {
	keys := make([]uint64, 1<<16)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range keys {
		keys[i] = r.Uint64N(10000)
	}
	b.Run("u64set", func(b *testing.B) {
		var s u64set
		for i := 0; i < b.N; i++ {
			if k := keys[i&(len(keys)-1)]; i%3 == 2 {
				s.remove(k)
			} else {
				s.add(k)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		m := map[uint64]struct{}{}
		for i := 0; i < b.N; i++ {
			if k := keys[i&(len(keys)-1)]; i%3 == 2 {
				delete(m, k)
			} else {
				m[k] = struct{}{}
			}
		}
	})
}

// set is what agreeWithMap drives: u64set and keySet.
type set[K comparable] interface {
	add(K)
	remove(K)
	has(K) bool
	len() int
}

// agreeWithMap runs 200k random steps on s and a Go map: of every `of`
// steps on average `adds` add a key, `removes` remove one and the rest
// only look one up. After each step both must agree on that key and on
// the size; at the end every key of the map must still be found.
func agreeWithMap[K comparable](t *testing.T, r *rand.Rand, adds, removes, of int, key func(*rand.Rand) K, s set[K]) {
	t.Helper()
	m := map[K]bool{}
	for i := 0; i < 200_000; i++ {
		k := key(r)
		switch op := r.IntN(of); {
		case op < adds:
			s.add(k)
			m[k] = true
		case op < adds+removes:
			s.remove(k)
			delete(m, k)
		}
		if s.has(k) != m[k] {
			t.Fatalf("step %d: has(%v) = %v, map says %v", i, k, s.has(k), m[k])
		}
		if s.len() != len(m) {
			t.Fatalf("step %d: len %d, map %d", i, s.len(), len(m))
		}
	}
	for k := range m { // every key left is still reachable
		if !s.has(k) {
			t.Fatalf("lost key %v", k)
		}
	}
}
