package l2

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/hugepage"
	"github.com/lmfast/lmfast/stream"
)

// Run runs the configured operations and returns what they measured. It
// writes round, sample and warning lines to out as it goes (the caller
// writes config and summary lines); every warning goes to cfg.Warn and
// out. A cancelled ctx stops it after the in-flight I/O drained; the
// Result then has Interrupted set.
//
// Run does not modify *cfg: it works on a copy, which is the Result's
// Config, so one Config can be run any number of times.
func Run(ctx context.Context, cfg *Config, out *stream.Writer) (res *Result, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	own := *cfg
	cfg = &own
	r := &runner{cfg: cfg, ctx: ctx, out: out, cancelFd: -1, errIdx: map[string]int{}}
	warn := cfg.Warn
	if warn == nil {
		warn = func(string) {}
	}
	cfg.Warn = func(msg string) {
		warn(msg)
		out.Event("warning").Str("warning", msg).Send()
	}
	defer r.release()
	if err := r.mapBuffers(); err != nil {
		return nil, err
	}
	res = &Result{Config: cfg, Adapter: cfg.Spec.ClassName()}

	r.log("\n[Init] Creating adapter...")
	writes := cfg.Runs(Store)
	create := New
	if cfg.newAdapter != nil {
		create = cfg.newAdapter
	}
	a, err := create(cfg.Spec, Options{Writable: writes, Warn: cfg.Warn, HeadRead: cfg.HeadRead, InPlace: cfg.InPlace})
	if err != nil {
		return nil, &CreateError{err}
	}
	r.adapter = a
	r.log(fmt.Sprintf("[Init] Adapter created successfully (%s).\n", res.Adapter))
	var limits OpLimits
	res.StoreWorkers = cfg.IOWorkers
	if n := cfg.BufferedStoreWorkers; n > 0 && n < cfg.IOWorkers && cfg.Runs(Store) && storesBuffered(r.adapter, cfg.Payload) {
		limits[Store], res.StoreWorkers = n, n
	}
	if r.eng, err = NewPsync(r.adapter, cfg.IOWorkers, cfg.CPUs, cfg.KeysPerRound()+cfg.IOWorkers, r.threadBuf, limits); err != nil {
		return nil, err
	}
	if cfg.wrapEngine != nil {
		r.eng = cfg.wrapEngine(r.eng)
	}
	res.Engine, res.Workers = r.eng.Name(), r.eng.Workers()
	for i := range r.comp {
		if r.comp[i], err = newCompletions(cfg.Poll); err != nil {
			return nil, err
		}
	}
	if r.cancelFd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	r.unwatch = r.watch()
	r.fillBuffers() // stops early on Ctrl-C: then no operation runs
	res.Buffers, res.BufferWarning = r.region.Backing(), r.region.Warning()
	if res.BufferWarning != "" {
		cfg.Warn(res.BufferWarning)
	}

	if cfg.BeforeOps != nil {
		cfg.BeforeOps()
	}
	storeRan, loadRan := false, false
	for i, op := range cfg.Ops {
		if ctx.Err() != nil {
			break
		}
		if cfg.DropCaches && (op != Store || i > 0) {
			if r.dropCaches(op); ctx.Err() != nil {
				break // Ctrl-C while the caches were being dropped
			}
		}
		switch {
		case cfg.Mode == Window && cfg.Duration == 0:
			r.log(fmt.Sprintf("[%s] Running %d warmup + %d measurement rounds with %d submits in flight...", op.Label(), cfg.Warmup, cfg.Rounds, cfg.InFlight))
		case cfg.Mode == Window:
			r.log(fmt.Sprintf("[%s] Running %d warmup rounds, then %s with %d submits in flight...", op.Label(), cfg.Warmup, cfg.Duration, cfg.InFlight))
		default:
			r.log(fmt.Sprintf("[%s] Running %d warmup + %d measurement rounds...", op.Label(), cfg.Warmup, cfg.Rounds))
		}
		if op == Lookup {
			r.log("bench_lookup uses a placeholder MemoryLayoutDesc; this may need a real layout for layout-sensitive adapters")
		}
		o, err := r.runOp(op)
		if err != nil {
			return nil, r.abort(fmt.Errorf("%s: %w", op, err))
		}
		res.Ops = append(res.Ops, o)
		storeRan = storeRan || op == Store
		loadRan = loadRan || (op == Load && !o.Interrupted)
		r.log("")
	}
	if cfg.AfterOps != nil {
		cfg.AfterOps()
	}
	res.Interrupted = ctx.Err() != nil
	if cfg.Verify && loadRan && !res.Interrupted {
		ok := !r.verifyReloads()
		if !ok {
			if ok, err = r.reloadForVerify(); err != nil {
				return nil, r.abort(fmt.Errorf("verify: reload: %w", err))
			}
		}
		if ok {
			res.Verify = r.verify(storeRan)
		}
		res.Interrupted = ctx.Err() != nil
	}
	res.Capacity = capacityOf(r.adapter)
	if cfg.BeforeCleanup != nil {
		cfg.BeforeCleanup(res)
	}
	r.log("[Cleanup] Closing adapter...")
	r.release()
	r.log("[Cleanup] Done.")
	return res, nil
}

// runner holds one run's state.
type runner struct {
	cfg       *Config
	ctx       context.Context
	out       *stream.Writer
	adapter   Adapter
	eng       Engine
	comp      [3]*Completions
	region    *hugepage.Region
	storeBuf  [][]byte
	loadBuf   [][]byte
	threadBuf [][]byte // ThreadBuffers: one load buffer per I/O thread
	jobs      []Job
	tiles     []Tile
	cancelFd  int
	unwatch   func() // stops the Ctrl-C watcher and waits for a cancel in progress
	stopping  bool   // the submitter has seen the Ctrl-C
	late      []*Job // wave mode: jobs drained after their round timed out
	stored    uint64 // window mode: keys the store wrote (their idx are [0, stored))
	raw       []byte
	samples   []sample // --raw: samples not written yet
	errIdx    map[string]int
	lastLog   time.Time // window mode: when the last round progress line went out
}

// abort ends a run that cannot go on (its completions can no longer be
// waited for): the engine completes every job it has not started as
// Cancelled, without its I/O, and the deferred release waits for the jobs
// running now to finish theirs (a store renames or deletes its temp file)
// before the adapter is closed and the buffers unmapped. It returns err.
func (r *runner) abort(err error) error {
	r.eng.Stop()
	return err
}

func (r *runner) log(s string) {
	if r.cfg.Progress != nil {
		fmt.Fprintln(r.cfg.Progress, s)
	}
}

// cancel runs on Ctrl-C, on the context's goroutine: it stops the engine
// (jobs not yet started end Cancelled without I/O), wakes the submitter
// out of its eventfd wait and ends simulated waits in the adapter.
func (r *runner) cancel() {
	r.eng.Stop()
	if r.cfg.afterStop != nil {
		r.cfg.afterStop()
	}
	var one [8]byte
	one[0] = 1
	_, _ = unix.Write(r.cancelFd, one[:])
	if in, ok := r.adapter.(Interrupter); ok {
		in.Interrupt()
	}
}

// watch makes a cancelled r.ctx call r.cancel. The func it returns stops
// that and, if r.cancel has already started, waits until it returned: after
// it nothing but the submitter touches the runner's descriptors.
func (r *runner) watch() (unwatch func()) {
	done := make(chan struct{})
	stop := context.AfterFunc(r.ctx, func() {
		defer close(done)
		r.cancel()
	})
	return func() {
		if !stop() {
			<-done
		}
	}
}

// release frees everything the run holds, the Ctrl-C watcher first (a
// Ctrl-C during cleanup must not write to a closed, maybe reused, cancel
// fd or interrupt a closed adapter).
func (r *runner) release() {
	if r.unwatch != nil {
		r.unwatch()
		r.unwatch = nil
	}
	if r.eng != nil {
		r.eng.Close()
		r.eng = nil
	}
	if r.adapter != nil {
		r.adapter.Close()
		r.adapter = nil
	}
	for i, c := range r.comp {
		if c != nil {
			c.Close()
			r.comp[i] = nil
		}
	}
	if r.cancelFd >= 0 {
		unix.Close(r.cancelFd)
		r.cancelFd = -1
	}
	if r.region != nil {
		if err := r.region.Close(); err != nil {
			r.cfg.Warn(fmt.Sprintf("cleanup: payload buffers: %v", err))
		}
		r.region = nil
	}
}

// storesBuffered reports whether a's stores of n bytes go through the page
// cache (an fs adapter without O_DIRECT for them); other adapters: false.
func storesBuffered(a Adapter, n int) bool {
	d, ok := a.(interface{ direct(n int) bool })
	return ok && !d.direct(n)
}

func (r *runner) timeout(op Op) time.Duration {
	if op == Lookup {
		return r.cfg.LookupTimeout
	}
	return r.cfg.StoreLoadTimeout
}

// tileLookups hands lookups to workers in tiles (false: one key at a
// time; kept for the benchmark that measured the difference, see
// docs/performance.md, "L2: lookups").
var tileLookups = true

// tileSize is how many keys of a submit one worker takes at a time: one
// for transfers (balance), a share of the submit for lookups (a stat is
// cheaper than a hand-off).
func (r *runner) tileSize(op Op) int {
	if op != Lookup || !tileLookups {
		return 1
	}
	return max(1, (r.cfg.NumKeys+r.eng.Workers()-1)/r.eng.Workers())
}

// runOp runs one operation. An error is a failed wait for completions:
// the operation stopped where it was, with I/O possibly still running (see
// abort).
func (r *runner) runOp(op Op) (*OpResult, error) {
	o := newOpResult(op)
	var err error
	if r.cfg.Mode == Window {
		err = r.window(op, o)
	} else {
		err = r.wave(op, o)
	}
	o.Wakeups, o.Tiles = r.comp[op].Stats()
	return o, err
}
