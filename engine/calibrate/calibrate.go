package calibrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/internal/cpus"
	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// Transports are the ZMQ transports calibrate knows.
var Transports = []string{"tcp", "ipc"}

// Kinds of Measurement.
const (
	KindPush            = "push"              // raw PUSH→PULL
	KindRoundTrip       = "round_trip"        // raw DEALER→ROUTER request/reply
	KindEnginePush      = "engine_push"       // lmfast's engine (admit batches) → PULL
	KindEngineRoundTrip = "engine_round_trip" // lmfast's engine (p2p lookups) → ROUTER
)

// Measurement is one calibrated figure.
type Measurement struct {
	Kind      string
	Transport string
	Bytes     int     // payload bytes per message (mean for the engine)
	Senders   int     // sending goroutines, each with its own sockets
	Lanes     int     // round trips: requests in flight over all senders
	Sent      int64   // messages the senders' sockets accepted (requests answered, for round trips)
	Received  int64   // messages the sink counted
	Seconds   float64 // the span the rate is measured over
	Rate      float64 // received messages per second
}

// MiBPerSec is the payload throughput of m.
func (m Measurement) MiBPerSec() float64 { return m.Rate * float64(m.Bytes) / (1 << 20) }

// Common are the settings every measurement takes.
type Common struct {
	Transport string        // "tcp" or "ipc"
	Senders   int           // sending goroutines (at least 1)
	CPUs      []int         // when set, sender i is pinned to CPUs[i]
	Duration  time.Duration // how long the senders send
}

// Ceiling measures a controller run's own ceilings, each for c.Duration:
// raw PUSH of a batch of batchSize keys in 0..numKeys-1 and lmfast's
// engine pushing such batches (EnginePush); when the run has request ops
// (lanes > 0), raw round trips and the engine's lookups (EngineRoundTrip)
// with lanes in flight per sender.
func Ceiling(ctx context.Context, c Common, batchSize, numKeys, numHashes, lanes int, seed uint64) (engine.Ceiling, error) {
	batch := SampleBatch(batchSize, numKeys, seed)
	out := engine.Ceiling{Transport: c.Transport, PushBytes: len(batch)}
	raw, err := Push(ctx, c, batch)
	if err != nil {
		return out, err
	}
	eng, err := EnginePush(ctx, c, batchSize, numKeys, seed)
	if err != nil {
		return out, err
	}
	out.PushPerSec, out.EnginePushPerSec = raw.Rate, eng.Rate
	if lanes > 0 {
		request, reply := SampleLookup(numHashes, numKeys)
		rt, err := RoundTrip(ctx, c, lanes, request, reply)
		if err != nil {
			return out, err
		}
		ert, err := EngineRoundTrip(ctx, c, lanes, numHashes, numKeys, seed)
		if err != nil {
			return out, err
		}
		out.RoundTripPerSec, out.EngineRoundTripPerSec = rt.Rate, ert.Rate
	}
	return out, nil
}

// Push measures raw PUSH→PULL: every sender sends payload in a tight loop
// on its own PUSH socket (SNDHWM and SNDTIMEO as lmfast's engine) for
// c.Duration. The one payload stays hot in the sender's cache, which makes
// this the strictest ceiling (sending a ring of 1024 distinct batches, as
// the engine does, measured the same within noise). The rate is what the
// sink received per second; it is an error if the sink did not receive
// every message the sockets accepted.
func Push(ctx context.Context, c Common, payload []byte) (Measurement, error) {
	m := Measurement{Kind: KindPush, Transport: c.Transport, Bytes: len(payload), Senders: c.Senders}
	if len(payload) == 0 {
		return m, errors.New("empty payload")
	}
	sink, done, err := openSink(c, false, nil)
	if err != nil {
		return m, err
	}
	defer done()
	zctx, err := senderContext(c)
	if err != nil {
		return m, err
	}

	var sent atomic.Int64
	var mu sync.Mutex
	var pushes []*zmq.Socket
	err = runSenders(ctx, c, func(stop <-chan struct{}, ready func()) error {
		push, err := zmqx.NewPush(zctx, sink.PullEndpoint())
		if err != nil {
			return err
		}
		mu.Lock()
		pushes = append(pushes, push)
		mu.Unlock()
		ready()
		n := int64(0)
		defer func() { sent.Add(n) }()
		for {
			for i := 0; i < 64; i++ {
				if _, err := push.SendBytes(payload, 0); err != nil {
					return fmt.Errorf("PUSH send: %w", err)
				}
				n++
			}
			select {
			case <-stop:
				return nil
			default:
			}
		}
	})
	// The sockets stay connected until the sink has counted what they
	// accepted (or drainWait passed without progress): closing a PUSH
	// socket while its peer's receive queue is full can lose what is still
	// on the connection, linger or not (libzmq issue #4660; seen here over
	// ipc with the sink slowed by -race on a loaded machine). A run that
	// failed or was interrupted is not a result and does not wait.
	var got zmqx.Counts
	if err == nil {
		got = sink.WaitPull(sent.Load(), drainWait)
	}
	for _, p := range pushes {
		p.SetLinger(0)
		p.Close()
	}
	zctx.Term()
	if err != nil {
		return m, err
	}
	m.Sent, m.Received, m.Seconds, m.Rate = sent.Load(), got.Frames, got.Span.Seconds(), got.Rate()
	if got.Frames != m.Sent {
		return m, fmt.Errorf("the sink received %d of the %d messages the PUSH sockets accepted", got.Frames, m.Sent)
	}
	return m, nil
}

// RoundTrip measures raw DEALER→ROUTER request/reply: every sender keeps
// lanes requests in flight, each on its own DEALER socket (as lmfast's
// engine does with --concurrency), against a ROUTER that answers each
// request with reply at once. The rate is round trips per second.
func RoundTrip(ctx context.Context, c Common, lanes int, request, reply []byte) (Measurement, error) {
	m := Measurement{Kind: KindRoundTrip, Transport: c.Transport, Bytes: len(request), Senders: c.Senders, Lanes: lanes * c.Senders}
	if lanes < 1 {
		return m, errors.New("need at least one lane per sender")
	}
	sink, done, err := openSink(c, true, reply)
	if err != nil {
		return m, err
	}
	defer done()
	zctx, err := senderContext(c)
	if err != nil {
		return m, err
	}
	defer zctx.Term()

	var answered atomic.Int64
	var began, ended atomic.Int64 // Unix ns of the first send and the last reply
	err = runSenders(ctx, c, func(stop <-chan struct{}, ready func()) error {
		poller := zmq.NewPoller()
		socks := make([]*zmq.Socket, lanes)
		for i := range socks {
			s, err := zmqx.NewDealer(zctx, sink.RouterEndpoint())
			if err != nil {
				return err
			}
			defer func() { s.SetLinger(0); s.Close() }()
			socks[i] = s
			poller.Add(s, zmq.POLLIN)
		}
		// One round trip per lane first, so every connection is up.
		for _, s := range socks {
			if err := zmqx.SendRequest(s, request); err != nil {
				return err
			}
			if _, err := zmqx.RecvReply(s); err != nil {
				return fmt.Errorf("warm-up round trip: %w", err)
			}
		}
		ready()
		began.CompareAndSwap(0, time.Now().UnixNano())
		for _, s := range socks {
			if err := zmqx.SendRequest(s, request); err != nil {
				return err
			}
		}
		n := int64(0)
		defer func() { answered.Add(n) }()
		stopping, inFlight := false, lanes
		for inFlight > 0 {
			polled, err := poller.Poll(zmqx.RecvTimeout)
			if err != nil {
				return err
			}
			if len(polled) == 0 {
				return errors.New("round trip: no reply within the receive timeout")
			}
			for _, p := range polled {
				if _, err := zmqx.RecvReply(p.Socket); err != nil {
					return err
				}
				n++
				inFlight--
				if !stopping {
					select {
					case <-stop:
						stopping = true
					default:
					}
				}
				if !stopping {
					if err := zmqx.SendRequest(p.Socket, request); err != nil {
						return err
					}
					inFlight++
				}
			}
		}
		for t := time.Now().UnixNano(); ; {
			old := ended.Load()
			if t <= old || ended.CompareAndSwap(old, t) {
				break
			}
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	m.Sent = answered.Load()
	m.Received = sink.Router().Frames - int64(lanes*c.Senders) // minus the warm-up requests
	m.Seconds = time.Duration(ended.Load() - began.Load()).Seconds()
	if m.Seconds > 0 {
		m.Rate = float64(m.Sent) / m.Seconds
	}
	if m.Received != m.Sent {
		return m, fmt.Errorf("the ROUTER answered %d requests, the senders counted %d replies", m.Received, m.Sent)
	}
	return m, nil
}

// EnginePush measures lmfast's own engine the way Push measures raw
// pebbe/zmq4: an admit-only closed-loop run (batchSize KV ops per
// BatchedKVOperationMsg, keys in 0..numKeys-1, no pre-registration) into
// the same counting sink, for c.Duration. The ratio of its Rate to Push's
// with SampleBatch bytes is the engine's efficiency.
func EnginePush(ctx context.Context, c Common, batchSize, numKeys int, seed uint64) (Measurement, error) {
	m := Measurement{Kind: KindEnginePush, Transport: c.Transport, Senders: c.Senders}
	sink, done, err := openSink(c, false, nil)
	if err != nil {
		return m, err
	}
	defer done()
	mix, _ := engine.ParseOperations("admit:100")
	cfg := engine.Config{
		PullEndpoint: sink.PullEndpoint(), Duration: c.Duration, BatchSize: batchSize, Mix: mix,
		NumInstances: 10, NumWorkers: 1, NumLocations: 1, NumKeys: numKeys, NumHashes: 1,
		Senders: c.Senders, CPUs: c.CPUs, Concurrency: 1, Seed: seed,
		Interval: time.Hour, DrainTimeout: drainWait,
	}
	res, err := engine.Run(ctx, cfg, engine.Discard, engine.Hooks{})
	if err != nil {
		return m, err
	}
	if ctx.Err() != nil {
		return m, ctx.Err() // cut short: not a result
	}
	got := sink.WaitPull(res.PushFrames, drainWait)
	m.Sent, m.Received, m.Seconds, m.Rate = res.PushFrames, got.Frames, got.Span.Seconds(), got.Rate()
	if res.PushFrames > 0 {
		m.Bytes = int(res.PushBytes / res.PushFrames)
	}
	if got.Frames != res.PushFrames {
		return m, fmt.Errorf("the sink received %d of the %d frames the engine sent", got.Frames, res.PushFrames)
	}
	if !res.Drained {
		return m, fmt.Errorf("the engine's queue did not drain within %s", drainWait)
	}
	return m, nil
}

// EngineRoundTrip measures lmfast's engine on request/reply the way
// RoundTrip measures raw pebbe/zmq4: a p2p_lookup-only closed-loop run
// (lanes lookups of numHashes hashes in flight per sender, each reply's
// type checked) against a ROUTER that answers each with the miss reply at
// once. The rate is lookups answered per second of the run.
func EngineRoundTrip(ctx context.Context, c Common, lanes, numHashes, numKeys int, seed uint64) (Measurement, error) {
	m := Measurement{Kind: KindEngineRoundTrip, Transport: c.Transport, Senders: c.Senders, Lanes: lanes * c.Senders}
	request, reply := SampleLookup(numHashes, numKeys)
	m.Bytes = len(request)
	sink, done, err := openSink(c, true, reply)
	if err != nil {
		return m, err
	}
	defer done()
	mix, _ := engine.ParseOperations("p2p_lookup:100")
	cfg := engine.Config{
		PullEndpoint: sink.PullEndpoint(), ReplyEndpoint: sink.RouterEndpoint(), Duration: c.Duration, Mix: mix,
		BatchSize: 1, NumInstances: 10, NumWorkers: 1, NumLocations: 1, NumKeys: numKeys, NumHashes: numHashes,
		Senders: c.Senders, CPUs: c.CPUs, Concurrency: lanes, Seed: seed, Interval: time.Hour, DrainTimeout: drainWait,
	}
	res, err := engine.Run(ctx, cfg, engine.Discard, engine.Hooks{})
	if err != nil {
		return m, err
	}
	if ctx.Err() != nil {
		return m, ctx.Err()
	}
	requests, _, errs := res.Totals()
	m.Sent, m.Received, m.Seconds = requests, sink.Router().Frames, res.Elapsed.Seconds()
	if m.Seconds > 0 {
		m.Rate = float64(requests) / m.Seconds
	}
	if errs != 0 || m.Received != requests {
		return m, fmt.Errorf("the ROUTER answered %d lookups, the engine counted %d and %d errors", m.Received, requests, errs)
	}
	return m, nil
}

// SampleBatch returns one admit BatchedKVOperationMsg of batchSize keys
// drawn from 0..numKeys-1, encoded as the engine's producers encode them:
// the bytes Push sends to compare with EnginePush. Its sequence numbers
// start at steadySeq, where a run's counters spend nearly all of it (each
// a 5-byte msgpack int), so the sample has the size of a run's batches.
func SampleBatch(batchSize, numKeys int, seed uint64) []byte {
	keys := make([]wire.Int, batchSize)
	x := seed | 1
	for i := range keys {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		keys[i] = wire.IntOf(int64(x % uint64(max(1, numKeys))))
	}
	enc := wire.NewBatchEncoder(engine.InstanceID(0, 0), 0, engine.LocationName(0))
	return enc.AppendKeys(nil, wire.OpAdmit, keys, steadySeq)
}

// SampleLookup returns one BatchedP2PLookupMsg of numHashes hashes and the
// controller's miss reply to it: the bytes RoundTrip exchanges.
func SampleLookup(numHashes, numKeys int) (request, reply []byte) {
	hashes := make([]wire.Int, numHashes)
	for i := range hashes {
		hashes[i] = wire.IntOf(int64(i * 7919 % max(1, numKeys)))
	}
	request = wire.NewP2PEncoder(engine.InstanceID(0, 0), 0).Append(nil, hashes)
	reply = wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{{}}}.AppendMsgpack(nil)
	return request, reply
}

// steadySeq is a sequence number past the short msgpack forms.
const steadySeq = 1 << 20

// drainWait bounds how long queued messages may take to reach the sink
// after the senders stop: the senders' linger, and how long the sink may
// receive nothing new before a count short of what was sent is final.
const drainWait = 10 * time.Second

func (c Common) validate() error {
	switch {
	case c.Transport != "tcp" && c.Transport != "ipc":
		return fmt.Errorf("unknown transport %q (tcp, ipc)", c.Transport)
	case c.Senders < 1:
		return errors.New("need at least one sender")
	case c.CPUs != nil && len(c.CPUs) != c.Senders:
		return fmt.Errorf("%d CPUs for %d senders", len(c.CPUs), c.Senders)
	case c.Duration <= 0:
		return errors.New("duration must be positive")
	}
	return nil
}

// endpoints returns where a sink binds for the transport; cleanup removes
// what binding left behind.
func endpoints(transport string) (pull, router string, cleanup func(), err error) {
	if transport == "tcp" {
		return "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", func() {}, nil
	}
	dir, err := os.MkdirTemp("", "lmfast-calibrate-")
	if err != nil {
		return "", "", nil, err
	}
	return "ipc://" + filepath.Join(dir, "pull.ipc"), "ipc://" + filepath.Join(dir, "router.ipc"),
		func() { os.RemoveAll(dir) }, nil
}

// openSink validates c and starts a counting sink on c's transport, with
// a ROUTER answering reply when router is set; done closes it and removes
// what binding left behind.
func openSink(c Common, router bool, reply []byte) (sink *zmqx.Sink, done func(), err error) {
	if err := c.validate(); err != nil {
		return nil, nil, err
	}
	pullEP, routerEP, cleanup, err := endpoints(c.Transport)
	if err != nil {
		return nil, nil, err
	}
	if !router {
		routerEP = ""
	}
	if sink, err = zmqx.StartSink(pullEP, routerEP, reply); err != nil {
		cleanup()
		return nil, nil, err
	}
	return sink, func() { sink.Close(); cleanup() }, nil
}

// senderContext is the senders' ZMQ context, with the I/O threads the
// engine would give them.
func senderContext(c Common) (*zmq.Context, error) {
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, err
	}
	_ = zctx.SetIoThreads(engine.IOThreads(c.Senders))
	return zctx, nil
}

// runSenders runs c.Senders copies of send, each on its own OS thread
// (pinned when c.CPUs is set). Each calls ready once its sockets are up;
// stop is closed c.Duration after the last one did, or when ctx ends, and
// then ctx's error is returned: a measurement cut short is not a result.
func runSenders(ctx context.Context, c Common, send func(stop <-chan struct{}, ready func()) error) error {
	stop := make(chan struct{})
	var readyWG, wg sync.WaitGroup
	errs := make([]error, c.Senders)
	readyWG.Add(c.Senders)
	for i := 0; i < c.Senders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			once := sync.OnceFunc(readyWG.Done)
			defer once()
			if c.CPUs != nil {
				if err := cpus.Pin(c.CPUs[i]); err != nil {
					errs[i] = err
					return
				}
			}
			errs[i] = send(stop, func() { once(); readyWG.Wait() })
		}()
	}
	readyWG.Wait()
	var interrupted error
	select {
	case <-time.After(c.Duration):
	case <-ctx.Done():
		interrupted = ctx.Err()
	}
	close(stop)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return interrupted
}
