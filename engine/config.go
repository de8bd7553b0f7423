package engine

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/lmfast/lmfast/engine/keydist"
	"github.com/lmfast/lmfast/engine/shape"
	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/engine/sweep"
)

// Config is one engine group's settings. A group is what LMCache's tool
// calls a process: its own ZMQ context, senders and instance names
// ("instance_p{Proc}_{i}").
type Config struct {
	// Endpoints as "tcp://host:port". Reply and Heartbeat may be empty: no
	// request/reply ops then, and the heartbeat endpoint is learned from the
	// first RegisterRetMsg as LMCache's tool does.
	PullEndpoint      string
	ReplyEndpoint     string
	HeartbeatEndpoint string

	Duration     time.Duration
	BatchSize    int // KV ops per BatchedKVOperationMsg
	Mix          []OpShare
	NumInstances int
	NumWorkers   int // per instance
	NumLocations int
	NumKeys      int
	NumHashes    int // hashes per BatchedP2PLookupMsg
	// KeyDist is how the keys of admits, evicts and lookups are drawn
	// from 0..NumKeys-1 (--key-dist; the zero value is uniform).
	KeyDist keydist.Dist
	// Lookups, when set, makes every p2p lookup and checks its reply
	// (--scenario p2p-stress).
	Lookups LookupOracle
	// ExtraFrames, when set, counts PUSH frames sent to the controller
	// beside the engine (a scenario's): the controller's received counts
	// are reconciled with the engine's frames plus these.
	ExtraFrames *atomic.Int64

	Proc         int // this group's number in the whole run (Placement.Proc)
	NumProcesses int // groups in the whole run (for report titles)

	// StartAt, when set, is the wall-clock instant at which the timed run
	// starts, once pre-registration is over (at once if it is past), so
	// that separately started processes load together.
	StartAt time.Time

	RegisterFirst bool // pre-register every worker before the timed run
	// RegisterTimeout bounds the whole pre-registration of the group (all
	// its workers, many requests in flight at once); 0 means 10 s.
	RegisterTimeout time.Duration
	// Registering, when set, counts pre-registrations as they are answered,
	// for a caller's progress line; several groups may share one.
	Registering *RegisterProgress

	// Senders is how many sender workers this group runs; CPUs, when set,
	// pins sender i to CPUs[i] (len(CPUs) must equal Senders).
	Senders int
	CPUs    []int

	// Rate is this group's target in requests (operations) per second over
	// all its senders; 0 runs a closed loop like LMCache's tool.
	Rate float64
	// Concurrency is the request/reply operations in flight per sender.
	Concurrency int

	// RateSchedule, when set, paces the run by a shape of the whole run's
	// target (every group's together; each group takes 1/NumProcesses of
	// it, each sender an equal part of that) instead of Rate. The shape's
	// time is the measured time: during the warm-up requests go at its
	// first value.
	RateSchedule *shape.Shape
	// ConcurrencySchedule, when set, is the request lanes per sender in
	// force over the measured time (rounded, at least 1; the warm-up runs
	// at its first value); Concurrency must be at least its highest.
	ConcurrencySchedule *shape.Shape
	// WorkerRate, when above 0, gives every simulated worker the group
	// loads its own open-loop arrival process of Arrival at this many
	// operations per second, instead of Rate: the offered load is the
	// workers times WorkerRate.
	WorkerRate float64
	Arrival    Arrival

	Seed     uint64        // the message stream is a function of Seed
	Interval time.Duration // JSONL interval period
	Raw      bool          // one JSONL sample line per operation

	// DrainTimeout bounds how long queued PUSH messages may take to reach
	// the controller after the last send.
	DrainTimeout time.Duration
	// RingSize is the number of pre-encoded operations each sender's ring
	// holds (a power of two).
	RingSize int

	// Warmup is sent at the start of the run (and of every sweep step) and
	// excluded from every figure: a request counts when its intended send
	// time (its send time in a closed loop) is past it.
	Warmup time.Duration
	// LateGrace is how late an open loop may still send a request after
	// the deadline: one due before the deadline and still unsent LateGrace
	// after its intended time is dropped instead (--late-grace, 2 s by
	// default; 0 drops every request unsent at the deadline).
	LateGrace time.Duration
	// RequestTimeout is how long a request may wait for its reply before it
	// is an error; 0 means LMCache's 5 s.
	RequestTimeout time.Duration

	// Sweep, when set, runs the steps it hands out instead of one run of
	// Duration at Rate and Concurrency (which must then be at least the
	// sweep's highest concurrency: lanes are opened once).
	Sweep *Sweep
	// FailIf are the --fail-if terms; the Result carries their outcomes.
	FailIf slo.Spec

	// Progress, when set, receives one human progress line per second.
	Progress io.Writer

	// Ceiling, when set, is this group's share of the machine's raw ZMQ
	// ceiling; the summary then reports the run's headroom against it.
	Ceiling *Ceiling

	// Requests, when set, ends the run once its measured requests are
	// sent (--requests): every group of the process shares it, and the
	// run ends at Duration if that comes first.
	Requests *RequestBudget

	// Intake, when set, reads the controller's received counts from its
	// /metrics page: every group of a run shares it (see Intake). A run
	// of one group reconciles its sent frames with them after the drain.
	Intake *Intake

	// HeartbeatInterval, when positive, gives every simulated worker a
	// heartbeat every interval, beside the op mix, and makes the workers
	// obey the replies' FullSyncCommands (FullSync says how they sync).
	// The workers then track the keys their batches leave them holding.
	HeartbeatInterval time.Duration
	FullSync          FullSync
	// Workers, when set, receives the group's simulated workers once the
	// timed run starts (the restart-storm scenario watches them).
	Workers func(*Workers)
}

// Validate checks the settings a user controls and names the flag at fault.
func (c *Config) Validate() error {
	switch {
	case c.Duration <= 0:
		return fmt.Errorf("--duration must be positive")
	case c.BatchSize <= 0:
		return fmt.Errorf("--batch-size must be positive")
	case c.NumInstances <= 0:
		return fmt.Errorf("--num-instances must be positive")
	case c.NumWorkers <= 0:
		return fmt.Errorf("--num-workers must be positive")
	case c.NumLocations <= 0:
		return fmt.Errorf("--num-locations must be positive")
	case c.NumKeys <= 0:
		return fmt.Errorf("--num-keys must be positive")
	case c.NumHashes < 0:
		return fmt.Errorf("--num-hashes must not be negative")
	case c.Rate < 0:
		return fmt.Errorf("--rate must not be negative")
	case c.Concurrency <= 0:
		return fmt.Errorf("--concurrency must be positive")
	case c.Interval <= 0:
		return fmt.Errorf("--interval must be positive")
	case c.RegisterTimeout < 0:
		return fmt.Errorf("--register-timeout must be positive")
	case c.Warmup < 0:
		return fmt.Errorf("--warmup must not be negative")
	case c.LateGrace < 0:
		return fmt.Errorf("--late-grace must not be negative")
	case c.RequestTimeout < 0:
		return fmt.Errorf("--request-timeout must be positive")
	case c.WorkerRate < 0:
		return fmt.Errorf("--worker-rate must not be negative")
	case c.HeartbeatInterval < 0:
		return fmt.Errorf("--heartbeat-interval must be positive")
	case len(c.Mix) == 0:
		return fmt.Errorf("--operations is empty")
	case c.Senders <= 0:
		return fmt.Errorf("need at least one sender")
	case c.CPUs != nil && len(c.CPUs) != c.Senders:
		return fmt.Errorf("%d CPUs for %d senders", len(c.CPUs), c.Senders)
	}
	if c.Sweep != nil && c.Sweep.spec.Dim == sweep.Concurrency {
		if top := c.Sweep.spec.Values[len(c.Sweep.spec.Values)-1]; float64(c.Concurrency) < top {
			return fmt.Errorf("concurrency %d is below the sweep's highest, %.0f", c.Concurrency, top)
		}
	}
	if err := c.validateShapes(); err != nil {
		return err
	}
	if n := len(BuildSchedule(c.Mix, nil)); n == 0 {
		return fmt.Errorf("--operations: every percentage is below 0.1, the schedule is empty")
	}
	for _, m := range c.Mix {
		if m.Op.IsPush() || m.Pct == 0 {
			continue
		}
		if c.ReplyEndpoint == "" && m.Op != OpHeartbeat {
			return fmt.Errorf("--operations has %s but --monitor-ports has no \"reply\" port", m.Op)
		}
	}
	return nil
}

// RegisterProgress counts the pre-registrations answered so far.
type RegisterProgress struct {
	OK     atomic.Int64 // workers registered
	Failed atomic.Int64 // registrations that failed or were not answered in time
}

// openLoop reports whether the run is paced (by Rate or by its sweep).
func (c *Config) openLoop() bool {
	return c.Rate > 0 || c.RateSchedule != nil || c.WorkerRate > 0 || c.Sweep != nil && c.Sweep.openLoop()
}

// DefaultRequestTimeout is RequestTimeout when it is 0: LMCache's.
const DefaultRequestTimeout = 5 * time.Second

// pairsCount is the number of simulated (instance, worker) pairs.
func (c *Config) pairsCount() int { return c.NumInstances * c.NumWorkers }
