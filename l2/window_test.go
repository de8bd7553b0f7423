package l2

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/stream"
)

// TestWindowLookupHitsAreStoredKeys: every window-mode lookup meant as a
// hit names a stored key, so the hit rate is exactly trunc(nk·rate)/nk,
// also once the lookups went round the 8 stored keys (from the third
// submit on), where hits computed as (s·hit) mod universe + i would run
// past the last stored key.
func TestWindowLookupHitsAreStoredKeys(t *testing.T) {
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	cfg.NumKeys, cfg.InFlight, cfg.Rounds, cfg.Warmup, cfg.Payload = 4, 1, 2, 0, 4096
	cfg.Ops = []Op{Store} // wave: keys [0, 8), the window lookup's universe with these flags
	runCfg(t, cfg)
	cfg.Ops, cfg.Mode, cfg.Duration, cfg.HitRate = []Op{Lookup}, Window, 100*time.Millisecond, 0.75
	res, _ := runCfg(t, cfg)
	st := Stats(res.Ops[0], cfg)
	if st.TotalKeys < 12 || st.TotalSuccess*4 != st.TotalKeys*3 || st.Missing*4 != st.TotalKeys {
		t.Fatalf("%d keys looked up, %d found, %d missing: want exactly 3 of every 4 found", st.TotalKeys, st.TotalSuccess, st.Missing)
	}
}

// countingWriter counts the writes made to it.
type countingWriter struct {
	bytes.Buffer
	writes atomic.Int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes.Add(1)
	return w.Buffer.Write(p)
}

// watchedLoads wraps an adapter: it notes how many JSONL writes had been
// made when each operation started, and counts loads that start on a
// poisoned buffer.
type watchedLoads struct {
	Adapter
	out                *countingWriter
	first, last        atomic.Int64
	calls, poisonedBuf atomic.Int64
	numKeys            int
}

func (w *watchedLoads) note() {
	n := w.out.writes.Load()
	if w.calls.Add(1) == 1 {
		w.first.Store(n)
	}
	w.last.Store(n)
}

func (w *watchedLoads) Store(s *Scratch, idx uint64, buf []byte) Outcome {
	w.note()
	return w.Adapter.Store(s, idx, buf)
}

func (w *watchedLoads) Load(s *Scratch, idx uint64, buf []byte) Outcome {
	w.note()
	if buf[0] == poison(int(idx)%w.numKeys) {
		w.poisonedBuf.Add(1)
	}
	return w.Adapter.Load(s, idx, buf)
}

// TestWindowTimedLoopOnlyDoesIO: between the first and the last operation
// of a window, nothing is written to the JSONL stream (round lines and
// --raw samples come after the operation), and load buffers are not
// poisoned per submit (verification reloads one round after the window).
// The window runs a fixed amount of work (--duration 0: 1 warmup and 3
// measured rounds), so the number of rounds does not depend on the
// machine.
func TestWindowTimedLoopOnlyDoesIO(t *testing.T) {
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	cfg.Mode, cfg.Duration, cfg.Warmup, cfg.Rounds, cfg.Raw, cfg.Verify = Window, 0, 1, 3, true, true
	cfg.NumKeys, cfg.InFlight, cfg.Payload = 4, 2, 4096
	out := &countingWriter{}
	w := &watchedLoads{out: out, numKeys: cfg.NumKeys}
	cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
		a, err := New(s, o)
		w.Adapter = a
		return w, err
	}
	for _, ops := range [][]Op{{Store}, {Load}} {
		cfg.Ops = ops
		w.calls.Store(0)
		res, err := Run(context.Background(), cfg, stream.New(out, "l2", "t"))
		if err != nil {
			t.Fatal(err)
		}
		o := res.Ops[0]
		if n := int64(Stats(o, cfg).TotalKeys); len(o.Measured()) != 3 || o.SamplesWritten != n || o.Latency.TotalCount() != n {
			t.Fatalf("%s: %d measured rounds of %d keys, %d samples, %d keys in the histogram", o.Op, len(o.Measured()), n, o.SamplesWritten, o.Latency.TotalCount())
		}
		if ops[0] == Store && w.last.Load() != w.first.Load() {
			t.Fatalf("store: %d JSONL writes while the window ran", w.last.Load()-w.first.Load())
		}
		if ops[0] == Load {
			// The setup's poison and the verification's reload: one round each.
			if p, k := w.poisonedBuf.Load(), int64(cfg.KeysPerRound()); p > 2*k || res.Verify == nil || res.Verify.Mismatches != 0 {
				t.Fatalf("%d of %d loads started on a poisoned buffer (at most %d); verify %+v", p, w.calls.Load(), 2*k, res.Verify)
			}
		}
	}
}

// TestWindowVerifyCatchesNoOpLoads: a load that reports success without
// writing its buffer fails verification in window mode too.
func TestWindowVerifyCatchesNoOpLoads(t *testing.T) {
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	cfg.Mode, cfg.Duration, cfg.Warmup, cfg.Verify = Window, 50*time.Millisecond, 0, true
	cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
		a, err := New(s, o)
		return lyingAdapter{a}, err
	}
	res, _ := runCfg(t, cfg)
	if res.Verify == nil || !res.Verify.Reloaded || res.Verify.Mismatches != cfg.KeysPerRound() {
		t.Fatalf("verify %+v, want all %d keys mismatched", res.Verify, cfg.KeysPerRound())
	}
}

// TestWindowLoadCountsRereads: a window load cycles over the stored keys;
// keys loaded a second time in the operation are counted, and with
// buffered reads (which the page cache may serve) there is a warning.
func TestWindowLoadCountsRereads(t *testing.T) {
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	cfg.NumKeys, cfg.InFlight, cfg.Rounds, cfg.Warmup, cfg.Payload = 4, 2, 1, 0, 4096
	cfg.Ops = []Op{Store} // wave: keys [0, 8), the window load's universe with these flags
	runCfg(t, cfg)
	var warnings []string
	cfg.Warn = func(s string) { warnings = append(warnings, s) }
	cfg.Ops, cfg.Mode, cfg.Duration = []Op{Load}, Window, 200*time.Millisecond // 3 submits of 4 keys load a stored key again
	res, _ := runCfg(t, cfg)
	o := res.Ops[0]
	st := Stats(o, cfg)
	if o.Rereads < int64(st.TotalKeys-8) || o.Rereads > int64(st.TotalKeys) || o.Rereads%4 != 0 || o.Rereads == 0 {
		t.Fatalf("%d re-read keys of %d loaded from 8 stored", o.Rereads, st.TotalKeys)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "re-read keys already loaded") {
		t.Fatalf("warnings %q", warnings)
	}
	if load := entries(Document(res, "x")[1]); load["reread_keys"] != o.Rereads {
		t.Fatalf("load section %v", load)
	}
}

// keyGates holds each store until its key (or everything) is released,
// and records which keys entered.
type keyGates struct {
	countingAdapter
	mu      sync.Mutex
	gates   map[uint64]chan struct{}
	entered []uint64
	all     chan struct{}
}

func (g *keyGates) gate(idx uint64) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gates[idx] == nil {
		g.gates[idx] = make(chan struct{})
	}
	return g.gates[idx]
}

func (g *keyGates) Store(_ *Scratch, idx uint64, buf []byte) Outcome {
	ch := g.gate(idx)
	g.mu.Lock()
	g.entered = append(g.entered, idx)
	g.mu.Unlock()
	select {
	case <-ch:
	case <-g.all:
	}
	return Outcome{Status: OK, Bytes: len(buf)}
}

func (g *keyGates) seen() []uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]uint64(nil), g.entered...)
}

// waitSeen waits until n keys have entered the adapter.
func (g *keyGates) waitSeen(n int) []uint64 {
	for len(g.seen()) < n {
		time.Sleep(time.Millisecond)
	}
	return g.seen()
}

// countingEngine counts the keys submitted to the engine it wraps.
type countingEngine struct {
	Engine
	keys atomic.Int64
}

func (e *countingEngine) Submit(t Tile) {
	e.keys.Add(int64(len(t.Jobs)))
	e.Engine.Submit(t)
}

// TestWindowReplacesEachSubmitAtOnce: window mode keeps exactly --in-flight
// submits outstanding: 3 submits of 4 keys are issued and no more while
// none completes; when one completes, exactly one new submit (the next
// keys) is issued. The submitter's own count is read each time it begins a
// wait for completions (Config.Poll, on its goroutine): by then it has
// issued everything it will issue for the completions it has seen.
func TestWindowReplacesEachSubmitAtOnce(t *testing.T) {
	g := &keyGates{gates: map[uint64]chan struct{}{}, all: make(chan struct{})}
	cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`)
	cfg.newAdapter = func(Spec, Options) (Adapter, error) { return g, nil }
	eng := &countingEngine{}
	cfg.wrapEngine = func(e Engine) Engine { eng.Engine = e; return eng }
	var mu sync.Mutex
	var atWaits []int64 // keys submitted when each wait began
	cfg.Poll = func(fds []unix.PollFd, ms int) (int, error) {
		mu.Lock()
		atWaits = append(atWaits, eng.keys.Load())
		mu.Unlock()
		return unix.Poll(fds, ms)
	}
	// firstWaitWith waits for a wait that began with at least n keys
	// submitted and returns that wait's count.
	firstWaitWith := func(n int64) int64 {
		for {
			mu.Lock()
			for _, k := range atWaits {
				if k >= n {
					mu.Unlock()
					return k
				}
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}
	cfg.Ops, cfg.Warmup, cfg.Mode, cfg.Duration = []Op{Store}, 0, Window, time.Hour
	cfg.NumKeys, cfg.InFlight, cfg.IOWorkers, cfg.Payload = 4, 3, 16, 4096 // more workers than keys in flight
	cancel, done := startRun(t, cfg)
	defer func() { cancel(); close(g.all); <-done }()

	if n := firstWaitWith(12); n != 12 {
		t.Fatalf("%d keys submitted before the first wait, want 12 (3 submits of 4)", n)
	}
	if seen := sorted(g.waitSeen(12)); seen[0] != 0 || seen[11] != 11 {
		t.Fatalf("first keys %v, want 0..11", seen)
	}
	for idx := uint64(0); idx < 4; idx++ { // complete submit 0
		close(g.gate(idx))
	}
	if n := firstWaitWith(16); n != 16 {
		t.Fatalf("%d keys submitted after one submit completed, want 16 (one new submit)", n)
	}
	if seen := sorted(g.waitSeen(16)); seen[12] != 12 || seen[15] != 15 {
		t.Fatalf("keys %v: want one new submit, keys 12..15", seen)
	}
	cancel()
}

func sorted(s []uint64) []uint64 {
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}
