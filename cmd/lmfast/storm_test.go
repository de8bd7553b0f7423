package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// stormArgs are a short restart-storm: 8 workers, heartbeats every
// 300 ms, status polls every 200 ms, a restart after 2 s.
func stormArgs(jitter string) []string {
	return []string{"controller", "--scenario", "restart-storm", "--storm-at", "2", "--duration", "8",
		"--heartbeat-interval", "0.3", "--storm-jitter", jitter, "--full-sync-poll", "0.2",
		"--operations", "admit:35,evict:29,p2p_lookup:35,heartbeat:1", "--num-instances", "8", "--num-keys", "3000",
		"--rate", "600", "--concurrency", "2", "--no-headroom", "--warmup", "0", "--seed", "5"}
}

// stormLines returns the run's scenario lines by phase and its summary
// line of op "all".
func stormLines(t *testing.T, out []byte) (map[string]map[string]any, map[string]any) {
	t.Helper()
	phases := map[string]map[string]any{}
	var all map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad line %s: %v", sc.Bytes(), err)
		}
		switch {
		case m["event"] == "scenario":
			phases[m["phase"].(string)] = m
		case m["event"] == "summary" && m["op"] == "all":
			all = m
		}
	}
	return phases, all
}

// checkStorm asserts that the storm happened and the key count came back:
// the controller lost its keys at the restart, every worker re-registered
// and synced, and the controller then held what the workers hold.
func checkStorm(t *testing.T, out, stderr []byte) {
	t.Helper()
	ph, all := stormLines(t, out)
	end, restart := ph["end"], ph["restart"]
	if end == nil || restart == nil || all == nil {
		t.Fatalf("scenario lines %v, summary %v; stderr %s", ph, all, stderr)
	}
	t.Logf("restart %v\nend %v\nworkers %v", restart, end, all["workers"])
	workers := all["workers"].(map[string]any)
	cmds := workers["full_sync_commands"].(map[string]any)
	if end["recovered"] != true || end["syncs_ended_after_restart"].(float64) < 8 || cmds["worker_re_registered"] != 8.0 {
		t.Errorf("no recovery by full sync: end %v, commands %v", end, cmds)
	}
	if before := restart["keys_before"].(float64); before == 0 || end["min_keys"].(float64) >= before {
		t.Errorf("the restart did not empty the controller: %v keys before, at least %v after", before, end["min_keys"])
	}
	if k, h := end["keys_at_recovery"].(float64), end["held_at_recovery"].(float64); k < 0.99*h || h == 0 {
		t.Errorf("at recovery the controller held %v keys, the workers %v", k, h)
	}
	if !strings.Contains(string(stderr), "restart-storm: recovered true") {
		t.Errorf("stderr: %s", stderr)
	}
}

// TestRestartStormEmbedded restarts the embedded controller at jitter 0.
func TestRestartStormEmbedded(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(append(stormArgs("0"), "--embedded"), nil, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	checkStorm(t, out.Bytes(), errb.Bytes())
}

// TestRestartStormControllerServer restarts a controller-server process
// on the same ports by --restart-cmd, with a startup jitter.
func TestRestartStormControllerServer(t *testing.T) {
	dir := t.TempDir()
	ports := make([]string, 4)
	var held []net.Listener
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		held = append(held, l)
	}
	for _, l := range held { // free again for the server
		l.Close()
	}
	script := filepath.Join(dir, "restart.sh")
	body := fmt.Sprintf(`#!/bin/sh
# stop the controller-server whose PID is in pid, start one on the same ports, wait until it listens
pid=$(cat %[1]s/pid 2>/dev/null)
if [ "${pid:-0}" -gt 0 ]; then kill -TERM "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; fi
: > %[1]s/out
LMFAST_TEST_MAIN=1 %[2]s controller-server --pull-port %[3]s --reply-port %[4]s --heartbeat-port %[5]s --http-port %[6]s > %[1]s/out 2>> %[1]s/err &
echo $! > %[1]s/pid
until grep -q listening %[1]s/out; do sleep 0.05; done
`, dir, os.Args[0], ports[0], ports[1], ports[2], ports[3])
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // the last server, by its PID
		if b, err := os.ReadFile(filepath.Join(dir, "pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	if out, err := exec.Command("sh", script).CombinedOutput(); err != nil {
		t.Fatalf("starting controller-server: %v %s", err, out)
	}
	mp := fmt.Sprintf(`{"pull":%s,"reply":%s,"heartbeat":%s}`, ports[0], ports[1], ports[2])
	args := append(stormArgs("0.5"), "--monitor-ports", mp, "--controller-metrics", "http://127.0.0.1:"+ports[3]+"/metrics", "--restart-cmd", "sh "+script)
	var out, errb bytes.Buffer
	if code := run(args, nil, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	checkStorm(t, out.Bytes(), errb.Bytes())
}

// TestRestartStormWithoutRecoveryFails: heartbeats every 30 s cannot
// bring the workers back within the 2 s after a restart at 1 s, so the
// storm measures no recovery: exit 1, one line saying why, and the
// scenario's "end" line is still written.
func TestRestartStormWithoutRecoveryFails(t *testing.T) {
	args := []string{"controller", "--embedded", "--scenario", "restart-storm", "--storm-at", "1", "--duration", "3",
		"--heartbeat-interval", "30", "--operations", "admit:100", "--num-instances", "8", "--num-keys", "3000",
		"--rate", "200", "--no-headroom", "--warmup", "0", "--seed", "5"}
	var out, errb bytes.Buffer
	code := run(args, nil, &out, &errb)
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	last := lines[len(lines)-1]
	if code != ExitFailure || !strings.Contains(last, "--scenario restart-storm: the controller did not hold 99% of the workers' keys again") {
		t.Fatalf("exit %d, last stderr line %q; want exit 1 and no recovery", code, last)
	}
	ph, _ := stormLines(t, out.Bytes())
	if ph["end"] == nil || ph["end"]["recovered"] != false {
		t.Errorf("end line %v", ph["end"])
	}
}

// TestStormAndHeartbeatFlagErrors: bad scenario and heartbeat flags are
// one stderr line and exit 2 before anything is sent.
func TestStormAndHeartbeatFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "bogus", "--embedded"}, `unknown scenario "bogus"`},
		{[]string{"--scenario", "restart-storm"}, "needs --embedded or --restart-cmd"},
		{[]string{"--scenario", "restart-storm", "--restart-cmd", "true"}, "needs --controller-metrics"},
		{[]string{"--scenario", "restart-storm", "--embedded", "--storm-at", "9"}, "is not before the end of --duration"},
		{[]string{"--storm-at", "1", "--embedded"}, "need --scenario restart-storm"},
		{[]string{"--heartbeat-interval", "soon", "--embedded"}, "--heartbeat-interval"},
		{[]string{"--heartbeat-interval", "-1s", "--embedded"}, "--heartbeat-interval"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"controller", "--duration", "5", "--no-headroom"}, tc.args...), nil, &out, &errb)
		if code != ExitBadInput || !strings.Contains(errb.String(), tc.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}
