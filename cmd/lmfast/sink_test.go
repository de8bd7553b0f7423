package main

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/zmqx"
)

// TestSinkCountsWhatArrives: the listening line names the free port, and
// the summary counts exactly the frames (and bytes) pushed to it.
func TestSinkCountsWhatArrives(t *testing.T) {
	srv := startServerCmd(t, "sink", "--pull-port", "0", "--duration", "1", "--interval", "200ms")
	ctx, _ := zmq.NewContext()
	push, err := zmqx.NewPush(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", srv.port("pull_port")))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if _, err := push.SendBytes([]byte("0123456789"), 0); err != nil {
			t.Fatal(err)
		}
	}
	push.SetLinger(-1)
	push.Close()
	ctx.Term() // every frame has left
	summary := srv.rest(t, "summary")
	if code := <-srv.exit; code != ExitOK {
		t.Fatalf("exit %d: %s", code, srv.stderr.String())
	}
	if summary == nil || summary["frames"] != 1000.0 || summary["bytes"] != 10000.0 {
		t.Fatalf("summary %v", summary)
	}
}

func TestSinkBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := fmt.Sprint(busy.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pull-port", "70000"}, "--pull-port 70000: out of range"},
		{[]string{"--duration", "x"}, "--duration"},
		{[]string{"--host", "not a host", "--pull-port", "0"}, "cannot bind tcp://not a host:*"},
		{[]string{"--pull-port", port}, "--pull-port " + port + ": address already in use"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"sink"}, tc.args...), strings.NewReader(""), &stdout, &stderr)
		if code != ExitBadInput || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestIsZeroDuration(t *testing.T) {
	for v, want := range map[string]bool{"0": true, "0s": true, "0.0": true, "0ms": true, "1": false, "1s": false, "x": false, "": false} {
		if got := isZeroDuration(v); got != want {
			t.Errorf("isZeroDuration(%q) = %v", v, got)
		}
	}
}
