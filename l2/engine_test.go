package l2

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/internal/cpus"
)

// countingAdapter records which CPU each operation ran on and can hold
// operations back until released.
type countingAdapter struct {
	gate chan struct{}
	cpu  [64]atomic.Int64
	ops  atomic.Int64
}

func (c *countingAdapter) op() Outcome {
	if c.gate != nil {
		<-c.gate
	}
	if cpu := cpus.Current(); cpu >= 0 && cpu < len(c.cpu) {
		c.cpu[cpu].Add(1)
	}
	c.ops.Add(1)
	return Outcome{Status: OK}
}
func (c *countingAdapter) Store(*Scratch, uint64, []byte) Outcome { return c.op() }
func (c *countingAdapter) Lookup(*Scratch, uint64) Outcome        { return c.op() }
func (c *countingAdapter) Load(*Scratch, uint64, []byte) Outcome  { return c.op() }
func (c *countingAdapter) Close() error                           { return nil }

// TestOneWakeupCoversManyCompletions: completions that pile up while the
// submitter is not waiting are all taken after a single eventfd wakeup.
func TestOneWakeupCoversManyCompletions(t *testing.T) {
	a := &countingAdapter{}
	eng, err := NewPsync(a, 2, nil, 128, nil, OpLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	c, err := NewCompletions()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	jobs := make([]Job, 100)
	for i := range jobs {
		eng.Submit(Tile{Jobs: jobs[i : i+1], C: c})
	}
	for queued(c) < 100 { // every tile pushed (a push follows its op)
		time.Sleep(time.Millisecond)
	}
	ready, _, _ := c.Wait(time.Second, -1)
	if !ready {
		t.Fatal("no wakeup")
	}
	got := c.Take(nil)
	if len(got) != 100 {
		t.Fatalf("one wakeup took %d of 100 completions", len(got))
	}
	if wakes, tiles := c.Stats(); wakes != 1 || tiles != 100 {
		t.Fatalf("wakes %d tiles %d", wakes, tiles)
	}
	if ready, _, _ := c.Wait(20*time.Millisecond, -1); ready {
		t.Fatal("spurious wakeup after the queue was drained")
	}
}

// queued is how many finished tiles wait in c.
func queued(c *Completions) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.done)
}

// TestWaitTimesOutAndCancels: Wait returns on its timeout and on the
// cancel fd, not before.
func TestWaitTimesOutAndCancels(t *testing.T) {
	c, _ := NewCompletions()
	defer c.Close()
	start := time.Now()
	if ready, cancelled, _ := c.Wait(30*time.Millisecond, -1); ready || cancelled {
		t.Fatal("wait without completions returned ready")
	}
	short := time.Since(start)
	cancel, _ := NewCompletions() // any eventfd will do
	defer cancel.Close()
	time.AfterFunc(20*time.Millisecond, func() { cancel.push(Tile{}, &[8]byte{1}) })
	if _, cancelled, _ := c.Wait(10*time.Second, cancel.Fd()); !cancelled {
		t.Fatal("cancel fd did not wake the wait")
	}
	if short < 25*time.Millisecond {
		t.Fatalf("timeout of 30ms returned after %v", short)
	}
}

// TestWorkersArePinned: with a CPU list, every operation runs on a listed
// CPU.
func TestWorkersArePinned(t *testing.T) {
	allowed, _ := cpus.Allowed()
	if len(allowed) < 2 {
		t.Skip("needs 2 CPUs")
	}
	a := &countingAdapter{}
	target := allowed[len(allowed)-1]
	eng, err := NewPsync(a, 3, []int{target}, 64, nil, OpLimits{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := NewCompletions()
	defer c.Close()
	jobs := make([]Job, 60)
	for i := range jobs {
		eng.Submit(Tile{Jobs: jobs[i : i+1], C: c})
	}
	eng.Close()
	if got := a.cpu[target].Load(); got != 60 {
		t.Fatalf("%d of 60 operations ran on CPU %d", got, target)
	}
}

// TestWindowRunsForDuration: window mode measures at least --duration
// after the warmup of each operation, reports whole rounds of K keys, and
// its load reads back what its store wrote. (That exactly --in-flight
// submits stay outstanding is TestWindowReplacesEachSubmitAtOnce.)
func TestWindowRunsForDuration(t *testing.T) {
	cfg := testConfig(t, `{"type":"mock","max_size_gb":4,"mock_bandwidth_gb":0.05}`)
	cfg.Mode, cfg.Duration, cfg.Warmup = Window, 150*time.Millisecond, 1
	cfg.Payload, cfg.NumKeys, cfg.InFlight, cfg.IOWorkers = 16<<10, 4, 3, 4
	cfg.Ops, cfg.Verify = Ops, true
	res, ls := runCfg(t, cfg)
	if v := Judge(res); !v.OK() || res.Verify == nil || res.Verify.Mismatches != 0 {
		t.Fatalf("verdict %+v verify %+v", v, res.Verify)
	}
	for _, o := range res.Ops {
		m := o.Measured()
		if len(m) < 2 {
			t.Fatalf("%s: %d measured rounds", o.Op, len(m))
		}
		for _, r := range m {
			if r.Keys != 12 || r.Submits != 3 || r.Success+r.Missing+r.Failed != 12 {
				t.Fatalf("%s round %+v", o.Op, r)
			}
		}
		if !o.Rounds[0].Warmup {
			t.Fatalf("%s: first round not warmup", o.Op)
		}
		if st := Stats(o, cfg); st.MeasuredS < cfg.Duration.Seconds() {
			t.Fatalf("%s: measured %v s of a %v window", o.Op, st.MeasuredS, cfg.Duration)
		}
	}
	if len(ls) == 0 {
		t.Fatal("no JSONL")
	}
	// The store wrote keys [0, n); load read only those: nothing failed.
	if st := Stats(res.Ops[2], cfg); st.Failed != 0 || st.TotalSuccess == 0 {
		t.Fatalf("window load: %+v", st)
	}
}

// TestMockBandwidthIsShared: the mock's bandwidth is the aggregate over
// its workers: with 4 workers transferring at once, the bytes finished in
// any window W are still at most bandwidth·W plus one transfer, checked on
// the spans of every store and load as the test's clock saw them.
func TestMockBandwidthIsShared(t *testing.T) {
	const gb = 0.01 // ~10 MiB/s: 128 KiB in 12 ms
	cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0.01}`)
	cfg.Ops, cfg.Rounds, cfg.Warmup = []Op{Store, Load}, 1, 0
	cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = 8, 2, 128<<10, 4 // 2 MiB per operation
	rec := &recordingAdapter{}
	cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
		a, err := New(s, o)
		rec.Adapter = a
		return rec, err
	}
	res, _ := runCfg(t, cfg)
	if v := Judge(res); !v.OK() {
		t.Fatalf("verdict %s", v.Status())
	}
	if n := len(rec.spans.all); n != 2*cfg.KeysPerRound() {
		t.Fatalf("%d transfers recorded, want %d", n, 2*cfg.KeysPerRound())
	}
	if m := rec.maxInside.Load(); m < 2 {
		t.Fatalf("at most %d transfers were in the adapter at once: the workers never shared the link", m)
	}
	peak := checkLink(t, rec.spans.all, gb*(1<<30))
	t.Logf("up to %d transfers at once; at most %.3f of the configured bandwidth over windows of 10 ms and 10 transfers or more", rec.maxInside.Load(), peak)
}

// TestPsyncGivesEveryWorkerAP: a pool raises GOMAXPROCS to one P per I/O
// thread plus two while it runs, and Close puts the previous value back.
func TestPsyncGivesEveryWorkerAP(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	workers := before + 3
	eng, err := NewPsync(&countingAdapter{}, workers, nil, 8, nil, OpLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != ioProcs(workers) {
		t.Errorf("GOMAXPROCS %d with %d workers, want %d", got, workers, ioProcs(workers))
	}
	// A second, smaller pool open meanwhile keeps the larger demand alive
	// until both closed, in either order.
	small, err := NewPsync(&countingAdapter{}, 1, nil, 8, nil, OpLimits{})
	if err != nil {
		t.Fatal(err)
	}
	eng.Close()
	if got := runtime.GOMAXPROCS(0); got != max(before, ioProcs(1)) {
		t.Errorf("GOMAXPROCS %d with the small pool left, want %d", got, max(before, ioProcs(1)))
	}
	small.Close()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS %d after Close, want %d back", got, before)
	}
}

// heldOps counts the operations inside the adapter and the threads that
// ran them, per op, and holds each until its op's release channel is
// closed.
type heldOps struct {
	release [3]chan struct{}
	inside  [3]atomic.Int64
	most    [3]atomic.Int64
	mu      sync.Mutex
	threads [3]map[int]bool // thread ids
}

func newHeldOps() *heldOps {
	h := &heldOps{}
	for i := range h.release {
		h.release[i] = make(chan struct{})
		h.threads[i] = map[int]bool{}
	}
	return h
}

// threadsOf is how many distinct threads have run op.
func (h *heldOps) threadsOf(op Op) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.threads[op])
}

// free lets every operation of op through, once.
func (h *heldOps) free(op Op) {
	select {
	case <-h.release[op]:
	default:
		close(h.release[op])
	}
}

func (h *heldOps) op(o Op) Outcome {
	h.mu.Lock()
	h.threads[o][unix.Gettid()] = true
	h.mu.Unlock()
	n := h.inside[o].Add(1)
	raiseTo(&h.most[o], n)
	<-h.release[o]
	h.inside[o].Add(-1)
	return Outcome{Status: OK}
}
func (h *heldOps) Store(*Scratch, uint64, []byte) Outcome { return h.op(Store) }
func (h *heldOps) Lookup(*Scratch, uint64) Outcome        { return h.op(Lookup) }
func (h *heldOps) Load(*Scratch, uint64, []byte) Outcome  { return h.op(Load) }
func (h *heldOps) Close() error                           { return nil }

// TestOpLimitsCapOneOp: with stores capped at 2 of 6 workers, no more than
// 2 stores are in the adapter at once while 6 are queued, all of them on
// the same 2 threads (the others never take a store to wait for a turn),
// and loads still run on all 6.
func TestOpLimitsCapOneOp(t *testing.T) {
	h := newHeldOps()
	var limits OpLimits
	limits[Store] = 2
	c, err := NewCompletions()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close() // after the workers are gone
	eng, err := NewPsync(h, 6, nil, 16, nil, limits)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	defer h.free(Load) // before Close, also when the test fails early
	defer h.free(Store)
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	stores := make([]Job, 6)
	for i := range stores {
		stores[i].Op, stores[i].Submitted = Store, Now()
		eng.Submit(Tile{Jobs: stores[i : i+1], C: c})
	}
	wait("2 stores inside", func() bool { return h.inside[Store].Load() >= 2 })
	time.Sleep(20 * time.Millisecond) // room for a third store, were the cap broken
	h.free(Store)
	wait("every store done", func() bool { return queued(c) == 6 })
	if m := h.most[Store].Load(); m != 2 {
		t.Fatalf("at most %d stores in the adapter at once, want 2", m)
	}
	if n := h.threadsOf(Store); n != 2 {
		t.Fatalf("stores ran on %d threads, want the 2 they are capped at", n)
	}
	for _, j := range stores {
		if j.Start < j.Submitted || j.Done < j.Start {
			t.Fatalf("job times out of order: %+v", j)
		}
	}
	loads := make([]Job, 6)
	for i := range loads {
		loads[i].Op = Load
		eng.Submit(Tile{Jobs: loads[i : i+1], C: c})
	}
	wait("6 loads inside at once", func() bool { return h.inside[Load].Load() == 6 })
}

// TestOpLimitsRefuseNegative: a negative cap is an error, not a pool.
func TestOpLimitsRefuseNegative(t *testing.T) {
	var limits OpLimits
	limits[Load] = -1
	if eng, err := NewPsync(&countingAdapter{}, 2, nil, 4, nil, limits); err == nil {
		eng.Close()
		t.Fatal("a limit of -1 workers was accepted")
	}
}

// raiseTo makes m at least n (a running maximum shared by goroutines).
func raiseTo(m *atomic.Int64, n int64) {
	for cur := m.Load(); n > cur && !m.CompareAndSwap(cur, n); cur = m.Load() {
	}
}
