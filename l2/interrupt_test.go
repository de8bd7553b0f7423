package l2

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
// finished before the adapter and the cancel fd are closed: a cancel
// running beside the cleanup could interrupt a closed adapter or write to
// a closed, maybe reused, fd.
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

// slowStores wraps a real fs adapter: every store first waits a little (a
// slow disk), and the n-th store to start cancels the run and then waits
// until the runner's cancel has reached the adapter — by then the engine
// has been stopped.
type slowStores struct {
	Adapter
	delay           time.Duration
	cancelAt        int64
	cancel          func()
	started, inside atomic.Int64
	atSignal        atomic.Int64
	interrupted     chan struct{}
	once            sync.Once
}

func (a *slowStores) Store(s *Scratch, idx uint64, buf []byte) Outcome {
	a.inside.Add(1)
	defer a.inside.Add(-1)
	if a.started.Add(1) == a.cancelAt {
		a.cancel()
		<-a.interrupted
	}
	time.Sleep(a.delay)
	return a.Adapter.Store(s, idx, buf)
}

func (a *slowStores) Interrupt() {
	a.once.Do(func() {
		a.atSignal.Store(a.started.Load())
		close(a.interrupted)
	})
}

func dataFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Name(), ".tmp"):
			t.Errorf("temp file left: %s", e.Name())
		case strings.HasSuffix(e.Name(), ".data"):
			n++
		}
	}
	return n
}

// TestWaveInterruptDrains: a Ctrl-C in the middle of a wave-mode store
// round stops the I/O that has not started, waits for what is running, and
// only then writes the summary: the files on disk are bounded by the
// stores started before the signal (plus at most one per worker racing
// it), none appears after the summary, no temp file is left.
func TestWaveInterruptDrains(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, fsSpec(dir, ""))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &slowStores{delay: 10 * time.Millisecond, cancelAt: 3, cancel: cancel, interrupted: make(chan struct{})}
	cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
		fs, err := New(s, o)
		a.Adapter = fs
		return a, err
	}
	cfg.Ops, cfg.Rounds, cfg.Warmup = []Op{Store}, 1, 0
	cfg.NumKeys, cfg.InFlight, cfg.IOWorkers, cfg.Payload = 16, 2, 2, 4096
	filesAtSummary, runningAtSummary := -1, int64(-1)
	cfg.BeforeCleanup = func(*Result) { filesAtSummary, runningAtSummary = dataFiles(t, dir), a.inside.Load() }
	var buf bytes.Buffer
	res, err := Run(ctx, cfg, stream.New(&buf, "l2", "t"))
	if err != nil {
		t.Fatal(err)
	}
	files, bound := dataFiles(t, dir), int(a.atSignal.Load())+cfg.IOWorkers
	t.Logf("stores started at the signal %d, files at the summary %d, at the end %d of %d", a.atSignal.Load(), filesAtSummary, files, cfg.KeysPerRound())
	if !res.Interrupted || len(res.Ops) != 1 || !res.Ops[0].Interrupted || len(res.Ops[0].Rounds) != 0 {
		t.Fatalf("interrupted %v, ops %+v", res.Interrupted, res.Ops)
	}
	if runningAtSummary != 0 || filesAtSummary != files {
		t.Fatalf("at the summary %d stores still ran and %d files existed; %d at the end", runningAtSummary, filesAtSummary, files)
	}
	if files > bound || files >= cfg.KeysPerRound() {
		t.Fatalf("%d files written; at most %d stores had started or were racing the signal", files, bound)
	}
}

// gatedStores holds every store until released, and says when the
// runner's cancel reached it.
type gatedStores struct {
	countingAdapter
	entered     atomic.Int64
	release     chan struct{}
	interrupted chan struct{}
	once        sync.Once
}

func (g *gatedStores) Store(_ *Scratch, _ uint64, buf []byte) Outcome {
	g.entered.Add(1)
	<-g.release
	return Outcome{Status: OK, Bytes: len(buf)}
}

func (g *gatedStores) Interrupt() { g.once.Do(func() { close(g.interrupted) }) }

// TestWindowInterruptDrainBlocks: after a Ctrl-C in window mode the
// submitter waits for the running submits in a blocking wait on the
// completions alone — the cancel fd, which stays readable, is not polled
// again, so the wait cannot spin on it — and Run returns only when they
// finished. The polls are counted through Config.Poll: a drain that polled
// the cancel fd again would see it readable a second time.
func TestWindowInterruptDrainBlocks(t *testing.T) {
	g := &gatedStores{release: make(chan struct{}), interrupted: make(chan struct{})}
	cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`)
	cfg.newAdapter = func(Spec, Options) (Adapter, error) { return g, nil }
	cfg.Ops, cfg.Rounds, cfg.Warmup = []Op{Store}, 1, 0
	cfg.NumKeys, cfg.InFlight, cfg.IOWorkers, cfg.Payload = 1, 2, 2, 4096
	cfg.Mode, cfg.Duration = Window, time.Hour
	var cancelSeen, blocking atomic.Int64
	spin := make(chan struct{})    // closed when the cancel fd is seen readable a second time
	blocked := make(chan struct{}) // closed when a wait forever on the completions alone begins
	var spinOnce, blockOnce sync.Once
	cfg.Poll = func(fds []unix.PollFd, ms int) (int, error) {
		if len(fds) == 1 && ms < 0 {
			blocking.Add(1)
			blockOnce.Do(func() { close(blocked) })
		}
		n, err := unix.Poll(fds, ms)
		if len(fds) == 2 && fds[1].Revents != 0 && cancelSeen.Add(1) == 2 {
			spinOnce.Do(func() { close(spin) })
		}
		return n, err
	}
	cancel, done := startRun(t, cfg)
	defer cancel()
	for g.entered.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-g.interrupted
	select {
	case <-blocked:
	case <-spin:
		close(g.release)
		<-done
		t.Fatal("the drain polled the cancel fd again after the Ctrl-C was seen: it spins")
	}
	select {
	case <-done:
		t.Fatal("Run returned while two stores were still running")
	default:
	}
	close(g.release)
	res := <-done
	if !res.Interrupted || !res.Ops[0].Interrupted || g.entered.Load() != 2 {
		t.Fatalf("interrupted %v, %d stores entered", res.Interrupted, g.entered.Load())
	}
	if n := cancelSeen.Load(); n != 1 {
		t.Fatalf("the cancel fd was seen readable %d times, want once", n)
	}
	t.Logf("%d blocking waits on the completions alone", blocking.Load())
}

// TestStopCancelsUnstartedJobs: after Engine.Stop, queued jobs complete as
// Cancelled without reaching the adapter.
func TestStopCancelsUnstartedJobs(t *testing.T) {
	a := &countingAdapter{}
	eng, err := NewPsync(a, 2, nil, 16, nil, OpLimits{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCompletions()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eng.Stop()
	jobs := make([]Job, 10)
	for i := range jobs {
		eng.Submit(Tile{Jobs: jobs[i : i+1], C: c})
	}
	eng.Close()
	for i, j := range jobs {
		if j.Out.Status != Cancelled || j.Out.Err == nil {
			t.Fatalf("job %d: %+v", i, j.Out)
		}
	}
	if n := a.ops.Load(); n != 0 {
		t.Fatalf("%d jobs reached the adapter after Stop", n)
	}
}

// TestInterruptDuringSetup: filling gigabytes of payload buffers takes
// seconds, so it stops at a Ctrl-C; a run interrupted before its first
// operation runs none and still hands its (empty) result to the summary.
func TestInterruptDuringSetup(t *testing.T) {
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &runner{cfg: cfg, ctx: ctx}
	if err := r.mapBuffers(); err != nil {
		t.Fatal(err)
	}
	defer r.region.Close()
	if r.fillBuffers() || r.storeBuf[1][0] != 0 || r.loadBuf[1][0] != 0 {
		t.Fatalf("fill went on after the Ctrl-C: slot 1 holds %d (store), %d (load)", r.storeBuf[1][0], r.loadBuf[1][0])
	}

	summarised := false
	cfg.BeforeCleanup = func(res *Result) { summarised = res.Interrupted && len(res.Ops) == 0 }
	res, err := Run(ctx, cfg, stream.New(io.Discard, "l2", "t"))
	if err != nil || !res.Interrupted || len(res.Ops) != 0 || !summarised {
		t.Fatalf("Run with a cancelled context: %v, %+v, summarised %v", err, res, summarised)
	}
}

// cancelAfter is a context that reports itself cancelled from its n-th
// Err call on: a Ctrl-C arriving at a chosen point of a loop that polls it.
type cancelAfter struct {
	context.Context
	n, calls atomic.Int64
}

func (c *cancelAfter) Err() error {
	if c.calls.Add(1) >= c.n.Load() {
		return context.Canceled
	}
	return nil
}

// TestFillStopsInsideASlot: a Ctrl-C during the fill of one large slot (up
// to 1 GiB per key: a second or more of page faults) stops it after the chunk in
// progress, not at the end of the slot.
func TestFillStopsInsideASlot(t *testing.T) {
	cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`)
	// --only load: one load slot, poisoned with ^0 = 0xFF (untouched memory is 0).
	cfg.Ops, cfg.NumKeys, cfg.InFlight, cfg.Payload = []Op{Load}, 1, 1, 64<<20
	ctx := &cancelAfter{Context: context.Background()}
	ctx.n.Store(2) // the first look passes, the Ctrl-C is seen at the second
	r := &runner{cfg: cfg, ctx: ctx}
	if err := r.mapBuffers(); err != nil {
		t.Fatal(err)
	}
	defer r.region.Close()
	if r.fillBuffers() {
		t.Fatal("fill reported done after the Ctrl-C")
	}
	b := r.loadBuf[0]
	filled := 0
	for _, c := range b {
		if c == poison(0) {
			filled++
		}
	}
	if filled == 0 || filled > len(b)/4 {
		t.Fatalf("%d of %d bytes filled after a Ctrl-C seen at the second look: want one chunk", filled, len(b))
	}
}

// TestCancelledJobsNeverCountAsFailed: a Ctrl-C stops the engine before it
// wakes the submitter, and in between the submitter can take jobs the
// engine completed as Cancelled. They are not failed keys of a reported
// round: the run is interrupted with no failed key. The test holds the
// gap open (afterStop) while the one worker finishes its store and
// cancels the queued submit; the outcome must not depend on its length.
func TestCancelledJobsNeverCountAsFailed(t *testing.T) {
	for _, mode := range []Mode{Window, Wave} {
		t.Run(mode.String(), func(t *testing.T) {
			g := &gatedStores{release: make(chan struct{}), interrupted: make(chan struct{})}
			cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`)
			cfg.newAdapter = func(Spec, Options) (Adapter, error) { return g, nil }
			cfg.Ops, cfg.Rounds, cfg.Warmup, cfg.Mode = []Op{Store}, 1, 0, mode
			cfg.NumKeys, cfg.InFlight, cfg.IOWorkers, cfg.Payload = 1, 2, 1, 4096
			if mode == Window {
				cfg.Duration = time.Hour
			}
			cfg.afterStop = func() {
				close(g.release)
				time.Sleep(100 * time.Millisecond) // the submitter takes both completions meanwhile
			}
			cancel, done := startRun(t, cfg)
			defer cancel()
			for g.entered.Load() < 1 {
				time.Sleep(time.Millisecond)
			}
			cancel()
			res := <-done
			if res == nil {
				t.Fatal("no result")
			}
			if !res.Interrupted || !res.Ops[0].Interrupted {
				t.Fatalf("want the run and its store interrupted; got %+v, store %+v", res, res.Ops[0])
			}
			for _, rd := range res.Ops[0].Rounds {
				if rd.Failed != 0 {
					t.Fatalf("round %d reported with %d failed keys: cancelled jobs counted as failures", rd.Number, rd.Failed)
				}
			}
		})
	}
}

// startRun runs cfg on a goroutine until it ends or cancel is called; done
// receives its result (a Run that fails is a test error).
func startRun(t *testing.T, cfg *Config) (cancel context.CancelFunc, done <-chan *Result) {
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan *Result, 1)
	go func() {
		res, err := Run(ctx, cfg, stream.New(io.Discard, "l2", "t"))
		if err != nil {
			t.Error(err)
		}
		results <- res
	}()
	return cancel, results
}
