package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
)

// TestControllerServerListensAndStops: port 0 picks free ports, the
// listening line names them, requests are answered, SIGTERM stops it with
// exit 0 and a summary.
func TestControllerServerListensAndStops(t *testing.T) {
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"controller-server", "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0"},
			strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no listening line; stderr: %s", stderr.String())
	}
	var listening map[string]any
	if err := json.Unmarshal(lines.Bytes(), &listening); err != nil || listening["event"] != "listening" {
		t.Fatalf("first line %q: %v", lines.Text(), err)
	}
	for _, k := range []string{"pull_port", "reply_port", "heartbeat_port", "http_port"} {
		if listening[k].(float64) <= 0 {
			t.Fatalf("%s = %v", k, listening[k])
		}
	}
	ctx, _ := zmq.NewContext()
	req, err := wire.NewDealer(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", int(listening["reply_port"].(float64))))
	if err != nil {
		t.Fatal(err)
	}
	peer := "tcp://127.0.0.1:20000"
	if err := wire.SendRequest(req, wire.RegisterMsg{InstanceID: "i", IP: "127.0.0.1", Port: 1, PeerInitURL: &peer}.AppendMsgpack(nil)); err != nil {
		t.Fatal(err)
	}
	reply, err := wire.RecvReply(req)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := wire.Decode(reply); err != nil || m.TypeName() != "RegisterRetMsg" {
		t.Fatalf("reply %x: %v", reply, err)
	}
	req.SetLinger(0)
	req.Close()
	ctx.Term()

	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	var summary map[string]any
	for lines.Scan() {
		json.Unmarshal(lines.Bytes(), &summary)
	}
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d after SIGTERM; stderr %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	if summary["event"] != "summary" || summary["registered_workers"].(float64) != 1 {
		t.Fatalf("final line %v", summary)
	}
}

func TestControllerServerPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	var stdout, stderr bytes.Buffer
	code := run([]string{"controller-server", "--pull-port", fmt.Sprint(port), "--reply-port", "0"}, strings.NewReader(""), &stdout, &stderr)
	want := fmt.Sprintf("--pull-port %d: address already in use", port)
	if code != ExitBadInput || !strings.Contains(stderr.String(), want) {
		t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
}
