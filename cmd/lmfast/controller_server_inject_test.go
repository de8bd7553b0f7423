package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

func TestControllerServerInjectBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--inject-stall", "100ms"}, "--inject-stall needs --stall-every"},
		{[]string{"--stall-every", "1s"}, "--stall-every needs --inject-stall"},
		{[]string{"--inject-stall", "1s", "--stall-every", "1s"}, "--stall-every 1s must be longer than --inject-stall 1s"},
		{[]string{"--inject-stall", "100", "--stall-every", "1s"}, `--inject-stall "100": want a positive duration`},
		{[]string{"--inject-delay=-1ms"}, `--inject-delay "-1ms": want a positive duration`},
		{[]string{"--inject-drop", "1"}, "--inject-drop: drop rate \"1\": must be at least 0 and below 1"},
		{[]string{"--inject-drop", "lots"}, "--inject-drop: drop rate \"lots\": want a fraction"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"controller-server", "--pull-port", "0", "--reply-port", "0", "--heartbeat-port=-1"}, tc.args...)
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		if code != ExitBadInput || !strings.Contains(stderr.String(), "lmfast: "+tc.want) || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// metricValue reads one unlabelled sample from a /metrics page.
func metricValue(t *testing.T, url, name string) int64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return int64(n)
		}
	}
	t.Fatalf("%s lacks %s", url, name)
	return 0
}

// TestControllerServerInjectStallAndDrop: with --inject-stall the server
// writes one `stall` line per stall of each loop, in its window; with
// --inject-drop 1/4 a quarter of the frames sent are lost from every count
// and reported as injected_drops.
func TestControllerServerInjectStallAndDrop(t *testing.T) {
	srv := startServerCmd(t, "controller-server", "--pull-port", "0", "--reply-port", "0", "--heartbeat-port=-1", "--http-port", "0",
		"--inject-stall", "50ms", "--stall-every", "200ms", "--inject-drop", "1/4")
	if srv.listening["inject_stall"] != "50ms" || srv.listening["inject_drop"] != "1/4" {
		t.Fatalf("listening %v", srv.listening)
	}
	ctx, _ := zmq.NewContext()
	push, err := zmqx.NewPush(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", srv.port("pull_port")))
	if err != nil {
		t.Fatal(err)
	}
	frame := wire.HeartbeatMsg{InstanceID: "i", IP: "127.0.0.1"}.AppendMsgpack(nil) // any frame counts
	sent := int64(0)
	for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if _, err := push.SendBytes(frame, 0); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", srv.port("http_port"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		seen := metricValue(t, metrics, "lmfast_controller_pull_frames_total") + metricValue(t, metrics, "lmfast_controller_injected_drops_total")
		if seen == sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server saw %d of %d frames", seen, sent)
		}
	}
	push.SetLinger(0)
	push.Close()
	ctx.Term()

	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	var stalls []map[string]any
	var summary map[string]any
	for srv.lines.Scan() {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(srv.lines.Bytes()))
		dec.UseNumber() // unix nanoseconds do not fit a float64 exactly
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("invalid line %q", srv.lines.Text())
		}
		switch m["event"] {
		case "stall":
			stalls = append(stalls, m)
		case "summary":
			summary = m
		}
	}
	if code := <-srv.exit; code != ExitOK || !strings.Contains(srv.stderr.String(), "test aids on") {
		t.Fatalf("exit %d; stderr %s", code, srv.stderr.String())
	}
	if len(stalls) == 0 {
		t.Fatal("no stall lines")
	}
	for _, st := range stalls {
		nominal, start, end := integer(st["nominal_unix_ns"]), integer(st["start_unix_ns"]), integer(st["end_unix_ns"])
		if st["socket"] != "pull" || integer(st["index"]) < 1 || start < nominal || start >= nominal+50e6 || end < nominal+50e6 {
			t.Errorf("stall line %v outside its window", st)
		}
	}
	drops := sent / 4
	if summary == nil || integer(summary["injected_drops"]) != drops || integer(summary["pull_frames"]) != sent-drops {
		t.Fatalf("summary %v; want injected_drops %d, pull_frames %d of %d sent", summary, drops, sent-drops, sent)
	}
}

// integer reads a JSON number decoded with UseNumber.
func integer(v any) int64 {
	n, _ := v.(json.Number).Int64()
	return n
}
