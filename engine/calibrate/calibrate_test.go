package calibrate

import (
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/stream"
	"github.com/lmfast/lmfast/wire"
)

func short(transport string, senders int) Common {
	return Common{Transport: transport, Senders: senders, Duration: 250 * time.Millisecond}
}

// TestPushCountsWhatArrived: over both transports, the sink receives every
// message the PUSH sockets accepted, and the rate is what it received.
func TestPushCountsWhatArrived(t *testing.T) {
	payload := SampleBatch(50, 10000, 1)
	for _, tc := range []struct {
		transport string
		senders   int
	}{{"tcp", 1}, {"ipc", 1}, {"tcp", 2}} {
		t.Run(tc.transport, func(t *testing.T) {
			start := time.Now()
			m, err := Push(context.Background(), short(tc.transport, tc.senders), payload)
			wall := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if m.Sent == 0 || m.Received != m.Sent || m.Rate <= 0 || m.Bytes != len(payload) {
				t.Fatalf("%+v", m)
			}
			// The rate is what arrived over the span from the first frame
			// to the last (TestSinkSpanIsFirstToLastFrame pins the span),
			// which lies within the call.
			if want := float64(m.Received-1) / m.Seconds; m.Rate != want || m.Seconds <= 0 || m.Seconds > wall.Seconds() {
				t.Fatalf("rate %v over %v s, want %v over a span within the call's %v", m.Rate, m.Seconds, want, wall)
			}
		})
	}
}

func TestRoundTripCountsReplies(t *testing.T) {
	req, rep := SampleLookup(100, 10000)
	for _, transport := range Transports {
		t.Run(transport, func(t *testing.T) {
			m, err := RoundTrip(context.Background(), short(transport, 1), 3, req, rep)
			if err != nil {
				t.Fatal(err)
			}
			if m.Sent == 0 || m.Sent != m.Received || m.Lanes != 3 || m.Rate <= 0 {
				t.Fatalf("%+v", m)
			}
		})
	}
}

// TestEnginePushIsCountedAtTheSink: the engine's admit batches all reach
// the counting sink, and their mean size lies between that of a batch at
// sequence number 0 and SampleBatch's steady state (a short run has more
// of the short early numbers).
func TestEnginePushIsCountedAtTheSink(t *testing.T) {
	m, err := EnginePush(context.Background(), short("tcp", 1), 50, 10000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sent == 0 || m.Received != m.Sent {
		t.Fatalf("%+v", m)
	}
	steady := len(SampleBatch(50, 10000, 7))
	keys := make([]wire.Int, 50)
	for i := range keys {
		keys[i] = wire.IntOf(5000) // the key space's common width
	}
	early := len(wire.NewBatchEncoder("instance_p0_0", 0, "location_0").AppendKeys(nil, wire.OpAdmit, keys, 0))
	if m.Bytes < early*98/100 || m.Bytes > steady*102/100 {
		t.Fatalf("engine batches are %d B, want %d..%d B", m.Bytes, early, steady)
	}
}

// TestSinkCountsFramesAndAnswers: each part of a multipart message is a
// frame, bytes add up, and the ROUTER answers with the reply given.
func TestSinkCountsFramesAndAnswers(t *testing.T) {
	reply := wire.ErrorMsg{Error: "boom"}.AppendMsgpack(nil)
	sink, err := StartSink("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", reply)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	push, err := wire.NewPush(ctx, sink.PullEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	if _, err := push.SendMessage([]byte("abc"), []byte("de"), []byte("f")); err != nil {
		t.Fatal(err)
	}
	if got := sink.WaitPull(3, 10*time.Second); got.Frames != 3 || got.Bytes != 6 {
		t.Fatalf("pull counts %+v", got)
	}
	dealer, err := wire.NewDealer(ctx, sink.RouterEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { dealer.SetLinger(0); dealer.Close() }()
	if err := wire.SendRequest(dealer, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	got, err := wire.RecvReply(dealer)
	if err != nil || string(got) != string(reply) {
		t.Fatalf("reply %x, %v", got, err)
	}
	if r := sink.Router(); r.Frames != 1 || r.Bytes != 4 {
		t.Fatalf("router counts %+v", r)
	}
}

// TestSinkSpanIsFirstToLastFrame: the span a rate is measured over runs
// from the first frame's arrival to the last one's. The test lets at least
// a known gap pass between seeing the first frame counted and sending the
// second, so the span is at least that gap and at most the whole exchange,
// however slowly the machine runs.
func TestSinkSpanIsFirstToLastFrame(t *testing.T) {
	sink, err := StartSink("tcp://127.0.0.1:*", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	push, err := wire.NewPush(ctx, sink.PullEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { push.SetLinger(0); push.Close() }()
	start := time.Now()
	if _, err := push.SendBytes([]byte("first"), 0); err != nil {
		t.Fatal(err)
	}
	if got := sink.WaitPull(1, 10*time.Second); got.Frames != 1 || got.Span != 0 || got.Rate() != 0 {
		t.Fatalf("after one frame: %+v, rate %v", got, got.Rate())
	}
	seen := time.Now() // the first frame arrived before this
	time.Sleep(50 * time.Millisecond)
	sent := time.Now() // the second frame leaves after this
	if _, err := push.SendBytes([]byte("second"), 0); err != nil {
		t.Fatal(err)
	}
	got := sink.WaitPull(2, 10*time.Second)
	whole := time.Since(start)
	if got.Frames != 2 || got.Span < sent.Sub(seen) || got.Span > whole {
		t.Fatalf("span %v, want between %v and %v (%+v)", got.Span, sent.Sub(seen), whole, got)
	}
	if got.Rate() != 1/got.Span.Seconds() {
		t.Fatalf("rate %v over %v", got.Rate(), got.Span)
	}
}

// TestSinkPullAllocatesNothing: reading the counts allocates nothing, so
// a test may poll them inside a window in which it counts allocations.
func TestSinkPullAllocatesNothing(t *testing.T) {
	sink, err := StartSink("tcp://127.0.0.1:*", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if n := testing.AllocsPerRun(1000, func() { sink.Pull() }); n != 0 {
		t.Fatalf("Pull allocates %v times per call", n)
	}
}

func TestBadSettings(t *testing.T) {
	p := SampleBatch(5, 10, 1)
	tests := []struct {
		name string
		c    Common
		want string
	}{
		{"transport", Common{Transport: "udp", Senders: 1, Duration: time.Millisecond}, "unknown transport"},
		{"senders", Common{Transport: "tcp", Duration: time.Millisecond}, "at least one sender"},
		{"cpus", Common{Transport: "tcp", Senders: 2, CPUs: []int{0}, Duration: time.Millisecond}, "1 CPUs for 2 senders"},
		{"duration", Common{Transport: "tcp", Senders: 1}, "duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Push(context.Background(), tc.c, p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := StartSink("tcp://127.0.0.1:notaport", "", nil); err == nil {
		t.Fatal("bad endpoint accepted")
	}
}

// TestEngineSteadyStateAllocatesNothingPerMessage: while the sink counts
// an admit-only engine run's frames 10 000 to 40 000 (rings filled,
// sockets up) the whole process allocates far less than once per frame:
// producers encode into reused ring slots, senders send from them, and the
// sink's C loop allocates nothing in Go, so what is counted is the engine.
// The window is set by frame counts, so a slow machine only makes it
// longer; the bound allows the run's few timed allocations (a memory
// sample a second) on top of one per hundred frames, far below the one or
// more per frame of an allocation in the send path.
func TestEngineSteadyStateAllocatesNothingPerMessage(t *testing.T) {
	sink, err := StartSink("tcp://127.0.0.1:*", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	mix, _ := engine.ParseOperations("admit:100")
	cfg := engine.Config{PullEndpoint: sink.PullEndpoint(), Duration: time.Minute, BatchSize: 50, Mix: mix,
		NumInstances: 10, NumWorkers: 1, NumLocations: 2, NumKeys: 10000, NumHashes: 1, Senders: 1, Concurrency: 1,
		Seed: 3, Interval: time.Hour, DrainTimeout: 5 * time.Second}
	const from, to = 10_000, 40_000
	type snap struct {
		mallocs uint64
		frames  int64
		at      time.Time
	}
	take := func() snap {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return snap{ms.Mallocs, sink.Pull().Frames, time.Now()}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reached := func(n int64) bool {
		for sink.Pull().Frames < n {
			if ctx.Err() != nil {
				return false
			}
			time.Sleep(time.Millisecond)
		}
		return true
	}
	window := make(chan [2]snap, 1)
	hooks := engine.Hooks{Started: func() {
		go func() {
			defer close(window)
			if !reached(from) {
				return
			}
			a := take()
			if !reached(to) {
				return
			}
			window <- [2]snap{a, take()}
			cancel() // the window is measured: end the run
		}()
	}}
	if _, err := engine.Run(ctx, cfg, stream.New(io.Discard, "controller", "t"), hooks); err != nil {
		t.Fatal(err)
	}
	cancel()
	w, ok := <-window
	if !ok {
		t.Fatalf("the sink counted %d frames in the run's %v, fewer than the %d the window needs", sink.Pull().Frames, cfg.Duration, to)
	}
	frames, mallocs, secs := w[1].frames-w[0].frames, w[1].mallocs-w[0].mallocs, w[1].at.Sub(w[0].at).Seconds()
	bound := float64(frames)/100 + 50*secs
	t.Logf("%d allocations for %d frames in %.2f s: %.5f per frame (bound %.0f)", mallocs, frames, secs, float64(mallocs)/float64(frames), bound)
	if float64(mallocs) > bound {
		t.Fatalf("%d allocations for %d frames in %.2f s, more than %.0f", mallocs, frames, secs, bound)
	}
}

// TestRouterCountsEachRequestBeforeItsReply: a client holding its n-th
// reply always finds n requests counted (the ROUTER used to count after
// replying and lost that race on about 1.5 % of requests).
func TestRouterCountsEachRequestBeforeItsReply(t *testing.T) {
	sink, err := StartSink("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", []byte("ok"))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	dealer, err := wire.NewDealer(ctx, sink.RouterEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { dealer.SetLinger(0); dealer.Close() }()
	for n := int64(1); n <= 2000; n++ {
		if err := wire.SendRequest(dealer, []byte("q")); err != nil {
			t.Fatal(err)
		}
		if _, err := wire.RecvReply(dealer); err != nil {
			t.Fatal(err)
		}
		if got := sink.Router().Frames; got != n {
			t.Fatalf("holding reply %d, the ROUTER has counted %d requests", n, got)
		}
	}
}

// TestSinkClosesUnderSteadyTraffic: Close returns while a sender keeps
// sending (the loop checks stop before every frame, not only when idle),
// and counts read after Close are the final ones.
func TestSinkClosesUnderSteadyTraffic(t *testing.T) {
	sink, err := StartSink("tcp://127.0.0.1:*", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	push, err := wire.NewPush(ctx, sink.PullEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { push.SetLinger(0); push.Close() }()
	stop, sent := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				sent <- n
				return
			default:
			}
			if _, err := push.SendBytes([]byte("x"), zmq.DONTWAIT); err == nil {
				n++
			}
		}
	}()
	sink.WaitPull(1000, 10*time.Second)
	closed := make(chan struct{})
	go func() { sink.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while frames kept arriving")
	}
	close(stop)
	<-sent
	a, b := sink.Pull(), sink.Pull()
	if a.Frames < 1000 || a != b {
		t.Fatalf("counts after Close: %+v then %+v", a, b)
	}
}
