package l2

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// evictor removes an fs adapter's least recently used keys when its usage
// reaches the eviction block's trigger_watermark, as LMCache's L2 eviction
// controller does (storage_controllers/eviction_controller.py,
// L2EvictionController._check_and_evict_global, and
// eviction_policy/lru.py get_eviction_actions): at usage ≥ watermark one
// eviction takes int(tracked keys × eviction_ratio) keys (at least one when
// the ratio is above 0, the ratio clamped to [0, 1]) from the least recent
// end, and deletes them (fs_l2_adapter.py delete: a key a store is writing
// is skipped; fs_native deletes regardless). LMCache's controller looks
// once a second; lmfast's evictor is woken by the store that crosses the
// watermark and repeats until the usage is below it, so that the run's
// figures do not depend on where a one-second tick falls. It runs on its
// own goroutine, as LMCache's controller thread, never on an I/O worker.
//
// lmfast runs it when the adapter has a capacity and an eviction block
// whose policy evicts (LRU; IsolatedLRU, which for the benchmark's keys, all
// of one cache_salt, is the same order). `lmcache bench l2` itself creates
// no eviction controller; lmfast measures the adapter as LMCache's server
// runs it.
type evictor struct {
	c          *capacity
	dir        int // base_path
	watermark  float64
	ratio      float64
	skipPinned bool
	warn       func(string)

	mu        sync.Mutex
	idle      *sync.Cond
	scheduled bool // a kick is waiting for the loop
	running   bool // the loop is evicting
	stopped   bool
	wake      chan struct{}
	done      chan struct{}
	warned    bool
	s         Scratch // names of benchmark keys
}

func newEvictor(c *capacity, dir int, e Eviction, skipPinned bool, warn func(string)) *evictor {
	ev := &evictor{c: c, dir: dir, watermark: e.TriggerWatermark, ratio: clampRatio(e.EvictionRatio), skipPinned: skipPinned,
		warn: warn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	ev.idle = sync.NewCond(&ev.mu)
	go ev.loop()
	return ev
}

// clampRatio is LMCache's max(0.0, min(1.0, ratio)), NaN included (→ 1).
func clampRatio(r float64) float64 {
	m := 1.0
	if r < m {
		m = r
	}
	out := 0.0
	if m > out {
		out = m
	}
	return out
}

// kick asks the loop to check the usage.
func (e *evictor) kick() {
	e.mu.Lock()
	if !e.scheduled && !e.stopped {
		e.scheduled = true
		e.wake <- struct{}{}
	}
	e.mu.Unlock()
}

// quiesce waits until no eviction is running or asked for.
func (e *evictor) quiesce() {
	e.mu.Lock()
	for e.scheduled || e.running {
		e.idle.Wait()
	}
	e.mu.Unlock()
}

// halt makes the loop stop evicting after the batch in progress and
// ignore later kicks (Ctrl-C: the run must end promptly, and quiesce then
// waits for one batch at most).
func (e *evictor) halt() {
	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
}

// close stops the loop after the batch in progress and waits for it.
func (e *evictor) close() {
	e.halt()
	close(e.wake)
	<-e.done
}

func (e *evictor) loop() {
	defer close(e.done)
	for range e.wake {
		e.mu.Lock()
		e.scheduled, e.running = false, true
		e.mu.Unlock()
		e.evict()
		e.mu.Lock()
		e.running = false
		e.idle.Broadcast()
		e.mu.Unlock()
	}
	e.mu.Lock()
	e.scheduled, e.running = false, false
	e.idle.Broadcast()
	e.mu.Unlock()
}

func (e *evictor) isStopped() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopped
}

// victim is a key picked for eviction.
type victim struct {
	i    int32
	id   uint64
	name []byte
	err  error
}

// evict runs eviction batches while the usage is at or above the
// watermark. A batch that removes nothing (every victim pinned or its
// unlink failed) ends it until the next kick.
func (e *evictor) evict() {
	c := e.c
	for !e.isStopped() {
		c.mu.Lock()
		batch := e.pick()
		c.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for k := range batch {
			v := &batch[k]
			name := v.name
			if name == nil {
				name = e.s.finalName(v.id)
			}
			if err := unlinkat(e.dir, name); err != nil && err != unix.ENOENT {
				v.err = fmt.Errorf("unlink %s: %w", name[:len(name)-1], err)
			}
		}
		removed := 0
		var failure error
		c.mu.Lock()
		c.evictionRuns++
		for _, v := range batch {
			ent := &c.ents[v.i]
			ent.deleting = false
			if v.err != nil {
				c.unlinkFailures++
				failure = v.err
				continue
			}
			c.evictedKeys++
			c.evictedBytes += ent.size
			if v.id&foreignBit == 0 {
				c.evicted[v.id] = struct{}{}
			}
			c.remove(v.i)
			removed++
		}
		c.mu.Unlock()
		if failure != nil && !e.warned {
			e.warned = true
			e.warn(fmt.Sprintf("eviction: %v; the file stays counted", failure))
		}
		if removed == 0 {
			return
		}
	}
}

// pick chooses the next batch (c.mu held): nothing below the watermark,
// else the ratio of the counted keys from the least recent end, less the
// pinned ones (fs) and those another batch is removing.
func (e *evictor) pick() []victim {
	c := e.c
	if len(c.index) == 0 || c.usage() < e.watermark {
		return nil
	}
	n := int(float64(len(c.index)) * e.ratio)
	if e.ratio > 0 && n == 0 {
		n = 1
	}
	var batch []victim
	taken := 0
	for i := c.head; i >= 0 && taken < n; i = c.ents[i].next {
		ent := &c.ents[i]
		taken++
		if ent.deleting || (e.skipPinned && ent.pins > 0) {
			continue
		}
		ent.deleting = true
		batch = append(batch, victim{i: i, id: ent.id, name: ent.name})
	}
	return batch
}
