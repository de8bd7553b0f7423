package main

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRequestsBadInput: --requests below zero, or with --sweep, is exit 2
// with one line naming the flag.
func TestRequestsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--requests=-5"}, "lmfast: --requests must not be negative"},
		{[]string{"--requests", "100", "--sweep", "rate=1000,2000"}, "lmfast: --requests ends a single run"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"controller", "--no-headroom"}, tc.args...), strings.NewReader(""), &out, &errb)
		if code != ExitBadInput || !strings.HasPrefix(errb.String(), tc.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}

// TestRequestsStopTheRun: `--requests 3000` against the embedded
// controller ends a closed-loop run of --duration 10m after exactly 3000
// measured requests, which the controller applied in full.
func TestRequestsStopTheRun(t *testing.T) {
	code, stderr, ls := runLmfast(t, "--embedded", "--requests", "3000", "--duration", "10m", "--warmup", "200ms",
		"--operations", "admit:70,evict:30", "--num-instances", "20", "--batch-size", "10")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, sum := allLines(ls)
	var verify, config map[string]any
	for _, l := range ls {
		switch l["event"] {
		case "verify":
			verify = l
		case "config":
			config = l
		}
	}
	if sum == nil || verify == nil || config == nil {
		t.Fatalf("summary %v, verify %v, config %v", sum, verify, config)
	}
	if sum["requests"] != 3000.0 || sum["sent"] != 3000.0 || sum["errors"] != 0.0 || config["requests"] != 3000.0 {
		t.Fatalf("summary %v; config requests %v", sum, config["requests"])
	}
	if d := sum["duration_s"].(float64); d <= 0 || d > 300 {
		t.Fatalf("measured %v s: the run did not end at its 3000th request", d)
	}
	if verify["ok"] != true || verify["kv_ops_applied"] != sum["kv_ops_sent"] {
		t.Fatalf("verify %v, summary kv_ops_sent %v", verify, sum["kv_ops_sent"])
	}
}

// registeredGauge is the controller's registered-workers gauge on its
// /metrics page (-1 when it cannot be read).
func registeredGauge(url string) int64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, `lmcache:cache_controller_registered_workers_count{role="controller"} `); ok {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				return int64(n)
			}
		}
	}
	return -1
}

// TestRegisterManyWorkers registers 30 000 simulated workers (3 000
// instances of 10) with a controller-server process, loads them, and
// deregisters them: while the load runs the controller holds exactly the
// workers lmfast says it registered, no batch finds its worker missing,
// every frame is reconciled, and after the teardown the controller holds
// none.
func TestRegisterManyWorkers(t *testing.T) {
	const workers = 30_000
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port=-1", "--http-port", "0")
	url := srv.metricsURL()
	wait := startRun(t, "--monitor-ports", srv.monitorPorts(), "--controller-metrics", url,
		"--num-instances", "3000", "--num-workers", "10", "--duration", "3", "--warmup", "0",
		"--operations", "admit:100", "--batch-size", "10", "--register-timeout", "10m")
	var peak atomic.Int64
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if n := registeredGauge(url); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	code, stderr, ls := wait()
	close(stop)
	<-polled
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, sum := allLines(ls)
	if sum["registered"] != float64(workers) || sum["register_failed"] != 0.0 || sum["teardown_frames_sent"] != float64(workers) ||
		sum["reconciled"] != true {
		t.Fatalf("summary %v", sum)
	}
	if peak.Load() != workers {
		t.Fatalf("the controller held at most %d workers during the run; lmfast registered %d", peak.Load(), workers)
	}
	deadline := time.Now().Add(time.Minute)
	for registeredGauge(url) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the controller still holds %d workers a minute after the teardown", registeredGauge(url))
		}
		time.Sleep(10 * time.Millisecond)
	}
	end := summaryOf(srv.stop(t), "summary")
	if end == nil || integer(end["batches_dropped_unregistered"]) != 0 || integer(end["registered_workers"]) != 0 ||
		integer(end["batches"]) != int64(sum["push_frames_sent"].(float64)) {
		t.Fatalf("the controller's summary %v; lmfast sent %v batches", end, sum["push_frames_sent"])
	}
}
