package refcontroller

import (
	"hash/maphash"
	"sync"
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
	// prev and next link the instance's workers in registration order;
	// the registry's mu guards them.
	prev, next *worker

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
	for _, loc := range w.locations { // the keys of kv, without a map iteration
		n += w.kv[loc].len()
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

// instance is one instance and its workers in registration order, as
// registry.instances hands them out: a copy, which later changes leave
// alone.
type instance struct {
	id      string
	workers []*worker
}

// registryShards is how many parts the worker table is split into, so
// that lookups from several goroutines rarely meet on one lock.
const registryShards = 64

// registry holds the registered instances and workers. The table by key
// is split into shards, each a map under its own read-write lock: a lookup
// (every KV batch) read-locks one shard; a change (register, deregister)
// write-locks one shard and touches one entry, so registering n workers
// costs O(n) in all. The registration order, which p2p lookups and the
// HTTP API walk, is a list of instances, each a list of its workers, kept
// under mu: changes take it exclusively (one change at a time), walks
// share it.
type registry struct {
	seed   maphash.Seed
	shards [registryShards]regShard

	mu          sync.RWMutex
	insts       map[string]*instNode
	first, last *instNode
	count       int // workers registered
}

// regShard is one part of the worker table, padded to its own cache lines.
type regShard struct {
	mu    sync.RWMutex
	byKey map[workerKey]*worker
	_     [64]byte
}

// instNode is one instance in registration order, with its workers in
// registration order (a list through worker.prev and worker.next).
type instNode struct {
	id          string
	prev, next  *instNode
	first, last *worker
	n           int
}

func newRegistry() *registry {
	r := &registry{seed: maphash.MakeSeed(), insts: map[string]*instNode{}}
	for i := range r.shards {
		r.shards[i].byKey = map[workerKey]*worker{}
	}
	return r
}

// shard returns the part of the table that holds k.
func (r *registry) shard(k workerKey) *regShard {
	h := maphash.String(r.seed, k.instance) ^ uint64(k.worker)*0x9e3779b97f4a7c15
	return &r.shards[(h>>32)%registryShards]
}

// lookup returns the registered worker k, or nil.
func (r *registry) lookup(k workerKey) *worker {
	sh := r.shard(k)
	sh.mu.RLock()
	w := sh.byKey[k]
	sh.mu.RUnlock()
	return w
}

// register adds a worker; for one already registered it clears the worker's
// keys and sequence trackers and keeps its stored address (docs/protocol.md, "Requests and replies").
// It reports whether the worker was new.
func (r *registry) register(k workerKey, ip string, port int64, peer *string, now time.Time) (w *worker, isNew bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sh := r.shard(k)
	if w := sh.byKey[k]; w != nil { // changes hold mu: no other writer of the shard
		w.clear()
		return w, false
	}
	w = newWorker(k, ip, port, peer, now)
	sh.mu.Lock()
	sh.byKey[k] = w
	sh.mu.Unlock()
	in := r.insts[k.instance]
	if in == nil {
		in = &instNode{id: k.instance, prev: r.last}
		if r.last != nil {
			r.last.next = in
		} else {
			r.first = in
		}
		r.last = in
		r.insts[k.instance] = in
	}
	w.prev = in.last
	if in.last != nil {
		in.last.next = w
	} else {
		in.first = w
	}
	in.last = w
	in.n++
	r.count++
	return w, true
}

// deregister removes a worker, and its instance when that has no workers
// left. It reports whether the worker was registered.
func (r *registry) deregister(k workerKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	sh := r.shard(k)
	w := sh.byKey[k]
	if w == nil {
		return false
	}
	sh.mu.Lock()
	delete(sh.byKey, k)
	sh.mu.Unlock()
	in := r.insts[k.instance]
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		in.first = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		in.last = w.prev
	}
	w.prev, w.next = nil, nil
	in.n--
	r.count--
	if in.n == 0 {
		if in.prev != nil {
			in.prev.next = in.next
		} else {
			r.first = in.next
		}
		if in.next != nil {
			in.next.prev = in.prev
		} else {
			r.last = in.prev
		}
		delete(r.insts, k.instance)
	}
	return true
}

// instances returns the registered instances and their workers in
// registration order: a copy made under the lock.
func (r *registry) instances() []*instance {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*instance, 0, len(r.insts))
	for in := r.first; in != nil; in = in.next {
		ws := make([]*worker, 0, in.n)
		for w := in.first; w != nil; w = w.next {
			ws = append(ws, w)
		}
		out = append(out, &instance{id: in.id, workers: ws})
	}
	return out
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
	r.mu.RLock()
	defer r.mu.RUnlock()
	for in := r.first; in != nil; in = in.next {
		if in.id == m.InstanceID {
			continue
		}
		for w := in.first; w != nil; w = w.next {
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
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*worker, 0, r.count)
	for in := r.first; in != nil; in = in.next {
		for w := in.first; w != nil; w = w.next {
			out = append(out, w)
		}
	}
	return out
}

// totals returns the registered workers and the keys they hold.
func (r *registry) totals() (workers, keys int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for in := r.first; in != nil; in = in.next {
		for w := in.first; w != nil; w = w.next {
			keys += w.keyCount()
		}
	}
	return r.count, keys
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
