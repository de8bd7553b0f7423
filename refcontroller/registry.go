package refcontroller

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/lmfast/lmfast/wire"
)

// workerKey names a worker: (instance_id, worker_id).
type workerKey struct {
	instance string
	worker   int64
}

// worker is one registered worker's state; its mutex guards everything
// below it, so batches for different workers apply in parallel.
type worker struct {
	key          workerKey
	ip           string
	port         int64
	peerInitURL  *string
	registeredAt time.Time

	mu            sync.Mutex
	lastHeartbeat time.Time
	locations     []string // kv_store's insertion order
	kv            map[string]*keySet
	seq           map[string]int64 // seq_tracker: last seq_num per location
	fs            workerSync       // full-sync session (fullsync.go)
}

func newWorker(key workerKey, ip string, port int64, peer *string, now time.Time) *worker {
	return &worker{key: key, ip: ip, port: port, peerInitURL: peer, registeredAt: now, lastHeartbeat: now,
		kv: map[string]*keySet{}, seq: map[string]int64{}}
}

// clear drops every key and sequence tracker (duplicate registration).
func (w *worker) clear() {
	w.mu.Lock()
	w.locations, w.kv, w.seq = nil, map[string]*keySet{}, map[string]int64{}
	w.mu.Unlock()
}

// keyCount returns how many keys the worker holds over all locations.
func (w *worker) keyCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, set := range w.kv {
		n += set.len()
	}
	return n
}

// seqGap is the first sequence discontinuity seen in one batch.
type seqGap struct {
	expected, actual int64
}

// apply applies a batch's operations in order (docs/protocol.md, "Batches and sequence numbers"): admit adds,
// evict discards, the sequence tracker follows the sender and the first
// discontinuity of the batch is returned. An emptied location is removed.
// It returns the number of admits and evicts applied.
func (w *worker) apply(location string, ops []wire.KVOpEvent) (admits, evicts int64, gap *seqGap) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.applyLocked(location, ops, true)
}

// applyLocked is apply with w.mu held; without checkSeq (a full-sync
// batch) the sequence tracker is neither checked nor moved.
func (w *worker) applyLocked(location string, ops []wire.KVOpEvent, checkSeq bool) (admits, evicts int64, gap *seqGap) {
	set, ok := w.kv[location]
	if !ok {
		set = newKeySet()
		w.kv[location] = set
		w.locations = append(w.locations, location)
	}
	if touchBatches {
		set.touch(ops)
	}
	admits, evicts = set.apply(ops)
	if !checkSeq {
		w.dropIfEmpty(location, set)
		return admits, evicts, nil
	}
	last, seen := w.seq[location] // the tracker, kept in a local for the batch
	for i := range ops {
		seq := ops[i].SeqNum
		if seen && seq != last+1 {
			gap = &seqGap{expected: last + 1, actual: seq}
			last = ops[len(ops)-1].SeqNum // only the first gap counts; the tracker ends at the last op
			break
		}
		last, seen = seq, true
	}
	if seen {
		w.seq[location] = last
	}
	w.dropIfEmpty(location, set)
	return admits, evicts, gap
}

// dropIfEmpty removes a location whose key set became empty.
func (w *worker) dropIfEmpty(location string, set *keySet) {
	if set.len() != 0 {
		return
	}
	delete(w.kv, location)
	for i, l := range w.locations {
		if l == location {
			w.locations = append(w.locations[:i], w.locations[i+1:]...)
			break
		}
	}
}

// touchBatches enables keySet.touch; benchmarks turn it off to compare.
var touchBatches = true

// instance is one instance and its workers in registration order.
type instance struct {
	id      string
	workers []*worker
}

// snapshot is an immutable view of the registry: lookups on the hot path
// read it through an atomic pointer, without any lock.
type snapshot struct {
	instances []*instance // registration order
	byKey     map[workerKey]*worker
}

// registry holds the registered instances and workers. Changes (register,
// deregister) copy the snapshot under mu; readers never lock.
type registry struct {
	mu   sync.Mutex
	snap atomic.Pointer[snapshot]
}

func newRegistry() *registry {
	r := &registry{}
	r.snap.Store(&snapshot{byKey: map[workerKey]*worker{}})
	return r
}

func (r *registry) lookup(k workerKey) *worker { return r.snap.Load().byKey[k] }

// register adds a worker; for one already registered it clears the worker's
// keys and sequence trackers and keeps its stored address (docs/protocol.md, "Requests and replies").
// It reports whether the worker was new.
func (r *registry) register(k workerKey, ip string, port int64, peer *string, now time.Time) (w *worker, isNew bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	if w := old.byKey[k]; w != nil {
		w.clear()
		return w, false
	}
	w = newWorker(k, ip, port, peer, now)
	next := &snapshot{byKey: make(map[workerKey]*worker, len(old.byKey)+1)}
	for key, v := range old.byKey {
		next.byKey[key] = v
	}
	next.byKey[k] = w
	found := false
	for _, inst := range old.instances {
		if inst.id == k.instance {
			inst = &instance{id: inst.id, workers: append(append([]*worker(nil), inst.workers...), w)}
			found = true
		}
		next.instances = append(next.instances, inst)
	}
	if !found {
		next.instances = append(next.instances, &instance{id: k.instance, workers: []*worker{w}})
	}
	r.snap.Store(next)
	return w, true
}

// deregister removes a worker, and its instance when that has no workers
// left. It reports whether the worker was registered.
func (r *registry) deregister(k workerKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.snap.Load()
	if old.byKey[k] == nil {
		return false
	}
	next := &snapshot{byKey: make(map[workerKey]*worker, len(old.byKey))}
	for key, v := range old.byKey {
		if key != k {
			next.byKey[key] = v
		}
	}
	for _, inst := range old.instances {
		if inst.id != k.instance {
			next.instances = append(next.instances, inst)
			continue
		}
		var ws []*worker
		for _, w := range inst.workers {
			if w.key != k {
				ws = append(ws, w)
			}
		}
		if len(ws) > 0 {
			next.instances = append(next.instances, &instance{id: inst.id, workers: ws})
		}
	}
	r.snap.Store(next)
	return true
}

// missTuple is the reply layout of a lookup that found nothing.
var missTuple = wire.LayoutInfo{}

// p2pLookup answers a BatchedP2PLookupMsg (docs/protocol.md, "Requests and replies"): the first worker, in
// registration order and skipping the requesting instance, whose location
// set (in insertion order) holds hashes[0]; the hit count is the longest
// prefix of hashes present in that same set.
func (r *registry) p2pLookup(m *wire.BatchedP2PLookupMsg) wire.LayoutInfo {
	if len(m.Hashes) == 0 {
		return missTuple
	}
	first := m.Hashes[0]
	for _, inst := range r.snap.Load().instances {
		if inst.id == m.InstanceID {
			continue
		}
		for _, w := range inst.workers {
			if info, ok := w.lookup(m.Hashes, first); ok {
				return info
			}
		}
	}
	return missTuple
}

func (w *worker) lookup(hashes []wire.Int, first wire.Int) (wire.LayoutInfo, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, loc := range w.locations {
		set := w.kv[loc]
		if !set.has(first) {
			continue
		}
		if w.peerInitURL == nil {
			return missTuple, true
		}
		n := 0
		for _, h := range hashes {
			if !set.has(h) {
				break
			}
			n++
		}
		return wire.LayoutInfo{InstanceID: w.key.instance, Location: loc, NumHitChunks: int64(n), PeerInitURL: *w.peerInitURL}, true
	}
	return wire.LayoutInfo{}, false
}

// all returns every registered worker, in registration order.
func (r *registry) all() []*worker {
	snap := r.snap.Load()
	out := make([]*worker, 0, len(snap.byKey))
	for _, inst := range snap.instances {
		out = append(out, inst.workers...)
	}
	return out
}

// totals returns the registered workers and the keys they hold.
func (r *registry) totals() (workers, keys int) {
	snap := r.snap.Load()
	for _, w := range snap.byKey {
		keys += w.keyCount()
	}
	return len(snap.byKey), keys
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
