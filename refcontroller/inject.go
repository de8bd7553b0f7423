package refcontroller

import (
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// Inject holds the server's test aids: faults it adds on purpose so that a
// client's measurements can be checked against what the server actually
// did. The zero value injects nothing.
type Inject struct {
	// Stall makes every socket loop (PULL, reply, heartbeat) stop reading
	// for Stall once every StallEvery: stall k covers [t0+k·StallEvery,
	// t0+k·StallEvery+Stall), t0 the server's start, k ≥ 1. A loop stalls
	// from when it notices the window (its next receive) to the window's
	// end; what arrives meanwhile waits in the socket. Each loop's actual
	// stall is logged (Server.Stalls, OnStall).
	Stall, StallEvery time.Duration
	// Delay answers the reply and heartbeat sockets' requests serially, as
	// one server whose every answer takes Delay: a request that finds the
	// server idle at t0 is answered at or after t0 + Delay, and the k-th
	// request queued behind it at or after t0 + (k+1)·Delay. The server
	// answers at most 1/Delay requests per second and, saturated, that
	// many even when its timers wake late (see injector.delay).
	Delay time.Duration
	// Drop discards this share of PULL frames unread: the application never
	// sees them and every count of received frames (Counters.PullFrames,
	// the pull_socket_message_count gauge) leaves them out, as a controller
	// that loses frames would. They are counted in Counters.InjectedDrops.
	Drop DropRate
	// OnStall is called with each stall after it ended, in order, from a
	// goroutine of its own so that a slow OnStall never lengthens a stall
	// (nil: none). Every stall is delivered before Server.Close returns.
	OnStall func(Stall)
}

// Stall is one socket loop's actual stall.
type Stall struct {
	Socket  string    // "pull", "reply" or "heartbeat"
	Index   int       // k: the window [t0+k·every, t0+k·every+stall)
	Nominal time.Time // the window's start
	Start   time.Time // when the loop stopped reading
	End     time.Time // when it read again
	// Served is when the loop last finished serving before the stall
	// (zero: never): it served nothing from then to End, so whatever
	// reached it after Served waited at least until End, also when the
	// process was not running before Start.
	Served time.Time
}

// DropRate is a share of frames to drop, Num of every Den; frame i
// (0-based) is dropped when floor((i+1)·Num/Den) > floor(i·Num/Den), so
// any n frames lose exactly floor(n·Num/Den), evenly spread.
type DropRate struct{ Num, Den int64 }

// IsZero reports whether nothing is dropped.
func (d DropRate) IsZero() bool { return d.Num == 0 }

// String returns the rate as "num/den".
func (d DropRate) String() string {
	if d.IsZero() {
		return "0"
	}
	return fmt.Sprintf("%d/%d", d.Num, d.Den)
}

// ParseDropRate reads a share of frames to drop: a fraction ("0.01"), a
// percentage ("1%") or one in N ("1/100"), from 0 up to but not including
// all of them.
func ParseDropRate(s string) (DropRate, error) {
	t := strings.TrimSpace(s)
	r := new(big.Rat)
	var ok bool
	if p, isPct := strings.CutSuffix(t, "%"); isPct {
		if _, ok = r.SetString(strings.TrimSpace(p)); ok {
			r.Quo(r, big.NewRat(100, 1))
		}
	} else {
		_, ok = r.SetString(t)
	}
	switch {
	case !ok || strings.ContainsAny(t, "eE"):
		return DropRate{}, fmt.Errorf("drop rate %q: want a fraction (0.01), a percentage (1%%) or one in N (1/100)", s)
	case r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) >= 0:
		return DropRate{}, fmt.Errorf("drop rate %q: must be at least 0 and below 1", s)
	case !r.Denom().IsInt64() || r.Denom().Int64() > 1e9:
		return DropRate{}, fmt.Errorf("drop rate %q: too fine (at most one in 10^9)", s)
	}
	if r.Sign() == 0 {
		return DropRate{}, nil
	}
	return DropRate{Num: r.Num().Int64(), Den: r.Denom().Int64()}, nil
}

// Check reports an Inject that cannot run.
func (in Inject) Check() error {
	switch {
	case in.Stall < 0 || in.StallEvery < 0 || in.Delay < 0:
		return fmt.Errorf("inject: negative duration")
	case in.Stall > 0 && in.StallEvery <= in.Stall:
		return fmt.Errorf("inject: a stall of %v needs a period above it, got %v", in.Stall, in.StallEvery)
	case in.Drop.Num < 0 || (in.Drop.Num > 0 && in.Drop.Den <= in.Drop.Num):
		return fmt.Errorf("inject: drop rate %s is not below 1", in.Drop)
	}
	return nil
}

// injector applies an Inject; a nil *injector injects nothing.
type injector struct {
	cfg Inject
	t0  time.Time

	delayMu sync.Mutex
	free    time.Time // when the serial answerer is next free

	dropSeen int64 // PULL frames seen by drop (the PULL goroutine only)

	stallMu sync.Mutex
	stalls  []Stall

	// OnStall delivery: notify wakes the deliverer, finished tells it to
	// deliver the rest and end, delivered closes when it has.
	notify    chan struct{}
	finished  chan struct{}
	delivered chan struct{}
}

func newInjector(cfg Inject) *injector {
	if cfg.Stall <= 0 && cfg.Delay <= 0 && cfg.Drop.IsZero() {
		return nil
	}
	return &injector{cfg: cfg, t0: time.Now(), notify: make(chan struct{}, 1),
		finished: make(chan struct{}), delivered: make(chan struct{})}
}

// startDelivery starts the goroutine that hands logged stalls to OnStall.
func (in *injector) startDelivery() {
	if in == nil || in.cfg.OnStall == nil {
		return
	}
	go func() {
		defer close(in.delivered)
		next := 0
		deliver := func() {
			for {
				in.stallMu.Lock()
				if next == len(in.stalls) {
					in.stallMu.Unlock()
					return
				}
				st := in.stalls[next]
				next++
				in.stallMu.Unlock()
				in.cfg.OnStall(st)
			}
		}
		for {
			select {
			case <-in.notify:
				deliver()
			case <-in.finished:
				deliver()
				return
			}
		}
	}()
}

// finish delivers the stalls not yet delivered and stops the deliverer;
// the loops have ended, so none are added after.
func (in *injector) finish() {
	if in == nil || in.cfg.OnStall == nil {
		return
	}
	close(in.finished)
	<-in.delivered
}

// stall stops the calling loop to the end of the current stall window, if
// one is open, and logs it; last is the loop's last stalled window, so a
// window stalls a loop once; served is when the loop last finished
// serving. It returns early when stop closes.
func (in *injector) stall(socket string, last *int, served time.Time, stop <-chan struct{}) {
	if in == nil || in.cfg.Stall <= 0 {
		return
	}
	now := time.Now()
	since := now.Sub(in.t0)
	k := int(since / in.cfg.StallEvery)
	nominal := in.t0.Add(time.Duration(k) * in.cfg.StallEvery)
	end := nominal.Add(in.cfg.Stall)
	if k < 1 || k == *last || !now.Before(end) {
		return
	}
	*last = k
	timer := time.NewTimer(time.Until(end))
	select {
	case <-timer.C:
	case <-stop:
		timer.Stop()
		return
	}
	st := Stall{Socket: socket, Index: k, Nominal: nominal, Start: now, End: time.Now(), Served: served}
	in.restartDelay(st.End)
	in.stallMu.Lock()
	in.stalls = append(in.stalls, st)
	in.stallMu.Unlock()
	select {
	case in.notify <- struct{}{}:
	default: // the deliverer is already due to look
	}
}

// delayCatchUp bounds how far behind its schedule a starved server answers
// waiting requests back to back (see delay).
const delayCatchUp = 20 * time.Millisecond

// queued reports, when delaying, whether a request is already waiting on
// sock: one that arrived while the server was answering the one before.
func (in *injector) queued(sock *zmq.Socket) bool {
	if in == nil || in.cfg.Delay <= 0 {
		return false
	}
	ev, err := sock.GetEvents()
	return err == nil && ev&zmq.POLLIN != 0
}

// delay waits until the serial answerer's slot for the request handled
// now; queued says it was waiting in the socket before the loop came back
// for it. It returns early when stop closes.
//
// A request that arrived while the server was idle gets the slot now +
// Delay (or the previous slot + Delay while that is later). One that was
// queued starts where the previous answer's slot ended, even when the
// loop comes for it late (a timer that woke late, a descheduled process),
// up to delayCatchUp behind: so a saturated server answers 1/Delay per
// second however late its timers are, and never more than 1/Delay over
// any window, plus delayCatchUp/Delay answers.
func (in *injector) delay(queued bool, stop <-chan struct{}) {
	if in == nil || in.cfg.Delay <= 0 {
		return
	}
	in.delayMu.Lock()
	now := time.Now()
	start := now
	switch {
	case in.free.After(now):
		start = in.free
	case queued && !in.free.IsZero():
		start = in.free
		if floor := now.Add(-delayCatchUp); start.Before(floor) {
			start = floor
		}
	}
	slot := start.Add(in.cfg.Delay)
	in.free = slot
	in.delayMu.Unlock()
	wait := time.Until(slot)
	if wait <= 0 {
		return // behind schedule: a timer would only add its wake-up latency
	}
	timer := time.NewTimer(wait)
	select {
	case <-timer.C:
	case <-stop:
		timer.Stop()
	}
}

// restartDelay makes the serial answerer's schedule start again at t (a
// stall's end): a paused server does not catch up on the pause.
func (in *injector) restartDelay(t time.Time) {
	if in.cfg.Delay <= 0 {
		return
	}
	in.delayMu.Lock()
	if in.free.Before(t) {
		in.free = t
	}
	in.delayMu.Unlock()
}

// drop reports whether the next PULL frame is to be dropped. Only the PULL
// goroutine calls it.
func (in *injector) drop() bool {
	if in == nil || in.cfg.Drop.IsZero() {
		return false
	}
	i := in.dropSeen
	in.dropSeen++
	d := in.cfg.Drop
	return (i+1)*d.Num/d.Den > i*d.Num/d.Den
}

// served returns the time a loop finished serving, for its next stall's
// log: the zero time when no stall is injected (no clock read).
func (in *injector) served() time.Time {
	if in == nil || in.cfg.Stall <= 0 {
		return time.Time{}
	}
	return time.Now()
}

// Stalls returns the stalls logged so far, in the order they ended.
func (s *Server) Stalls() []Stall {
	if s.inj == nil {
		return nil
	}
	s.inj.stallMu.Lock()
	defer s.inj.stallMu.Unlock()
	return append([]Stall(nil), s.inj.stalls...)
}
