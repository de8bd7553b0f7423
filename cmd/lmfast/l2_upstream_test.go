package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestL2TimedOutRoundsFollowLMCache: rounds forced to time out by a slow
// mock (64 KiB keys at ~2 MiB/s take 30 ms each; the timeout is 10 ms)
// are reported as LMCache's result.py does since PR #4599, in both
// LMCache formats: every round that started counts in "rounds" and
// "rounds_timed_out", the key accounting is unchanged, and with no
// completed round the durations and throughput are zeros, not inf. The
// JSONL keeps lmfast's null for what was not measured, and the run still
// exits 1.
func TestL2TimedOutRoundsFollowLMCache(t *testing.T) {
	for _, format := range []string{"json", "terminal"} {
		t.Run(format, func(t *testing.T) {
			summary := filepath.Join(t.TempDir(), "summary")
			code, stdout, stderr := runL2(t, "--l2-adapter", `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0.002}`,
				"--only", "store", "--num-keys", "2", "--in-flight", "1", "--data-size-kb", "64", "--io-workers", "1",
				"--rounds", "3", "--warmup-rounds", "0", "--round-timeout", "10ms", "--format", format, "--output", summary)
			if code != ExitFailure || !strings.Contains(stderr, "lmfast: l2: 6 failed keys, 3 timed-out rounds") {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
			}
			out, err := os.ReadFile(summary)
			if err != nil {
				t.Fatal(err)
			}
			if format == "terminal" {
				for _, line := range []string{"Rounds:", "Rounds timed out:", "Total keys:", "Duration avg (ms):", "Throughput avg (MB/s):"} {
					want := map[string]string{"Rounds:": "3", "Rounds timed out:": "3", "Total keys:": "6"}[line]
					if want == "" {
						want = "0.00"
					}
					if !hasLine(string(out), line, want) {
						t.Errorf("terminal summary lacks %q ... %q:\n%s", line, want, out)
					}
				}
				if strings.Contains(string(out), "inf") {
					t.Errorf("terminal summary prints inf:\n%s", out)
				}
				return
			}
			if !strings.Contains(string(out), `"duration_avg_ms": 0.0,`) || !strings.Contains(string(out), `"rounds_timed_out": 3,`) {
				t.Errorf("JSON summary not in LMCache's form:\n%s", out)
			}
			var doc struct {
				Metrics map[string]map[string]any `json:"metrics"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("--output: %v\n%s", err, out)
			}
			op := doc.Metrics["op_0"]
			for k, w := range map[string]float64{"rounds": 3, "rounds_timed_out": 3, "total_keys": 6, "total_success": 0,
				"duration_avg_ms": 0, "duration_p99_ms": 0, "throughput_avg_mbps": 0, "throughput_max_mbps": 0, "ops_per_sec_avg": 0} {
				if op[k] != w {
					t.Errorf("%s = %v, want %v", k, op[k], w)
				}
			}
			sums := events(jsonl(t, stdout), "summary")
			if len(sums) != 2 || sums[0]["duration_avg_ms"] != nil || sums[0]["throughput_avg_mbps"] != nil ||
				sums[0]["rounds_timed_out"] != 3.0 || sums[1]["timed_out_rounds"] != 3.0 || sums[1]["ok"] != false {
				t.Fatalf("JSONL summaries %v", sums)
			}
		})
	}
}

// hasLine reports whether the terminal summary has a line "label ... value".
func hasLine(text, label, value string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, label) && strings.HasSuffix(l, " "+value) {
			return true
		}
	}
	return false
}
