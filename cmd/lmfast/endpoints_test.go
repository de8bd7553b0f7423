package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/engine/enginetest"
)

// bindZMQ binds a libzmq socket of type typ on a free 127.0.0.1 port until
// the test ends and returns the port.
func bindZMQ(t *testing.T, typ zmq.Type) int {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ctx.NewSocket(typ)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.SetLinger(0); s.Close(); ctx.Term() })
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := s.GetLastEndpoint()
	var port int
	fmt.Sscanf(ep[strings.LastIndex(ep, ":")+1:], "%d", &port)
	return port
}

// silentPort accepts connections on a free 127.0.0.1 port and never
// writes a byte, until the test ends.
func silentPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold); l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-hold; c.Close() }()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestControllerWrongEndpoint: a --monitor-ports port that answers as the
// wrong ZMQ socket type, or as something that is not ZMQ at all, ends the
// run before any load with exit 2 and one line naming the key and what
// answered. (Before the check, a PUSH to a ROUTER ran for the whole
// duration, reported its batches sent and drained, and exited 0.)
func TestControllerWrongEndpoint(t *testing.T) {
	k := enginetest.Start(t) // PULL, ROUTER reply, ROUTER heartbeat
	router, pull, push, dealer := bindZMQ(t, zmq.ROUTER), bindZMQ(t, zmq.PULL), bindZMQ(t, zmq.PUSH), bindZMQ(t, zmq.DEALER)
	web := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(web.Close)
	webPort := web.Listener.Addr().(*net.TCPAddr).Port
	silent := silentPort(t)
	ports := func(p, r, h int) string {
		s := fmt.Sprintf(`{"pull":%d,"reply":%d`, p, r)
		if h != 0 {
			s += fmt.Sprintf(`,"heartbeat":%d`, h)
		}
		return s + "}"
	}
	addr := func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
	tests := []struct {
		name, ports, want string
	}{
		{"pull is a ROUTER", ports(router, k.Reply, 0), "--monitor-ports pull: " + addr(router) + " is a ROUTER socket, not the controller's PULL socket"},
		{"pull is a PUSH", ports(push, k.Reply, 0), "--monitor-ports pull: " + addr(push) + " is a PUSH socket"},
		{"reply is a PULL", ports(k.Pull, pull, 0), "--monitor-ports reply: " + addr(pull) + " is a PULL socket, not the controller's ROUTER (or REP) socket"},
		{"reply is a DEALER", ports(k.Pull, dealer, 0), "--monitor-ports reply: " + addr(dealer) + " is a DEALER socket"},
		{"heartbeat is a PULL", ports(k.Pull, k.Reply, pull), "--monitor-ports heartbeat: " + addr(pull) + " is a PULL socket"},
		{"pull is HTTP", ports(webPort, k.Reply, 0), "--monitor-ports pull: " + addr(webPort) + " is not a ZMQ peer (it answered as an HTTP server"},
		{"reply is silent", ports(k.Pull, silent, 0), "--monitor-ports reply: " + addr(silent) + " is not a ZMQ peer (it accepted the connection but sent nothing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			start := time.Now()
			code := run([]string{"controller", "--monitor-ports", tc.ports, "--duration", "30"}, strings.NewReader(""), &out, &errb)
			el := time.Since(start)
			msg := errb.String()
			if code != ExitBadInput || !strings.Contains(msg, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, msg, ExitBadInput, tc.want)
			}
			if strings.Count(strings.TrimSpace(msg), "\n") != 0 || out.Len() != 0 {
				t.Fatalf("want one stderr line and no JSONL, got stderr %q, stdout %q", msg, out.String())
			}
			if el > 10*time.Second {
				t.Fatalf("took %v to refuse the endpoint", el)
			}
		})
	}
	got := k.Settle()
	if got.Frames != 0 || len(got.ByType) != 0 {
		t.Fatalf("the stand-in controller received %d frames and requests %v from refused runs", got.Frames, got.ByType)
	}
}

// TestControllerEndpointsAccepted: the controller's own socket types pass
// the check, with and without a heartbeat port, and so does a REP reply
// socket (lmfast's DEALER talks to REP as to ROUTER).
func TestControllerEndpointsAccepted(t *testing.T) {
	k := enginetest.Start(t)
	rep := bindZMQ(t, zmq.REP)
	for _, p := range []monitorPorts{{Pull: k.Pull, Reply: k.Reply}, {Pull: k.Pull, Reply: k.Reply, Heartbeat: k.Heartbeat},
		{Pull: k.Pull}, {Pull: k.Pull, Reply: rep}} {
		if err := checkEndpoints(t.Context(), "127.0.0.1", p); err != nil {
			t.Errorf("checkEndpoints(%+v) = %v", p, err)
		}
	}
}
