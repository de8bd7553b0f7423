package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/engine/enginetest"
	"github.com/lmfast/lmfast/refcontroller"
	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// router is a ROUTER on a free 127.0.0.1 port served by a test's handler:
// handle gets each request's payload and returns the reply, or nil for
// none. It runs until the test ends.
func router(t *testing.T, handle func(payload []byte) []byte) string {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	sock, err := ctx.NewSocket(zmq.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	if err := sock.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := sock.GetLastEndpoint()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		poller := zmq.NewPoller()
		poller.Add(sock, zmq.POLLIN)
		for {
			select {
			case <-stop:
				sock.SetLinger(0)
				sock.Close()
				ctx.Term()
				return
			default:
			}
			if polled, _ := poller.Poll(20 * time.Millisecond); len(polled) == 0 {
				continue
			}
			frames, err := sock.RecvMessageBytes(zmq.DONTWAIT)
			if err != nil || len(frames) < 3 {
				continue
			}
			if reply := handle(frames[2]); reply != nil {
				sock.SendMessage(frames[0], "", reply)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return ep
}

// waitFor polls cond until it holds or max passed, and reports whether it
// held.
func waitFor(max time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(max); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestRegisterNeverAnsweredEndsAtTheTimeout: against a reply endpoint that
// reads and never answers, pre-registration of every worker ends together
// at --register-timeout (not after a request timeout per worker, one after
// another), the run does not start, the error says what the run
// says of a request timeout, and each worker sent is deregistered in case
// the controller registers it late.
func TestRegisterNeverAnsweredEndsAtTheTimeout(t *testing.T) {
	k := enginetest.Start(t)
	cfg := testConfig(k, "admit:100")
	cfg.ReplyEndpoint = router(t, func([]byte) []byte { return nil })
	cfg.NumInstances, cfg.NumWorkers = 10, 1
	cfg.RegisterTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := Run(context.Background(), cfg, Discard, Hooks{})
	elapsed := time.Since(start)
	var re *RegisterError
	if !errors.As(err, &re) {
		t.Fatalf("Run: %v, want a RegisterError", err)
	}
	want := "Request timeout - Controller may not be running at " + cfg.ReplyEndpoint
	if re.Failed != 10 || re.Reason != want {
		t.Fatalf("RegisterError %+v, want 10 failed with %q", re, want)
	}
	if elapsed > 10*time.Second {
		t.Fatalf("pre-registration took %v with --register-timeout 300ms", elapsed)
	}
	var got enginetest.Counts
	if !waitFor(10*time.Second, func() bool { got = k.Settle(); return got.ByType["DeRegisterMsg"] == 10 }) {
		t.Fatalf("the PULL socket received %d DeRegisterMsg, want 10", got.ByType["DeRegisterMsg"])
	}
	if got.ByType["BatchedKVOperationMsg"] != 0 {
		t.Fatalf("%d batches sent although no worker was registered", got.ByType["BatchedKVOperationMsg"])
	}
}

// TestRegisterPartlyFailedLoadsOnlyRegisteredWorkers: when the controller
// refuses some registrations, the run goes on with the workers it
// registered: the reference controller drops no batch (none comes from an
// unregistered worker), every registered worker is deregistered at the
// end, and the counts say how many failed.
func TestRegisterPartlyFailedLoadsOnlyRegisteredWorkers(t *testing.T) {
	srv, err := refcontroller.Start(context.Background(), refcontroller.Config{Host: "127.0.0.1",
		HeartbeatPort: refcontroller.NoPort, HTTPPort: refcontroller.NoPort})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// A reply endpoint in front of the controller's that refuses worker 1
	// of every instance and passes the rest on, one at a time.
	zctx, _ := zmq.NewContext()
	defer zctx.Term()
	upstream, err := zmqx.NewDealer(zctx, fmt.Sprintf("tcp://127.0.0.1:%d", srv.Ports().Reply))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { upstream.SetLinger(0); upstream.Close() }()
	front := router(t, func(payload []byte) []byte {
		m, err := wire.Decode(payload)
		if r, ok := m.(*wire.RegisterMsg); err == nil && ok && r.WorkerID == 1 {
			return wire.ErrorMsg{Error: "refused"}.AppendMsgpack(nil)
		}
		if err := zmqx.SendRequest(upstream, payload); err != nil {
			return nil
		}
		reply, _ := zmqx.RecvReply(upstream)
		return reply
	})

	ops, _ := ParseOperations("admit:70,evict:30")
	cfg := Config{PullEndpoint: fmt.Sprintf("tcp://127.0.0.1:%d", srv.Ports().Pull), ReplyEndpoint: front,
		Duration: 700 * time.Millisecond, BatchSize: 20, Mix: ops, NumInstances: 6, NumWorkers: 2, NumLocations: 2,
		NumKeys: 1000, NumHashes: 1, RegisterFirst: true, Senders: 2, Concurrency: 1, Seed: 7,
		Interval: 200 * time.Millisecond, DrainTimeout: 5 * time.Second}
	rec := &recorder{}
	res, err := Run(context.Background(), cfg, rec, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.RegisteredOK != 6 || res.RegisterFailed != 6 {
		t.Fatalf("registered %d, failed %d; want 6 and 6", res.RegisteredOK, res.RegisterFailed)
	}
	var batches int64
	for _, o := range res.Ops {
		batches += o.Requests
	}
	var c refcontroller.Counters
	settled := waitFor(20*time.Second, func() bool {
		c = srv.Counters()
		return c.Batches+c.DroppedBatches == batches && c.Deregistered+c.DeregisterMisses == res.TeardownFrames
	})
	if !settled || batches == 0 {
		t.Fatalf("the engine sent %d batches and %d DeRegisterMsg; the controller has %+v", batches, res.TeardownFrames, c)
	}
	if c.DroppedBatches != 0 || c.Deregistered != 6 || c.DeregisterMisses != 0 || c.Registered != 0 {
		t.Fatalf("controller after the run: %d batches dropped (unregistered worker), %d deregistered, %d misses, %d still registered",
			c.DroppedBatches, c.Deregistered, c.DeregisterMisses, c.Registered)
	}
	if n := rec.errorCount(OpRegister, "pre-registration: controller error: refused"); n != 6 {
		t.Fatalf("refused registrations reported %d times, want 6: %+v", n, rec.errors)
	}
}

// TestCancelDuringRegistration: a cancel while many workers are being
// registered ends Run within the stop budget's order of magnitude (rather
// than after registering every worker and deregistering them one round
// trip at a time), sends no load, and leaves no worker registered but those
// whose registration was still unanswered when the stop budget ran out: the
// DeRegisterMsg of such a worker goes out on the PUSH socket and may be
// applied before its RegisterMsg, still queued on the controller's ROUTER
// (how many there were is the "interrupted before the reply arrived" count),
// and each such worker's DeRegisterMsg then missed.
func TestCancelDuringRegistration(t *testing.T) {
	srv, err := refcontroller.Start(context.Background(), refcontroller.Config{Host: "127.0.0.1",
		HeartbeatPort: refcontroller.NoPort, HTTPPort: refcontroller.NoPort})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ops, _ := ParseOperations("admit:100")
	cfg := Config{PullEndpoint: fmt.Sprintf("tcp://127.0.0.1:%d", srv.Ports().Pull),
		ReplyEndpoint: fmt.Sprintf("tcp://127.0.0.1:%d", srv.Ports().Reply),
		Duration:      time.Minute, BatchSize: 20, Mix: ops, NumInstances: 5000, NumWorkers: 10, NumLocations: 1,
		NumKeys: 1000, NumHashes: 1, RegisterFirst: true, Senders: 2, Concurrency: 1, Seed: 7,
		Interval: time.Second, DrainTimeout: 5 * time.Second, Registering: &RegisterProgress{}}
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan time.Time, 1)
	go func() {
		waitFor(time.Minute, func() bool { return cfg.Registering.OK.Load() >= 100 })
		cancelled <- time.Now()
		cancel()
	}()
	rec := &recorder{}
	res, err := Run(ctx, cfg, rec, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(<-cancelled)
	t.Logf("Run returned %v after the cancel; %d workers registered, %d DeRegisterMsg", took, res.RegisteredOK, res.TeardownFrames)
	if took > 10*time.Second {
		t.Fatalf("Run returned %v after the cancel", took)
	}
	if !res.Interrupted || res.RegisteredOK >= 50000 || res.PushFrames != 0 {
		t.Fatalf("interrupted %v, %d registered, %d frames of load", res.Interrupted, res.RegisteredOK, res.PushFrames)
	}
	unanswered := rec.errorCount(OpRegister, preRegistration+"interrupted before the reply arrived")
	if res.TeardownFrames != res.RegisteredOK+unanswered {
		t.Fatalf("%d DeRegisterMsg for %d registered workers and %d unanswered", res.TeardownFrames, res.RegisteredOK, unanswered)
	}
	var c refcontroller.Counters
	if !waitFor(time.Minute, func() bool { c = srv.Counters(); return c.Deregistered+c.DeregisterMisses == res.TeardownFrames }) ||
		int64(c.Registered) > unanswered || int64(c.Registered) > c.DeregisterMisses {
		t.Fatalf("controller: %d registered, %d deregistered, %d misses; the engine sent %d DeRegisterMsg, %d registrations unanswered at the stop",
			c.Registered, c.Deregistered, c.DeregisterMisses, res.TeardownFrames, unanswered)
	}
}
