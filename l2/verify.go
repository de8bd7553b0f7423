package l2

import (
	"bytes"
	"fmt"
)

// verifyReloads reports whether verification loads its round again into
// the poisoned slots (reloadForVerify) instead of checking what the last
// measured round left there: in window mode, whose slots are reused by
// every submit, and with ThreadBuffers, whose loads leave the slots alone.
func (r *runner) verifyReloads() bool { return r.cfg.Mode == Window || r.threadBuf != nil }

// verify compares every load buffer with the pattern its key was stored
// with, after the last measured load (docs/l2-bench.md, "Verification"). Load buffers were poisoned
// before the load, so a load that did nothing fails too.
func (r *runner) verify(storeRan bool) *Verify {
	c := r.cfg
	if r.verifyReloads() {
		r.log("[Verify] Checking store -> load data integrity of the reloaded keys...")
	} else {
		r.log("[Verify] Checking store -> load data integrity for last measured round...")
	}
	v := &Verify{Checked: len(r.loadBuf), Against: "store", Reloaded: r.verifyReloads()}
	if !storeRan {
		v.Against = "pattern"
	}
	for s, b := range r.loadBuf {
		if r.jobs[s].Out.Status == Missing { // an evicted miss: nothing was loaded to compare
			v.Evicted++
			v.Checked--
			continue
		}
		if !bytes.Equal(b, r.storeBuf[s]) { // the store half always holds the pattern
			v.Mismatches++
			r.log(fmt.Sprintf("  [Verify] Key %d: MISMATCH (store %d bytes vs load %d bytes)", s, c.Payload, c.Payload))
		}
	}
	if v.Evicted > 0 {
		r.log(fmt.Sprintf("  [Verify] %d keys not checked: the adapter evicted them.", v.Evicted))
	}
	if v.Mismatches == 0 {
		r.log(fmt.Sprintf("  [Verify] All %d keys data verified OK.", v.Checked))
	} else {
		r.log(fmt.Sprintf("  [Verify] %d/%d keys have data mismatches!", v.Mismatches, v.Checked))
	}
	r.log("")
	e := r.out.Event("verify").Bool("ok", v.Mismatches == 0).Int("checked", v.Checked).Int("mismatches", v.Mismatches).Str("against", v.Against).Bool("reloaded", v.Reloaded).
		Int("evicted", v.Evicted)
	e.Send()
	return v
}

// reloadForVerify loads, outside the measured loads, one round of K keys
// into their freshly poisoned slots — in window mode submit slot i the keys
// the window load first gave slot i, in wave mode (with ThreadBuffers,
// whose loads left the slots alone) the last measured round's keys — so
// that verification checks real loads without the timed loop having to
// poison buffers. A key that fails or times out keeps its poison and fails
// verification. It reports false if a Ctrl-C stopped it, and an error if a
// wait for its completions failed.
func (r *runner) reloadForVerify() (bool, error) {
	c := r.cfg
	nk, k, u := c.NumKeys, c.KeysPerRound(), r.windowUniverse()
	r.log(fmt.Sprintf("[Verify] Loading %d keys again into poisoned buffers, outside the measured loads...", k))
	if !r.fillSlots(r.loadBuf, poison) {
		return false, nil
	}
	r.prepJobs(Load)
	if c.Mode == Wave {
		r.keysForRound(Load, c.Warmup+c.Rounds-1)
	}
	for slot := 0; slot < c.InFlight; slot++ {
		for i := 0; i < nk; i++ {
			j := &r.jobs[slot*nk+i]
			j.Buf = r.loadBuf[slot*nk+i] // the slot, not a thread buffer
			if c.Mode == Window {
				j.Idx = uint64(slot*nk)%u + uint64(i)
			}
		}
		r.submit(Load, slot)
	}
	ignore := func(*Job) {}
	done, _, err := r.harvest(Load, k, r.timeout(Load), ignore)
	if err == nil && done < k {
		err = r.drain(Load, k-done, ignore)
	}
	return !r.stopping && err == nil, err
}
