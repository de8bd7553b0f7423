package l2

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
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
// timeout is reported as timed out (null in JSON, not Infinity), the keys
// still running count as failed, and the verdict fails. LMCache records
// +Inf, crashes computing the deviation with ≥ 2 rounds, and exits 0.
func TestTimedOutRoundIsReported(t *testing.T) {
	for _, mode := range []Mode{Wave, Window} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0.002}`) // ~2 MiB/s
			cfg.Ops, cfg.Rounds, cfg.Warmup = []Op{Store}, 2, 0
			cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = 4, 1, 64<<10, 1
			cfg.Mode, cfg.Duration = mode, time.Second
			cfg.StoreLoadTimeout = 10 * time.Millisecond // a key takes 30.5 ms of the link (the first after an idle spell none): every round's wait times out
			res, _ := runCfg(t, cfg)
			v := Judge(res)
			// Wave: both rounds time out (LMCache goes on after a timeout);
			// window: the first timeout ends the operation.
			want := map[Mode]int{Wave: 2, Window: 1}[mode]
			if v.TimedOut != want || v.OK() || !strings.Contains(v.Status(), "timed-out round") {
				t.Fatalf("verdict %+v status %q, want %d timed-out rounds", v, v.Status(), want)
			}
			doc := Document(res, v.Status())
			var parsed map[string]any
			if err := json.Unmarshal([]byte(RenderJSON(doc)), &parsed); err != nil {
				t.Fatalf("JSON summary invalid: %v", err)
			}
			op := parsed["metrics"].(map[string]any)["op_0"].(map[string]any)
			if op["duration_max_ms"] != nil || op["timed_out_rounds"].(float64) < 1 {
				t.Fatalf("timed-out round not null / not counted: %v", op)
			}
			if term := RenderTerminal(doc); !strings.Contains(term, "inf") || !strings.Contains(term, "Timed-out rounds:") {
				t.Fatalf("terminal summary: %s", term)
			}
		})
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
