package l2

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lmfast/lmfast/stream"
)

// TestSkippedStoresAreNotThroughput: re-running store on a populated
// directory writes nothing; lmfast counts the keys as skipped, reports 0
// bytes and 0 MB/s of real throughput and the requested figure beside it.
// LMCache reports stat() speed as write throughput.
func TestSkippedStoresAreNotThroughput(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, fsSpec(dir, ""))
	cfg.Ops = []Op{Store}
	runCfg(t, cfg) // populate
	res, _ := runCfg(t, cfg)
	st := Stats(res.Ops[0], cfg)
	if st.Skipped != 32 || st.Written != 0 || st.Bytes != 0 || st.TotalSuccess != 32 {
		t.Fatalf("skipped %d written %d bytes %d success %d", st.Skipped, st.Written, st.Bytes, st.TotalSuccess)
	}
	if st.TputAvg != 0 || st.OpsAvg != 0 || st.ReqTputAvg <= 0 {
		t.Fatalf("throughput %v ops/s %v requested %v", st.TputAvg, st.OpsAvg, st.ReqTputAvg)
	}
	if v := Judge(res); v.SkippedStores != 32 || !v.OK() {
		t.Fatalf("verdict %+v", v)
	}
}

// TestThroughputCountsBytesMoved: with some loads failing, throughput
// counts the bytes that arrived, not the bytes asked for.
func TestThroughputCountsBytesMoved(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, fsSpec(dir, ""))
	cfg.Ops, cfg.Warmup, cfg.Rounds = []Op{Store}, 0, 1
	runCfg(t, cfg)
	for idx := uint64(0); idx < 8; idx++ { // half the keys disappear
		os.Remove(filepath.Join(dir, BenchKey(idx).FileName()))
	}
	cfg.Ops = []Op{Load}
	res, _ := runCfg(t, cfg)
	st := Stats(res.Ops[0], cfg)
	if st.Failed != 8 || st.Bytes != 8*int64(cfg.Payload) || st.Requested != 16*int64(cfg.Payload) {
		t.Fatalf("failed %d bytes %d requested %d", st.Failed, st.Bytes, st.Requested)
	}
	if ratio := st.TputAvg / st.ReqTputAvg; math.Abs(ratio-0.5) > 1e-9 {
		t.Fatalf("throughput / requested = %v, want 0.5", ratio)
	}
	if len(res.Ops[0].Errors) != 1 || !strings.Contains(res.Ops[0].Errors[0].Error, "no such file") || res.Ops[0].Errors[0].Count != 8 {
		t.Fatalf("errors %+v", res.Ops[0].Errors)
	}
	if v := Judge(res); v.OK() || v.FailedKeys != 8 {
		t.Fatalf("verdict %+v", v)
	}
}

// TestExpectedHitCountNotDoubleScaled: trunc(K·rate) × rounds, where
// LMCache also multiplies by rounds/(warmup+rounds).
func TestExpectedHitCountNotDoubleScaled(t *testing.T) {
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	cfg.HitRate, cfg.Rounds, cfg.Warmup = 0.29, 3, 1
	cfg.NumKeys, cfg.InFlight = 25, 4 // K = 100: trunc(100 × 0.29) = 28 on IEEE doubles
	res, _ := runCfg(t, cfg)
	st := Stats(res.Ops[1], cfg)
	if st.ExpectedHitCount != 28*3 {
		t.Fatalf("expected_hit_count %d, want %d (LMCache: %d)", st.ExpectedHitCount, 28*3, 28*3*3/4)
	}
	if st.TotalSuccess != 28*3 || st.ActualHitRate != 0.28 {
		t.Fatalf("found %d, rate %v", st.TotalSuccess, st.ActualHitRate)
	}
}

// lyingAdapter reports every load as done without touching the buffer.
type lyingAdapter struct{ Adapter }

func (l lyingAdapter) Load(_ *Scratch, _ uint64, buf []byte) Outcome {
	return Outcome{Status: OK, Bytes: len(buf)}
}

// TestVerifyHasNoBlindSpot: a load that reports success but does nothing
// fails verification for every key, position 0 of each submit included
// (LMCache zeroes the load buffers, and position 0's pattern is 0x00).
func TestVerifyHasNoBlindSpot(t *testing.T) {
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	cfg.Verify = true
	cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
		a, err := New(s, o)
		return lyingAdapter{a}, err
	}
	res, _ := runCfg(t, cfg)
	if res.Verify == nil || res.Verify.Mismatches != cfg.KeysPerRound() {
		t.Fatalf("verify %+v, want all %d keys mismatched", res.Verify, cfg.KeysPerRound())
	}
	if Judge(res).OK() {
		t.Fatal("verdict OK despite mismatches")
	}
}

// TestTimedOutRoundIsReported: a round with no completion within the
// timeout is reported as timed out, the keys still running count as
// failed, and the verdict fails. The summary follows LMCache's result.py
// (PR #4599): a timed-out round has no duration, so with every round timed
// out the LMCache formats print zeros (never inf) and a rounds_timed_out
// line; lmfast's JSONL prints null for the figures nothing measured.
func TestTimedOutRoundIsReported(t *testing.T) {
	for _, mode := range []Mode{Wave, Window} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0.0005}`) // ~512 KiB/s
			cfg.Ops, cfg.Rounds, cfg.Warmup = []Op{Store}, 2, 0
			cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = 4, 1, 32<<10, 1
			cfg.Mode, cfg.Duration = mode, time.Second
			cfg.StoreLoadTimeout = 10 * time.Millisecond // a key takes 61 ms of the link (the first after an idle spell none): every round's wait times out
			var buf bytes.Buffer
			out := stream.New(&buf, "l2", "test")
			var doc []Section
			var v Verdict
			cfg.BeforeCleanup = func(res *Result) {
				v = Judge(res)
				doc = Document(res, v.Status())
				WriteSummaries(out, res, doc, v)
			}
			if _, err := Run(context.Background(), cfg, out); err != nil {
				t.Fatal(err)
			}
			// Wave: both rounds time out (LMCache goes on after a timeout);
			// window: the first timeout ends the operation.
			want := map[Mode]int{Wave: 2, Window: 1}[mode]
			if v.TimedOut != want || v.OK() || !strings.Contains(v.Status(), "timed-out round") {
				t.Fatalf("verdict %+v status %q, want %d timed-out rounds", v, v.Status(), want)
			}
			var parsed map[string]any
			if err := json.Unmarshal([]byte(RenderJSON(doc)), &parsed); err != nil {
				t.Fatalf("JSON summary invalid: %v", err)
			}
			op := parsed["metrics"].(map[string]any)["op_0"].(map[string]any)
			k := float64(cfg.KeysPerRound())
			for key, w := range map[string]float64{"rounds": float64(want), "rounds_timed_out": float64(want),
				"total_keys": k * float64(want), "duration_avg_ms": 0, "duration_max_ms": 0,
				"duration_p99_ms": 0, "duration_std_ms": 0, "throughput_avg_mbps": 0, "throughput_min_mbps": 0,
				"ops_per_sec_avg": 0, "latency_per_key_ms": 0} {
				if got, ok := op[key].(float64); !ok || got != w {
					t.Errorf("LMCache JSON %s = %v, want %v", key, op[key], w)
				}
			}
			// A key the idle link let through before the wait timed out is a
			// success (key accounting is unchanged); a timed-out round never
			// has all its keys.
			if got, ok := op["total_success"].(float64); !ok || got < 0 || got > k*float64(want)-float64(want) {
				t.Errorf("LMCache JSON total_success = %v, want 0..%v", op["total_success"], k*float64(want)-float64(want))
			}
			term := RenderTerminal(doc)
			if strings.Contains(term, "inf") || !strings.Contains(term, "Rounds timed out:") || strings.Contains(term, "Timed-out rounds:") {
				t.Fatalf("terminal summary: %s", term)
			}
			var sum map[string]any
			for _, l := range lines(t, buf.Bytes()) {
				if l["event"] == "summary" && l["op"] == "store" {
					sum = l
				}
			}
			if sum == nil || sum["duration_avg_ms"] != nil || sum["throughput_avg_mbps"] != nil ||
				sum["rounds_timed_out"] != float64(want) || sum["timed_out_rounds"] != float64(want) || sum["total_keys"] != k*float64(want) {
				t.Fatalf("JSONL summary %v: want null durations and %d timed-out rounds", sum, want)
			}
		})
	}
}

// TestTimedOutRoundLeftOutOfStats is LMCache's PR #4599 example: rounds of
// 0.10, 0.11, 0.09 s, a timeout and 0.12 s at 64 MiB each report the mean
// of the four completed rounds' rates (616.57 MB/s, not 493.25 with the
// timeout as 0 MB/s), their min and max, and five attempted rounds for the
// key accounting.
func TestTimedOutRoundLeftOutOfStats(t *testing.T) {
	c := &Config{NumKeys: 64, InFlight: 1, Payload: 1 << 20, Rounds: 5, Ops: []Op{Store}, IOWorkers: 1}
	o := newOpResult(Store)
	for i, ms := range []int{100, 110, 90, -1, 120} {
		r := Round{Number: i + 1, Keys: 64, Success: 64, Written: 64, Bytes: 64 << 20, Requested: 64 << 20,
			Duration: time.Duration(ms) * time.Millisecond}
		if ms < 0 {
			r = Round{Number: i + 1, Keys: 64, Success: 10, Written: 10, Failed: 54, Bytes: 10 << 20, Requested: 64 << 20,
				Duration: 120 * time.Second, TimedOut: true}
		}
		o.Rounds = append(o.Rounds, r)
	}
	st := Stats(o, c)
	if st.Rounds != 5 || st.TimedOut != 1 || st.Completed != 4 || st.TotalKeys != 320 || st.TotalSuccess != 266 {
		t.Fatalf("accounting %+v", st)
	}
	if st.DurMax != 0.12 || st.DurMin != 0.09 || st.DurStd <= 0 || math.Abs(st.DurAvg-0.105) > 1e-12 {
		t.Fatalf("durations avg %v min %v max %v std %v", st.DurAvg, st.DurMin, st.DurMax, st.DurStd)
	}
	sec := entries(Document(&Result{Config: c, Engine: "psync", Workers: 1, Ops: []*OpResult{o}}, "x")[1])
	want := map[string]any{"rounds": int64(5), "rounds_timed_out": int64(1), "total_keys": int64(320),
		"throughput_avg_mbps": 616.57, "throughput_min_mbps": 533.33, "throughput_max_mbps": 711.11, "duration_max_ms": 120.0}
	for k, w := range want {
		if sec[k] != w {
			t.Errorf("%s = %v, want %v", k, sec[k], w)
		}
	}
}

// TestWarmupFailuresFailTheRun: warmup rounds are left out of the
// statistics but not out of the verdict, and their failures are counted,
// apart from the measured rounds', for the error lines: a wave --only load
// whose warmup loaded 0 of its keys, and a window run whose warmup timed
// out with no measured round at all.
func TestWarmupFailuresFailTheRun(t *testing.T) {
	t.Run("wave load, warmup keys missing", func(t *testing.T) {
		dir := t.TempDir()
		cfg := testConfig(t, fsSpec(dir, ""))
		cfg.NumKeys, cfg.InFlight, cfg.Rounds, cfg.Warmup, cfg.Payload = 4, 1, 1, 1, 4096
		cfg.Ops = []Op{Store}
		runCfg(t, cfg)
		for idx := uint64(0); idx < 4; idx++ { // the warmup round's keys
			if err := os.Remove(filepath.Join(dir, BenchKey(idx).FileName())); err != nil {
				t.Fatal(err)
			}
		}
		cfg.Ops = []Op{Load}
		res, _ := runCfg(t, cfg)
		v := Judge(res)
		if v.OK() || v.FailedKeys != 0 || v.WarmupFailedKeys != 4 || v.Status() != "FAILED: 4 failed warmup keys" {
			t.Fatalf("verdict %+v, status %q", v, v.Status())
		}
		if st := Stats(res.Ops[0], cfg); st.Failed != 0 || st.WarmupFailed != 4 || st.TotalSuccess != 4 {
			t.Fatalf("stats: failed %d, warmup failed %d, success %d", st.Failed, st.WarmupFailed, st.TotalSuccess)
		}
		want := []ErrorCount{{Error: "load: open: no such file or directory", Count: 4, FirstKey: 0, Warmup: true}}
		if got := res.Ops[0].Errors; !reflect.DeepEqual(got, want) {
			t.Fatalf("errors %+v, want %+v", got, want)
		}
	})
	t.Run("window warmup timeout", func(t *testing.T) {
		cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0.002}`) // 64 KiB: ~30 ms a key
		cfg.Ops, cfg.Rounds, cfg.Warmup = []Op{Store}, 2, 1
		cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = 4, 1, 64<<10, 1
		cfg.Mode, cfg.Duration = Window, time.Second
		cfg.StoreLoadTimeout = 10 * time.Millisecond
		res, _ := runCfg(t, cfg)
		v := Judge(res)
		want := "FAILED: 4 failed warmup keys, 1 timed-out warmup round, store: no measured round"
		if v.OK() || v.WarmupTimedOut != 1 || len(res.Ops[0].Measured()) != 0 || v.Status() != want {
			t.Fatalf("verdict %+v, status %q, want %q", v, v.Status(), want)
		}
		store := entries(Document(res, v.Status())[1])
		if store["warmup_timed_out_rounds"] != int64(1) || store["rounds"] != int64(0) {
			t.Fatalf("store section %v", store)
		}
		if got := res.Ops[0].Errors; len(got) != 1 || got[0].Error != errLate.Error() || got[0].Count != 4 || !got[0].Warmup {
			t.Fatalf("errors %+v, want 4 late warmup keys", got)
		}
	})
}

// TestTimedOutKeysAreMeasured: keys that finish after their round timed
// out count as failed, and their latency up to their real completion is
// in the histograms (which must hold every measured key), their error is
// counted, and their samples say "timed_out": leaving them out would drop
// exactly the slowest keys from the histograms (p99 and max too low).
func TestTimedOutKeysAreMeasured(t *testing.T) {
	for _, tc := range []struct {
		mode     Mode
		rounds   int
		measured int // keys
	}{{Wave, 2, 8}, {Window, 2, 4}} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`)
			a := &stallingAdapter{nk: 4, slow: 30 * time.Millisecond} // every key takes 30 ms
			cfg.newAdapter = func(Spec, Options) (Adapter, error) { return a, nil }
			cfg.Ops, cfg.Rounds, cfg.Warmup, cfg.Raw = []Op{Store}, tc.rounds, 0, true
			cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = 4, 1, 64<<10, 1
			cfg.Mode, cfg.Duration = tc.mode, time.Second
			cfg.StoreLoadTimeout = 10 * time.Millisecond
			res, ls := runCfg(t, cfg)
			o := res.Ops[0]
			st := Stats(o, cfg)
			if st.Failed != tc.measured || st.TotalKeys != tc.measured || o.Latency.TotalCount() != int64(tc.measured) {
				t.Fatalf("%d keys measured, %d failed, %d in the latency histogram", st.TotalKeys, st.Failed, o.Latency.TotalCount())
			}
			// One worker, 30 ms a key: the 4th key of a submit completes
			// at least 4 × 30 ms after it was submitted.
			if st.KeyMaxMs < 4*30 {
				t.Fatalf("key latency max %.1f ms: the late keys are not in the histogram", st.KeyMaxMs)
			}
			var counted int64
			for _, e := range o.Errors {
				counted += e.Count
				if e.Error != "timed out: finished after the round's timeout" {
					t.Errorf("error %q", e.Error)
				}
			}
			samples := 0
			for _, l := range ls {
				if l["event"] == "sample" {
					samples++
					if l["status"] != "timed_out" {
						t.Errorf("sample %v", l)
					}
				}
			}
			if counted != int64(st.Failed) || samples != tc.measured {
				t.Fatalf("%d errors counted and %d samples for %d failed keys", counted, samples, st.Failed)
			}
		})
	}
}
