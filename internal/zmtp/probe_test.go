package zmtp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// socketTypes are libzmq's stable socket types that speak ZMTP.
var socketTypes = []zmq.Type{zmq.PAIR, zmq.PUB, zmq.SUB, zmq.XPUB, zmq.XSUB, zmq.REQ, zmq.REP,
	zmq.DEALER, zmq.ROUTER, zmq.PUSH, zmq.PULL}

// patient is the probe timeout of tests that talk to real ZMQ sockets: a
// ZMQ peer answers at once, so only a loaded machine makes it wait.
const patient = 10 * time.Second

func newContext(t *testing.T) *zmq.Context {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctx.Term() })
	return ctx
}

// bind opens a socket of type typ on a free 127.0.0.1 port, closed when the
// test ends, and returns it with its "127.0.0.1:port" address.
func bind(t *testing.T, ctx *zmq.Context, typ zmq.Type) (*zmq.Socket, string) {
	t.Helper()
	s, err := ctx.NewSocket(typ)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.SetLinger(0); s.Close() })
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := s.GetLastEndpoint()
	return s, strings.TrimPrefix(ep, "tcp://")
}

var monitors atomic.Int64

// monitor watches s's connection events and returns the socket that
// receives them.
func monitor(t *testing.T, ctx *zmq.Context, s *zmq.Socket) *zmq.Socket {
	t.Helper()
	addr := fmt.Sprintf("inproc://monitor-%d", monitors.Add(1))
	if err := s.Monitor(addr, zmq.EVENT_ALL); err != nil {
		t.Fatal(err)
	}
	m, err := ctx.NewSocket(zmq.PAIR)
	if err != nil {
		t.Fatal(err)
	}
	// Monitoring stops before its reader closes: libzmq's I/O thread would
	// block on the next event with nobody to read it.
	t.Cleanup(func() { s.Monitor("", 0); m.SetLinger(0); m.Close() })
	if err := m.Connect(addr); err != nil {
		t.Fatal(err)
	}
	m.SetRcvtimeo(patient)
	return m
}

const handshakeFailed = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH

// outcome waits for the monitored socket's verdict on one connection: the
// handshake succeeded, or it failed or the connection ended without one.
func outcome(t *testing.T, m *zmq.Socket) (succeeded bool) {
	t.Helper()
	for {
		ev, _, _, err := m.RecvEvent(0)
		if err != nil {
			t.Fatalf("no handshake verdict from the monitor: %v", err)
		}
		switch {
		case ev&zmq.EVENT_HANDSHAKE_SUCCEEDED != 0:
			return true
		case ev&(handshakeFailed|zmq.EVENT_DISCONNECTED) != 0:
			return false
		}
	}
}

// TestProbeNamesEverySocketType: a real libzmq socket of every type, bound
// on 127.0.0.1, is named by its type, ZMTP 3 and the NULL mechanism.
func TestProbeNamesEverySocketType(t *testing.T) {
	zctx := newContext(t)
	for _, typ := range socketTypes {
		t.Run(typ.String(), func(t *testing.T) {
			_, addr := bind(t, zctx, typ)
			ctx, cancel := context.WithTimeout(context.Background(), patient)
			defer cancel()
			p, err := Probe(ctx, addr, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.SocketType != typ.String() || p.Major != 3 || p.Mechanism != "NULL" || p.Refused != "" {
				t.Fatalf("probe of a %s socket = %+v", typ, p)
			}
			if got, want := p.String(), "a "+typ.String()+" socket"; got != want {
				t.Fatalf("String() = %q, want %q", got, want)
			}
		})
	}
}

// TestCompatibleMatchesLibzmq: for every pair of socket types, Compatible
// says what libzmq decides when the two connect (its monitor's handshake
// verdict on the bound side).
func TestCompatibleMatchesLibzmq(t *testing.T) {
	zctx := newContext(t)
	for _, theirs := range socketTypes {
		for _, ours := range socketTypes {
			t.Run(ours.String()+"-to-"+theirs.String(), func(t *testing.T) {
				srv, addr := bind(t, zctx, theirs)
				m := monitor(t, zctx, srv)
				cli, err := zctx.NewSocket(ours)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { cli.SetLinger(0); cli.Close() }()
				if err := cli.Connect("tcp://" + addr); err != nil {
					t.Fatal(err)
				}
				if got, want := outcome(t, m), Compatible(ours.String(), theirs.String()); got != want {
					t.Fatalf("libzmq handshake succeeded = %v, Compatible(%s, %s) = %v", got, ours, theirs, want)
				}
			})
		}
	}
}

// TestProbeHandshakeAsCaller: probing as a compatible type completes the
// handshake in the peer's eyes (its monitor reports success); probing as an
// incompatible type does not.
func TestProbeHandshakeAsCaller(t *testing.T) {
	zctx := newContext(t)
	tests := []struct {
		peer    zmq.Type
		as      string
		succeed bool
	}{{zmq.PULL, "PUSH", true}, {zmq.ROUTER, "DEALER", true}, {zmq.REP, "DEALER", true},
		{zmq.ROUTER, "PUSH", false}, {zmq.PULL, "DEALER", false}, {zmq.PUSH, "PUSH", false}}
	for _, tc := range tests {
		t.Run(tc.as+"-to-"+tc.peer.String(), func(t *testing.T) {
			srv, addr := bind(t, zctx, tc.peer)
			m := monitor(t, zctx, srv)
			ctx, cancel := context.WithTimeout(context.Background(), patient)
			defer cancel()
			p, err := Probe(ctx, addr, tc.as)
			if err != nil || p.SocketType != tc.peer.String() {
				t.Fatalf("probe = %+v, %v", p, err)
			}
			if got := outcome(t, m); got != tc.succeed {
				t.Fatalf("peer saw handshake succeeded = %v, want %v", got, tc.succeed)
			}
		})
	}
}

// TestProbeCurvePeer: a peer that requires CURVE is named as such; its
// socket type stays unknown.
func TestProbeCurvePeer(t *testing.T) {
	if !zmq.HasCurve() {
		t.Skip("libzmq built without CURVE")
	}
	zctx := newContext(t)
	s, err := zctx.NewSocket(zmq.PULL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.SetLinger(0); s.Close() }()
	_, secret, err := zmq.NewCurveKeypair()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetCurveServer(1); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCurveSecretkey(secret); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := s.GetLastEndpoint()
	ctx, cancel := context.WithTimeout(context.Background(), patient)
	defer cancel()
	p, err := Probe(ctx, strings.TrimPrefix(ep, "tcp://"), "PUSH")
	if err != nil || p.Mechanism != "CURVE" || p.SocketType != "" {
		t.Fatalf("probe = %+v, %v", p, err)
	}
	if !strings.Contains(p.String(), "CURVE") {
		t.Fatalf("String() = %q", p.String())
	}
}

// listen serves each connection on a free 127.0.0.1 port with handle
// until the test ends.
func listen(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l.Addr().String()
}

// TestProbeNotZMQ: listeners that are not ZMQ peers are named so, with
// what they did, within the probe's timeout; a closed port is a dial error.
func TestProbeNotZMQ(t *testing.T) {
	httpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(httpSrv.Close)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	tests := []struct {
		name, addr, want string
	}{
		{"http", strings.TrimPrefix(httpSrv.URL, "http://"), "answered as an HTTP server"},
		{"silent", listen(t, func(c net.Conn) { <-hold; c.Close() }), "sent nothing"},
		{"closes", listen(t, func(c net.Conn) { c.Close() }), "closed the connection"},
		{"text", listen(t, func(c net.Conn) { c.Write([]byte("220 mail ready\r\n")); <-hold; c.Close() }), `answered "220 mail ready"`},
		{"zmtp1", listen(t, func(c net.Conn) { c.Write([]byte{0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7e, 0}); <-hold; c.Close() }), "no ZMTP 2.0 or later greeting"},
	}
	const timeout = time.Second
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			_, err := Probe(ctx, tc.addr, "PUSH")
			var nz *NotZMQError
			if !errors.As(err, &nz) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("probe error %v, want a NotZMQError containing %q", err, tc.want)
			}
			if el := time.Since(start); el > timeout+time.Second {
				t.Fatalf("probe took %v with a %v timeout", el, timeout)
			}
		})
	}
	t.Run("closed port", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		_, err := Probe(context.Background(), addr, "PUSH")
		var nz *NotZMQError
		if errors.As(err, &nz) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("probe of a closed port: %v", err)
		}
	})
}

// TestProbeHandWrittenPeers: a ZMTP/2.0 greeting (libzmq 3.x) is read for
// its socket type, and an ERROR command in place of READY is reported.
func TestProbeHandWrittenPeers(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	zmtp2 := listen(t, func(c net.Conn) {
		c.Write([]byte{0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0x01, 0x07, 0, 0})
		<-hold
		c.Close()
	})
	g := greeting()
	g[32] = 1 // as-server
	errCmd := append(append([]byte{}, g...), 0x04, 12)
	errCmd = append(errCmd, "\x05ERROR\x05go on"...)
	refuse := listen(t, func(c net.Conn) { c.Write(errCmd); <-hold; c.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), patient)
	defer cancel()
	if p, err := Probe(ctx, zmtp2, "PUSH"); err != nil || p.SocketType != "PULL" || p.Major != 2 {
		t.Fatalf("ZMTP/2.0 peer: %+v, %v", p, err)
	}
	if p, err := Probe(ctx, refuse, "PUSH"); err != nil || p.Refused != "go on" || p.SocketType != "" {
		t.Fatalf("refusing peer: %+v, %v", p, err)
	}
}

// TestReadyLayout: the READY the probe sends, byte for byte as ZMTP lays
// it out (that libzmq accepts it is TestProbeHandshakeAsCaller's check).
func TestReadyLayout(t *testing.T) {
	got := ready("PUSH")
	want := append([]byte{0x04, 26, 5}, "READY\x0bSocket-Type\x00\x00\x00\x04PUSH"...)
	if string(got) != string(want) {
		t.Fatalf("ready(PUSH) = % x, want % x", got, want)
	}
}
