package l2

import (
	"github.com/lmfast/lmfast/hugepage"
)

// mapBuffers maps one region of up to 2 × K slots — a store half and a
// load half, as LMCache — and, with ThreadBuffers, one load slot per I/O
// thread after them. A half no operation uses is not mapped (LMCache
// allocates both), so --only lookup costs no payload memory.
func (r *runner) mapBuffers() error {
	c := r.cfg
	k := c.KeysPerRound()
	load := c.Runs(Load)
	store := c.Runs(Store) || (load && c.Verify)
	halves := 0
	for _, h := range []bool{store, load} {
		if h {
			halves++
		}
	}
	n := halves * k
	if load && c.ThreadBuffers {
		n += c.IOWorkers // one more slot per I/O thread
	}
	stride := hugepage.SlotStride(c.Payload, c.Align)
	reg, err := hugepage.Alloc(max(1, n)*stride, hugepage.Options{Align: c.Align, Huge: c.HugePages, THP: !c.PlainPages})
	if err != nil {
		return err
	}
	r.region = reg
	slots, err := reg.Slots(n, c.Payload)
	if err != nil {
		return err
	}
	if store {
		r.storeBuf, slots = slots[:k], slots[k:]
	}
	if load {
		r.loadBuf, slots = slots[:k], slots[k:]
	}
	if len(slots) > 0 {
		r.threadBuf = slots
	}
	r.jobs = make([]Job, k)
	r.tiles = make([]Tile, 0, k)
	return nil
}

// fillBuffers fills the store half with LMCache's pattern — position j of
// a submit holds byte j & 0xFF — and poisons the load half, then checks
// what the kernel backed the written pages with. Gigabytes take seconds:
// it stops at a Ctrl-C and reports whether it finished.
func (r *runner) fillBuffers() bool {
	if len(r.storeBuf)+len(r.loadBuf) == 0 {
		return true
	}
	ok := r.fillSlots(r.storeBuf, expected) && r.fillSlots(r.loadBuf, poison) && r.fillSlots(r.threadBuf, poison)
	r.region.CheckBacking() // now that the pages were written: did THP really give huge pages?
	return ok
}

// fillSlots fills slot s of bufs with v(s mod --num-keys), stopping (false)
// at a Ctrl-C. A slot can be 1 GiB (a second of page faults and stores):
// the context is looked at every fillChunk bytes, not only between slots.
func (r *runner) fillSlots(bufs [][]byte, v func(int) byte) bool {
	for s, b := range bufs {
		for lo := 0; lo < len(b); lo += fillChunk {
			if r.ctx.Err() != nil {
				return false
			}
			fill(b[lo:min(lo+fillChunk, len(b))], v(s%r.cfg.NumKeys))
		}
	}
	return true
}

// fillChunk is how much of a buffer is filled between two looks for a
// Ctrl-C: a few milliseconds of work.
const fillChunk = 8 << 20

// expected is the byte a key at position j of its submit holds (LMCache's
// pattern); poison is what its load buffer holds before a load: never equal
// to it, so a load that did nothing cannot pass verification.
func expected(j int) byte { return byte(j) }
func poison(j int) byte   { return ^byte(j) }

func fill(b []byte, v byte) {
	if len(b) == 0 {
		return
	}
	b[0] = v
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}
