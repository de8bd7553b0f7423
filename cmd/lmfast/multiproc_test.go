package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestControllerStartAtTogether: two processes of one run started 700 ms
// apart with one --start-at both start their load no earlier than that
// instant, so `lmfast report --by interval` merges their intervals with a
// small start spread (without --start-at it is the 700 ms), and their
// config lines carry the run label, their place and the instant.
func TestControllerStartAtTogether(t *testing.T) {
	srv := startServerCmd(t, "controller-server", "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0")
	defer func() {
		syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
		srv.rest(t, "summary")
		<-srv.exit
	}()
	ports := fmt.Sprintf(`{"pull":%d,"reply":%d,"heartbeat":%d}`, srv.port("pull_port"), srv.port("reply_port"), srv.port("heartbeat_port"))
	startAt := time.Now().Add(4 * time.Second).Truncate(time.Millisecond)
	dir := t.TempDir()
	var files []string
	var cmds []*exec.Cmd
	for k := range 2 {
		if k > 0 {
			time.Sleep(700 * time.Millisecond)
		}
		f := filepath.Join(dir, fmt.Sprintf("p%d.jsonl", k))
		files = append(files, f)
		c := lmfastProcess("controller", "--monitor-ports", ports, "--duration", "1.5", "--interval", "500ms",
			"--operations", "admit:35,evict:29,heartbeat:1,p2p_lookup:35", "--num-instances", "2", "--rate", "400",
			"--no-headroom", "--out", f, "--process-id", fmt.Sprint(k), "--num-processes-total", "2",
			"--run-label", "together", "--start-at", startAt.UTC().Format(time.RFC3339Nano))
		c.Stderr = &bytes.Buffer{}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	for k, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v: %s", k, err, c.Stderr)
		}
		if !strings.Contains(fmt.Sprint(c.Stderr), "the load starts at") {
			t.Errorf("process %d did not announce the start: %s", k, c.Stderr)
		}
	}
	for k, f := range files {
		for _, l := range readJSONL(t, f) {
			switch l["event"] {
			case "config":
				if l["run_label"] != "together" || l["process_id"] != float64(k) || l["num_processes_total"] != 2.0 || l["process_rate"] != 200.0 {
					t.Errorf("process %d config: label %v, process %v of %v, rate %v", k, l["run_label"], l["process_id"], l["num_processes_total"], l["process_rate"])
				}
				if at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(l["start_at"])); !at.Equal(startAt) {
					t.Errorf("process %d config: start_at %v, want %v", k, l["start_at"], startAt)
				}
				if _, ok := l["clock_maxerror_us"]; !ok {
					t.Errorf("process %d config: no clock_maxerror_us", k)
				}
			case "interval":
				// The line's time less its seconds since the start is the start.
				ts, _ := time.Parse(time.RFC3339Nano, l["time"].(string))
				start := ts.Add(-time.Duration(l["t_s"].(float64) * 1e9))
				if start.Before(startAt.Add(-time.Millisecond)) {
					t.Fatalf("process %d started its load %v before --start-at", k, startAt.Sub(start))
				}
				if l["proc"] != float64(k) {
					t.Errorf("process %d wrote proc %v", k, l["proc"])
				}
			}
		}
	}
	code, out, stderr := reportRun(t, append([]string{"--format", "json", "--by", "interval"}, files...)...)
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	var rep struct {
		SkewMs float64 `json:"alignment_skew_ms"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// 700 ms without --start-at; the bound is wide for a loaded machine.
	if rep.SkewMs > 350 {
		t.Errorf("interval starts %v ms apart with one --start-at", rep.SkewMs)
	}
	t.Logf("start spread %.1f ms", rep.SkewMs)
}

// TestControllerStartAtInterrupt: Ctrl-C while a registered run waits for
// --start-at ends it at once (exit 130), with no load sent, its workers
// deregistered and its summary written.
func TestControllerStartAtInterrupt(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.jsonl")
	c := lmfastProcess("controller", "--embedded", "--no-headroom", "--duration", "5", "--num-instances", "3",
		"--operations", "admit:50,p2p_lookup:50", "--out", out, "--start-at", fmt.Sprint(time.Now().Add(time.Hour).Unix()))
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var seen bytes.Buffer
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "the load starts at") {
			break
		}
	}
	sent := time.Now()
	c.Process.Signal(syscall.SIGINT)
	io.Copy(&seen, stderr)
	code := exitStatus(t, c.Wait())
	if took := time.Since(sent); code != ExitInterrupted || took > 5*time.Second {
		t.Fatalf("exit %d %v after SIGINT (want %d at once): %s", code, took, ExitInterrupted, seen.String())
	}
	var all map[string]any
	for _, l := range readJSONL(t, out) {
		if l["event"] == "summary" && l["op"] == "all" {
			all = l
		}
	}
	if all == nil || all["interrupted"] != true || all["requests"] != 0.0 || all["push_frames_sent"] != 0.0 || all["teardown_frames_sent"] != 3.0 {
		t.Fatalf("summary after an interrupted wait: %v", all)
	}
}
