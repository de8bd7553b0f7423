package engine

import (
	"runtime"
	"testing"
)

// TestPairsAreCompact builds the simulated workers of a 100 000-worker
// group (10 000 instances of 10 workers) and checks what they cost in
// allocated bytes per worker: a pair, its pointer, its sequence counters
// and its share of its instance's name and encoder. One encoder per
// worker and location (about 300 bytes each) fails it.
func TestPairsAreCompact(t *testing.T) {
	for _, locs := range []int{1, 4} {
		cfg := &Config{NumInstances: 10_000, NumWorkers: 10, NumLocations: locs}
		var idx [][2]int
		for i := range cfg.NumInstances {
			for w := range cfg.NumWorkers {
				idx = append(idx, [2]int{i, w})
			}
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		pairs := newPairs(cfg, newInstances(cfg), idx)
		runtime.ReadMemStats(&after)
		per := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(pairs))
		limit := 112 + 8*float64(locs)
		t.Logf("%d location(s): %.0f bytes per simulated worker", locs, per)
		if per > limit {
			t.Errorf("%d location(s): %.0f bytes per simulated worker, want at most %.0f", locs, per, limit)
		}
		if p := pairs[len(pairs)-1]; p.instance != InstanceID(0, 9999) || p.worker != 9 || len(p.seq) != locs || cap(p.seq) != locs {
			t.Errorf("last pair: %q worker %d, %d/%d counters", p.instance, p.worker, len(p.seq), cap(p.seq))
		}
	}
}
