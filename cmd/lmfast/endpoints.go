package main

// The pre-run check of lmfast controller's target: every configured port
// must answer as the socket LMCache's controller binds there.

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmfast/lmfast/internal/zmtp"
)

// probeTimeout bounds the check of all endpoints (they are probed at
// once), so a wrong target is reported within 3 s of the start.
const probeTimeout = 2 * time.Second

// endpointRole is one --monitor-ports key: the socket lmfast connects to
// it and the socket types of a controller that lmfast can load there.
type endpointRole struct {
	key  string
	ours string
	want []string
}

// roles: LMCache's controller binds PULL for pull and ROUTER for reply and
// heartbeat (its releases that talked REQ to REP bound REP, which lmfast's
// DEALER also talks to).
var roles = []endpointRole{
	{"pull", "PUSH", []string{"PULL"}},
	{"reply", "DEALER", []string{"ROUTER", "REP"}},
	{"heartbeat", "DEALER", []string{"ROUTER", "REP"}},
}

// checkEndpoints probes every configured port of host with a ZMTP
// handshake and returns a bad-input error naming the first one (in the
// order pull, reply, heartbeat) that nothing listens on, that is not a ZMQ
// peer, or whose socket type is not the controller's.
func checkEndpoints(ctx context.Context, host string, ports monitorPorts) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	byKey := map[string]int{"pull": ports.Pull, "reply": ports.Reply, "heartbeat": ports.Heartbeat}
	errs := make([]error, len(roles))
	done := make(chan struct{}, len(roles))
	for i, r := range roles {
		go func() {
			defer func() { done <- struct{}{} }()
			if port := byKey[r.key]; port != 0 {
				errs[i] = checkEndpoint(ctx, r, net.JoinHostPort(host, strconv.Itoa(port)))
			}
		}()
	}
	for range roles {
		<-done
	}
	for _, err := range errs {
		if errors.Is(err, context.Canceled) {
			return errInterrupted
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkEndpoint probes one port as lmfast's socket for role r.
func checkEndpoint(ctx context.Context, r endpointRole, addr string) error {
	const hint = "check --controller-host and --monitor-ports, or use --embedded"
	peer, err := zmtp.Probe(ctx, addr, r.ours)
	var notZMQ *zmtp.NotZMQError
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &notZMQ):
		return badInput("--monitor-ports %s: %s is %v; %s", r.key, addr, err, hint)
	case err != nil:
		return badInput("--monitor-ports %s: controller not reachable at %s: %v; %s", r.key, addr, err, hint)
	case !slices.Contains(r.want, peer.SocketType):
		want := r.want[0]
		if len(r.want) > 1 {
			want += " (or " + strings.Join(r.want[1:], ", ") + ")"
		}
		return badInput("--monitor-ports %s: %s is %v, not the controller's %s socket; %s", r.key, addr, peer, want, hint)
	}
	return nil
}
