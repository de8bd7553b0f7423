package main

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// closedPort returns a 127.0.0.1 port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestControllerBadInput(t *testing.T) {
	dead := strconv.Itoa(closedPort(t))
	ports := `{"pull":` + dead + `,"reply":` + dead + `}`
	tests := []struct {
		name    string
		args    []string
		wantMsg string
	}{
		{"unknown op", []string{"--operations", "admit:50,fly:50"}, `--operations: unknown operation "fly"`},
		{"bad sum", []string{"--operations", "admit:50,evict:40"}, "must sum to 100, got 90"},
		{"bad ports json", []string{"--monitor-ports", "{pull:1}"}, "--monitor-ports: invalid JSON"},
		{"port range", []string{"--monitor-ports", `{"pull":70000}`}, "--monitor-ports: pull port 70000 out of range"},
		{"port key typo", []string{"--monitor-ports", `{"pull":8100,"hearbeat":8102}`}, `unknown key "hearbeat"`},
		{"missing cpu", []string{"--pin-cpus", "0,4095"}, "--pin-cpus: CPU 4095 is not available"},
		{"bad cpu list", []string{"--pin-cpus", "3-1"}, "--pin-cpus: range"},
		{"bad duration", []string{"--duration", "soon"}, "--duration"},
		{"zero batch", []string{"--batch-size", "0"}, "--batch-size must be positive"},
		{"p2p without reply", []string{"--monitor-ports", `{"pull":` + dead + `}`, "--operations", "p2p_lookup:100"}, `no "reply" port`},
		{"unreachable", []string{"--monitor-ports", ports, "--duration", "1"}, "controller not reachable at 127.0.0.1:" + dead},
		{"unknown flag", []string{"--num-instancez", "3"}, "unknown flag"},
		{"process id too big", []string{"--process-id", "3", "--num-processes-total", "3"}, "--process-id 3 is outside 0..2 (--num-processes-total 3)"},
		{"process id negative", []string{"--process-id=-1", "--num-processes-total", "2"}, "--process-id -1 is outside 0..1"},
		{"process id alone", []string{"--process-id", "1"}, "--process-id 1 is outside 0..0"},
		{"no processes", []string{"--num-processes-total", "0"}, "--num-processes-total must be at least 1"},
		{"embedded of many", []string{"--embedded", "--process-id", "1", "--num-processes-total", "2"}, "--embedded starts a controller of this process's own"},
		{"start-at junk", []string{"--start-at", "noon"}, `--start-at "noon": want RFC 3339`},
		{"start-at in ms", []string{"--start-at", strconv.FormatInt(time.Now().UnixMilli(), 10)}, "is not a Unix time in seconds"},
		{"metrics and embedded", []string{"--embedded", "--controller-metrics", "http://127.0.0.1:9/metrics"}, "--controller-metrics with --embedded"},
		{"metrics of many", []string{"--controller-metrics", "http://127.0.0.1:9/metrics", "--num-processes-total", "2"}, "--controller-metrics with --num-processes-total 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			start := time.Now()
			code := run(append([]string{"controller", "--no-headroom"}, tc.args...), strings.NewReader(""), &out, &errb)
			if code != ExitBadInput {
				t.Fatalf("exit %d, want %d; stderr: %s", code, ExitBadInput, errb.String())
			}
			msg := errb.String()
			if !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("stderr %q does not contain %q", msg, tc.wantMsg)
			}
			if strings.Count(strings.TrimSpace(msg), "\n") != 0 || strings.Contains(msg, "goroutine") {
				t.Fatalf("error is not one line: %q", msg)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("took %v to fail", el)
			}
		})
	}
}

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"60", time.Minute, true}, {"1.5", 1500 * time.Millisecond, true}, {"2m", 2 * time.Minute, true},
		{"0", 0, false}, {"-3", 0, false}, {"x", 0, false}, {"-1s", 0, false}}
	for _, tc := range tests {
		got, err := parseSeconds("--duration", tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSeconds(%q) = %v, %v", tc.in, got, err)
		}
	}
}
