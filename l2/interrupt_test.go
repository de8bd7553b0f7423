package l2

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmfast/lmfast/stream"
)

// lateInterruptAdapter is an in-memory adapter whose Interrupt takes a
// while; it records an Interrupt that overlaps or follows Close.
type lateInterruptAdapter struct {
	countingAdapter
	closed, inside, interrupts atomic.Int64
	overlap                    atomic.Bool
}

func (a *lateInterruptAdapter) Interrupt() {
	a.inside.Add(1)
	a.interrupts.Add(1)
	if a.closed.Load() != 0 {
		a.overlap.Store(true)
	}
	time.Sleep(5 * time.Millisecond)
	if a.closed.Load() != 0 {
		a.overlap.Store(true)
	}
	a.inside.Add(-1)
}

func (a *lateInterruptAdapter) Close() error {
	if a.inside.Load() != 0 {
		a.overlap.Store(true)
	}
	a.closed.Add(1)
	return nil
}

// TestCancelDuringCleanup: a Ctrl-C that arrives while Run cleans up is
// finished before the adapter and the cancel fd are closed. Before, the
// watcher was stopped only after release(): the cancel ran concurrently
// with it (a data race on the runner's fields under -race) and could
// interrupt a closed adapter or write to a closed, maybe reused, fd.
func TestCancelDuringCleanup(t *testing.T) {
	for i := 0; i < 20; i++ {
		a := &lateInterruptAdapter{}
		cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`)
		cfg.newAdapter = func(Spec, Options) (Adapter, error) { return a, nil }
		cfg.Ops, cfg.Rounds, cfg.Warmup, cfg.NumKeys, cfg.InFlight, cfg.Payload = []Op{Store}, 1, 0, 1, 1, 4096
		ctx, cancel := context.WithCancel(context.Background())
		cfg.BeforeCleanup = func(*Result) { cancel() }
		var buf bytes.Buffer
		if _, err := Run(ctx, cfg, stream.New(&buf, "l2", "t")); err != nil {
			t.Fatal(err)
		}
		// The cancel has finished by the time Run returns, and it never
		// overlapped or followed the adapter's Close.
		if a.interrupts.Load() != 1 || a.inside.Load() != 0 || a.overlap.Load() {
			t.Fatalf("run %d: %d interrupts, %d still running at return, overlapping Close: %v",
				i, a.interrupts.Load(), a.inside.Load(), a.overlap.Load())
		}
	}
}
