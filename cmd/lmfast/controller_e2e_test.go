package main

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lmfast/lmfast/engine/enginetest"
)

// TestControllerEndToEnd runs `lmfast controller` against a stand-in
// controller's real PULL and ROUTER sockets on 127.0.0.1 and checks that
// every message it received decodes, that sequence numbers are contiguous,
// and that what it received equals what the JSONL summary claims: frames,
// KV operations, batches, lookups, heartbeats (on the heartbeat URL learned
// from RegisterRetMsg), registrations and end-of-run deregistrations. The
// headroom is measured (the default) and reported.
func TestControllerEndToEnd(t *testing.T) {
	k := enginetest.Start(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"controller", "--monitor-ports", fmt.Sprintf(`{"pull":%d,"reply":%d}`, k.Pull, k.Reply),
		"--duration", "2", "--interval", "500ms", "--operations", "admit:35,evict:29,heartbeat:1,p2p_lookup:35",
		"--num-instances", "8", "--num-workers", "2", "--num-locations", "2", "--batch-size", "20", "--num-hashes", "30",
		"--senders", "2", "--concurrency", "2", "--warmup", "0", "--out", out}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := k.Settle()
	summary := map[string]map[string]any{}
	for _, l := range readJSONL(t, out) {
		for _, f := range []string{"time", "event", "run", "proc", "cmd"} {
			if _, ok := l[f]; !ok {
				t.Fatalf("line lacks %q: %v", f, l)
			}
		}
		if l["event"] == "summary" {
			summary[l["op"].(string)] = l
		}
	}
	all := summary["all"]
	if all == nil {
		t.Fatal("no summary line for op all")
	}
	num := func(m map[string]any, k string) int64 {
		if m == nil {
			t.Fatalf("missing summary line (want %s)", k)
		}
		return int64(m[k].(float64))
	}
	if got.DecodeErrors != 0 || got.SeqGaps != 0 {
		t.Errorf("sink: %d decode errors, %d sequence gaps", got.DecodeErrors, got.SeqGaps)
	}
	checks := []struct {
		what          string
		claimed, seen int64
	}{
		{"PUSH frames (run + teardown)", num(all, "push_frames_sent") + num(all, "teardown_frames_sent"), got.Frames},
		{"KV operations", num(all, "kv_ops_sent"), got.KVOps},
		{"admit+evict batches", num(summary["admit"], "requests") + num(summary["evict"], "requests"), got.ByType["BatchedKVOperationMsg"]},
		{"admit+evict messages", num(summary["admit"], "messages") + num(summary["evict"], "messages"), got.KVOps},
		{"p2p lookups", num(summary["p2p_lookup"], "requests"), got.ByType["BatchedP2PLookupMsg"]},
		{"heartbeats", num(summary["heartbeat"], "requests"), got.ByType["HeartbeatMsg"]},
		{"registrations", num(all, "registered"), got.ByType["RegisterMsg"]},
		{"teardown deregistrations", num(all, "teardown_frames_sent"), got.ByType["DeRegisterMsg"]},
	}
	for _, c := range checks {
		if c.claimed != c.seen || c.seen == 0 {
			t.Errorf("%s: summary claims %d, the controller received %d", c.what, c.claimed, c.seen)
		}
	}
	if num(all, "registered") != 16 || num(all, "errors") != 0 || all["drained"] != true {
		t.Errorf("summary: %v", all)
	}
	// A closed loop of two senders keeps the process busy: its CPU time is
	// positive, at most every CPU for the whole run, and util = s / duration.
	cpuS, ok1 := all["process_cpu_s"].(float64)
	util, ok2 := all["process_cpu_util"].(float64)
	secs, ok3 := all["duration_s"].(float64)
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("summary lacks process_cpu_s, process_cpu_util or duration_s: %v", all)
	}
	if cpuS <= 0 || cpuS > secs*float64(runtime.NumCPU())*1.05 || math.Abs(util-cpuS/secs) > 1e-6 {
		t.Errorf("process_cpu_s %v, process_cpu_util %v over %v s", cpuS, util, secs)
	}
	h, ok := all["headroom"].(map[string]any)
	if !ok || h["push_ceiling_fps"].(float64) <= 0 || h["request_ceiling_rps"].(float64) <= 0 ||
		h["engine_push_ceiling_fps"].(float64) <= 0 || h["engine_request_ceiling_rps"].(float64) <= 0 || h["limited_by"] == "" {
		t.Errorf("headroom: %v", all["headroom"])
	}
	if !strings.Contains(stderr.String(), "of lmfast's") {
		t.Errorf("no headroom in the human report: %s", stderr.String())
	}
}
