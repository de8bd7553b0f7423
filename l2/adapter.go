package l2

import (
	"fmt"
)

// Op is one of the benchmark's three operations.
type Op uint8

// The operations, in LMCache's order of execution.
const (
	Store Op = iota
	Lookup
	Load
)

// Ops lists the operations in the order a full run executes them.
var Ops = []Op{Store, Lookup, Load}

// String returns the lower-case name used in JSONL ("store", ...).
func (o Op) String() string { return [...]string{"store", "lookup", "load"}[o] }

// Label returns LMCache's section label ("Store", ...).
func (o Op) Label() string { return [...]string{"Store", "Lookup", "Load"}[o] }

// ParseOp reads "store", "lookup" or "load".
func ParseOp(s string) (Op, error) {
	for _, o := range Ops {
		if o.String() == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("invalid choice: %q (choose from 'lookup', 'store', 'load')", s)
}

// Status is what one key's operation came to.
type Status uint8

// Statuses of a key.
const (
	OK        Status = iota // stored, found or loaded
	Skipped                 // store: the final file already existed and was left alone (LMCache's skip-if-present)
	Missing                 // lookup: the key is not there (a normal answer, not a failure)
	Failed                  // the operation failed; Outcome.Err says why
	Cancelled               // never started: the run was interrupted (Engine.Stop)
	Late                    // finished after its round timed out: the round counts it as failed
)

// Outcome is the result of one key's operation.
type Outcome struct {
	Status Status
	Bytes  int   // payload bytes actually written or read
	Direct bool  // the transfer used O_DIRECT
	Err    error // why it failed (Status Failed); never contains the key, so equal causes aggregate
}

// Adapter is the ops table every L2 backend implements (in the spirit of
// fio's ioengine ops): one key at a time, called concurrently from the I/O
// workers, each with its own Scratch. Implementations must be safe for
// concurrent use and must not allocate on the success path.
type Adapter interface {
	// Store writes buf as key idx unless the key already exists (Skipped).
	Store(s *Scratch, idx uint64, buf []byte) Outcome
	// Lookup reports whether key idx exists (OK) or not (Missing).
	Lookup(s *Scratch, idx uint64) Outcome
	// Load reads key idx into buf; it succeeds only if exactly len(buf)
	// bytes arrived.
	Load(s *Scratch, idx uint64, buf []byte) Outcome
	// Close releases the adapter's resources.
	Close() error
}

// Interrupter is implemented by adapters whose operations can wait for a
// long time without doing I/O (the mock's simulated bandwidth): Interrupt
// makes those waits end now.
type Interrupter interface{ Interrupt() }

// Options are the run settings an adapter needs at creation.
type Options struct {
	// Writable asks the adapter to check up front that stores can succeed
	// (base path writable), so a read-only target fails in one line.
	Writable bool
	// Warn receives one-line warnings (e.g. O_DIRECT not supported).
	Warn func(string)
	// HeadRead, when > 0, splits a buffered load of an fs or fs_native key
	// whose spec sets no read_ahead_size: read the first HeadRead bytes,
	// then the rest. The kernel then reads the rest into large page-cache
	// folios (docs/performance.md, "L2: buffered loads and segments").
	HeadRead int
	// InPlace makes fs and fs_native stores write each key's final file
	// directly (create, write, close: fio's file pattern) instead of
	// LMCache's temp file and rename, so that a run measures the
	// filesystem without the publication. A reader can then see a partial
	// file. A key whose final file exists is still skipped.
	InPlace bool
}

// New creates the adapter a spec describes. Errors are LMCache's
// "adapter creation failed" class (exit 1).
func New(s Spec, opt Options) (Adapter, error) {
	if opt.Warn == nil {
		opt.Warn = func(string) {}
	}
	switch s.Type {
	case "fs", "fs_native":
		a, err := newFS(s, opt)
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return a, nil
	case "mock":
		return newMock(s), nil
	}
	return nil, fmt.Errorf("unknown adapter type %q", s.Type)
}
