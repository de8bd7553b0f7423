package engine

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/enginetest"
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
		// The least of three builds: another test's leftover goroutine
		// may allocate during one.
		var pairs []*pair
		per := 0.0
		for try := range 3 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			pairs = newPairs(cfg, newInstances(cfg), idx)
			runtime.ReadMemStats(&after)
			if b := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(pairs)); try == 0 || b < per {
				per = b
			}
		}
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

// TestRequestsEndTheRun: with --requests a run ends once that many
// measured requests were sent (closed loop) or sent and dropped (open
// loop), over two senders sharing one budget, long before its --duration:
// the counts, the receiver's frames and the due count all equal the
// budget, and the measured time is the run's, not the duration.
func TestRequestsEndTheRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		mix  string
		rate float64
		n    int64
	}{
		{"closed loop", "admit:50,evict:50", 0, 3000},
		{"closed loop with requests", "admit:40,p2p_lookup:60", 0, 700},
		{"open loop", "admit:50,evict:30,p2p_lookup:20", 4000, 900},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := enginetest.Start(t)
			cfg := testConfig(k, tc.mix)
			cfg.Duration, cfg.Warmup, cfg.Rate = time.Minute, 100*time.Millisecond, tc.rate
			cfg.Requests = NewRequestBudget(tc.n)
			res, err := Run(context.Background(), cfg, &recorder{}, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			got := k.Settle()
			sent, dropped := res.Sent()
			req, _, errs := res.Totals()
			t.Logf("sent %d, dropped %d, requests %d, errors %d, elapsed %v", sent, dropped, req, errs, res.Elapsed)
			if sent+dropped != tc.n {
				t.Errorf("sent %d + dropped %d, want %d", sent, dropped, tc.n)
			}
			if req+errs != sent {
				t.Errorf("%d requests and %d errors completed, %d sent", req, errs, sent)
			}
			if tc.rate > 0 && res.Due != tc.n {
				t.Errorf("due %d, want %d", res.Due, tc.n)
			}
			if res.Elapsed <= 0 || res.Elapsed > 30*time.Second {
				t.Errorf("measured time %v: the run did not end at its last request", res.Elapsed)
			}
			// What the receiver got: the warm-up's frames, the budget's
			// and the teardown.
			if want := res.PushFrames + res.TeardownFrames; got.Frames != want {
				t.Errorf("receiver got %d PUSH frames, engine claims %d", got.Frames, want)
			}
			var pushSent int64
			for _, o := range res.Ops {
				if o.Op.IsPush() {
					pushSent += o.Sent
				}
			}
			if res.PushFrames < pushSent {
				t.Errorf("push frames %d, fewer than the measured push requests %d", res.PushFrames, pushSent)
			}
		})
	}
}
