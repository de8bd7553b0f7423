package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/lmfast/lmfast/engine/shape"
	"github.com/lmfast/lmfast/engine/sweep"
)

// Arrival is how --worker-rate spaces each simulated worker's own
// operations in time.
type Arrival uint8

// The arrival processes of --arrival.
const (
	// ArrivalPoisson gives every worker a Poisson process: exponential
	// gaps, independent of every other worker's.
	ArrivalPoisson Arrival = iota
	// ArrivalUniform gives every worker evenly spaced operations, 1/R
	// apart, each worker at its own random phase.
	ArrivalUniform
)

// String returns the arrival process as --arrival names it.
func (a Arrival) String() string {
	if a == ArrivalUniform {
		return "uniform"
	}
	return "poisson"
}

// ParseArrival reads --arrival: poisson or uniform.
func ParseArrival(s string) (Arrival, error) {
	switch s {
	case "poisson":
		return ArrivalPoisson, nil
	case "uniform":
		return ArrivalUniform, nil
	}
	return 0, fmt.Errorf("%q is not an arrival process (poisson, uniform)", s)
}

// SchedulePacer paces one sender by a rate shape (--rate-schedule): its
// request k is due when the shape's integral, times the sender's Share of
// the whole run's target, passes k (shape.Shape.Inverse). The shape's time
// starts after Head (the warm-up), during which requests go at the shape's
// first value, so that the shape's t is the measured time of the JSONL.
// It keeps its last answer as the next one's starting point (a sender
// reads Due in order), so it is not safe for concurrent use: each sender
// has its own.
type SchedulePacer struct {
	Shape *shape.Shape
	Share float64 // this sender's part of the shape's target, in (0, 1]
	Head  time.Duration
	last  float64 // the shape time of the last answer past the head (0: none)
}

// Due implements Pacer.
func (p *SchedulePacer) Due(k uint64) time.Duration {
	n := float64(k) / p.Share
	head, v0 := p.Head.Seconds(), p.Shape.At(0)
	if v0 > 0 && n < v0*head {
		return seconds(n / v0)
	}
	t := p.Shape.InverseNear(n-v0*head, p.last)
	if !math.IsInf(t, 0) {
		p.last = t
	}
	return seconds(head + t)
}

// maxDue stands for "never" (a request after a shape ends at rate 0): far
// past any deadline, and safe to add to a time.Time.
const maxDue = time.Duration(1 << 62)

// seconds converts to a Duration, +Inf and overflow to maxDue.
func seconds(s float64) time.Duration {
	if !(s < maxDue.Seconds()) {
		return maxDue
	}
	return time.Duration(s * float64(time.Second))
}

// workerArrivals is one sender's --worker-rate schedule: the superposition
// of the arrival processes of the workers it loads, each at rate R, as a
// Pacer (request k is the k-th arrival of any of them). Which worker an
// arrival belongs to is decided with the producer, so that the operation
// sent for arrival k is that worker's and its latency counts from that
// worker's intended time:
//
//   - poisson: the superposition of n independent Poisson processes of
//     rate R is a Poisson process of rate n·R whose every arrival belongs
//     to a worker drawn uniformly and independently of everything else,
//     which is the producer's draw of the pair for each operation. The
//     pacer generates that process.
//   - uniform: worker w's arrivals are at phase[w] + j/R; sorted by phase,
//     the workers take turns in a fixed cycle (order), which the producer
//     follows.
//
// An operation taken from the ring is always sent, so operation k is
// arrival k's as long as none is dropped: within a step, an open loop
// sends every arrival due before the deadline, late if need be; only
// after the deadline may an overdue one be dropped (--late-grace), and
// --worker-rate runs one step.
type workerArrivals interface {
	Pacer
	// cycle is the order in which the workers take turns (uniform), or
	// nil when each arrival's worker is drawn at random (poisson).
	cycle() []int
}

// newWorkerArrivals returns the arrivals of n workers at rate r each.
func newWorkerArrivals(a Arrival, n int, r float64, seed uint64) workerArrivals {
	rng := rand.New(rand.NewPCG(seed, 0x776f726b657273))
	if a == ArrivalUniform {
		return newUniformArrivals(n, r, rng)
	}
	return newPoissonArrivals(float64(n)*r, rng.Uint64())
}

// uniformArrivals is the superposition of n evenly spaced processes.
type uniformArrivals struct {
	period float64   // 1/R seconds
	phase  []float64 // sorted, each in [0, period)
	order  []int     // worker (index into the sender's load) of each phase
}

func newUniformArrivals(n int, r float64, rng *rand.Rand) *uniformArrivals {
	u := &uniformArrivals{period: 1 / r, phase: make([]float64, n), order: make([]int, n)}
	type ph struct {
		at float64
		w  int
	}
	all := make([]ph, n)
	for w := range all {
		all[w] = ph{rng.Float64() * u.period, w}
	}
	slices.SortFunc(all, func(a, b ph) int {
		if a.at < b.at {
			return -1
		}
		if a.at > b.at {
			return 1
		}
		return a.w - b.w
	})
	for i, p := range all {
		u.phase[i], u.order[i] = p.at, p.w
	}
	return u
}

// Due implements Pacer.
func (u *uniformArrivals) Due(k uint64) time.Duration {
	n := uint64(len(u.phase))
	return seconds(u.phase[k%n] + float64(k/n)*u.period)
}

func (u *uniformArrivals) cycle() []int { return u.order }

// poissonArrivals is a Poisson process of rate λ with random access: time
// is cut into blocks of about blockArrivals expected arrivals, and block b
// is a Poisson process of its own, generated from a generator seeded with
// b (a Poisson process restarted at a fixed time is still one). The
// arrivals before each block are counted as the blocks are first
// generated; the last block generated is kept. Not safe for concurrent
// use: each sender has its own.
type poissonArrivals struct {
	rate   float64  // λ, per second
	block  float64  // block length, seconds
	seed   uint64   // the blocks' generators' seed
	before []uint64 // before[b]: arrivals in the blocks before b (len: blocks counted + 1)
	cur    int      // the block in pts (-1: none)
	pts    []time.Duration
}

// blockArrivals is the expected arrivals per block: large enough that the
// counts take little memory (8 bytes per block), small enough that
// generating a block is quick.
const blockArrivals = 1024

func newPoissonArrivals(rate float64, seed uint64) *poissonArrivals {
	return &poissonArrivals{rate: rate, block: blockArrivals / rate, seed: seed, before: []uint64{0}, cur: -1}
}

// Due implements Pacer.
func (p *poissonArrivals) Due(k uint64) time.Duration {
	for p.before[len(p.before)-1] <= k {
		p.count()
	}
	b := sort.Search(len(p.before)-1, func(i int) bool { return p.before[i+1] > k })
	p.load(b)
	return p.pts[k-p.before[b]]
}

// dueBefore counts the arrivals before t (firstDue's answer, without a
// search over k).
func (p *poissonArrivals) dueBefore(t time.Duration) uint64 {
	if t <= 0 {
		return 0
	}
	b := int(math.Min(t.Seconds()/p.block, math.MaxInt32))
	for len(p.before) <= b+1 {
		p.count()
	}
	p.load(b)
	return p.before[b] + uint64(sort.Search(len(p.pts), func(i int) bool { return p.pts[i] >= t }))
}

func (p *poissonArrivals) cycle() []int { return nil }

// count generates the next block not counted yet.
func (p *poissonArrivals) count() {
	b := len(p.before) - 1
	p.load(b)
	p.before = append(p.before, p.before[b]+uint64(len(p.pts)))
}

// load puts block b's arrivals in pts.
func (p *poissonArrivals) load(b int) {
	if p.cur == b {
		return
	}
	rng := rand.New(rand.NewPCG(p.seed, uint64(b)))
	from, to := float64(b)*p.block, float64(b+1)*p.block
	p.pts = p.pts[:0]
	for t := from + rng.ExpFloat64()/p.rate; t < to; t += rng.ExpFloat64() / p.rate {
		p.pts = append(p.pts, seconds(t))
	}
	p.cur = b
}

// dueCounter is a Pacer that counts its requests due before a time itself.
type dueCounter interface {
	dueBefore(t time.Duration) uint64
}

// validateShapes refuses the combinations of --worker-rate, the schedules,
// --rate and --sweep that say two things about one setting.
func (c *Config) validateShapes() error {
	switch {
	case c.WorkerRate > 0 && c.Rate > 0:
		return fmt.Errorf("--worker-rate and --rate both set the load: give one")
	case c.WorkerRate > 0 && c.Sweep != nil:
		return fmt.Errorf("--worker-rate and --sweep both set the load: give one")
	case c.WorkerRate > 0 && c.RateSchedule != nil:
		return fmt.Errorf("--worker-rate and --rate-schedule both set the load: give one")
	case c.RateSchedule != nil && c.Rate > 0:
		return fmt.Errorf("--rate-schedule sets the rate over time: leave out --rate")
	case c.RateSchedule != nil && c.Sweep != nil:
		return fmt.Errorf("--rate-schedule and --sweep both set the rate over time: give one")
	case c.ConcurrencySchedule != nil && c.Sweep != nil:
		return fmt.Errorf("--concurrency-schedule and --sweep both set the load over time: give one")
	}
	if cs := c.ConcurrencySchedule; cs != nil {
		if top := int(math.Ceil(cs.Max())); c.Concurrency < top {
			return fmt.Errorf("concurrency %d is below the --concurrency-schedule's highest, %d", c.Concurrency, top)
		}
		if c.RequestLanes() == 0 {
			return fmt.Errorf("--concurrency-schedule sets request lanes, but --operations has no request op (p2p_lookup, heartbeat, register): PUSH ops use none")
		}
	}
	return nil
}

// pace gives every sender of st its Pacer (nil: closed loop) and st the
// lane schedule: the senders' worker arrivals with --worker-rate, each
// sender's share of --rate-schedule, or of the step's constant rate.
func (g *group) pace(st *stepRun, set stepSetting) {
	cfg := g.cfg
	n := float64(len(g.senders))
	for i, s := range g.senders {
		switch {
		case cfg.WorkerRate > 0:
			if s.arrivals != nil {
				st.pacers[i] = s.arrivals
			}
		case cfg.RateSchedule != nil:
			st.pacers[i] = &SchedulePacer{Shape: cfg.RateSchedule, Share: g.scheduleShare() / n, Head: set.warmup}
		case set.rate > 0:
			st.pacers[i] = ConstantPacer{Rate: set.rate / n}
		}
	}
	st.laneShape = cfg.ConcurrencySchedule
}

// scheduleShare is this group's part of --rate-schedule's target.
func (g *group) scheduleShare() float64 { return 1 / float64(max(1, g.cfg.NumProcesses)) }

// targets are the group's target rate (requests/s; 0 in a closed loop)
// and, when it is set over time, request lanes per sender (0 otherwise),
// averaged over the stretch from a to b of a step's measured time.
func (g *group) targets(set stepSetting, a, b time.Duration) (rate, lanes float64) {
	cfg := g.cfg
	switch {
	case cfg.WorkerRate > 0:
		rate = g.workerTarget()
	case cfg.RateSchedule != nil:
		rate = cfg.RateSchedule.Mean(a.Seconds(), b.Seconds()) * g.scheduleShare()
	default:
		rate = set.rate
	}
	switch {
	case cfg.ConcurrencySchedule != nil:
		lanes = cfg.ConcurrencySchedule.Mean(a.Seconds(), b.Seconds())
	case cfg.Sweep != nil && cfg.Sweep.spec.Dim == sweep.Concurrency:
		lanes = float64(set.concurrency)
	}
	return rate, lanes
}

// workerTarget is --worker-rate's offered load: the workers the group
// loads times the rate of each.
func (g *group) workerTarget() float64 {
	n := 0
	for _, s := range g.senders {
		n += len(s.load)
	}
	return float64(n) * g.cfg.WorkerRate
}

// pacing describes for the human report what sets the group's target when
// it is not --rate.
func (g *group) pacing() string {
	cfg := g.cfg
	switch {
	case cfg.WorkerRate > 0:
		return fmt.Sprintf("--worker-rate %g per worker, %s", cfg.WorkerRate, cfg.Arrival)
	case cfg.RateSchedule != nil:
		return "mean of --rate-schedule " + cfg.RateSchedule.String()
	}
	return ""
}

// poissonTarget reports whether the group's target is the mean of Poisson
// arrivals.
func (g *group) poissonTarget() bool { return g.cfg.WorkerRate > 0 && g.cfg.Arrival == ArrivalPoisson }
