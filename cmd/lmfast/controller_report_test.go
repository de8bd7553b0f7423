package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lmfast/lmfast/engine/enginetest"
)

// TestControllerHelpPorts: --help says what --monitor-ports' pull does
// when left out (it defaults to 8100; it is not required).
func TestControllerHelpPorts(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"controller", "--help"}, strings.NewReader(""), &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	help := strings.Join(strings.Fields(out.String()), " ")
	if strings.Contains(help, "pull (required)") || !strings.Contains(help, "pull (8100 when left out)") {
		t.Fatalf("--monitor-ports help: %s", help)
	}
}

// TestControllerShortMergedRun: a 0.5 s run of two processes against the
// embedded controller. The report says "Duration: 0.5 seconds"; the
// verify line, being the whole run's, has proc -1 like the merged
// summary; process_cpu_util never exceeds the CPUs; and the config line's
// senders is the total of both processes, the senders that actually ran.
func TestControllerShortMergedRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"controller", "--embedded", "--no-headroom", "--duration", "0.5", "--interval", "100ms",
		"--num-processes", "2", "--senders", "2", "--num-instances", "3", "--operations", "admit:90,heartbeat:10",
		"--out", out}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "  Duration: 0.5 seconds\n") {
		t.Fatalf("stderr report lacks the fractional duration:\n%s", stderr.String())
	}
	var config, verify map[string]any
	var senderCPUs []any
	summaries := map[float64]map[string]any{} // summary op "all" by proc
	for _, l := range readJSONL(t, out) {
		switch {
		case l["event"] == "config":
			config = l
		case l["event"] == "verify":
			verify = l
		case l["event"] == "summary" && l["op"] == "all":
			summaries[l["proc"].(float64)] = l
		}
	}
	if verify == nil || verify["proc"] != float64(-1) || verify["ok"] != true {
		t.Fatalf("verify line of a merged run: %v", verify)
	}
	if len(summaries) != 3 || summaries[-1] == nil {
		t.Fatalf("want summaries of procs 0, 1 and -1, got %v", summaries)
	}
	for proc, s := range summaries {
		if u, isNum := s["process_cpu_util"].(float64); s["process_cpu_util"] != nil && (!isNum || u < 0 || u > float64(runtime.NumCPU())) {
			t.Errorf("proc %v: process_cpu_util %v with %d CPUs", proc, s["process_cpu_util"], runtime.NumCPU())
		}
	}
	senderCPUs = summaries[-1]["sender_cpus"].([]any)
	// 3 instances per process: each process runs 2 senders, 4 in all.
	if config["senders"] != float64(4) || len(senderCPUs) != 4 {
		t.Fatalf("config senders %v, merged sender_cpus %v: want 4 and 4", config["senders"], senderCPUs)
	}
}

// TestControllerSendersCappedByPairs: a process runs at most one sender per
// (instance, worker) pair; asking for more says so on stderr, and the
// config line counts the senders that ran.
func TestControllerSendersCappedByPairs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"controller", "--embedded", "--no-headroom", "--duration", "0.3", "--num-instances", "1",
		"--senders", "4", "--operations", "admit:100", "--out", out}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "lmfast: warning: 4 senders per process for 1 (instance, worker) pairs: 1 run") {
		t.Fatalf("no warning on stderr:\n%s", stderr.String())
	}
	for _, l := range readJSONL(t, out) {
		if l["event"] == "config" && l["senders"] != float64(1) {
			t.Fatalf("config senders %v, want 1", l["senders"])
		}
		if l["event"] == "summary" && l["op"] == "all" && len(l["sender_cpus"].([]any)) != 1 {
			t.Fatalf("sender_cpus %v, want one sender", l["sender_cpus"])
		}
	}
}

// TestControllerSubMillisecondRunCPUUtil: a 0.5 ms run's summary has
// process_cpu_util null (its window is too short to measure; engine's
// TestShortRunCPUUtilIsNull checks that against the measured window) or,
// on a machine slow enough to stretch the window, at most the CPUs.
func TestControllerSubMillisecondRunCPUUtil(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"controller", "--embedded", "--no-headroom", "--duration", "0.0005", "--operations", "admit:100",
		"--out", out}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, l := range readJSONL(t, out) {
		if l["event"] != "summary" || l["op"] != "all" {
			continue
		}
		u, present := l["process_cpu_util"]
		if !present {
			t.Fatalf("summary lacks process_cpu_util: %v", l)
		}
		if v, isNum := u.(float64); u != nil && (!isNum || v > float64(runtime.NumCPU())) {
			t.Fatalf("process_cpu_util %v for a 0.5 ms run with %d CPUs", u, runtime.NumCPU())
		}
	}
}

// TestControllerReportListsErrors: the stderr report lists each distinct
// error text with its count, the same counts as the JSONL error lines.
// Heartbeats without a heartbeat URL (no heartbeat port, no registration
// to learn it) all fail with one text.
func TestControllerReportListsErrors(t *testing.T) {
	k := enginetest.Start(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"controller", "--no-headroom", "--monitor-ports", fmt.Sprintf(`{"pull":%d,"reply":%d}`, k.Pull, k.Reply),
		"--no-register-first", "--duration", "0.3", "--operations", "admit:50,heartbeat:50", "--senders", "1",
		"--out", out}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var errLines []map[string]any
	for _, l := range readJSONL(t, out) {
		if l["event"] == "error" {
			errLines = append(errLines, l)
		}
	}
	if len(errLines) != 1 || errLines[0]["op"] != "heartbeat" {
		t.Fatalf("want one heartbeat error line, got %v", errLines)
	}
	want := fmt.Sprintf("\nError Messages:\n  %d x heartbeat: %s\n", int64(errLines[0]["count"].(float64)), errLines[0]["error"])
	if !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr report lacks %q:\n%s", want, stderr.String())
	}
}
