package l2

import (
	"sync"
	"testing"
	"unsafe"
)

// recordingLoads wraps an adapter and records, in call order, the key and
// the buffer address of every store and load.
type recordingLoads struct {
	Adapter
	mu     sync.Mutex
	stores []uint64
	loads  []uint64
	bufs   []uintptr
}

func (a *recordingLoads) Store(s *Scratch, idx uint64, buf []byte) Outcome {
	a.mu.Lock()
	a.stores = append(a.stores, idx)
	a.mu.Unlock()
	return a.Adapter.Store(s, idx, buf)
}

func (a *recordingLoads) Load(s *Scratch, idx uint64, buf []byte) Outcome {
	a.mu.Lock()
	a.loads = append(a.loads, idx)
	a.bufs = append(a.bufs, uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
	a.mu.Unlock()
	return a.Adapter.Load(s, idx, buf)
}

// distinct counts the distinct values of v.
func distinct[T comparable](v []T) int {
	seen := map[T]bool{}
	for _, x := range v {
		seen[x] = true
	}
	return len(seen)
}

// TestWindowFixedRounds: a window run with a zero --duration issues exactly
// --warmup-rounds + --rounds rounds of submits: the store writes keys
// 0..(W+R)·K-1 once each, the load reads each of them once (nothing
// re-read), and every round has K keys.
func TestWindowFixedRounds(t *testing.T) {
	rec := &recordingLoads{}
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	cfg.Ops, cfg.Mode, cfg.Duration, cfg.Verify = []Op{Store, Load}, Window, 0, true
	cfg.NumKeys, cfg.InFlight, cfg.Warmup, cfg.Rounds, cfg.IOWorkers, cfg.Payload = 2, 3, 1, 3, 2, 4096
	cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
		a, err := New(s, o)
		rec.Adapter = a
		return rec, err
	}
	res, _ := runCfg(t, cfg)
	const total = (1 + 3) * 2 * 3
	for _, op := range res.Ops {
		if len(op.Rounds) != 4 || len(op.Measured()) != 3 || op.Rereads != 0 {
			t.Fatalf("%s: %d rounds (%d measured), %d re-reads; want 4 (3), 0", op.Op, len(op.Rounds), len(op.Measured()), op.Rereads)
		}
		for _, rd := range op.Rounds {
			if rd.Keys != 6 || rd.Success != 6 {
				t.Fatalf("%s round %d: %d of %d keys, want 6 of 6", op.Op, rd.Number, rd.Success, rd.Keys)
			}
		}
	}
	timed := rec.loads[:total] // then the verification's reload of one round
	for name, keys := range map[string][]uint64{"stored": rec.stores, "loaded": timed} {
		if len(keys) != total || distinct(keys) != total {
			t.Fatalf("%d keys %s, %d distinct; want each of %d once", len(keys), name, distinct(keys), total)
		}
		for _, k := range keys {
			if k >= total {
				t.Fatalf("key %d %s, want below %d", k, name, total)
			}
		}
	}
	if res.Verify == nil || res.Verify.Mismatches != 0 || !res.Verify.Reloaded {
		t.Fatalf("verify %+v", res.Verify)
	}
}

// TestThreadBuffers: with ThreadBuffers, every timed load reads into one of
// the I/O threads' buffers (at most --io-workers distinct addresses, where
// LMCache's layout uses one slot per key of the round); the check loads its
// round again into the round's own slots, none of them a thread buffer;
// and a load that does nothing still fails the check for every key.
func TestThreadBuffers(t *testing.T) {
	for _, mode := range []Mode{Wave, Window} {
		for _, lying := range []bool{false, true} {
			name := mode.String()
			if lying {
				name += "/no-op loads"
			}
			t.Run(name, func(t *testing.T) {
				rec := &recordingLoads{}
				cfg := testConfig(t, fsSpec(t.TempDir(), ""))
				cfg.Ops, cfg.Mode, cfg.Duration, cfg.Verify, cfg.ThreadBuffers = []Op{Store, Load}, mode, 0, true, true
				cfg.NumKeys, cfg.InFlight, cfg.Warmup, cfg.Rounds, cfg.IOWorkers, cfg.Payload = 4, 2, 1, 2, 3, 8192
				cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
					a, err := New(s, o)
					if lying {
						a = lyingAdapter{a}
					}
					rec.Adapter = a
					return rec, err
				}
				res, _ := runCfg(t, cfg)
				k := cfg.KeysPerRound()
				timed := (cfg.Warmup + cfg.Rounds) * k
				if len(rec.bufs) != timed+k {
					t.Fatalf("%d loads, want %d timed and %d for the check", len(rec.bufs), timed, k)
				}
				threads, check := rec.bufs[:timed], rec.bufs[timed:]
				if n := distinct(threads); n > cfg.IOWorkers {
					t.Fatalf("timed loads used %d buffers, want at most %d (one per I/O thread)", n, cfg.IOWorkers)
				}
				inThreads := map[uintptr]bool{}
				for _, b := range threads {
					inThreads[b] = true
				}
				for _, b := range check {
					if inThreads[b] {
						t.Fatalf("the check reloaded into a thread buffer")
					}
				}
				if distinct(check) != k {
					t.Fatalf("the check used %d buffers for %d keys", distinct(check), k)
				}
				want := 0
				if lying {
					want = k
				}
				if res.Verify == nil || !res.Verify.Reloaded || res.Verify.Checked != k || res.Verify.Mismatches != want {
					t.Fatalf("verify %+v, want %d of %d keys mismatched, reloaded", res.Verify, want, k)
				}
			})
		}
	}
}
