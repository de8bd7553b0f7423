package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/refcontroller"
	"github.com/lmfast/lmfast/wire"
)

// runController runs `lmfast controller` in-process with args and returns
// its exit code, its JSONL lines and its stderr.
func runScenario(t *testing.T, args ...string) (int, []map[string]any, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"controller", "--out", out, "--no-headroom", "--warmup", "0"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, readJSONL(t, out), stderr.String()
}

// scenarioLine returns the last "scenario" line of phase.
func scenarioLine(t *testing.T, lines []map[string]any, phase string) map[string]any {
	t.Helper()
	var last map[string]any
	for _, l := range lines {
		if l["event"] == "scenario" && l["phase"] == phase {
			last = l
		}
	}
	if last == nil {
		t.Fatalf("no scenario line of phase %q", phase)
	}
	return last
}

func scNum(l map[string]any, k string) int64 {
	v, _ := l[k].(float64)
	return int64(v)
}

// serverWorkers reads a controller's /controller/workers.
func serverWorkers(t *testing.T, httpPort int) []string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/controller/workers", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Workers []struct {
			InstanceID string `json:"instance_id"`
			WorkerID   int64  `json:"worker_id"`
		} `json:"workers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range list.Workers {
		out = append(out, fmt.Sprintf("(%s, %d)", w.InstanceID, w.WorkerID))
	}
	return out
}

// awaitNoWorkers waits until the controller lists no worker (bounded: the
// run's deregistrations are PUSH messages applied after lmfast returns).
func awaitNoWorkers(t *testing.T, httpPort int) {
	t.Helper()
	var left []string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if left = serverWorkers(t, httpPort); len(left) == 0 {
			return
		}
	}
	t.Errorf("the controller still lists %d workers after the run: %v", len(left), left)
}

// TestScenarioP2PStressRepliesAllCorrect: against controller-server, every
// lookup reply of p2p-stress (several holders per chain, prefixes of
// every length, three locations, zipf keys) matches lmfast's model; the
// hits and misses are both seen, the hit ratio is near
// --lookup-hit-rate, every reply the summary counts was checked, the
// admits reconcile with the controller's counts, and the workers are
// deregistered at the end.
func TestScenarioP2PStressRepliesAllCorrect(t *testing.T) {
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0")
	code, lines, stderr := runScenario(t, "--monitor-ports", srv.monitorPorts(), "--controller-metrics", srv.metricsURL(),
		"--scenario", "p2p-stress", "--duration", "2", "--interval", "500ms", "--num-instances", "6", "--num-workers", "2",
		"--num-locations", "3", "--num-keys", "600", "--num-hashes", "10", "--senders", "2", "--concurrency", "4",
		"--key-dist", "zipf:1.1", "--lookup-hit-rate", "0.6", "--seed", "11")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	setup, end := scenarioLine(t, lines, "setup"), scenarioLine(t, lines, "end")
	if scNum(setup, "workers") != 12 || scNum(setup, "holdings") <= scNum(setup, "chains_held") {
		t.Errorf("setup: want 12 workers and chains with several holders: %v", setup)
	}
	var lookups map[string]any
	for _, l := range lines {
		if l["event"] == "summary" && l["op"] == "p2p_lookup" {
			lookups = l
		}
		if l["event"] == "error" {
			t.Errorf("error line: %v", l)
		}
	}
	checked, hits, misses := scNum(end, "checked"), scNum(end, "hits"), scNum(end, "misses")
	if end["ok"] != true || scNum(end, "wrong") != 0 || checked < 200 || hits == 0 || misses == 0 || hits+misses != checked {
		t.Errorf("end: %v", end)
	}
	if lookups == nil || scNum(lookups, "requests") != checked || scNum(lookups, "errors") != 0 {
		t.Errorf("the summary's lookups %v are not the %d checked", lookups, checked)
	}
	// 0.6 by construction, less the rare hit draws that found no chain
	// held outside the requester's instance in 64 tries (0.02 allowed);
	// 5 standard deviations of the binomial share at this count.
	sd := math.Sqrt(0.6 * 0.4 / float64(checked))
	if r := end["hit_ratio"].(float64); r < 0.6-0.02-5*sd || r > 0.6+5*sd {
		t.Errorf("hit ratio %.3f over %d lookups, want 0.6 (sd %.3f)", r, checked, sd)
	}
	if !strings.Contains(stderr, "reconciled") || !strings.Contains(stderr, "scenario p2p-stress") {
		t.Errorf("stderr lacks the reconciliation or the scenario lines:\n%s", stderr)
	}
	awaitNoWorkers(t, srv.port("http_port"))
}

// tamperProxy stands between lmfast and a reference controller's reply
// socket: it forwards every request and returns the controller's reply,
// except for lookups of more than one hash (the run's, not lmfast's
// one-key sentinel lookups), whose replies it falsifies in turn: a prefix
// one chunk short, another holder, a hit where there is none; the rest
// pass. It counts what it falsified.
type tamperProxy struct {
	port     int
	tampered atomic.Int64
	kinds    [3]atomic.Int64
}

func startTamperProxy(t *testing.T, target int) *tamperProxy {
	t.Helper()
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	front, _ := zctx.NewSocket(zmq.ROUTER)
	if err := front.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := front.GetLastEndpoint()
	back, _ := zctx.NewSocket(zmq.DEALER)
	if err := back.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", target)); err != nil {
		t.Fatal(err)
	}
	p := &tamperProxy{}
	fmt.Sscanf(ep[strings.LastIndex(ep, ":")+1:], "%d", &p.port)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		poller := zmq.NewPoller()
		poller.Add(front, zmq.POLLIN)
		n := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			if polled, err := poller.Poll(50 * time.Millisecond); err != nil || len(polled) == 0 {
				continue
			}
			frames, err := front.RecvMessageBytes(0)
			if err != nil || len(frames) < 3 {
				continue
			}
			if _, err := back.SendMessage("", frames[2]); err != nil {
				continue
			}
			reply, err := back.RecvMessageBytes(0)
			if err != nil {
				continue
			}
			payload := reply[len(reply)-1]
			if req, err := wire.Decode(frames[2]); err == nil {
				if l, ok := req.(*wire.BatchedP2PLookupMsg); ok && len(l.Hashes) > 1 {
					payload = p.tamper(n, payload)
					n++
				}
			}
			front.SendMessage(frames[0], "", payload)
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
		front.SetLinger(0)
		back.SetLinger(0)
		front.Close()
		back.Close()
		zctx.Term()
	})
	return p
}

// tamper falsifies the n-th lookup reply of the run when its turn comes.
func (p *tamperProxy) tamper(n int, payload []byte) []byte {
	m, err := wire.Decode(payload)
	r, ok := m.(*wire.BatchedP2PLookupRetMsg)
	if err != nil || !ok || len(r.LayoutInfo) != 1 || n%4 == 3 {
		return payload
	}
	l := r.LayoutInfo[0]
	hit := l.InstanceID != ""
	kind := -1
	switch {
	case hit && n%4 == 0:
		l.NumHitChunks--
		kind = 0
	case hit && n%4 == 1:
		l.InstanceID = "instance_p0_999"
		kind = 1
	case !hit && n%4 == 2:
		l = wire.LayoutInfo{InstanceID: "instance_p0_0", Location: "location_0", NumHitChunks: 1, PeerInitURL: "tcp://127.0.0.1:20000"}
		kind = 2
	}
	if kind < 0 {
		return payload
	}
	p.tampered.Add(1)
	p.kinds[kind].Add(1)
	return wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{l}}.AppendMsgpack(nil)
}

// TestScenarioP2PStressDetectsWrongReplies: behind a proxy that falsifies
// lookup replies, p2p-stress counts exactly the replies falsified as
// wrong, names each kind in its error lines with the reply and the
// expected tuple, and the run exits 1.
func TestScenarioP2PStressDetectsWrongReplies(t *testing.T) {
	srv, err := refcontroller.Start(context.Background(), refcontroller.Config{Host: "127.0.0.1", HTTPPort: refcontroller.NoPort})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	proxy := startTamperProxy(t, srv.Ports().Reply)
	code, lines, stderr := runScenario(t, "--monitor-ports", fmt.Sprintf(`{"pull":%d,"reply":%d}`, srv.Ports().Pull, proxy.port),
		"--scenario", "p2p-stress", "--duration", "2", "--num-instances", "4", "--num-workers", "2", "--num-locations", "2",
		"--num-keys", "400", "--num-hashes", "8", "--senders", "1", "--concurrency", "2", "--lookup-hit-rate", "0.5", "--seed", "5")
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d: %s", code, ExitFailure, stderr)
	}
	end := scenarioLine(t, lines, "end")
	if want := proxy.tampered.Load(); want == 0 || scNum(end, "wrong") != want || end["ok"] != false {
		t.Errorf("the proxy falsified %d replies; end line %v", want, end)
	}
	for i, k := range []string{"wrong prefix length", "wrong holder", "miss answered as a hit"} {
		if proxy.kinds[i].Load() == 0 {
			t.Errorf("the proxy falsified no %q", k)
		}
	}
	texts := map[string]int64{}
	var errs int64
	for _, l := range lines {
		if l["event"] == "error" {
			texts[l["error"].(string)] += scNum(l, "count")
			errs += scNum(l, "count")
		}
	}
	if errs != proxy.tampered.Load() {
		t.Errorf("error lines count %d, the proxy falsified %d", errs, proxy.tampered.Load())
	}
	for _, want := range []string{
		"p2p-stress: wrong prefix length: got ('instance_p0_",
		"p2p-stress: wrong holder: got ('instance_p0_999', 'location_",
		"p2p-stress: miss answered as a hit: got ('instance_p0_0', 'location_0', 1, 'tcp://127.0.0.1:20000'), want ('', '', 0, '')",
	} {
		found := false
		for text := range texts {
			found = found || strings.HasPrefix(text, want)
		}
		if !found {
			t.Errorf("no error line starts %q; have %v", want, texts)
		}
	}
	if !strings.Contains(stderr, "lookup replies were wrong") {
		t.Errorf("stderr: %s", stderr)
	}
}

// TestScenarioChurnStateEquality: churn against controller-server beside
// the steady mix: joins and leaves happen, every lookup check passes, the
// interval lines add up to the totals, the controller's worker list equals
// lmfast's model at the end and is empty after the scenario's teardown
// (read again here, from the server itself), and the run reconciles.
func TestScenarioChurnStateEquality(t *testing.T) {
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0")
	code, lines, stderr := runScenario(t, "--monitor-ports", srv.monitorPorts(), "--controller-metrics", srv.metricsURL(),
		"--scenario", "churn", "--churn-rate", "40", "--duration", "2", "--interval", "500ms", "--num-instances", "5",
		"--senders", "1", "--seed", "3")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	end := scenarioLine(t, lines, "end")
	joins, leaves := scNum(end, "joins"), scNum(end, "leaves")
	if end["ok"] != true || end["state_equal"] != true || end["teardown_equal"] != true || scNum(end, "errors") != 0 ||
		joins == 0 || leaves == 0 || scNum(end, "registered_model") != joins-leaves || scNum(end, "lookups") < leaves {
		t.Errorf("end: %v", end)
	}
	var ivJoins, ivLeaves int64
	intervals := 0
	for _, l := range lines {
		if l["event"] == "scenario" && l["phase"] == "interval" {
			intervals++
			ivJoins += scNum(l, "joins")
			ivLeaves += scNum(l, "leaves")
			if _, ok := l["registered_server"]; !ok || scNum(l, "registered") != scNum(l, "joins_total")-scNum(l, "leaves_total") {
				t.Errorf("interval line: %v", l)
			}
		}
		if l["event"] == "error" {
			t.Errorf("error line: %v", l)
		}
	}
	if intervals < 2 || ivJoins > joins || ivLeaves > leaves {
		t.Errorf("%d interval lines with %d joins, %d leaves; totals %d, %d", intervals, ivJoins, ivLeaves, joins, leaves)
	}
	if !strings.Contains(stderr, "reconciled") || !strings.Contains(stderr, "scenario churn") {
		t.Errorf("stderr:\n%s", stderr)
	}
	awaitNoWorkers(t, srv.port("http_port"))
}

// TestScenarioChurnDetectsLostMessages: a controller that loses a third of
// its PULL frames (--inject-drop) loses admits and DeRegisterMsg: the
// lookup checks and the worker-list comparison see it, and the run exits 1.
func TestScenarioChurnDetectsLostMessages(t *testing.T) {
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0", "--inject-drop", "1/3")
	code, lines, stderr := runScenario(t, "--monitor-ports", srv.monitorPorts(),
		"--controller-metrics", srv.metricsURL(), "--scenario", "churn", "--churn-rate", "40", "--duration", "2",
		"--num-instances", "5", "--senders", "1", "--request-timeout", "1s", "--seed", "3", "--drain-timeout", "2s")
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d: %s", code, ExitFailure, stderr)
	}
	end := scenarioLine(t, lines, "end")
	if end["ok"] != false || scNum(end, "errors") == 0 || end["state_equal"] != false {
		t.Errorf("end: %v", end)
	}
	texts := ""
	for _, l := range lines {
		if l["event"] == "error" && l["op"] == "churn" {
			texts += l["error"].(string) + "\n"
		}
	}
	for _, want := range []string{"after the run the controller's worker list differs from lmfast's model"} {
		if !strings.Contains(texts, want) {
			t.Errorf("no churn error %q in:\n%s", want, texts)
		}
	}
}

// TestScenarioFlags: bad scenario flags are exit 2 with one line naming
// the fault, before anything is sent.
func TestScenarioFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "storm"}, `unknown scenario "storm" (known: churn, p2p-stress, restart-storm)`},
		{[]string{"--scenario", "churn", "--churn-rate=-1"}, "--churn-rate must be a non-negative number"},
		{[]string{"--scenario", "churn", "--churn-rate", "0"}, "--scenario churn needs --churn-rate above 0"},
		{[]string{"--scenario", "p2p-stress", "--lookup-hit-rate", "1.5"}, "--lookup-hit-rate must be a number in 0..1"},
		{[]string{"--scenario", "p2p-stress", "--operations", "admit:50,p2p_lookup:50"}, "--scenario p2p-stress sends only p2p_lookup"},
		{[]string{"--scenario", "churn", "--num-processes", "2"}, "runs in one engine group"},
		{[]string{"--key-dist", "zipf:0"}, `--key-dist: zipf exponent "0" is not a number in (0, 100]`},
		{[]string{"--key-dist", "hotspot:0.5:2"}, `--key-dist: hotspot hot-set fraction H "2"`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"controller", "--embedded", "--no-headroom", "--duration", "1"}, c.args...), strings.NewReader(""), &stdout, &stderr)
		if code != ExitBadInput || !strings.Contains(stderr.String(), c.want) || strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, code, stderr.String(), ExitBadInput, c.want)
		}
	}
}

// TestScenarioP2PStressRefusesWorkersRegisteredAlready: a worker of the
// run registered before it keeps its place in the controller's order, so
// p2p-stress stops before its setup (exit 1, naming the worker) instead
// of counting the answers wrong.
func TestScenarioP2PStressRefusesWorkersRegisteredAlready(t *testing.T) {
	srv, err := refcontroller.Start(context.Background(), refcontroller.Config{Host: "127.0.0.1", HTTPPort: refcontroller.FreePort})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	p := srv.Ports()
	zctx, _ := zmq.NewContext()
	defer zctx.Term()
	dealer, _ := zctx.NewSocket(zmq.DEALER)
	defer func() { dealer.SetLinger(0); dealer.Close() }()
	if err := dealer.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", p.Reply)); err != nil {
		t.Fatal(err)
	}
	peer := "tcp://127.0.0.1:20001"
	if _, err := dealer.SendMessage("", wire.RegisterMsg{InstanceID: "instance_p0_1", WorkerID: 0, IP: "127.0.0.1", Port: 1, PeerInitURL: &peer}.AppendMsgpack(nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := dealer.RecvMessageBytes(0); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runScenario(t, "--monitor-ports", fmt.Sprintf(`{"pull":%d,"reply":%d}`, p.Pull, p.Reply),
		"--controller-metrics", fmt.Sprintf("http://127.0.0.1:%d/metrics", p.HTTP), "--scenario", "p2p-stress", "--duration", "1",
		"--num-instances", "3")
	if code != ExitFailure || !strings.Contains(stderr, "the controller has (instance_p0_1, 0) registered already") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The worker it did not register is left alone: no DeRegisterMsg
	// arrives (waiting up to 2 s for one) and it is still registered.
	if c := srv.WaitFrames(1, 2*time.Second); c.Registered != 1 || c.PullFrames != 0 {
		t.Errorf("after the refused run: %d workers registered (want the 1 registered before), %d PULL frames received", c.Registered, c.PullFrames)
	}
}

// TestScenarioInterrupt: SIGINT once a scenario's first interval line is
// written ends a 60 s run with exit 130 within 5 s of the signal (the
// user's bound is a second; the machine is shared), with the scenario's
// end line written (churn's saying it was interrupted).
func TestScenarioInterrupt(t *testing.T) {
	for _, args := range [][]string{
		{"--scenario", "churn", "--churn-rate", "50"},
		{"--scenario", "p2p-stress"},
	} {
		out := filepath.Join(t.TempDir(), "run.jsonl")
		ended := make(chan struct{})
		var signalled atomic.Int64
		go func() {
			for {
				select {
				case <-ended:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if data, _ := os.ReadFile(out); bytes.Contains(data, []byte(`"phase":"interval"`)) {
					signalled.Store(time.Now().UnixNano())
					syscall.Kill(os.Getpid(), syscall.SIGINT)
					return
				}
			}
		}()
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"controller", "--embedded", "--no-headroom", "--duration", "60", "--interval", "200ms",
			"--num-instances", "4", "--out", out}, args...), strings.NewReader(""), &stdout, &stderr)
		close(ended)
		took := time.Since(time.Unix(0, signalled.Load()))
		if code != ExitInterrupted || signalled.Load() == 0 || took > 5*time.Second {
			t.Fatalf("%v: exit %d %v after the signal: %s", args, code, took, stderr.String())
		}
		end := scenarioLine(t, readJSONL(t, out), "end")
		if args[1] == "churn" && (end["interrupted"] != true || scNum(end, "joins") == 0) {
			t.Errorf("%v: end line %v", args, end)
		}
		if args[1] == "p2p-stress" && (scNum(end, "checked") == 0 || scNum(end, "wrong") != 0) {
			t.Errorf("%v: end line %v", args, end)
		}
	}
}
