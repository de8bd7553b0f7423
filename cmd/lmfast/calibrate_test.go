package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCalibrateWritesMeasurements: a short calibration over tcp with the
// engine writes one calibration line per measurement, summaries with
// medians, and the engine/raw ratio, all counted at the sink.
func TestCalibrateWritesMeasurements(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cal.jsonl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"calibrate", "--duration", "150ms", "--transports", "tcp", "--sizes", "64", "--engine", "--rounds", "2", "--out", out},
		strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	kinds := map[string]int{}
	ratio := map[string]map[string]any{}
	for _, l := range readJSONL(t, out) {
		switch l["event"] {
		case "config":
			if l["schema"] != "lmfast.v1" || l["libzmq"] == "" {
				t.Errorf("config %v", l)
			}
		case "calibration":
			kinds[l["kind"].(string)]++
			if l["received"] != l["sent"] || l["rate"].(float64) <= 0 {
				t.Errorf("measurement %v", l)
			}
		case "summary":
			if l["kind"] == "engine_vs_raw" {
				ratio[l["measure"].(string)] = l
			}
		}
	}
	// per round: raw batch push, engine push, the 64 B push, round trip, engine round trip
	if kinds["push"] != 4 || kinds["engine_push"] != 2 || kinds["round_trip"] != 2 || kinds["engine_round_trip"] != 2 {
		t.Errorf("measurements per kind: %v", kinds)
	}
	for _, measure := range []string{"push", "round_trip"} {
		r := ratio[measure]
		if r == nil || r["ratio_median"].(float64) <= 0 || len(r["ratios"].([]any)) != 2 {
			t.Errorf("engine ratio of %s: %v", measure, r)
		}
	}
	if !strings.Contains(stderr.String(), "engine / raw push of the same bytes over tcp") {
		t.Errorf("human report: %s", stderr.String())
	}
}

func TestCalibrateBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--transports", "udp"}, "--transports: unknown transport \"udp\""},
		{[]string{"--sizes", "12,x"}, "--sizes: \"x\" is not a size"},
		{[]string{"--sizes", "0"}, "--sizes: \"0\" is not a size"},
		{[]string{"--duration=0"}, "--duration must be positive"},
		{[]string{"--rounds", "0"}, "--rounds must be positive"},
		{[]string{"--pin-cpus", "9999"}, "--pin-cpus"},
		{[]string{"--batch-size", "0"}, "--batch-size must be positive"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"calibrate"}, tc.args...), strings.NewReader(""), &stdout, &stderr)
			msg := stderr.String()
			if code != ExitBadInput || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 || strings.Contains(msg, "goroutine") {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line with %q", code, msg, tc.want)
			}
		})
	}
}
