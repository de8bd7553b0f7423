package main

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// TestControllerServerListensAndStops: port 0 picks free ports, the
// listening line names them, requests are answered, SIGTERM stops it with
// exit 0 and a summary.
func TestControllerServerListensAndStops(t *testing.T) {
	srv := startServerCmd(t, "controller-server", "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0")
	for _, k := range []string{"pull_port", "reply_port", "heartbeat_port", "http_port"} {
		if srv.port(k) <= 0 {
			t.Fatalf("%s = %v", k, srv.listening[k])
		}
	}
	ctx, _ := zmq.NewContext()
	req, err := zmqx.NewDealer(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", srv.port("reply_port")))
	if err != nil {
		t.Fatal(err)
	}
	peer := "tcp://127.0.0.1:20000"
	if err := zmqx.SendRequest(req, wire.RegisterMsg{InstanceID: "i", IP: "127.0.0.1", Port: 1, PeerInitURL: &peer}.AppendMsgpack(nil)); err != nil {
		t.Fatal(err)
	}
	reply, err := zmqx.RecvReply(req)
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
	summary := srv.rest(t, "summary")
	select {
	case code := <-srv.exit:
		if code != ExitOK {
			t.Fatalf("exit %d after SIGTERM; stderr %s", code, srv.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	if summary == nil || summary["registered_workers"].(float64) != 1 {
		t.Fatalf("final summary %v", summary)
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
