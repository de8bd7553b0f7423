package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/stream"
)

// readJSONL parses a JSONL file, failing on any invalid line.
func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := stream.ParseLines(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEmbeddedSentEqualsApplied is the end-to-end check: with the
// seed's operation mix, the KV ops lmfast reports as sent equal the KV ops
// the embedded controller applied after the drain; and, with no flag for
// it, the run is reconciled with the embedded controller's /metrics.
func TestEmbeddedSentEqualsApplied(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"controller", "--embedded", "--no-headroom", "--duration", "2", "--interval", "500ms",
		"--operations", "admit:35,evict:29,heartbeat:1,p2p_lookup:35", "--num-instances", "20", "--batch-size", "20",
		"--out", out}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var summary, verify map[string]any
	perOp := map[string]float64{}
	for _, l := range readJSONL(t, out) {
		switch {
		case l["event"] == "summary" && l["op"] == "all":
			summary = l
		case l["event"] == "summary":
			perOp[l["op"].(string)] = l["requests"].(float64)
		case l["event"] == "verify":
			verify = l
		}
	}
	if summary == nil || verify == nil {
		t.Fatalf("missing summary or verify line")
	}
	if verify["ok"] != true || verify["kv_ops_applied"] != summary["kv_ops_sent"] || summary["kv_ops_sent"].(float64) == 0 {
		t.Fatalf("verify %v vs summary kv_ops_sent %v", verify, summary["kv_ops_sent"])
	}
	if verify["frames_received"] != verify["frames_sent"] {
		t.Fatalf("frames: %v", verify)
	}
	if summary["reconciled"] != true || summary["controller_received_frames"] != verify["frames_sent"] ||
		!strings.HasPrefix(summary["controller_metrics"].(string), "http://127.0.0.1:") {
		t.Fatalf("not reconciled with the embedded controller's /metrics: %v", summary)
	}
	for _, op := range []string{"admit", "evict", "heartbeat", "p2p_lookup"} {
		if perOp[op] == 0 {
			t.Errorf("op %s never succeeded: %v", op, perOp)
		}
	}
}

// TestEmbeddedVerifyFailsOnMismatch proves the check can fail: a result
// claiming one more KV op than was sent is caught.
func TestEmbeddedVerifyFailsOnMismatch(t *testing.T) {
	srv, err := startEmbedded(&app{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var buf bytes.Buffer
	err = srv.verify(stream.New(&buf, "controller", "t"), &engine.Result{PushFrames: 0, KVOpsSent: 1}, 0, 0)
	if exitCode(err) != ExitFailure || !strings.Contains(err.Error(), "check failed") {
		t.Fatalf("verify of a doctored result: %v", err)
	}
	if !strings.Contains(buf.String(), `"ok":false`) {
		t.Fatalf("verify line: %s", buf.String())
	}
}
