package main

// Failures a user can cause while `lmfast controller` runs, each against
// real sockets on 127.0.0.1: a reply endpoint that never answers, a signal
// during pre-registration, a controller that died before Ctrl-C, a second
// Ctrl-C, a closed stdout and an output that cannot be written. Those that
// end the process (a second signal, SIGPIPE's EPIPE, /dev/full) run this
// test binary as lmfast in a child process (see TestMain).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/engine/enginetest"
	"github.com/lmfast/lmfast/refcontroller"
)

// TestMain runs lmfast's main instead of the tests when the test binary is
// started as a child by lmfastProcess. LMFAST_TEST_FSIZE limits the size of
// the files the child writes (RLIMIT_FSIZE), the way a full disk does.
func TestMain(m *testing.M) {
	if os.Getenv("LMFAST_TEST_MAIN") == "1" {
		if v := os.Getenv("LMFAST_TEST_FSIZE"); v != "" {
			n, _ := strconv.ParseUint(v, 10, 64)
			var lim syscall.Rlimit
			_ = syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim)
			lim.Cur = n
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
				fmt.Fprintf(os.Stderr, "setrlimit: %v\n", err)
				os.Exit(99)
			}
		}
		main()
	}
	code := m.Run()
	if three.dir != "" {
		os.RemoveAll(three.dir) // the report tests' three runs
	}
	os.Exit(code)
}

// lmfastProcess returns this test binary set up to run as lmfast with args.
func lmfastProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LMFAST_TEST_MAIN=1")
	return cmd
}

// exitStatus is a finished child's exit code.
func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("child: %v", err)
	return -1
}

// startController starts the reference controller on free 127.0.0.1 ports.
func startController(t *testing.T) *refcontroller.Server {
	t.Helper()
	srv, err := refcontroller.Start(context.Background(), refcontroller.Config{Host: "127.0.0.1",
		HeartbeatPort: refcontroller.FreePort, HTTPPort: refcontroller.NoPort})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// portsOf is the --monitor-ports value that targets srv.
func portsOf(srv *refcontroller.Server) string {
	return fmt.Sprintf(`{"pull":%d,"reply":%d}`, srv.Ports().Pull, srv.Ports().Reply)
}

// until polls cond every 10 ms until it holds or max passed, and reports
// whether it held.
func until(max time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(max); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// settledEmpty waits until the controller has no worker and no key left.
func settledEmpty(t *testing.T, srv *refcontroller.Server) {
	t.Helper()
	var c refcontroller.Counters
	if !until(30*time.Second, func() bool { c = srv.Counters(); return c.Registered == 0 && c.Keys == 0 }) {
		t.Fatalf("the controller still has %d registered workers and %d keys (deregistered %d)", c.Registered, c.Keys, c.Deregistered)
	}
}

// silentRouter binds a ROUTER on a free 127.0.0.1 port that reads every
// request and never answers; it returns the port.
func silentRouter(t *testing.T) int {
	t.Helper()
	ctx, _ := zmq.NewContext()
	sock, _ := ctx.NewSocket(zmq.ROUTER)
	if err := sock.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := sock.GetLastEndpoint()
	port, _ := strconv.Atoi(ep[strings.LastIndex(ep, ":")+1:])
	sock.SetRcvtimeo(20 * time.Millisecond)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				sock.SetLinger(0)
				sock.Close()
				ctx.Term()
				return
			default:
				sock.RecvMessageBytes(0)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return port
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return ls[len(ls)-1]
}

// summaryAll returns the "summary" line of op "all" in a JSONL file.
func summaryAll(t *testing.T, path string) map[string]any {
	t.Helper()
	for _, l := range readJSONL(t, path) {
		if l["event"] == "summary" && l["op"] == "all" {
			return l
		}
	}
	t.Fatalf("no summary line in %s", path)
	return nil
}

// TestControllerRegisterNeverAnswered: a reply endpoint that never answers
// ends pre-registration at --register-timeout (it took 5 s per worker, 50 s
// for 10, and then ran the load with exit 0): exit 2 before any load, one
// line in the run's own words.
func TestControllerRegisterNeverAnswered(t *testing.T) {
	k := enginetest.Start(t)
	reply := silentRouter(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"controller", "--no-headroom", "--monitor-ports", fmt.Sprintf(`{"pull":%d,"reply":%d}`, k.Pull, reply),
		"--num-instances", "10", "--register-timeout", "1s", "--duration", "5", "--out", out}, strings.NewReader(""), &stdout, &stderr)
	elapsed := time.Since(start)
	if code != ExitBadInput {
		t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
	}
	if elapsed > 10*time.Second {
		t.Fatalf("took %v with --register-timeout 1s", elapsed)
	}
	want := fmt.Sprintf("lmfast: pre-registration failed for all 10 workers: Request timeout - Controller may not be running at tcp://127.0.0.1:%d", reply)
	if got := lastLine(stderr.String()); got != want {
		t.Fatalf("last stderr line %q, want %q", got, want)
	}
	ls := readJSONL(t, out)
	if last := ls[len(ls)-1]; last["event"] != "error" || last["op"] != "register" || last["count"] != 10.0 {
		t.Fatalf("last JSONL line %v", last)
	}
	if got := k.Settle(); got.ByType["BatchedKVOperationMsg"] != 0 {
		t.Fatalf("%d batches of load sent although no worker was registered", got.ByType["BatchedKVOperationMsg"])
	}
}

// TestControllerSIGTERMDuringRegistration: SIGTERM while 50 000 workers
// are being registered ends the process promptly (it ended 176 s later:
// every worker was registered, then deregistered one round trip at a
// time), exit 130 with a summary saying so, and the controller is left
// with no registered worker.
func TestControllerSIGTERMDuringRegistration(t *testing.T) {
	srv := startController(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	signalled := make(chan time.Time, 1)
	go func() {
		until(time.Minute, func() bool { return srv.Counters().Registered >= 100 })
		signalled <- time.Now()
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
	code := run([]string{"controller", "--no-headroom", "--monitor-ports", portsOf(srv), "--num-instances", "5000", "--num-workers", "10",
		"--duration", "60", "--out", out}, strings.NewReader(""), &stdout, &stderr)
	took := time.Since(<-signalled)
	t.Logf("exit %d %v after SIGTERM", code, took)
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want 130; stderr: %s", code, stderr.String())
	}
	if took > 10*time.Second {
		t.Fatalf("ended %v after SIGTERM", took)
	}
	sum := summaryAll(t, out)
	if sum["interrupted"] != true || sum["registered"].(float64) >= 50000 || sum["push_frames_sent"] != 0.0 ||
		sum["teardown_frames_sent"].(float64) < sum["registered"].(float64) {
		t.Fatalf("summary %v", sum)
	}
	settledEmpty(t, srv)
}

// TestControllerInterruptAfterControllerDied: Ctrl-C after the controller
// died ends the run within a second's order (it took 17 s: a 5 s send
// timeout, 5 s of deregistration, 10 s of drain), exit 130, and the
// summary and the stderr report say it was interrupted.
func TestControllerInterruptAfterControllerDied(t *testing.T) {
	srv := startController(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	var stdout, stderr bytes.Buffer
	signalled := make(chan time.Time, 1)
	go func() {
		until(time.Minute, func() bool { return srv.Counters().Batches > 0 })
		srv.Close()
		time.Sleep(500 * time.Millisecond) // the queues fill, requests go unanswered
		signalled <- time.Now()
		syscall.Kill(os.Getpid(), syscall.SIGINT)
	}()
	code := run([]string{"controller", "--no-headroom", "--monitor-ports", portsOf(srv), "--duration", "60",
		"--operations", "admit:60,evict:25,heartbeat:5,p2p_lookup:10", "--out", out}, strings.NewReader(""), &stdout, &stderr)
	took := time.Since(<-signalled)
	t.Logf("exit %d %v after SIGINT", code, took)
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want 130; stderr: %s", code, stderr.String())
	}
	if took > 5*time.Second {
		t.Fatalf("ended %v after SIGINT", took)
	}
	if sum := summaryAll(t, out); sum["interrupted"] != true {
		t.Fatalf("summary %v", sum)
	}
	if !strings.Contains(stderr.String(), "Interrupted: true") {
		t.Fatalf("the stderr report does not say it was interrupted: %s", stderr.String())
	}
}

// TestControllerSecondInterruptExitsAtOnce: a second SIGINT during the
// stop (here waiting for a dead controller) ends the process at once, exit
// 130, before any summary, and the JSONL (sample lines written in large
// batches) still ends with a complete line.
func TestControllerSecondInterruptExitsAtOnce(t *testing.T) {
	srv := startController(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	cmd := lmfastProcess("controller", "--no-headroom", "--monitor-ports", portsOf(srv), "--duration", "60",
		"--operations", "admit:60,evict:25,heartbeat:5,p2p_lookup:10", "--raw", "--interval", "100ms", "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !until(time.Minute, func() bool { return srv.Counters().Batches > 0 }) {
		t.Fatal("no load arrived")
	}
	srv.Close()
	time.Sleep(300 * time.Millisecond) // requests go unanswered: the stop will wait for them
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(50 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	code := exitStatus(t, cmd.Wait())
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want 130; stderr: %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("}\n")) {
		t.Fatalf("last line incomplete: %q", data[max(0, len(data)-80):])
	}
	for _, l := range readJSONL(t, out) {
		if l["event"] == "summary" {
			t.Fatalf("a summary was written: the second SIGINT waited for the stop")
		}
	}
}

// TestControllerClosedStdout: `lmfast controller | head -1`. The closed
// pipe stops the run as an interrupt does (it exited 141 by SIGPIPE with
// no word and left its workers and keys on the controller): exit 141, one
// line on stderr, nothing left on the controller.
func TestControllerClosedStdout(t *testing.T) {
	srv := startController(t)
	cmd := lmfastProcess("controller", "--no-headroom", "--monitor-ports", portsOf(srv), "--duration", "60", "--interval", "200ms")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(pipe).ReadString('\n')
	if err != nil || !strings.Contains(first, `"event":"config"`) {
		t.Fatalf("first line %q: %v", first, err)
	}
	if !until(time.Minute, func() bool { return srv.Counters().Batches > 0 }) {
		t.Fatal("no load arrived")
	}
	pipe.Close()
	code := exitStatus(t, cmd.Wait())
	if code != ExitBrokenPipe {
		t.Fatalf("exit %d, want 141; stderr: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "lmfast: stdout closed (broken pipe): stopped the run after ") {
		t.Fatalf("stderr: %q", stderr.String())
	}
	settledEmpty(t, srv)
}

// TestControllerOutputErrors: stdout on /dev/full, and a JSONL file that
// stops growing mid-run (RLIMIT_FSIZE, as a full disk): exit 1 with one
// line (zerolog printed one complaint per event), the run stopped at once,
// the file ending with a complete line, nothing left on the controller.
func TestControllerOutputErrors(t *testing.T) {
	srv := startController(t)
	t.Run("dev-full", func(t *testing.T) {
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Skip(err)
		}
		defer full.Close()
		cmd := lmfastProcess("controller", "--no-headroom", "--monitor-ports", portsOf(srv), "--duration", "60")
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = full, &stderr
		code := exitStatus(t, cmd.Run())
		want := "lmfast: writing the JSONL stream to stdout: write /dev/stdout: no space left on device: nothing was sent\n"
		if code != ExitFailure || stderr.String() != want {
			t.Fatalf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), want)
		}
	})
	t.Run("file-full-mid-run", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run.jsonl")
		cmd := lmfastProcess("controller", "--no-headroom", "--monitor-ports", portsOf(srv), "--duration", "60",
			"--interval", "100ms", "--out", out)
		cmd.Env = append(cmd.Env, "LMFAST_TEST_FSIZE=16384")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		code := exitStatus(t, cmd.Run())
		elapsed := time.Since(start)
		lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
		if code != ExitFailure || len(lines) != 1 ||
			!strings.HasPrefix(lines[0], "lmfast: writing the JSONL stream to "+out+": write "+out+": file too large: stopped the run after ") {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
		if elapsed > 30*time.Second {
			t.Fatalf("ran %v of --duration 60 after its output failed", elapsed)
		}
		if ls := readJSONL(t, out); len(ls) < 2 { // every line complete
			t.Fatalf("%d lines", len(ls))
		}
		settledEmpty(t, srv)
	})
}
