package l2

import (
	"math"
	"strings"
	"testing"
	"time"
)

// syntheticOp is an operation of one warmup round and measured rounds of
// the given durations, K = 8 keys of 1 MiB each, all moved.
func syntheticOp(op Op, durations ...time.Duration) *OpResult {
	o := newOpResult(op)
	o.Rounds = append(o.Rounds, Round{Number: 1, Warmup: true, Duration: time.Millisecond, Keys: 8, Success: 8, Written: 8, Bytes: 8 << 20, Requested: 8 << 20})
	for i, d := range durations {
		r := Round{Number: i + 2, Duration: d, Keys: 8, Success: 8, Bytes: 8 << 20, Requested: 8 << 20}
		switch op {
		case Store:
			r.Written = 8
		case Lookup:
			r.Success, r.Missing, r.Bytes, r.Requested = 3, 5, 0, 0
		}
		o.Rounds = append(o.Rounds, r)
	}
	return o
}

func syntheticConfig(mode Mode) *Config {
	return &Config{NumKeys: 4, InFlight: 2, Payload: 1 << 20, Rounds: 3, Warmup: 1, HitRate: 0.375, Mode: mode, Duration: time.Second,
		Ops: Ops, IOWorkers: 1}
}

// entries maps a summary section's keys to their values.
func entries(s Section) map[string]any {
	m := map[string]any{}
	for _, e := range s.Entries {
		m[e.Key] = e.Value
	}
	return m
}

// TestWaveStatsAreLMCaches pins wave mode's LMCache-compatible figures
// (docs/l2-bench.md, "Statistics", "Summary") on known rounds of 100, 200 and 400 ms of 8 MiB:
// the mean of per-round rates, nearest-rank percentiles, the sample
// deviation, LMCache's rounding. Window-mode corrections must not move
// any of them.
func TestWaveStatsAreLMCaches(t *testing.T) {
	c := syntheticConfig(Wave)
	ms := time.Millisecond
	res := &Result{Config: c, Engine: "psync", Workers: 1,
		Ops: []*OpResult{syntheticOp(Store, 100*ms, 200*ms, 400*ms), syntheticOp(Lookup, 100*ms, 200*ms, 400*ms)}}
	doc := Document(res, "OK")
	cfg, store, lookup := entries(doc[0]), entries(doc[1]), entries(doc[2])
	want := map[string]any{
		"rounds": int64(3), "total_keys": int64(24), "total_success": int64(24),
		"duration_avg_ms": 233.33, "duration_min_ms": 100.0, "duration_max_ms": 400.0,
		"duration_p50_ms": 200.0, "duration_p99_ms": 400.0, "duration_std_ms": 152.75,
		"throughput_avg_mbps": 46.67, "throughput_min_mbps": 20.0, "throughput_max_mbps": 80.0,
		"ops_per_sec_avg": 46.67, "latency_per_key_ms": 29.167, "throughput_requested_avg_mbps": 46.67,
	}
	for k, v := range want {
		if store[k] != v {
			t.Errorf("store %s = %v, want %v", k, store[k], v)
		}
	}
	if _, ok := store["measured_time_s"]; ok {
		t.Error("wave mode has a measured_time_s field")
	}
	// trunc(8 × 0.375) = 3 hits per round × 3 measured rounds.
	if lookup["expected_hit_count"] != int64(9) || lookup["actual_hit_rate"] != 0.375 || lookup["ops_per_sec_avg"] != 46.67 {
		t.Errorf("lookup %v", lookup)
	}
	if cfg["measurement_rounds"] != int64(3) {
		t.Errorf("config %v", cfg)
	}
	term := RenderTerminal(doc)
	for _, line := range []string{"Throughput avg (MB/s):", "Avg ops/s:", "Measurement rounds:"} {
		if !strings.Contains(term, line) {
			t.Errorf("wave summary lacks LMCache's label %q", line)
		}
	}
}

// TestWindowStatsAreTotalsOverTime: in window mode throughput and ops/s
// are total bytes (keys) over the measured time, not the mean of
// per-round rates, which short rounds inflate: rounds of 1, 1 and 98 ms of
// 8 MiB moved 24 MiB in 100 ms = 240 MB/s, where the mean of the rates is
// 5360 MB/s. Expected hits are trunc(num_keys × rate) × in_flight per
// round, times the rounds measured.
func TestWindowStatsAreTotalsOverTime(t *testing.T) {
	c := syntheticConfig(Window)
	ms := time.Millisecond
	o := syntheticOp(Load, ms, ms, 98*ms)
	st := Stats(o, c)
	if !st.Aggregate || math.Abs(st.MeasuredS-0.1) > 1e-12 {
		t.Fatalf("aggregate %v, measured %v s", st.Aggregate, st.MeasuredS)
	}
	if math.Abs(st.TputAvg-240) > 1e-9 || math.Abs(st.OpsAvg-240) > 1e-9 || math.Abs(st.ReqTputAvg-240) > 1e-9 {
		t.Fatalf("throughput %v, ops/s %v, requested %v: want 240 (24 MiB, 24 keys in 0.1 s)", st.TputAvg, st.OpsAvg, st.ReqTputAvg)
	}
	if st.TputMin != 8/0.098 || st.TputMax != 8000 {
		t.Fatalf("per-round min %v max %v", st.TputMin, st.TputMax)
	}
	if wave := Stats(o, syntheticConfig(Wave)); math.Abs(wave.TputAvg-(8000+8000+8/0.098)/3) > 1e-9 {
		t.Fatalf("wave mode of the same rounds: %v, want the mean of the per-round rates", wave.TputAvg)
	}

	lookup := Stats(syntheticOp(Lookup, ms, ms, 98*ms), c)
	if lookup.ExpectedHitCount != 6 { // trunc(4 × 0.375) = 1 per submit × 2 submits × 3 rounds
		t.Fatalf("window expected_hit_count %d, want 6", lookup.ExpectedHitCount)
	}
	doc := Document(&Result{Config: c, Engine: "psync", Workers: 1, Ops: []*OpResult{o}}, "OK")
	term := RenderTerminal(doc)
	for _, line := range []string{"Throughput, total/time (MB/s):", "Ops/s, total/time:", "Throughput max, per round (MB/s):",
		"Measured time (s):", "--rounds (window: key range only):", "Duration / operation (s):"} {
		if !strings.Contains(term, line) {
			t.Errorf("window summary lacks %q:\n%s", line, term)
		}
	}
	if load := entries(doc[1]); load["throughput_avg_mbps"] != 240.0 || load["measured_time_s"] != 0.1 {
		t.Errorf("window load section %v", load)
	}
}

// TestWindowRunStatsHoldLogicalBounds: a real window run on the mock's
// paced link measures at least --duration after its warmup, never more
// data than the link can carry in that time (plus the submits in flight
// when the measurement started), and expects trunc(num_keys × rate) ×
// in_flight hits per measured round (not trunc(K × rate) × --rounds).
func TestWindowRunStatsHoldLogicalBounds(t *testing.T) {
	const bw = 0.05 // GiB/s
	cfg := testConfig(t, `{"type":"mock","max_size_gb":4,"mock_bandwidth_gb":0.05}`)
	cfg.Mode, cfg.Duration, cfg.Warmup, cfg.Rounds = Window, 200*time.Millisecond, 1, 1
	cfg.Payload, cfg.NumKeys, cfg.InFlight, cfg.IOWorkers, cfg.HitRate = 16<<10, 4, 3, 4, 0.5
	cfg.Ops = []Op{Store, Lookup}
	res, _ := runCfg(t, cfg)
	store, lookup := Stats(res.Ops[0], cfg), Stats(res.Ops[1], cfg)
	if store.MeasuredS < cfg.Duration.Seconds() || lookup.MeasuredS < cfg.Duration.Seconds() {
		t.Fatalf("measured %v s (store), %v s (lookup) of a %v window", store.MeasuredS, lookup.MeasuredS, cfg.Duration)
	}
	inFlight := float64(cfg.KeysPerRound()*cfg.Payload) / MB
	if limit := bw*1024*store.MeasuredS + inFlight; store.TputAvg*store.MeasuredS > limit*1.05 {
		t.Fatalf("store moved %.2f MiB in %.3f s over a %.0f MiB/s link", store.TputAvg*store.MeasuredS, store.MeasuredS, bw*1024)
	}
	if lookup.ExpectedHitCount != 2*3*lookup.Rounds || lookup.TotalSuccess != lookup.ExpectedHitCount {
		t.Fatalf("%d lookup rounds: expected hits %d, found %d; want 2 × 3 per round", lookup.Rounds, lookup.ExpectedHitCount, lookup.TotalSuccess)
	}
}
