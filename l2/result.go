package l2

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/hugepage"
	"github.com/lmfast/lmfast/stats"
)

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

// ErrorCount is one distinct failure text of an operation, counted apart
// for its warmup and its measured rounds.
type ErrorCount struct {
	Error    string
	Count    int64
	FirstKey uint64 // the first key that failed this way
	Warmup   bool   // the keys failed in warmup rounds
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
	Evicted    int    // keys not checked: the adapter had evicted them (evicted misses)
}

// Result is a whole run.
type Result struct {
	Config        *Config
	Adapter       string // LMCache's class name
	Engine        string
	Workers       int
	StoreWorkers  int // I/O threads that store at once (Workers unless BufferedStoreWorkers capped this run's buffered stores)
	Buffers       hugepage.Backing
	BufferWarning string
	Ops           []*OpResult
	Verify        *Verify
	Interrupted   bool
	Capacity      *CapacityStats // the adapter's accounting against max_capacity_gb; nil without one
}

// CreateError is an adapter that could not be created (exit 1 in LMCache).
type CreateError struct{ Err error }

func (e *CreateError) Error() string { return "[Init] Failed to create adapter: " + e.Err.Error() }
func (e *CreateError) Unwrap() error { return e.Err }

func newOpResult(op Op) *OpResult {
	return &OpResult{Op: op, Latency: stats.NewHistogram(), Service: stats.NewHistogram()}
}
