package engine

import (
	"math"
	"testing"

	"github.com/lmfast/lmfast/engine/keydist"
	"github.com/lmfast/lmfast/wire"
)

// producedKeys decodes the keys of n operations a producer encodes: the
// keys of admit and evict batches and the hashes of lookups.
func producedKeys(t *testing.T, cfg *Config, seed uint64, n int) []uint64 {
	t.Helper()
	p := newProducer(cfg, newPairs(cfg, newInstances(cfg), [][2]int{{0, 0}, {1, 0}}), seed)
	var keys []uint64
	var it item
	for i := 0; i < n; i++ {
		p.fill(&it)
		m, err := wire.Decode(it.payload)
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *wire.BatchedKVOperationMsg:
			for _, op := range m.Operations {
				keys = append(keys, op.Key.Bits)
			}
		case *wire.BatchedP2PLookupMsg:
			for _, h := range m.Hashes {
				keys = append(keys, h.Bits)
			}
		}
	}
	return keys
}

// TestKeyDistShapesTheStream: the keys the producers encode into admits,
// evicts and lookups follow --key-dist (Pearson's χ² against the
// distribution's probabilities, bins of at least 20 expected keys, below
// the 0.999 quantile), and a uniform stream fails the same test against a
// skewed distribution; the same seed encodes the same keys.
func TestKeyDistShapesTheStream(t *testing.T) {
	ops, _ := ParseOperations("admit:40,evict:30,p2p_lookup:30")
	const numKeys = 2000
	chi := func(keys []uint64, s *keydist.Sampler) (float64, float64) {
		counts := make([]float64, numKeys)
		for _, k := range keys {
			if k >= numKeys {
				t.Fatalf("key %d outside the key space", k)
			}
			counts[k]++
		}
		var x, exp, obs float64
		bins := -1
		for k := uint64(0); k < numKeys; k++ {
			exp += s.Prob(k) * float64(len(keys))
			obs += counts[k]
			if exp >= 20 || k == numKeys-1 {
				x += (obs - exp) * (obs - exp) / exp
				bins++
				exp, obs = 0, 0
			}
		}
		df := float64(bins)
		c := 1 - 2/(9*df) + 3.090232*math.Sqrt(2/(9*df))
		return x, df * c * c * c
	}
	for _, spec := range []string{"uniform", "zipf:1.1", "hotspot:0.8"} {
		d, err := keydist.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		cfg := &Config{Mix: ops, BatchSize: 50, NumKeys: numKeys, NumLocations: 2, NumHashes: 50, NumInstances: 2, NumWorkers: 1, KeyDist: d}
		keys := producedKeys(t, cfg, 5, 8000)
		if x, limit := chi(keys, keydist.NewSampler(d, numKeys)); x > limit {
			t.Errorf("%s: χ² %.1f above %.1f", spec, x, limit)
		}
		if again := producedKeys(t, cfg, 5, 8000); !equalKeys(keys, again) {
			t.Errorf("%s: the same seed encoded other keys", spec)
		}
		if spec == "uniform" {
			zipf, _ := keydist.Parse("zipf:1.1")
			if x, limit := chi(keys, keydist.NewSampler(zipf, numKeys)); x <= limit {
				t.Errorf("uniform keys pass as zipf:1.1 (χ² %.1f)", x)
			}
		}
	}
}

func equalKeys(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKeyDistAllocatesNothing: a skewed draw keeps the producer's steady
// state free of allocations.
func TestKeyDistAllocatesNothing(t *testing.T) {
	for _, spec := range []string{"zipf:0.99", "hotspot:0.9"} {
		d, _ := keydist.Parse(spec)
		ops, _ := ParseOperations("admit:50,p2p_lookup:50")
		cfg := &Config{Mix: ops, BatchSize: 50, NumKeys: 1 << 30, NumLocations: 2, NumHashes: 100, NumInstances: 2, NumWorkers: 1, KeyDist: d}
		p := newProducer(cfg, newPairs(cfg, newInstances(cfg), [][2]int{{0, 0}, {1, 0}}), 7)
		var it item
		p.fill(&it)
		p.fill(&it)
		if allocs := testing.AllocsPerRun(500, func() { p.fill(&it) }); allocs != 0 {
			t.Errorf("%s: %.1f allocations per message", spec, allocs)
		}
	}
}
