package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lmfast/lmfast/engine/scrape"
)

// ReconcileScope says when a reconciliation's verdict holds: the
// controller's counts are its whole intake, lmfast's are this run's.
const ReconcileScope = "valid only while this lmfast run is the controller's only sender"

// Intake follows what the controller says it received, from its /metrics
// page (engine/scrape), during and after a run: every group of the run
// shares one. The group with Proc 0 adds the controller's figures to its
// interval lines ("op":"all"), against the frames every group sent; the
// run's final count is taken by Settle after the drain.
type Intake struct {
	sc  *scrape.Scraper
	ctx context.Context

	// IdleOnly, when set, reads the page only while the controller
	// should be idle: the baseline before the run and Settle after the
	// drain, never during the load (interval lines then carry no
	// controller figures). LMCache's controller can stop receiving when
	// its /metrics is read while frames are pending (README,
	// "Reconciliation").
	IdleOnly bool

	mu       sync.Mutex
	groups   []*group
	prev     scrape.Delta // the previous interval's reading
	havePrev bool
}

// NewIntake returns an Intake reading sc; ctx bounds every reading (a
// cancelled ctx makes readings fail at once, so that an interrupted run is
// not held up by the controller).
func NewIntake(ctx context.Context, sc *scrape.Scraper) *Intake {
	return &Intake{sc: sc, ctx: ctx}
}

// URL returns the /metrics page read.
func (in *Intake) URL() string { return in.sc.URL() }

// Baseline reads the counters that later deltas start from: call it
// right before the run (the controller's counts never reset).
func (in *Intake) Baseline() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	d, err := in.sc.Baseline(in.ctx)
	if err == nil {
		in.prev, in.havePrev = scrape.Delta{At: d.At}, true
	}
	return err
}

// add makes g one of the groups whose frames the intervals count.
func (in *Intake) add(g *group) {
	in.mu.Lock()
	in.groups = append(in.groups, g)
	in.mu.Unlock()
}

// framesSent is what every group's PUSH sockets accepted so far, teardown
// DeRegisterMsg frames included. It only reads counters the senders
// update atomically.
func (in *Intake) framesSent() int64 {
	var n int64
	for _, g := range in.groups {
		n += g.framesSent()
	}
	return n
}

// framesSent is what the group's PUSH sockets accepted so far, warm-up
// and teardown frames included, and a frame being sent that is not yet
// counted. Read after the controller's counters, it is never below what
// the controller can have received: pushing is read before the counts, so
// a frame is either still pushing then or already counted.
func (g *group) framesSent() int64 {
	var n int64
	for _, s := range g.senders {
		n += s.pushing.Load()
		for op := range s.counts {
			if Op(op).IsPush() {
				n += s.counts[op].requests.Load()
			}
		}
		n += s.warmupFrames.Load() + s.teardown.Load()
	}
	if x := g.cfg.ExtraFrames; x != nil {
		n += x.Load()
	}
	if g.agent != nil {
		n += g.agent.push.sent.Load()
	}
	return n
}

// interval reads the controller's counters and returns what it received
// since the previous reading, and the frames sent by every group that it
// has not counted yet (see Received). A failed reading returns only Err.
func (in *Intake) interval() *Received {
	in.mu.Lock()
	defer in.mu.Unlock()
	d, err := in.sc.Delta(in.ctx)
	if err != nil {
		return &Received{Err: err}
	}
	sent := in.framesSent()
	r := &Received{Frames: d.PullFrames - in.prev.PullFrames, Requests: d.ReplyMessages - in.prev.ReplyMessages,
		Backlog: sent - d.PullFrames, Restarts: d.Restarts}
	if in.havePrev {
		r.Span = max(0, d.At.Sub(in.prev.At))
	}
	in.prev, in.havePrev = d, true
	return r
}

// IntakeResult is a run's reconciliation with the controller's counts.
type IntakeResult struct {
	URL string
	scrape.Reconciliation
	Requests int64 // messages the controller received on its reply and heartbeat sockets
	Restarts int   // times its counts were seen going down
	Err      error // the last reading failed: nothing could be compared
}

// Verdict says in one line what the reconciliation found.
func (r *IntakeResult) Verdict() string {
	if r.Err != nil {
		return fmt.Sprintf("not reconciled: sent %d frames, the controller's count could not be read after the run: %v", r.Sent, r.Err)
	}
	return r.Reconciliation.String()
}

// Settle waits, up to timeout, until the controller counted sent frames
// (what lmfast's PUSH sockets accepted, teardown included) since the
// baseline, reading its counters every settlePoll, and returns the
// comparison. Once the Intake's context is cancelled (an interrupted
// run) it reads once, within interruptedRead, whatever timeout says.
func (in *Intake) Settle(sent int64, timeout time.Duration) *IntakeResult {
	in.mu.Lock()
	defer in.mu.Unlock()
	ctx := in.ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), interruptedRead)
		defer cancel()
		timeout = 0
	}
	d, _, err := in.sc.WaitPull(ctx, sent, timeout, settlePoll)
	r := &IntakeResult{URL: in.sc.URL(), Reconciliation: scrape.Reconcile(sent, d), Requests: d.ReplyMessages, Restarts: d.Restarts, Err: err}
	if err != nil {
		r.Reconciled = false
	}
	return r
}

// settleTimeout is how long a group waits for the controller's count
// after the drain: the drain timeout, or a single reading once the run
// was interrupted (an interrupt must end the run within a second).
func (g *group) settleTimeout() time.Duration {
	if g.stop.isInterrupted() {
		return 0
	}
	return g.cfg.DrainTimeout
}

const (
	// settlePoll is how often Settle reads the controller's counters.
	settlePoll = 20 * time.Millisecond
	// interruptedRead bounds Settle's one reading after an interrupt,
	// within the second an interrupted run has to end.
	interruptedRead = 150 * time.Millisecond
)
