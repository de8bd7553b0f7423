package zmqx_test

import (
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// TestSinkCountsFramesAndAnswers: each part of a multipart message is a
// frame, bytes add up, and the ROUTER answers with the reply given.
func TestSinkCountsFramesAndAnswers(t *testing.T) {
	reply := wire.ErrorMsg{Error: "boom"}.AppendMsgpack(nil)
	sink, err := zmqx.StartSink("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", reply)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	push, err := zmqx.NewPush(ctx, sink.PullEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	if _, err := push.SendMessage([]byte("abc"), []byte("de"), []byte("f")); err != nil {
		t.Fatal(err)
	}
	if got := sink.WaitPull(3, 2*time.Second); got.Frames != 3 || got.Bytes != 6 {
		t.Fatalf("pull counts %+v", got)
	}
	dealer, err := zmqx.NewDealer(ctx, sink.RouterEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { dealer.SetLinger(0); dealer.Close() }()
	if err := zmqx.SendRequest(dealer, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	got, err := zmqx.RecvReply(dealer)
	if err != nil || string(got) != string(reply) {
		t.Fatalf("reply %x, %v", got, err)
	}
	if r := sink.Router(); r.Frames != 1 || r.Bytes != 4 {
		t.Fatalf("router counts %+v", r)
	}
}

// TestRouterCountsEachRequestBeforeItsReply: a client holding its n-th
// reply always finds n requests counted (the ROUTER counts a request
// before its reply leaves).
func TestRouterCountsEachRequestBeforeItsReply(t *testing.T) {
	sink, err := zmqx.StartSink("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", []byte("ok"))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	dealer, err := zmqx.NewDealer(ctx, sink.RouterEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { dealer.SetLinger(0); dealer.Close() }()
	for n := int64(1); n <= 2000; n++ {
		if err := zmqx.SendRequest(dealer, []byte("q")); err != nil {
			t.Fatal(err)
		}
		if _, err := zmqx.RecvReply(dealer); err != nil {
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
	sink, err := zmqx.StartSink("tcp://127.0.0.1:*", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	push, err := zmqx.NewPush(ctx, sink.PullEndpoint())
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
	sink.WaitPull(1000, 5*time.Second)
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

func TestSinkBadEndpoint(t *testing.T) {
	if _, err := zmqx.StartSink("tcp://127.0.0.1:notaport", "", nil); err == nil {
		t.Fatal("bad endpoint accepted")
	}
}

// TestSinkSpanIsFirstToLastFrame: the span a rate is measured over runs
// from the first frame's arrival to the last one's. The test lets at least
// a known gap pass between seeing the first frame counted and sending the
// second, so the span is at least that gap and at most the whole exchange,
// however slowly the machine runs.
func TestSinkSpanIsFirstToLastFrame(t *testing.T) {
	sink, err := zmqx.StartSink("tcp://127.0.0.1:*", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	push, err := zmqx.NewPush(ctx, sink.PullEndpoint())
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
	sink, err := zmqx.StartSink("tcp://127.0.0.1:*", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if n := testing.AllocsPerRun(1000, func() { sink.Pull() }); n != 0 {
		t.Fatalf("Pull allocates %v times per call", n)
	}
}
