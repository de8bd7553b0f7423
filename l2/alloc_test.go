package l2

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/lmfast/lmfast/stream"
)

// TestAdapterOpsDoNotAllocate: the fs adapter's store, lookup and load of
// one key allocate nothing on the success path.
func TestAdapterOpsDoNotAllocate(t *testing.T) {
	specs, _ := ParseSpecs([]string{fsSpec(t.TempDir(), `,"use_odirect":true`)})
	a, err := New(specs[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var s Scratch
	buf := make([]byte, 4096)
	idx := uint64(0)
	if n := testing.AllocsPerRun(50, func() { a.Store(&s, idx, buf); idx++ }); n != 0 {
		t.Errorf("store: %v allocations per key", n)
	}
	if n := testing.AllocsPerRun(50, func() { a.Lookup(&s, 3) }); n != 0 {
		t.Errorf("lookup: %v allocations per key", n)
	}
	if n := testing.AllocsPerRun(50, func() {
		if o := a.Load(&s, 3, buf); o.Status != OK {
			t.Fatal(o.Err)
		}
	}); n != 0 {
		t.Errorf("load: %v allocations per key", n)
	}
}

// TestRunAllocationsDoNotGrowWithKeys: ten times the keys per round cost
// (almost) no more allocations: nothing is allocated per key.
func TestRunAllocationsDoNotGrowWithKeys(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on every synchronisation")
	}
	allocs := func(numKeys int) uint64 {
		specs, _ := ParseSpecs([]string{fsSpec(t.TempDir(), "")})
		cfg := &Config{Spec: specs[0], NumKeys: numKeys, InFlight: 2, Payload: 4096, Align: 1, Rounds: 1, Warmup: 1,
			Ops: Ops, IOWorkers: 2, StoreLoadTimeout: DefaultStoreLoadTimeout, LookupTimeout: DefaultLookupTimeout}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := Run(context.Background(), cfg, stream.New(io.Discard, "l2", "t")); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	small, large := allocs(20), allocs(220)
	perKey := (float64(large) - float64(small)) / float64(3*2*2*200) // 3 ops × 2 rounds × 2 submits × 200 more keys
	t.Logf("%d allocations with 20 keys per submit, %d with 220: %.4f per extra key", small, large, perKey)
	if perKey > 0.05 {
		t.Fatalf("%d allocations with 20 keys per submit, %d with 220: %.3f per extra key", small, large, perKey)
	}
}
