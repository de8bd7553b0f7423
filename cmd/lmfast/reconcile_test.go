package main

// --controller-metrics against the reference controller run as a process
// of its own (controller-server): exact reconciliation, lost frames, a
// killed and a restarted controller, and the embedded controller's page.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// runLmfast runs `lmfast controller` in this process with args and
// the JSONL in a file; it returns the exit code, stderr and the lines.
func runLmfast(t *testing.T, args ...string) (int, string, []map[string]any) {
	t.Helper()
	return startRun(t, args...)()
}

// startRun starts `lmfast controller` in a goroutine of this
// process; the function returned waits for it and returns the exit code,
// stderr and the JSONL lines.
func startRun(t *testing.T, args ...string) func() (int, string, []map[string]any) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(append([]string{"controller", "--no-headroom", "--out", out}, args...), strings.NewReader(""), &stdout, &stderr)
	}()
	return func() (int, string, []map[string]any) {
		t.Helper()
		code := <-done
		if _, err := os.Stat(out); err != nil {
			return code, stderr.String(), nil // it stopped before writing anything
		}
		return code, stderr.String(), readJSONL(t, out)
	}
}

// allLines splits a run's lines into its "op":"all" interval lines and its
// "op":"all" summary.
func allLines(ls []map[string]any) (intervals []map[string]any, summary map[string]any) {
	for _, l := range ls {
		if l["op"] != "all" {
			continue
		}
		switch l["event"] {
		case "interval":
			intervals = append(intervals, l)
		case "summary":
			summary = l
		}
	}
	return intervals, summary
}

// TestControllerMetricsReconcile: against controller-server, what lmfast
// sent (run and teardown frames) is exactly what the controller's
// /metrics counted, and what the controller itself reports at its end;
// its reply-socket count is the registrations plus the request ops sent
// (no warm-up: requests sent in one are in no lmfast count);
// every interval line has the controller's figures, a backlog never below
// zero, and received frames that add up to no more than the final count.
func TestControllerMetricsReconcile(t *testing.T) {
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0")
	code, stderr, ls := runLmfast(t, "--monitor-ports", srv.monitorPorts(), "--controller-metrics", srv.metricsURL(),
		"--duration", "2", "--interval", "300ms", "--operations", "admit:35,evict:29,heartbeat:1,p2p_lookup:35",
		"--num-instances", "10", "--batch-size", "20", "--warmup", "0")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	intervals, sum := allLines(ls)
	sent := sum["push_frames_sent"].(float64) + sum["teardown_frames_sent"].(float64)
	if sum["reconciled"] != true || sum["controller_received_frames"] != sent || sum["frames_missing"] != 0.0 ||
		sum["controller_restarts"] != 0.0 || sent == 0 || sum["teardown_frames_sent"] != 10.0 ||
		!strings.Contains(sum["reconcile_scope"].(string), "only sender") {
		t.Fatalf("summary %v", sum)
	}
	requests := sum["registered"].(float64)
	for _, l := range ls {
		if l["event"] == "summary" && (l["op"] == "p2p_lookup" || l["op"] == "heartbeat") {
			requests += l["requests"].(float64) + l["errors"].(float64)
		}
	}
	if sum["controller_received_requests"] != requests {
		t.Fatalf("the controller counted %v requests; lmfast sent %v (registrations and request ops)", sum["controller_received_requests"], requests)
	}
	var received float64
	for _, l := range intervals {
		backlog, ok := l["backlog_frames"].(float64)
		if !ok || backlog < 0 || l["received_fps"] == nil {
			t.Fatalf("interval line %v", l)
		}
		received += l["received_frames"].(float64)
	}
	if len(intervals) < 3 || received > sent || received == 0 {
		t.Fatalf("%d interval lines receiving %v frames of %v", len(intervals), received, sent)
	}
	if !strings.Contains(stderr, fmt.Sprintf("reconciled: sent %.0f frames, the controller received %.0f", sent, sent)) {
		t.Fatalf("the report does not reconcile: %s", stderr)
	}
	end := summaryOf(srv.stop(t), "summary")
	if end == nil || float64(integer(end["pull_frames"])) != sent {
		t.Fatalf("the controller's own summary %v; lmfast sent %v frames", end, sent)
	}
}

// TestControllerMetricsIdle: with --controller-metrics-idle the page is
// read before the run and after the drain only: no reading falls between
// the first and the last interval line (without the flag one falls before
// every interval line), the interval lines carry no controller figures,
// and the run still reconciles exactly.
func TestControllerMetricsIdle(t *testing.T) {
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0")
	var mu sync.Mutex
	var reads []time.Time
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reads = append(reads, time.Now())
		mu.Unlock()
		resp, err := http.Get(srv.metricsURL())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	for _, idle := range []bool{false, true} {
		mu.Lock()
		reads = nil
		mu.Unlock()
		args := []string{"--monitor-ports", srv.monitorPorts(), "--controller-metrics", proxy.URL + "/metrics",
			"--duration", "2", "--interval", "300ms", "--operations", "admit:50,evict:50", "--warmup", "0"}
		if idle {
			args = append(args, "--controller-metrics-idle")
		}
		code, stderr, ls := runLmfast(t, args...)
		if code != ExitOK {
			t.Fatalf("idle %v: exit %d: %s", idle, code, stderr)
		}
		intervals, sum := allLines(ls)
		if len(intervals) < 3 || sum["reconciled"] != true {
			t.Fatalf("idle %v: %d interval lines, summary %v", idle, len(intervals), sum)
		}
		first, err := time.Parse(time.RFC3339Nano, intervals[0]["time"].(string))
		if err != nil {
			t.Fatal(err)
		}
		last, _ := time.Parse(time.RFC3339Nano, intervals[len(intervals)-1]["time"].(string))
		mu.Lock()
		during := 0
		for _, at := range reads {
			if at.After(first) && at.Before(last) {
				during++
			}
		}
		mu.Unlock()
		_, figures := intervals[1]["received_frames"]
		switch {
		case idle && (during != 0 || figures):
			t.Fatalf("--controller-metrics-idle: %d readings during the load, interval figures %v", during, figures)
		case !idle && (during == 0 || !figures):
			t.Fatalf("without --controller-metrics-idle: %d readings during the load, interval figures %v", during, figures)
		}
	}
}

// TestControllerMetricsLostFrames: a controller that loses one frame in 50
// (--inject-drop) is not reconciled: exit 1 with the difference in one
// line, exactly the frames it dropped.
func TestControllerMetricsLostFrames(t *testing.T) {
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port=-1", "--http-port", "0", "--inject-drop", "1/50")
	code, stderr, ls := runLmfast(t, "--monitor-ports", srv.monitorPorts(), "--controller-metrics", srv.metricsURL(),
		"--duration", "1", "--operations", "admit:70,evict:30", "--num-instances", "5", "--drain-timeout", "1s")
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	_, sum := allLines(ls)
	sent := int64(sum["push_frames_sent"].(float64) + sum["teardown_frames_sent"].(float64))
	dropped := sent / 50
	want := fmt.Sprintf("lmfast: not reconciled: sent %d frames, the controller received %d (%d missing) (valid only while", sent, sent-dropped, dropped)
	if !strings.HasPrefix(lastLine(stderr), want) || dropped == 0 {
		t.Fatalf("last stderr line %q, want %q...", lastLine(stderr), want)
	}
	if sum["reconciled"] != false || sum["frames_missing"] != float64(dropped) {
		t.Fatalf("summary %v", sum)
	}
	if end := summaryOf(srv.stop(t), "summary"); integer(end["injected_drops"]) != dropped {
		t.Fatalf("the controller dropped %v frames, lmfast says %d are missing", end["injected_drops"], dropped)
	}
}

// waitCounted waits until the controller's /metrics counts at least n
// PULL frames.
func waitCounted(t *testing.T, url string, n int64) {
	t.Helper()
	if !until(30*time.Second, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return metricValue(t, url, "lmfast_controller_pull_frames_total") >= n
	}) {
		t.Fatalf("the controller never counted %d frames", n)
	}
}

// TestControllerMetricsKilledController: a controller killed during the
// run cannot be reconciled: the interval lines say its page could not be
// read, the summary says why, and the run exits 1.
func TestControllerMetricsKilledController(t *testing.T) {
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port=-1", "--http-port", "0")
	wait := startRun(t, "--monitor-ports", srv.monitorPorts(), "--controller-metrics", srv.metricsURL(),
		"--duration", "2", "--interval", "200ms", "--rate", "500", "--operations", "admit:100", "--no-register-first", "--drain-timeout", "1s")
	waitCounted(t, srv.metricsURL(), 100)
	srv.kill(t)
	code, stderr, ls := wait()
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	intervals, sum := allLines(ls)
	if last := intervals[len(intervals)-1]; !strings.Contains(fmt.Sprint(last["received_error"]), "connection refused") {
		t.Fatalf("last interval line %v", last)
	}
	if sum["reconciled"] != false || !strings.Contains(fmt.Sprint(sum["controller_metrics_error"]), "connection refused") {
		t.Fatalf("summary %v", sum)
	}
	if l := lastLine(stderr); !strings.Contains(l, "lmfast: not reconciled: sent") || !strings.Contains(l, "could not be read after the run") {
		t.Fatalf("last stderr line %q", l)
	}
}

// TestControllerMetricsRestartedController: a controller restarted on the
// same ports during the run counts from zero again: the run reports a
// restart (not lost frames) and exits 1, since nothing can be compared.
func TestControllerMetricsRestartedController(t *testing.T) {
	first := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port=-1", "--http-port", "0")
	wait := startRun(t, "--monitor-ports", first.monitorPorts(), "--controller-metrics", first.metricsURL(),
		"--duration", "3", "--interval", "100ms", "--rate", "200", "--operations", "admit:100", "--no-register-first", "--drain-timeout", "2s")
	waitCounted(t, first.metricsURL(), 200)
	first.kill(t)
	second := startServerProcess(t, "--pull-port", fmt.Sprint(first.port("pull_port")), "--reply-port", fmt.Sprint(first.port("reply_port")),
		"--heartbeat-port=-1", "--http-port", fmt.Sprint(first.port("http_port")))
	code, stderr, ls := wait()
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	intervals, sum := allLines(ls)
	if sum["reconciled"] != false || sum["controller_restarts"] != 1.0 {
		t.Fatalf("summary %v", sum)
	}
	if last := intervals[len(intervals)-1]; last["controller_restarts"] != 1.0 {
		t.Fatalf("last interval line %v", last)
	}
	if l := lastLine(stderr); !strings.HasPrefix(l, "lmfast: the controller restarted during the run: sent") {
		t.Fatalf("last stderr line %q", l)
	}
	second.stop(t)
}

// TestControllerMetricsBadPage: a --controller-metrics page that cannot be
// read, or is not a LMCache controller's, is exit 2 in one line before
// anything is sent.
func TestControllerMetricsBadPage(t *testing.T) {
	srv := startController(t)
	dead := fmt.Sprintf("http://127.0.0.1:%d/metrics", closedPort(t))
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5")
	}))
	defer other.Close()
	for _, tc := range []struct{ url, want string }{
		{dead, "connection refused"},
		{other.URL + "/metrics", "no lmcache:cache_controller_pull_socket_message_count (is this a LMCache controller's /metrics?)"},
		{"127.0.0.1:9/metrics", "want http://host:port/metrics"},
	} {
		code, stderr, _ := runLmfast(t, "--monitor-ports", portsOf(srv), "--controller-metrics", tc.url, "--duration", "1")
		if code != ExitBadInput || !strings.HasPrefix(stderr, "lmfast: --controller-metrics: ") || !strings.Contains(stderr, tc.want) ||
			strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.url, code, stderr, tc.want)
		}
	}
	if c := srv.Counters(); c.PullFrames != 0 || c.ReplyRequests != 0 {
		t.Fatalf("sent %d frames and %d requests before failing", c.PullFrames, c.ReplyRequests)
	}
}

// TestControllerMetricsProcesses: with --num-processes 2 the controller's
// figures are on proc 0's interval lines only (against both groups'
// frames), and the merged summary (proc -1) reconciles the whole run.
func TestControllerMetricsProcesses(t *testing.T) {
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port=-1", "--http-port", "0")
	code, stderr, ls := runLmfast(t, "--monitor-ports", srv.monitorPorts(), "--controller-metrics", srv.metricsURL(),
		"--duration", "1", "--interval", "250ms", "--num-processes", "2", "--operations", "admit:60,evict:30,p2p_lookup:10")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var merged map[string]any
	withFigures := map[float64]int{}
	for _, l := range ls {
		if l["op"] != "all" {
			continue
		}
		switch {
		case l["event"] == "summary" && l["proc"] == -1.0:
			merged = l
		case l["event"] == "summary" && l["reconciled"] != nil:
			t.Fatalf("a group's own summary reconciles: %v", l)
		case l["event"] == "interval" && l["received_frames"] != nil:
			withFigures[l["proc"].(float64)]++
		}
	}
	if withFigures[0] == 0 || withFigures[1] != 0 {
		t.Fatalf("interval lines with the controller's figures per proc: %v", withFigures)
	}
	sent := merged["push_frames_sent"].(float64) + merged["teardown_frames_sent"].(float64)
	if merged["reconciled"] != true || merged["controller_received_frames"] != sent {
		t.Fatalf("merged summary %v", merged)
	}
}
