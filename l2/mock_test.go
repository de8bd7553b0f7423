package l2

import (
	"sync"
	"testing"
	"time"
)

// TestMockAchievesConfiguredBandwidth: over many transfers the mock moves
// bytes at its configured mock_bandwidth_gb — the ratio achieved/configured
// is within a few percent of 1, for one worker and for several sharing the
// link, stores and loads alike. Each transfer here lasts about half a
// millisecond, the order of a timer's overshoot. Before, every transfer
// slept its own duration from the moment it asked, so each timer's
// overshoot (and the worker's own time between two transfers) was lost:
// one worker got about half the configured bandwidth.
func TestMockAchievesConfiguredBandwidth(t *testing.T) {
	const payload = 32 << 10
	const gb = 0.0625 // 64 MiB/s: 32 KiB in 0.49 ms
	for _, tc := range []struct {
		name    string
		workers int
		load    bool
	}{
		{"store, 1 worker", 1, false},
		{"store, 4 workers", 4, false},
		{"load, 1 worker", 1, true},
		{"load, 3 workers", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 400 / tc.workers // keys per worker
			m := newMock(Spec{MaxSizeGB: 1, MockBandwidthGB: gb})
			defer m.Close()
			buf := make([][]byte, tc.workers)
			for w := range buf {
				buf[w] = make([]byte, payload)
			}
			if tc.load { // the keys, stored at full speed
				fast := newMock(Spec{MaxSizeGB: 1, MockBandwidthGB: 1e6})
				for i := 0; i < n*tc.workers; i++ {
					fast.Store(nil, uint64(i), buf[0])
				}
				m.data = fast.data
			}
			var wg sync.WaitGroup
			start := time.Now()
			for w := 0; w < tc.workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < n; i++ {
						idx := uint64(w*n + i)
						var o Outcome
						if tc.load {
							o = m.Load(nil, idx, buf[w])
						} else {
							o = m.Store(nil, idx, buf[w])
						}
						if o.Status != OK {
							t.Errorf("key %d: %+v", idx, o)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			elapsed := time.Since(start).Seconds()
			achieved := float64(n*tc.workers*payload) / elapsed
			ratio := achieved / m.bw
			t.Logf("%d transfers of %d bytes: %.1f MiB/s of %.1f configured (ratio %.3f)", n*tc.workers, payload, achieved/(1<<20), m.bw/(1<<20), ratio)
			if ratio < 0.95 || ratio > 1.01 {
				t.Fatalf("achieved/configured bandwidth %.3f, want 0.95..1.01", ratio)
			}
		})
	}
}

// TestMockBanksNoIdleTime: time the link sat idle is not credit — after an
// idle gap (shorter than maxMockLag) the next transfers still take their
// full time, so the rate right after it is not above the configured one.
// A late scheduler can only slow a batch down, never speed it up, so the
// upper bound is absolute; the lower one compares the batch after the gap
// with the batch before it, measured in the same run.
func TestMockBanksNoIdleTime(t *testing.T) {
	const payload, n = 32 << 10, 100
	m := newMock(Spec{MaxSizeGB: 1, MockBandwidthGB: 0.0625})
	defer m.Close()
	buf := make([]byte, payload)
	batch := func(first uint64) float64 { // achieved/configured bandwidth
		start := time.Now()
		for i := first; i < first+n; i++ {
			m.Store(nil, i, buf)
		}
		return float64(n*payload) / time.Since(start).Seconds() / m.bw
	}
	before := batch(0)
	time.Sleep(maxMockLag / 2) // the link idles
	after := batch(n)
	t.Logf("achieved/configured bandwidth: %.3f before the gap, %.3f after", before, after)
	// Banked, the 25 ms idle would make it about 1.5; the last
	// transfer's timer overshoot before the gap (about a millisecond) is
	// still made up, hence a little above 1 at most.
	if after > 1.05 {
		t.Fatalf("after an idle gap: achieved/configured bandwidth %.3f, want at most 1.05", after)
	}
	if after < 0.9*before {
		t.Fatalf("after an idle gap: %.3f of the configured bandwidth, before it %.3f: the gap cost time", after, before)
	}
}

// TestMockWaveRoundsAtConfiguredBandwidth: LMCache's per-round throughput
// of a wave run on the mock, one worker, is the configured bandwidth within
// a few percent (the rounds' gaps are not credited, the timers' overshoot
// is not lost; what a round loses is its last timer's overshoot and the
// hand-offs at its ends). Before: about half of it.
func TestMockWaveRoundsAtConfiguredBandwidth(t *testing.T) {
	const gb = 0.0625
	cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0.0625}`)
	cfg.Ops, cfg.Rounds, cfg.Warmup = []Op{Store, Load}, 4, 1
	cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = 40, 2, 32<<10, 1 // 80 keys, ~40 ms a round
	res, _ := runCfg(t, cfg)
	for _, o := range res.Ops {
		st := Stats(o, cfg)
		ratio := st.TputAvg * MB / (gb * (1 << 30))
		t.Logf("%s: %.2f MB/s, ratio %.3f", o.Op, st.TputAvg, ratio)
		if st.Failed != 0 || ratio < 0.9 || ratio > 1.05 {
			t.Fatalf("%s: %d failed, achieved/configured bandwidth %.3f, want 0.9..1.05", o.Op, st.Failed, ratio)
		}
	}
}
