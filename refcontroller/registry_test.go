package refcontroller

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lmfast/lmfast/wire"
)

// registryModel is the registry's meaning in the plainest terms: the
// registered keys in registration order, an instance standing where its
// first (still registered) worker came.
type registryModel struct {
	insts []string
	byIns map[string][]workerKey
}

func (m *registryModel) register(k workerKey) bool {
	ws, ok := m.byIns[k.instance]
	if slices.Contains(ws, k) {
		return false
	}
	if !ok {
		m.insts = append(m.insts, k.instance)
	}
	m.byIns[k.instance] = append(ws, k)
	return true
}

func (m *registryModel) deregister(k workerKey) bool {
	ws := m.byIns[k.instance]
	i := slices.Index(ws, k)
	if i < 0 {
		return false
	}
	ws = slices.Delete(ws, i, i+1)
	if len(ws) == 0 {
		delete(m.byIns, k.instance)
		m.insts = slices.DeleteFunc(m.insts, func(s string) bool { return s == k.instance })
	} else {
		m.byIns[k.instance] = ws
	}
	return true
}

func (m *registryModel) order() [][]workerKey {
	var out [][]workerKey
	for _, in := range m.insts {
		out = append(out, m.byIns[in])
	}
	return out
}

func registryOrder(r *registry) [][]workerKey {
	var out [][]workerKey
	for _, in := range r.instances() {
		var ws []workerKey
		for _, w := range in.workers {
			if w.key.instance != in.id {
				panic("worker listed under another instance")
			}
			ws = append(ws, w.key)
		}
		out = append(out, ws)
	}
	return out
}

// TestRegistryAgreesWithModel registers and deregisters random workers
// (re-registrations and unknown deregistrations included) and checks after
// every change that the registry answers like the model: its result,
// lookups of every key, the count, and the order of instances and workers
// that p2p lookups and the HTTP API walk.
func TestRegistryAgreesWithModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := newRegistry()
	m := &registryModel{byIns: map[string][]workerKey{}}
	var all []workerKey
	for i := range 12 {
		for w := range 4 {
			all = append(all, workerKey{fmt.Sprintf("inst_%d", i), int64(w)})
		}
	}
	now := time.Now()
	for step := range 5000 {
		k := all[rng.IntN(len(all))]
		if rng.IntN(2) == 0 {
			_, isNew := r.register(k, "127.0.0.1", 1, nil, now)
			if want := m.register(k); isNew != want {
				t.Fatalf("step %d: register %v: new %v, want %v", step, k, isNew, want)
			}
		} else if got, want := r.deregister(k), m.deregister(k); got != want {
			t.Fatalf("step %d: deregister %v: %v, want %v", step, k, got, want)
		}
		n := 0
		for _, k := range all {
			w := r.lookup(k)
			if want := slices.Contains(m.byIns[k.instance], k); (w != nil) != want || w != nil && w.key != k {
				t.Fatalf("step %d: lookup %v = %v, registered %v", step, k, w, want)
			}
			if w != nil {
				n++
			}
		}
		if workers, _ := r.totals(); workers != n {
			t.Fatalf("step %d: totals says %d workers, lookups find %d", step, workers, n)
		}
		if got, want := registryOrder(r), m.order(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("step %d: order\n%v\nwant\n%v", step, got, want)
		}
	}
}

// TestRegistryP2PLookupOrder checks that a p2p lookup answers with the
// first holder in registration order, skipping the asking instance, after
// deregistrations opened gaps in the order.
func TestRegistryP2PLookupOrder(t *testing.T) {
	r := newRegistry()
	peer := "tcp://127.0.0.1:20000"
	now := time.Now()
	add := func(inst string, w int64) *worker {
		wk, _ := r.register(workerKey{inst, w}, "127.0.0.1", 1, &peer, now)
		return wk
	}
	admit := func(wk *worker, keys ...uint64) {
		ops := make([]wire.KVOpEvent, len(keys))
		for i, k := range keys {
			ops[i] = wire.KVOpEvent{OpType: wire.OpAdmit, Key: wire.UintOf(k), SeqNum: int64(i)}
		}
		wk.apply("loc", ops)
	}
	a0, a1, b0, c0 := add("A", 0), add("A", 1), add("B", 0), add("C", 0)
	admit(a0, 7)
	admit(a1, 7, 8)
	admit(b0, 7, 8, 9)
	admit(c0, 7, 8, 9, 10)
	ask := func(from string) wire.LayoutInfo {
		return r.p2pLookup(&wire.BatchedP2PLookupMsg{Hashes: []wire.Int{wire.UintOf(7), wire.UintOf(8), wire.UintOf(9), wire.UintOf(10)}, InstanceID: from})
	}
	if got := ask("X"); got.InstanceID != "A" || got.NumHitChunks != 1 {
		t.Fatalf("first holder: %+v, want A's worker 0 with 1 hit", got)
	}
	r.deregister(workerKey{"A", 0})
	if got := ask("X"); got.InstanceID != "A" || got.NumHitChunks != 2 {
		t.Fatalf("after A/0 left: %+v, want A's worker 1 with 2 hits", got)
	}
	if got := ask("A"); got.InstanceID != "B" || got.NumHitChunks != 3 {
		t.Fatalf("asked by A: %+v, want B with 3 hits", got)
	}
	r.deregister(workerKey{"A", 1})
	r.deregister(workerKey{"B", 0})
	add("A", 0) // A comes back after C
	if got := ask("X"); got.InstanceID != "C" || got.NumHitChunks != 4 {
		t.Fatalf("after A and B left: %+v, want C with 4 hits", got)
	}
}

// TestRegistryConcurrent registers and deregisters workers from several
// goroutines (the reply loop, the heartbeat loop and the appliers change
// the registry at once) while others look them up and walk the order; run
// it with -race. Each writer owns its keys, so at the end every key's state
// is its writer's last decision.
func TestRegistryConcurrent(t *testing.T) {
	const writers, perWriter, rounds = 4, 200, 4
	r := newRegistry()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for i := range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				k := workerKey{fmt.Sprintf("w%d_i%d", j%writers, j%perWriter/5), int64(j % 5)}
				if w := r.lookup(k); w != nil && w.key != k {
					t.Errorf("lookup %v found %v", k, w.key)
					return
				}
				if i == 0 && j%100 == 0 {
					n := 0
					for _, in := range r.instances() {
						if len(in.workers) == 0 {
							t.Errorf("instance %s listed without workers", in.id)
							return
						}
						n += len(in.workers)
					}
					if n > writers*perWriter {
						t.Errorf("%d workers listed, at most %d exist", n, writers*perWriter)
						return
					}
				}
				if i == 1 && j%10 == 0 {
					r.p2pLookup(&wire.BatchedP2PLookupMsg{Hashes: []wire.Int{wire.UintOf(1)}, InstanceID: "x"})
				}
				if j%64 == 0 {
					runtime.Gosched() // two CPUs: leave the writers room
				}
			}
		}()
	}
	final := make([]map[workerKey]bool, writers)
	var ws sync.WaitGroup
	for wi := range writers {
		ws.Add(1)
		go func() {
			defer ws.Done()
			rng := rand.New(rand.NewPCG(uint64(wi), 9))
			mine := map[workerKey]bool{}
			for range rounds {
				for j := range perWriter {
					k := workerKey{fmt.Sprintf("w%d_i%d", wi, j/5), int64(j % 5)}
					if rng.IntN(3) == 0 {
						if got := r.deregister(k); got != mine[k] {
							t.Errorf("deregister %v: %v, want %v", k, got, mine[k])
						}
						mine[k] = false
					} else {
						if _, isNew := r.register(k, "127.0.0.1", 1, nil, time.Now()); isNew == mine[k] {
							t.Errorf("register %v: new %v, was registered %v", k, isNew, mine[k])
						}
						mine[k] = true
					}
				}
			}
			final[wi] = mine
		}()
	}
	ws.Wait()
	close(stop)
	readers.Wait()
	want := 0
	for _, mine := range final {
		for k, reg := range mine {
			if (r.lookup(k) != nil) != reg {
				t.Errorf("%v registered %v, want %v", k, r.lookup(k) != nil, reg)
			}
			if reg {
				want++
			}
		}
	}
	n := 0
	for _, in := range r.instances() {
		n += len(in.workers)
	}
	if workers, _ := r.totals(); workers != want || n != want {
		t.Errorf("totals %d, listed %d, want %d", workers, n, want)
	}
}
