package l2

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// capacity is an fs or fs_native adapter's byte accounting against
// max_capacity_gb, kept as LMCache keeps it (fs_l2_adapter.py,
// native_connector_l2_adapter.py, l2_adapters/base.py and
// eviction_policy/lru.py): every key is counted once, at the size it was
// stored with, in LRU order. A store of a new key adds it as the most
// recent; a successful load moves it to the most recent end, and so does an
// fs_native re-store of a key already counted; a lookup does neither. The
// evictor (eviction.go) removes keys from the least recent end.
//
// Keys are benchmark key numbers; a recovered file whose name is not a
// benchmark key's gets an id of its own (foreignBit set) and keeps its name,
// so that evicting it removes that file.
type capacity struct {
	limit  int64 // bytes: int(max_capacity_gb × 2^30), > 0
	native bool  // fs_native's rules (see store)

	mu         sync.Mutex
	used       int64
	index      map[uint64]int32 // key id → entry
	ents       []capEntry
	free       int32 // first free entry, -1 if none
	head, tail int32 // least and most recent entry, -1 if none
	// evicted holds the benchmark keys the evictor removed and no store
	// has written since: a load that finds one of them gone is an evicted
	// miss, not a failure.
	evicted     map[uint64]struct{}
	nextForeign uint64

	evictedKeys, evictedBytes, evictionRuns, unlinkFailures int64
	recovered                                               recovery
}

// foreignBit marks the id of a recovered file that is not a benchmark key
// (benchmark key numbers stay far below 2^63).
const foreignBit = 1 << 63

type capEntry struct {
	id         uint64
	size       int64
	prev, next int32
	pins       int32 // stores of this key in progress (fs: not evictable meanwhile)
	deleting   bool  // picked by the evictor, being unlinked
	name       []byte
}

// recovery is what the start-up scan found (recover.go).
type recovery struct {
	Keys, Bytes int64 // files counted toward the capacity
	Skipped     int64 // entries that are not a key's file
	Scanned     bool
}

func newCapacity(limit int64, native bool) *capacity {
	return &capacity{limit: limit, native: native, index: map[uint64]int32{}, evicted: map[uint64]struct{}{},
		free: -1, head: -1, tail: -1}
}

// usage is used / limit, LMCache's usage_fraction.
func (c *capacity) usage() float64 { return float64(c.used) / float64(c.limit) }

// alloc returns a free entry (mu held).
func (c *capacity) alloc() int32 {
	if c.free >= 0 {
		i := c.free
		c.free = c.ents[i].next
		return i
	}
	c.ents = append(c.ents, capEntry{})
	return int32(len(c.ents) - 1)
}

// unlinkEntry takes entry i out of the LRU list (mu held).
func (c *capacity) unlinkEntry(i int32) {
	e := &c.ents[i]
	if e.prev >= 0 {
		c.ents[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next >= 0 {
		c.ents[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
}

// pushRecent appends entry i at the most recent end (mu held).
func (c *capacity) pushRecent(i int32) {
	e := &c.ents[i]
	e.prev, e.next = c.tail, -1
	if c.tail >= 0 {
		c.ents[c.tail].next = i
	} else {
		c.head = i
	}
	c.tail = i
}

// touch moves a counted key to the most recent end (mu held).
func (c *capacity) touch(i int32) {
	if c.tail != i {
		c.unlinkEntry(i)
		c.pushRecent(i)
	}
}

// add counts a key not counted yet, as the most recent (mu held).
func (c *capacity) add(id uint64, size int64, name []byte) {
	i := c.alloc()
	c.ents[i] = capEntry{id: id, size: size, name: name}
	c.pushRecent(i)
	c.index[id] = i
	c.used += size
	delete(c.evicted, id)
}

// remove forgets entry i and its bytes (mu held).
func (c *capacity) remove(i int32) {
	e := &c.ents[i]
	c.unlinkEntry(i)
	delete(c.index, e.id)
	c.used -= e.size
	*e = capEntry{next: c.free}
	c.free = i
}

// pin marks a store of key id in progress if the key is counted; the
// evictor leaves pinned keys of an fs adapter alone (LMCache's fs adapter
// locks a store's keys; fs_native's delete does not look at locks).
func (c *capacity) pin(id uint64) {
	c.mu.Lock()
	if i, ok := c.index[id]; ok {
		c.ents[i].pins++
	}
	c.mu.Unlock()
}

func (c *capacity) unpin(id uint64) {
	c.mu.Lock()
	if i, ok := c.index[id]; ok && c.ents[i].pins > 0 {
		c.ents[i].pins--
	}
	c.mu.Unlock()
}

// stored accounts a store that succeeded (written, or skipped because the
// file was there) and reports whether the usage is now at or above
// watermark. A key is counted once, at the size given; a key already
// counted is moved to the most recent end by fs_native (its listener is
// told of every store), left alone by fs. size < 0 means "not known yet":
// the key is counted only if it was not (the caller then stats the file).
func (c *capacity) stored(id uint64, size int64, watermark float64) (counted, over bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[id]; ok {
		if c.native {
			c.touch(i)
		}
		return true, !(c.usage() < watermark)
	}
	if size < 0 {
		return false, false
	}
	c.add(id, size, nil)
	return true, !(c.usage() < watermark)
}

// accessed moves a loaded key to the most recent end.
func (c *capacity) accessed(id uint64) {
	c.mu.Lock()
	if i, ok := c.index[id]; ok {
		c.touch(i)
	}
	c.mu.Unlock()
}

// wasEvicted reports whether the evictor removed key id, or is removing it
// now (its file may already be unlinked), and nothing wrote it since.
func (c *capacity) wasEvicted(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.evicted[id]; ok {
		return true
	}
	i, ok := c.index[id]
	return ok && c.ents[i].deleting
}

// errEvicted is the outcome of a load of a key the adapter evicted: an
// evicted miss (Status Missing), not a failure.
var errEvicted = errors.New("load: key evicted by the adapter (max_capacity_gb)")

// store is an fs adapter's Store with the accounting around it.
func (c *capacity) store(a *fsAdapter, s *Scratch, idx uint64, buf []byte) Outcome {
	c.pin(idx)
	o := a.store(s, idx, buf)
	c.unpin(idx)
	var counted, over bool
	switch o.Status {
	case OK:
		counted, over = c.stored(idx, int64(len(buf)), a.watermark())
	case Skipped:
		size := int64(len(buf)) // fs_native counts what it was given
		if !c.native {
			size = -1 // fs counts an untracked file at its size on disk
		}
		if counted, over = c.stored(idx, size, a.watermark()); !counted {
			var st unix.Stat_t
			if fstatat(a.dir, s.finalName(idx), &st) == nil {
				_, over = c.stored(idx, st.Size, a.watermark())
			}
		}
	}
	if over && a.ev != nil {
		a.ev.kick()
	}
	return o
}

// load is an fs adapter's Load with the accounting around it.
func (c *capacity) load(a *fsAdapter, s *Scratch, idx uint64, buf []byte) Outcome {
	o := a.load(s, idx, buf)
	switch {
	case o.Status == OK:
		c.accessed(idx)
	case o.Status == Failed && errors.Is(o.Err, unix.ENOENT) && a.ev != nil && c.wasEvicted(idx):
		return Outcome{Status: Missing, Err: errEvicted}
	}
	return o
}

// CapacityStats is an adapter's accounting at the end of a run.
type CapacityStats struct {
	CapacityBytes int64 // max_capacity_gb in bytes
	UsedBytes     int64 // bytes counted (LMCache's total_bytes_used)
	Keys          int64 // keys counted
	Enforced      bool  // an evictor ran: an eviction block with LRU or IsolatedLRU
	Eviction      Eviction
	// Evictions are keys removed, EvictedBytes their bytes, EvictionRuns
	// the batches (each triggered at or above the watermark).
	Evictions, EvictedBytes, EvictionRuns int64
	UnlinkFailures                        int64
	Recovery                              recovery
	// DiskBytes and DiskFiles are the regular *.data files in base_path
	// when the stats were taken (their sizes; ScanErr if the scan failed).
	DiskBytes, DiskFiles int64
	ScanErr              string
}

// UsageFraction is UsedBytes / CapacityBytes, LMCache's usage_fraction.
func (s *CapacityStats) UsageFraction() float64 {
	return float64(s.UsedBytes) / float64(s.CapacityBytes)
}

// capacityReporter is an adapter that accounts bytes against a capacity.
type capacityReporter interface {
	// CapacityStats waits for an eviction in progress to end and returns
	// the accounting; nil if the adapter has no capacity.
	CapacityStats() *CapacityStats
}

// capacityOf returns a's accounting, or nil if it keeps none.
func capacityOf(a Adapter) *CapacityStats {
	if r, ok := a.(capacityReporter); ok {
		return r.CapacityStats()
	}
	return nil
}

// CapacityStats implements capacityReporter.
func (a *fsAdapter) CapacityStats() *CapacityStats {
	c := a.cap
	if c == nil {
		return nil
	}
	if a.ev != nil {
		a.ev.quiesce()
	}
	c.mu.Lock()
	st := &CapacityStats{CapacityBytes: c.limit, UsedBytes: c.used, Keys: int64(len(c.index)), Enforced: a.ev != nil,
		Eviction: a.eviction, Evictions: c.evictedKeys, EvictedBytes: c.evictedBytes, EvictionRuns: c.evictionRuns,
		UnlinkFailures: c.unlinkFailures, Recovery: c.recovered}
	c.mu.Unlock()
	st.DiskBytes, st.DiskFiles, st.ScanErr = diskUsage(a.base)
	return st
}

// diskUsage sums the sizes of the regular *.data files directly in dir.
func diskUsage(dir string) (bytes, files int64, errText string) {
	ents, err := keyFileEntries(dir)
	if err != nil {
		return 0, 0, err.Error()
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), dataExt) {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(dir, e.Name())); err == nil && fi.Mode().IsRegular() {
			bytes += fi.Size()
			files++
		}
	}
	return bytes, files, ""
}

// setupCapacity gives the adapter its accounting when max_capacity_gb
// rounds to at least one byte: the files already there when recovery is
// on (fs_native with IsolatedLRU recovers nothing, as LMCache), and an
// evictor when the eviction block's policy evicts. A recovered usage at or
// above the watermark is evicted at once, as LMCache's controller does on
// its first pass.
func (a *fsAdapter) setupCapacity(s Spec) {
	limit := s.CapacityBytes()
	if limit <= 0 {
		return
	}
	a.cap = newCapacity(limit, a.native)
	a.eviction = s.Eviction
	if s.RecoverOnStart && !(a.native && s.Eviction.Policy == "IsolatedLRU") {
		a.cap.recoverFiles(a.base, a.warn)
	}
	if p := s.Eviction.Policy; p == "LRU" || p == "IsolatedLRU" {
		a.ev = newEvictor(a.cap, a.dir, s.Eviction, !a.native, a.warn)
		a.ev.kick()
	}
}

// Interrupt stops eviction for the rest of the run (Ctrl-C), so that the
// summary's wait for the evictor is one batch at most.
func (a *fsAdapter) Interrupt() {
	if a.ev != nil {
		a.ev.halt()
	}
}

// watermark is the usage at which a store wakes the evictor (+Inf without
// one: never).
func (a *fsAdapter) watermark() float64 {
	if a.ev == nil {
		return math.Inf(1)
	}
	return a.ev.watermark
}
