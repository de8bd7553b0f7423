package calibrate

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
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
	sink, err := zmqx.StartSink("tcp://127.0.0.1:*", "", nil)
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
	if _, err := engine.Run(ctx, cfg, engine.Discard, hooks); err != nil {
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
