package l2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/engine/stats"
	"github.com/lmfast/lmfast/hugepage"
	"github.com/lmfast/lmfast/stream"
)

// Mode is how submits are issued.
type Mode uint8

// The two modes.
const (
	// Wave is LMCache's round: --in-flight submits back to back, then wait
	// for all of them.
	Wave Mode = iota
	// Window keeps --in-flight submits outstanding for --duration (or,
	// with Duration 0, for --rounds rounds: a fixed amount of work, as
	// fio's size-based runs): each completed submit is replaced at once.
	Window
)

func (m Mode) String() string { return [...]string{"wave", "window"}[m] }

// LMCache's round timeouts (runner.py).
const (
	DefaultStoreLoadTimeout = 120 * time.Second
	DefaultLookupTimeout    = 60 * time.Second
)

// windowMissOrigin is where window-mode lookups draw their misses: far past
// any key a window store can write.
const windowMissOrigin = 1 << 48

// Config is a whole `lmfast l2` run.
type Config struct {
	Spec     Spec
	NumKeys  int     // keys per submit
	InFlight int     // submits per round (wave) or outstanding (window)
	Payload  int     // bytes per key (--data-size-kb × 1024)
	Align    int     // --l1-align-bytes
	Rounds   int     // measured rounds per op
	Warmup   int     // warmup rounds per op
	HitRate  float64 // lookup max hit rate, clamped to [0,1]
	Verify   bool    // --no-skip-verify
	Ops      []Op    // the operations, in order
	Mode     Mode
	Duration time.Duration // window mode: measured time per op; 0: --rounds rounds instead
	// ThreadBuffers: loads read into one buffer per I/O thread (fio's
	// memory footprint) instead of their key's slot (LMCache's); the
	// round-trip check then loads its keys again into their slots.
	ThreadBuffers bool
	IOWorkers     int
	CPUs          []int // pin the I/O workers round-robin to these
	HugePages     bool
	DropCaches    bool
	Raw           bool
	// PlainPages maps the payload buffers without madvise(MADV_HUGEPAGE)
	// (--no-thp: 4 KiB pages unless THP is "always"). By default they
	// are advised for transparent huge pages: an O_DIRECT transfer from
	// scattered 4 KiB pages carries a segment per page, which a virtual
	// disk may pay for. HugePages takes precedence.
	PlainPages bool
	// StoreLoadTimeout and LookupTimeout bound each wait for a completion
	// (LMCache: 120 s and 60 s since the previous wakeup).
	StoreLoadTimeout, LookupTimeout time.Duration
	// Progress receives LMCache's progress lines (nil: none, as -q).
	Progress io.Writer
	// Warn receives one-line warnings (always shown).
	Warn func(string)
	// BeforeCleanup, if set, runs after verification and before the
	// adapter is closed (the summary goes there, as LMCache prints it
	// before "[Cleanup]").
	BeforeCleanup func(*Result)
	// Poll, if set, replaces unix.Poll in every wait for completions: a
	// fault-injection hook for tests (a poll that fails). nil in real runs.
	Poll PollFunc

	// newAdapter replaces New in tests (an adapter that lies, say).
	newAdapter func(Spec, Options) (Adapter, error)
}

// KeysPerRound is in_flight × num_keys.
func (c *Config) KeysPerRound() int { return c.InFlight * c.NumKeys }

// lookupHits is how many of n lookup keys are meant to be hits:
// trunc(n × rate) on IEEE doubles, exactly as LMCache computes it.
func (c *Config) lookupHits(n int) int { return int(float64(n) * c.HitRate) }

// hitsPerRound is how many keys of a lookup round are meant to be hits:
// trunc(K × rate) in wave mode (LMCache's round), trunc(num_keys × rate) per
// submit in window mode, whose rounds are --in-flight completed submits.
func (c *Config) hitsPerRound() int {
	if c.Mode == Window {
		return c.lookupHits(c.NumKeys) * c.InFlight
	}
	return c.lookupHits(c.KeysPerRound())
}

// Limits of a run, chosen so that no product of them overflows an int64
// (keys per round × rounds, keys per round × slot stride) and far above any
// real run: 2^24 keys per round, 1 GiB per key, 2^46 keys per operation,
// 1 TiB of buffers.
const (
	maxKeysPerRound = 1 << 24
	maxPayload      = 1 << 30
	maxKeysPerOp    = 1 << 46
	maxBufferBytes  = 1 << 40
)

// Validate checks the numbers LMCache takes as given and lmfast refuses.
// Every bound is checked by division, never by a product that could
// overflow.
func (c *Config) Validate() error {
	switch {
	case c.NumKeys < 1:
		return errors.New("--num-keys must be at least 1")
	case c.InFlight < 1:
		return errors.New("--in-flight must be at least 1")
	case c.Payload < 1:
		return errors.New("--data-size-kb must be at least 1")
	case c.Payload > maxPayload:
		return fmt.Errorf("--data-size-kb %d is more than 1 GiB per key", c.Payload/1024)
	case c.Align < 0:
		return errors.New("--l1-align-bytes must be positive")
	case c.Align > 0 && c.Payload%c.Align != 0:
		return errors.New("--data-size-kb must produce a payload size that is a multiple of --l1-align-bytes")
	case c.Rounds < 1:
		return errors.New("--rounds must be at least 1")
	case c.Warmup < 0:
		return errors.New("--warmup-rounds must not be negative")
	case c.IOWorkers < 1:
		return errors.New("--io-workers must be at least 1")
	case c.Mode == Window && c.Duration < 0:
		return errors.New("--duration must not be negative in window mode")
	case len(c.Ops) == 0:
		return errors.New("no operation to run")
	case c.NumKeys > maxKeysPerRound/c.InFlight:
		return fmt.Errorf("--in-flight %d × --num-keys %d is more than %d keys per round", c.InFlight, c.NumKeys, maxKeysPerRound)
	}
	k := c.KeysPerRound()
	if rounds := maxKeysPerOp / k; c.Rounds > rounds || c.Warmup > rounds-c.Rounds {
		return fmt.Errorf("--warmup-rounds %d + --rounds %d of %d keys are more than %d keys per operation", c.Warmup, c.Rounds, k, int64(maxKeysPerOp))
	}
	// The payload is at most 2^30 and the alignment divides it, so the
	// stride (payload rounded up to lcm(align, 4096)) is at most 2^32.
	if stride := hugepage.SlotStride(c.Payload, c.Align); stride > maxBufferBytes/(2*k) {
		return fmt.Errorf("buffers of 2 × %d keys per round × %d bytes are more than 1 TiB", k, stride)
	}
	return nil
}

// Round is one round of one operation.
type Round struct {
	Number    int // 1-based, warmup rounds included (LMCache's numbering)
	Warmup    bool
	Duration  time.Duration
	TimedOut  bool
	Keys      int   // keys asked for
	Success   int   // LMCache's count: stored or present / found / loaded
	Written   int   // store: keys actually written
	Skipped   int   // store: keys whose file already existed
	Missing   int   // lookup: keys not found
	Failed    int   // keys whose operation failed (including keys still running at a timeout)
	Bytes     int64 // payload bytes actually moved
	Requested int64 // payload bytes asked for
	Submits   int   // submits completed before the timeout
}

// ErrorCount is one distinct failure text of an operation.
type ErrorCount struct {
	Error    string
	Count    int64
	FirstKey uint64 // the first key that failed this way
}

// OpResult is everything one operation measured.
type OpResult struct {
	Op     Op
	Rounds []Round // all rounds, warmup included
	// Latency holds each measured key's time from its submit to its
	// completion (what a caller waits); Service the time a worker spent on
	// it. Nanoseconds.
	Latency, Service *hdrhistogram.Histogram
	Errors           []ErrorCount
	DirectKeys       int64 // measured keys transferred with O_DIRECT
	BufferedKeys     int64 // measured keys transferred through the page cache
	Wakeups, Tiles   int64 // eventfd wakeups that found completions, tiles they carried
	Interrupted      bool  // stopped by Ctrl-C; the round in progress is not in Rounds
	Rereads          int64 // window load: measured keys loaded a second (or later) time in this operation
	SamplesWritten   int64
}

// Measured returns the rounds that count (warmup dropped).
func (o *OpResult) Measured() []Round {
	var out []Round
	for _, r := range o.Rounds {
		if !r.Warmup {
			out = append(out, r)
		}
	}
	return out
}

// Verify is the outcome of the round-trip check.
type Verify struct {
	Checked    int
	Mismatches int
	Against    string // "store" (buffers of this run's store) or "pattern" (--only load)
	Reloaded   bool   // window mode or ThreadBuffers: the keys were loaded again into their slots for the check
}

// Result is a whole run.
type Result struct {
	Config        *Config
	Adapter       string // LMCache's class name
	Engine        string
	Workers       int
	Buffers       hugepage.Backing
	BufferWarning string
	Ops           []*OpResult
	Verify        *Verify
	Interrupted   bool
}

// CreateError is an adapter that could not be created (exit 1 in LMCache).
type CreateError struct{ Err error }

func (e *CreateError) Error() string { return "[Init] Failed to create adapter: " + e.Err.Error() }
func (e *CreateError) Unwrap() error { return e.Err }

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
	a, err := create(cfg.Spec, Options{Writable: writes, Warn: cfg.Warn})
	if err != nil {
		return nil, &CreateError{err}
	}
	r.adapter = a
	r.log(fmt.Sprintf("[Init] Adapter created successfully (%s).\n", res.Adapter))
	if r.eng, err = NewPsync(r.adapter, cfg.IOWorkers, cfg.CPUs, cfg.KeysPerRound()+cfg.IOWorkers, r.threadBuf); err != nil {
		return nil, err
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
	if cfg.BeforeCleanup != nil {
		cfg.BeforeCleanup(res)
	}
	r.log("[Cleanup] Closing adapter...")
	r.release()
	r.log("[Cleanup] Done.")
	return res, nil
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

// Runs reports whether the run includes op.
func (c *Config) Runs(op Op) bool {
	for _, o := range c.Ops {
		if o == op {
			return true
		}
	}
	return false
}

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

func (r *runner) timeout(op Op) time.Duration {
	if op == Lookup {
		return r.cfg.LookupTimeout
	}
	return r.cfg.StoreLoadTimeout
}

// tileLookups hands lookups to workers in tiles (false: one key at a
// time; kept for the benchmark that measured the difference, see
// bench_results/l2-*.md).
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

func newOpResult(op Op) *OpResult {
	return &OpResult{Op: op, Latency: stats.NewHistogram(), Service: stats.NewHistogram()}
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

// keysForRound fills the jobs of wave round rd with their keys (spec §3).
func (r *runner) keysForRound(op Op, rd int) {
	c := r.cfg
	k := c.KeysPerRound()
	t := c.Warmup + c.Rounds
	if op != Lookup {
		for i := range r.jobs {
			r.jobs[i].Idx = uint64(rd*k + i)
		}
		return
	}
	hit := c.lookupHits(k)
	miss := k - hit
	for i := range r.jobs {
		if i < hit {
			r.jobs[i].Idx = uint64(rd*hit + i)
		} else {
			r.jobs[i].Idx = uint64(t*k + rd*miss + (i - hit))
		}
	}
}

// prepJobs sets the op and buffers of every job.
func (r *runner) prepJobs(op Op) {
	for i := range r.jobs {
		j := &r.jobs[i]
		j.Op, j.Out, j.slot = op, Outcome{}, i/r.cfg.NumKeys
		switch op {
		case Store:
			j.Buf = r.storeBuf[i]
		case Load:
			j.Buf = r.loadBuf[i]
			if r.threadBuf != nil {
				j.Buf = nil // the worker's own buffer
			}
		default:
			j.Buf = nil
		}
	}
}

// submit issues submit i (jobs [i·nk, (i+1)·nk)) in tiles.
func (r *runner) submit(op Op, i int) {
	nk := r.cfg.NumKeys
	jobs := r.jobs[i*nk : (i+1)*nk]
	ts := Now()
	for k := range jobs {
		jobs[k].Submitted, jobs[k].late = ts, false
	}
	step := r.tileSize(op)
	for lo := 0; lo < nk; lo += step {
		r.eng.Submit(Tile{Jobs: jobs[lo:min(lo+step, nk)], C: r.comp[op]})
	}
}

// tally accumulates one finished key into its round's counts. What the
// op's histograms, error counts and samples get of it is recorded only once
// its round is reported (record).
func (r *runner) tally(op Op, rd *Round, j *Job) {
	rd.Bytes += int64(j.Out.Bytes)
	switch j.Out.Status {
	case OK:
		rd.Success++
		if op == Store {
			rd.Written++
		}
	case Skipped:
		rd.Success++
		rd.Skipped++
	case Missing:
		rd.Missing++
	case Failed, Cancelled:
		rd.Failed++
	}
}

// errLate is the error counted for a key that finished after its round
// timed out.
var errLate = errors.New("timed out: finished after the round's timeout")

// markLate handles a key that finished after its round timed out: the
// round counts it as failed, and its status becomes Late (unless it failed
// on its own), so that record puts its latency up to its real completion
// into the histograms, counts its error and writes its sample as
// "timed_out" — the key latencies show the stall, and the error counts and
// samples add up to the failed keys. The bytes it moved are not in the
// round's bytes (the round counts what finished within its time): its
// sample says 0 bytes and the real size as late_bytes.
func markLate(j *Job) {
	j.late = true
	if j.Out.Status != Failed {
		j.Out.Status, j.Out.Err = Late, errLate
	}
}

// keyRec is one finished key of a measured round, kept until the round is
// reported.
type keyRec struct {
	sample
	err    error
	hasBuf bool // a transfer (store or load), not a lookup
}

// newKeyRec keeps j's outcome. A late key's bytes (markLate) go to
// lateBytes, not bytes: a sample's bytes are what its round's bytes count.
func newKeyRec(round int, j *Job) keyRec {
	k := keyRec{sample: sample{idx: j.Idx, submitted: j.Submitted, start: j.Start, end: j.Done,
		bytes: int32(j.Out.Bytes), round: int32(round), status: j.Out.Status, direct: j.Out.Direct},
		err: j.Out.Err, hasBuf: j.Op != Lookup}
	if j.late {
		k.late, k.lateBytes, k.bytes = true, k.bytes, 0
	}
	return k
}

// record puts one key of a reported, measured round into the op's
// histograms, error counts, direct/buffered counts and, with --raw, its
// samples. Only keys of reported rounds are recorded (a round cut short by
// a Ctrl-C is not): every key in a histogram, an error line or a sample
// belongs to a round the summary counts.
func (r *runner) record(o *OpResult, k *keyRec) {
	if k.status == OK && k.hasBuf {
		if k.direct {
			o.DirectKeys++
		} else {
			o.BufferedKeys++
		}
	}
	recordNs(o.Latency, k.end-k.submitted)
	recordNs(o.Service, k.end-k.start)
	switch k.status {
	case Failed, Cancelled, Late:
		r.countError(o, k.err, k.idx)
	}
	if r.cfg.Raw {
		r.samples = append(r.samples, k.sample)
	}
}

func recordNs(h *hdrhistogram.Histogram, ns int64) {
	_ = h.RecordValue(min(max(ns, stats.LowestNs), stats.HighestNs))
}

func (r *runner) countError(o *OpResult, err error, idx uint64) {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	key := o.Op.String() + "\x00" + msg
	if i, ok := r.errIdx[key]; ok {
		o.Errors[i].Count++
		return
	}
	r.errIdx[key] = len(o.Errors)
	o.Errors = append(o.Errors, ErrorCount{Error: msg, Count: 1, FirstKey: idx})
}

// wait waits for completions of op (ready), for the cancel fd (cancelled:
// the Ctrl-C is seen now), or for timeout (neither; < 0 waits forever).
// Once a cancel has been seen the fd, which stays readable, is no longer
// polled, so waiting for the jobs still running blocks instead of spinning.
// An error (the wait itself failed, see Completions.Wait) ends the run.
func (r *runner) wait(op Op, timeout time.Duration) (ready, cancelled bool, err error) {
	fd := r.cancelFd
	if r.stopping {
		fd = -1
	}
	ready, cancelled, err = r.comp[op].Wait(timeout, fd)
	if cancelled {
		r.stopping = true
	}
	return ready, cancelled, err
}

// take passes every finished job of op to each and returns how many there
// were.
func (r *runner) take(op Op, each func(*Job)) (n int) {
	r.tiles = r.comp[op].Take(r.tiles[:0])
	for _, t := range r.tiles {
		for k := range t.Jobs {
			each(&t.Jobs[k])
			n++
		}
	}
	return n
}

// harvest waits for pending jobs of op and passes each finished one to
// each. It returns how many finished, and stops early on a timeout
// (LMCache's rule: no completion within the timeout since the previous
// wakeup; timedOut), when a Ctrl-C is seen (r.stopping), or when the wait
// fails (err: the jobs still pending can no longer be harvested, the run
// must abort).
func (r *runner) harvest(op Op, pending int, timeout time.Duration, each func(*Job)) (done int, timedOut bool, err error) {
	for done < pending {
		ready, cancelled, err := r.wait(op, timeout)
		if err != nil {
			return done, false, err
		}
		if ready { // the eventfd was read: take what it announced, whatever else happened
			done += r.take(op, each)
		}
		switch {
		case cancelled:
			return done, false, nil
		case !ready && timeout >= 0:
			return done, true, nil
		}
	}
	return done, false, nil
}

// drain waits, without a timeout and through a Ctrl-C, for jobs still
// running after a timeout or an interrupt, so their buffers are free
// before anyone reuses them. After a Ctrl-C that is at most one job per
// I/O worker: the engine cancels the others without doing their I/O. It
// stops at the first failed wait and returns its error.
func (r *runner) drain(op Op, pending int, each func(*Job)) error {
	for pending > 0 {
		n, _, err := r.harvest(op, pending, -1, each)
		if err != nil {
			return err
		}
		pending -= n
	}
	return nil
}

// collectLate keeps a job drained after its round timed out.
func (r *runner) collectLate(j *Job) { r.late = append(r.late, j) }

// wave runs LMCache's rounds: --in-flight submits back to back, wait for
// all, record the wall time. It returns at once on a failed wait.
func (r *runner) wave(op Op, o *OpResult) error {
	c := r.cfg
	k := c.KeysPerRound()
	total := c.Warmup + c.Rounds
	r.prepJobs(op)
	left := make([]int, c.InFlight)
	var round Round
	count := func(j *Job) {
		r.tally(op, &round, j)
		if left[j.slot]--; left[j.slot] == 0 {
			round.Submits++
		}
	}
	for rd := 0; rd < total; rd++ {
		if r.ctx.Err() != nil {
			o.Interrupted = true
			return nil
		}
		r.keysForRound(op, rd)
		if op == Load && r.threadBuf == nil && !r.fillSlots(r.loadBuf, poison) {
			o.Interrupted = true
			return nil
		}
		round = Round{Number: rd + 1, Warmup: rd < c.Warmup, Keys: k}
		if op != Lookup {
			round.Requested = int64(k) * int64(c.Payload)
		}
		measured := !round.Warmup
		for i := range left {
			left[i] = c.NumKeys
		}
		t0 := Now()
		for i := 0; i < c.InFlight; i++ {
			r.submit(op, i)
		}
		done, timedOut, err := r.harvest(op, k, r.timeout(op), count)
		if err != nil {
			return err
		}
		round.Duration = time.Duration(Now() - t0)
		if done < k {
			// Keys still running are drained so their buffers are free
			// before the next round; they count as failed for this round.
			r.late = r.late[:0]
			if err := r.drain(op, k-done, r.collectLate); err != nil {
				return err
			}
			round.Failed += k - done
			round.TimedOut = timedOut
		}
		if r.stopping {
			o.Interrupted = true // the round in progress is dropped, and nothing of it recorded
			return nil
		}
		for _, j := range r.late {
			markLate(j)
		}
		r.late = r.late[:0]
		o.Rounds = append(o.Rounds, round)
		if measured {
			for i := range r.jobs {
				kr := newKeyRec(rd+1, &r.jobs[i])
				r.record(o, &kr)
			}
		}
		r.progress(o, &round)
		r.roundEvent(o, &round)
		if c.Raw && measured {
			r.flushSamples(o)
		}
	}
	return nil
}

// progress writes the round's progress line (window mode: at most one a
// second, and every timed-out round).
func (r *runner) progress(o *OpResult, rd *Round) {
	verb := [...]string{Store: "success_keys", Lookup: "found", Load: "loaded"}[o.Op]
	if r.cfg.Mode == Window && !rd.TimedOut {
		if time.Since(r.lastLog) < time.Second {
			return
		}
		r.lastLog = time.Now()
	}
	if rd.TimedOut {
		r.log(fmt.Sprintf("  [%s] Round %d: TIMEOUT (%d/%d tasks completed, %s=%d/%d)", o.Op.Label(), rd.Number, rd.Submits, r.cfg.InFlight, verb, rd.Success, rd.Keys))
	} else {
		r.log(fmt.Sprintf("  [%s] Round %d: %.2f ms, %s=%d/%d", o.Op.Label(), rd.Number, float64(rd.Duration)/1e6, verb, rd.Success, rd.Keys))
	}
}

// roundEvent writes the round's JSONL line (window mode: all of them after
// the operation, outside the timed window).
func (r *runner) roundEvent(o *OpResult, rd *Round) {
	e := r.out.Event("round").Str("op", o.Op.String()).Int("round", rd.Number).Bool("warmup", rd.Warmup).
		Bool("timed_out", rd.TimedOut)
	if rd.TimedOut {
		e = e.Interface("duration_ms", nil)
	} else {
		e = e.Float64("duration_ms", float64(rd.Duration)/1e6)
	}
	e = e.Int("keys", rd.Keys).Int("success", rd.Success).Int("failed", rd.Failed).Int("submits_completed", rd.Submits)
	switch o.Op {
	case Store:
		e = e.Int("written", rd.Written).Int("skipped_existing", rd.Skipped)
	case Lookup:
		e = e.Int("missing", rd.Missing)
	}
	if o.Op != Lookup {
		e = e.Int64("bytes", rd.Bytes).Int64("bytes_requested", rd.Requested)
		if !rd.TimedOut && rd.Duration > 0 {
			e = e.Float64("mbps", float64(rd.Bytes)/MB/rd.Duration.Seconds())
		}
	}
	e.Send()
}

var statusNames = [...]string{OK: "ok", Skipped: "skipped", Missing: "missing", Failed: "failed", Cancelled: "cancelled", Late: "timed_out"}

// verifyReloads reports whether verification loads its round again into
// the poisoned slots (reloadForVerify) instead of checking what the last
// measured round left there: in window mode, whose slots are reused by
// every submit, and with ThreadBuffers, whose loads leave the slots alone.
func (r *runner) verifyReloads() bool { return r.cfg.Mode == Window || r.threadBuf != nil }

// verify compares every load buffer with the pattern its key was stored
// with, after the last measured load (spec §5). Load buffers were poisoned
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
		if !bytes.Equal(b, r.storeBuf[s]) { // the store half always holds the pattern
			v.Mismatches++
			r.log(fmt.Sprintf("  [Verify] Key %d: MISMATCH (store %d bytes vs load %d bytes)", s, c.Payload, c.Payload))
		}
	}
	if v.Mismatches == 0 {
		r.log(fmt.Sprintf("  [Verify] All %d keys data verified OK.", v.Checked))
	} else {
		r.log(fmt.Sprintf("  [Verify] %d/%d keys have data mismatches!", v.Mismatches, v.Checked))
	}
	r.log("")
	e := r.out.Event("verify").Bool("ok", v.Mismatches == 0).Int("checked", v.Checked).Int("mismatches", v.Mismatches).Str("against", v.Against).Bool("reloaded", v.Reloaded)
	e.Send()
	return v
}
