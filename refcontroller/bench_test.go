package refcontroller

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/internal/cpus"
	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// BenchmarkApplyBatches pushes 50-op admit/evict batches of 10 registered
// workers (keys in 0..9999, contiguous sequence numbers) over a real PULL
// socket and waits until the server applied all of them: the server's
// decode + apply throughput, reported as applied KV ops/s, and the process
// CPU time per KV op (sender and server together; far less disturbed by
// other load on the machine than the rate).
func BenchmarkApplyBatches(b *testing.B) {
	s, err := startBench(b)
	if err != nil {
		b.Fatal(err)
	}
	c := newClient(b, s.Ports())
	peer := "tcp://127.0.0.1:20000"
	const workers, perBatch = 10, 50
	encs := make([]*wire.BatchEncoder, workers)
	for w := range encs {
		inst := "instance_p0_" + string(rune('a'+w))
		c.ask(c.req, register(inst, &peer))
		encs[w] = wire.NewBatchEncoder(inst, 0, "location_0")
	}
	// A pool of pre-encoded frames, so the benchmark measures the server.
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]wire.Int, perBatch)
	seq := make([]int64, workers)
	frames := make([][]byte, 4096)
	for i := range frames {
		w := i % workers
		for k := range keys {
			keys[k] = wire.IntOf(int64(rng.IntN(10000)))
		}
		op := wire.OpAdmit
		if i%3 == 2 {
			op = wire.OpEvict
		}
		frames[i] = encs[w].AppendKeys(nil, op, keys, seq[w])
		seq[w] += perBatch
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpus.ProcessTime()
	for i := 0; i < b.N; i++ {
		if _, err := c.push.SendBytes(frames[i%len(frames)], 0); err != nil {
			b.Fatal(err)
		}
	}
	want := int64(b.N) * perBatch
	for s.Counters().KVOpsApplied+s.Counters().DroppedKVOps < want {
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "kv-ops/s")
	b.ReportMetric(float64((cpus.ProcessTime()-cpu0).Nanoseconds())/float64(want), "cpu-ns/kv-op")
	b.StopTimer()
	s.Close()
}

// BenchmarkWorkerApply applies 50-op batches (2 admits : 1 evict) of
// random keys to workers' locations, round robin: dense keys 0..N-1 (what
// lmfast and LMCache's benchmark send: held in bitmaps) for key spaces that
// fit the cache (one worker, 10k keys) and that do not (10 workers of 10k
// keys, lmfast's default; one of 1M keys), and the same key spaces mapped
// to 64-bit hashes (LMCache's chunk hashes: held in hash sets), with and
// without the touch pass: apply alone, on one goroutine, per KV op. Keys
// come from a xorshift in the loop (a few ns per op, the same everywhere).
func BenchmarkWorkerApply(b *testing.B) {
	for _, c := range []struct {
		workers, keys int
		hashed        bool
	}{{1, 10_000, false}, {10, 10_000, false}, {1, 1_000_000, false}, {10, 10_000, true}, {1, 1_000_000, true}} {
		for _, touch := range []bool{false, true} {
			b.Run(fmt.Sprintf("workers=%d/keys=%d/hashed=%v/touch=%v", c.workers, c.keys, c.hashed, touch), func(b *testing.B) {
				defer func(old bool) { touchBatches = old }(touchBatches)
				touchBatches = touch
				ws := make([]*worker, c.workers)
				for i := range ws {
					ws[i] = newWorker(workerKey{"i", int64(i)}, "127.0.0.1", 1, nil, time.Now())
				}
				x := uint64(88172645463325252)
				ops := make([]wire.KVOpEvent, 50)
				batch := func(i int) {
					for j := range ops {
						x ^= x << 13
						x ^= x >> 7
						x ^= x << 17
						k := x % uint64(c.keys)
						if c.hashed {
							k = (k+1)*0xbf58476d1ce4e5b9 | 1<<63 // not the sets' own multiplier
						}
						ops[j] = wire.KVOpEvent{OpType: wire.OpAdmit, Key: wire.UintOf(k), SeqNum: int64(i*50 + j)}
						if j%3 == 2 {
							ops[j].OpType = wire.OpEvict
						}
					}
					ws[i%len(ws)].apply("location_0", ops)
				}
				for i := 0; i < 4*c.keys*c.workers/50; i++ { // to the steady state
					batch(i)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					batch(i)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*50), "ns/kv-op")
			})
		}
	}
}

func startBench(b *testing.B) (*Server, error) {
	b.Helper()
	s, err := Start(b.Context(), Config{Host: "127.0.0.1", HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop()})
	if err != nil {
		return nil, err
	}
	b.Cleanup(func() { s.Close() })
	return s, nil
}

// BenchmarkInjectDelayCeiling keeps 64 requests in flight against a server
// with --inject-delay 2ms for b.N requests and reports the answers per
// second it achieved as a fraction of the ceiling 1/delay (ceiling_ratio):
// how closely a server whose capacity is set by the delay reaches it.
func BenchmarkInjectDelayCeiling(b *testing.B) {
	const delay, window = 2 * time.Millisecond, 64
	s, err := Start(b.Context(), Config{Host: "127.0.0.1", HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop(),
		Inject: Inject{Delay: delay}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := newClient(b, s.Ports())
	hb := wire.HeartbeatMsg{InstanceID: "A", IP: "127.0.0.1"}.AppendMsgpack(nil)
	send := func() {
		if err := zmqx.SendRequest(c.req, hb); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < window; i++ {
		send()
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := zmqx.RecvReply(c.req); err != nil {
			b.Fatal(err)
		}
		send()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	for i := 0; i < window; i++ {
		zmqx.RecvReply(c.req)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds()*delay.Seconds(), "ceiling_ratio")
}
