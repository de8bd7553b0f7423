package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/enginetest"
	"github.com/lmfast/lmfast/internal/cpus"
)

func testConfig(k *enginetest.Sink, mix string) Config {
	ops, err := ParseOperations(mix)
	if err != nil {
		panic(err)
	}
	return Config{
		PullEndpoint:  fmt.Sprintf("tcp://127.0.0.1:%d", k.Pull),
		ReplyEndpoint: fmt.Sprintf("tcp://127.0.0.1:%d", k.Reply),
		Duration:      700 * time.Millisecond, BatchSize: 20, Mix: ops,
		NumInstances: 6, NumWorkers: 2, NumLocations: 3, NumKeys: 1000, NumHashes: 10,
		RegisterFirst: true, Senders: 2, Concurrency: 1, Seed: 42,
		Interval: 200 * time.Millisecond, DrainTimeout: 5 * time.Second,
	}
}

// TestRunCountsMatchReceiver runs the seed's operation mix against real
// sockets and checks that what the sink received equals what the engine
// claims it sent, that every frame decodes, and that sequence numbers are
// contiguous per (instance, worker, location).
func TestRunCountsMatchReceiver(t *testing.T) {
	tests := []struct {
		name, mix   string
		concurrency int
		rate        float64
	}{
		{"seed mix closed loop", "admit:35,evict:29,heartbeat:1,p2p_lookup:35", 1, 0},
		{"pipelined", "admit:50,p2p_lookup:50", 4, 0},
		{"open loop", "admit:40,evict:40,p2p_lookup:20", 2, 3000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := enginetest.Start(t)
			cfg := testConfig(k, tc.mix)
			cfg.Concurrency, cfg.Rate = tc.concurrency, tc.rate
			rec := &recorder{}
			res, err := Run(context.Background(), cfg, rec, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			got := k.Settle()
			t.Logf("sink: %d frames, %d KV ops, types %v; engine: push %d + teardown %d, kv %d", got.Frames, got.KVOps, got.ByType, res.PushFrames, res.TeardownFrames, res.KVOpsSent)
			if !res.Drained {
				t.Errorf("drain incomplete after %v", res.DrainTime)
			}
			if got.DecodeErrors != 0 {
				t.Errorf("%d frames failed to decode", got.DecodeErrors)
			}
			if want := res.PushFrames + res.TeardownFrames; got.Frames != want {
				t.Errorf("sink received %d PUSH frames, engine claims %d", got.Frames, want)
			}
			if got.KVOps != res.KVOpsSent || res.KVOpsSent == 0 {
				t.Errorf("sink received %d KV ops, engine claims %d", got.KVOps, res.KVOpsSent)
			}
			if got.SeqGaps != 0 {
				t.Errorf("%d sequence discontinuities", got.SeqGaps)
			}
			if got.ByType["RegisterMsg"] != res.RegisteredOK || res.RegisteredOK != 12 {
				t.Errorf("registered %d, sink saw %d RegisterMsg, want 12", res.RegisteredOK, got.ByType["RegisterMsg"])
			}
			if got.ByType["DeRegisterMsg"] != res.TeardownFrames || res.TeardownFrames != 12 {
				t.Errorf("teardown %d, sink saw %d DeRegisterMsg, want 12", res.TeardownFrames, got.ByType["DeRegisterMsg"])
			}
			var kvRequests, kvMessages int64
			for _, o := range res.Ops {
				if o.Errors != 0 {
					t.Errorf("%s: %d errors: %v", o.Op, o.Errors, o.ErrorCounts)
				}
				switch o.Op {
				case OpAdmit, OpEvict:
					kvRequests += o.Requests
					kvMessages += o.Messages
				case OpP2PLookup:
					if got.ByType["BatchedP2PLookupMsg"] != o.Requests {
						t.Errorf("p2p: engine %d, sink %d", o.Requests, got.ByType["BatchedP2PLookupMsg"])
					}
				case OpHeartbeat:
					if got.ByType["HeartbeatMsg"] != o.Requests {
						t.Errorf("heartbeat: engine %d, sink %d", o.Requests, got.ByType["HeartbeatMsg"])
					}
				}
			}
			if kvMessages != res.KVOpsSent || got.ByType["BatchedKVOperationMsg"] != kvRequests {
				t.Errorf("kv requests %d messages %d; sink batches %d", kvRequests, kvMessages, got.ByType["BatchedKVOperationMsg"])
			}
			if tc.rate > 0 {
				total := int64(0)
				for _, o := range res.Ops {
					total += o.Requests + o.Errors
				}
				ceiling := int64(tc.rate*cfg.Duration.Seconds()) + int64(cfg.Senders)
				if total > ceiling {
					t.Errorf("open loop sent %d requests, more than the schedule's %d", total, ceiling)
				}
				for _, o := range res.Ops {
					if o.Corrected == nil || o.Corrected.TotalCount() != o.Requests+o.Dropped {
						t.Errorf("%s: corrected histogram missing or short", o.Op)
					}
				}
			}
			if len(rec.summaries) != 1 || rec.summaries[0] != res || len(rec.intervals) == 0 {
				t.Errorf("%d summaries and %d intervals reported", len(rec.summaries), len(rec.intervals))
			}
			// An interval's counts and histograms are read one after the
			// other while requests complete, so only their sums agree.
			var ivReq, ivHist int64
			for _, iv := range rec.intervals {
				if len(iv.Ops) != len(cfg.Mix) {
					t.Fatalf("interval with %d ops, want %d", len(iv.Ops), len(cfg.Mix))
				}
				for _, o := range iv.Ops {
					ivReq += o.Requests
					ivHist += o.Service.TotalCount()
					if (tc.rate > 0) != (o.Corrected != nil) {
						t.Errorf("interval %s: corrected histogram %v with rate %v", o.Op, o.Corrected != nil, tc.rate)
					}
				}
			}
			if req, _, _ := res.Totals(); ivReq != req || ivHist != req {
				t.Errorf("intervals add up to %d requests and %d latencies, the summary has %d", ivReq, ivHist, req)
			}
		})
	}
}

// TestRunStopsOnCancel: cancelling the context ends the run early and still
// yields a complete result, marked interrupted. The drain then has only the
// stop budget: when the result says drained, the sink received every KV
// operation sent; otherwise never more.
func TestRunStopsOnCancel(t *testing.T) {
	k := enginetest.Start(t)
	cfg := testConfig(k, "admit:100")
	cfg.Duration = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel once an interval shows that requests went out.
	var at time.Time
	rec := &recorder{onInterval: func(iv *Interval) {
		if req, _, _ := iv.Totals(); req > 0 && at.IsZero() {
			at = time.Now()
			cancel()
		}
	}}
	res, err := Run(ctx, cfg, rec, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(at); at.IsZero() || el > 20*time.Second {
		t.Fatalf("cancel took %v", el)
	}
	got := k.Settle()
	if !res.Interrupted || res.KVOpsSent == 0 || got.KVOps > res.KVOpsSent || (res.Drained && got.KVOps != res.KVOpsSent) {
		t.Fatalf("after cancel: interrupted %v, drained %v; sink %d KV ops, engine %d", res.Interrupted, res.Drained, got.KVOps, res.KVOpsSent)
	}
}

// cancelWhen calls cancel once cond holds (or ctx ended).
func cancelWhen(ctx context.Context, cancel func(), cond func() bool) {
	for ctx.Err() == nil && !cond() {
		time.Sleep(time.Millisecond)
	}
	cancel()
}

// TestHeartbeatWithoutURLIsCountedAsError: with no heartbeat URL learned,
// every heartbeat op fails and is reported. The run is stopped once the
// sink has 50 admit batches: the seeded, shuffled 50/50 schedule has put
// heartbeats between them by then.
func TestHeartbeatWithoutURLIsCountedAsError(t *testing.T) {
	k := enginetest.Start(t)
	cfg := testConfig(k, "admit:50,heartbeat:50")
	cfg.RegisterFirst = false // nobody learns the heartbeat URL
	cfg.Duration = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hooks := Hooks{Started: func() {
		go cancelWhen(ctx, cancel, func() bool { return k.Received().ByType["BatchedKVOperationMsg"] >= 50 })
	}}
	rec := &recorder{}
	res, err := Run(ctx, cfg, rec, hooks)
	if err != nil {
		t.Fatal(err)
	}
	var errs int64
	for _, o := range res.Ops {
		if o.Op == OpHeartbeat {
			if o.Errors == 0 || o.Requests != 0 {
				t.Fatalf("heartbeat without URL: %d ok, %d errors", o.Requests, o.Errors)
			}
			errs = o.Errors
		}
	}
	const text = "Heartbeat socket not initialized. heartbeat_url=None. Register first to get heartbeat_url."
	if n := rec.errorCount(OpHeartbeat, text); n != errs {
		t.Fatalf("error %q reported %d times, want %d: %+v", text, n, errs, rec.errors)
	}
}

// TestRawSamplesOnePerOperation: --raw writes one valid sample line per
// operation (successful or failed) and reports none dropped.
func TestRawSamplesOnePerOperation(t *testing.T) {
	k := enginetest.Start(t)
	cfg := testConfig(k, "admit:50,p2p_lookup:50")
	cfg.Raw, cfg.Rate, cfg.Duration = true, 2000, 500*time.Millisecond
	rec := &recorder{}
	res, err := Run(context.Background(), cfg, rec, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	var ops int64
	for _, o := range res.Ops {
		ops += o.Requests + o.Errors
	}
	samples := map[Op]int64{}
	for _, smp := range rec.samples {
		samples[smp.Op]++
		if smp.Intended > smp.Sent || smp.Sent > smp.Done {
			t.Fatalf("sample out of order: %+v", smp)
		}
	}
	if res.SamplesDropped != 0 || res.SamplesWritten != ops || samples[OpAdmit]+samples[OpP2PLookup] != ops {
		t.Fatalf("%d operations, %d samples written (%v), %d dropped", ops, res.SamplesWritten, samples, res.SamplesDropped)
	}
}

// TestPinnedSendersRunOnTheirCPU: with CPUs set, every sender reports the
// CPU it was pinned to.
func TestPinnedSendersRunOnTheirCPU(t *testing.T) {
	allowed, err := cpus.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	want := []int{allowed[len(allowed)-1], allowed[0]}
	k := enginetest.Start(t)
	cfg := testConfig(k, "admit:100")
	cfg.Senders, cfg.CPUs, cfg.Duration = 2, want, 200*time.Millisecond
	res, err := Run(context.Background(), cfg, Discard, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.SenderCPUs) != fmt.Sprint(want) {
		t.Fatalf("senders ran on CPUs %v, want %v", res.SenderCPUs, want)
	}
}

// TestClosedLoopSendsNothingAfterTheDeadline: every operation's send time
// (from --raw samples) is before the deadline. Started runs just after the
// run's start time is taken, so its own time plus the duration bounds the
// deadline from above.
func TestClosedLoopSendsNothingAfterTheDeadline(t *testing.T) {
	for _, mix := range []string{"admit:100", "admit:50,p2p_lookup:50"} {
		t.Run(mix, func(t *testing.T) {
			k := enginetest.Start(t)
			// A starved machine may send nothing in a short run: try longer
			// runs until one has samples; every run must keep the deadline.
			n := 0
			for d := 300 * time.Millisecond; n == 0 && d <= 10*time.Second; d *= 3 {
				cfg := testConfig(k, mix)
				cfg.Raw, cfg.Duration = true, d
				var started time.Time
				rec := &recorder{}
				if _, err := Run(context.Background(), cfg, rec, Hooks{Started: func() { started = time.Now() }}); err != nil {
					t.Fatal(err)
				}
				bound := started.Add(cfg.Duration).UnixNano()
				for _, smp := range rec.samples {
					n++
					if smp.Sent > bound {
						t.Fatalf("%s sent %v after the deadline", smp.Op, time.Duration(smp.Sent-bound))
					}
				}
			}
			if n == 0 {
				t.Fatal("no samples in runs of up to 10 s")
			}
		})
	}
}
