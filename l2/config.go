package l2

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lmfast/lmfast/hugepage"
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
	// BufferedStoreWorkers caps the I/O threads that store at once when
	// the adapter's stores are buffered (0: every I/O thread). A buffered
	// store copies into the page cache and takes the directory's lock for
	// the create and the rename: CPU work, for which threads beyond a few
	// per CPU only contend (docs/performance.md, "L2: buffered stores").
	BufferedStoreWorkers int
	CPUs                 []int // pin the I/O workers round-robin to these
	HugePages            bool
	// PlainPages maps the payload buffers without madvise(MADV_HUGEPAGE)
	// (--no-thp: 4 KiB pages unless THP is "always"). By default they
	// are advised for transparent huge pages: an O_DIRECT transfer from
	// scattered 4 KiB pages carries a segment per page, which a virtual
	// disk may pay for. HugePages takes precedence.
	PlainPages bool
	// HeadRead splits buffered loads of keys larger than it when the
	// adapter spec sets no read_ahead_size: the first HeadRead bytes, then
	// the rest (Options.HeadRead). 0 reads each key in one pread.
	HeadRead int
	// InPlace makes stores write the final file directly, not a temp file
	// then a rename (Options.InPlace; fs and fs_native adapters only).
	InPlace    bool
	DropCaches bool
	Raw        bool
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
	// BeforeOps and AfterOps, if set, run just before the first operation
	// (adapter open, buffers filled) and just after the last one (before
	// verification): the flame graph's recording window, as LMCache's.
	BeforeOps, AfterOps func()
	// Poll, if set, replaces unix.Poll in every wait for completions: a
	// fault-injection hook for tests (a poll that fails). nil in real runs.
	Poll PollFunc

	// newAdapter replaces New in tests (an adapter that lies, say).
	newAdapter func(Spec, Options) (Adapter, error)
	// afterStop, if set, runs in a Ctrl-C's cancel between stopping the
	// engine and waking the submitter (tests widen that gap with it).
	afterStop func()
	// wrapEngine, if set, wraps the run's engine in tests (one that
	// counts submits, say).
	wrapEngine func(Engine) Engine
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
	case c.BufferedStoreWorkers < 0:
		return errors.New("the buffered store workers must not be negative")
	case c.Mode == Window && c.Duration < 0:
		return errors.New("--duration must not be negative in window mode")
	case len(c.Ops) == 0:
		return errors.New("no operation to run")
	case c.InPlace && c.Spec.Type != "fs" && c.Spec.Type != "fs_native":
		return fmt.Errorf("--publish in-place needs an fs or fs_native adapter, not %s", c.Spec.Type)
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

// Runs reports whether the run includes op.
func (c *Config) Runs(op Op) bool {
	for _, o := range c.Ops {
		if o == op {
			return true
		}
	}
	return false
}
