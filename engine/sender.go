package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/engine/shape"
	"github.com/lmfast/lmfast/ring"
	"github.com/lmfast/lmfast/stats"
	"github.com/lmfast/lmfast/zmqx"
)

// opCounters are one sender's running totals for one op, read by the
// collector while the sender writes them.
type opCounters struct {
	requests atomic.Int64
	messages atomic.Int64
	errors   atomic.Int64
}

// slot is one request/reply lane of a sender: a DEALER to the reply socket
// and one to the heartbeat socket, with at most one request outstanding on
// the pair. Separate sockets per lane mean a reply always belongs to the
// lane's one outstanding request, whatever order the controller answers in.
type slot struct {
	reply, heartbeat *zmq.Socket
	busy             bool
	waitOn           *zmq.Socket
	op               Op
	msgs             int32
	intended, sent   time.Time
	checked          bool   // the reply is checked against expect (Config.Lookups)
	expect           Expect // the request's expected answer
}

// sender is one worker: it pulls pre-encoded operations from its ring and
// sends them, on its own sockets, optionally pinned to a CPU.
type sender struct {
	id    int
	cfg   *Config
	grp   *group
	cpu   int // -1: not pinned
	pairs []*pair
	queue *ring.SPSC[item]

	push   *zmq.Socket
	slots  []*slot
	poller *zmq.Poller
	bySock map[*zmq.Socket]int
	busy   int

	counts    [numOps]opCounters
	service   [numOps]*stats.Recorder
	corrected [numOps]*stats.Recorder
	// Totals read only once the sender stopped (no atomics on the hot path).
	pushes    int64 // PUSH frames whose send returned success
	kvOps     int64 // KV operations inside those frames
	pushBytes int64 // bytes of those frames

	// teardown counts the DeRegister frames sent at the end; an Intake
	// reads it while the senders tear down.
	teardown     atomic.Int64
	teardownTime time.Duration // how long sending the DeRegisterMsg took
	// warmupFrames counts the PUSH frames sent during warm-ups, which
	// counts leaves out: an Intake adds them to what the controller
	// should have received.
	warmupFrames atomic.Int64
	// pushing is 1 while a PUSH frame is being handed to the socket and not
	// yet counted: the controller may already have it.
	pushing atomic.Int64
	// frozenSkipped counts admit/evict operations not sent because their
	// worker was frozen by a full sync.
	frozenSkipped atomic.Int64

	errMu  sync.Mutex
	errs   map[errKey]int64
	firstE map[errKey]time.Time

	samples        *ring.SPSC[Sample]
	samplesDropped atomic.Int64

	registered  []*pair // pairs whose pre-registration succeeded (after assignLoad: the pairs it loaded)
	unconfirmed []*pair // pairs whose RegisterMsg went unanswered: the controller may still register them
	regOK       int     // pre-registrations that succeeded
	regFailed   int     // pre-registrations that failed
	load        []*pair // the pairs the sender sends operations for in the timed run
	ranOn       int     // the CPU the sender's thread was on when the timed run started
	started     bool    // it ran a step

	// The step being run; read and written by the sender's goroutine only,
	// the step's figures read by the collector once the step is done.
	steps       chan *stepRun // the group's steps; closed after the last
	stop        <-chan struct{}
	lanes       int       // request lanes in use (at most len(slots))
	measureFrom time.Time // what is intended before it is warm-up
	stepSent    [numOps]int64
	stepDropped [numOps]int64
	stepDue     int64
	schedule    []Op // the producer's op schedule: dropped requests take their ops from it
	dropNext    int  // the schedule's next op for a dropped request

	// arrivals is the --worker-rate schedule of the workers in load (nil
	// without --worker-rate); laneShape, when set, the request lanes in
	// force since laneFrom (--concurrency-schedule).
	arrivals  workerArrivals
	laneShape *shape.Shape
	laneFrom  time.Time
}

type errKey struct {
	op  Op
	msg string
}

func newSender(id int, cfg *Config, grp *group, cpu int, pairs []*pair) (*sender, error) {
	q, err := ring.New[item](cfg.RingSize)
	if err != nil {
		return nil, err
	}
	s := &sender{id: id, cfg: cfg, grp: grp, cpu: cpu, pairs: pairs, queue: q,
		errs: map[errKey]int64{}, firstE: map[errKey]time.Time{}, steps: make(chan *stepRun, 1)}
	for _, m := range cfg.Mix {
		s.service[m.Op] = stats.NewRecorder()
		if cfg.openLoop() {
			s.corrected[m.Op] = stats.NewRecorder()
		}
	}
	if cfg.Raw {
		if s.samples, err = ring.New[Sample](1 << 16); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// failed counts one failed operation of the run under its error text,
// unless it was intended during the warm-up.
func (s *sender) failed(op Op, msg string, intended time.Time) {
	if intended.Before(s.measureFrom) {
		return
	}
	s.fail(op, msg)
}

// fail counts one failed operation under its error text.
func (s *sender) fail(op Op, msg string) {
	s.counts[op].errors.Add(1)
	k := errKey{op, msg}
	s.errMu.Lock()
	if _, seen := s.errs[k]; !seen {
		s.firstE[k] = time.Now()
	}
	s.errs[k]++
	s.errMu.Unlock()
}

// done records one successful operation, unless it was intended during
// the warm-up.
func (s *sender) done(op Op, msgs int32, intended, sent, end time.Time) {
	if intended.Before(s.measureFrom) {
		return
	}
	s.sample(op, true, intended, sent, end)
	c := &s.counts[op]
	c.requests.Add(1)
	c.messages.Add(int64(msgs))
	s.service[op].Record(int64(end.Sub(sent)))
	if s.corrected[op] != nil {
		s.corrected[op].Record(int64(end.Sub(intended)))
	}
}

// sample records one operation's timing for --raw, unless it was
// intended during the warm-up.
func (s *sender) sample(op Op, ok bool, intended, sent, end time.Time) {
	if s.samples == nil || intended.Before(s.measureFrom) {
		return
	}
	smp, has := s.samples.Reserve()
	if !has {
		s.samplesDropped.Add(1)
		return
	}
	// One wall-clock reading, the start of the measured time, and every
	// time placed from it by the monotonic clock: Done-Sent and
	// Done-Intended are exactly the latencies the histograms recorded, and
	// the samples of all senders keep the order of one timeline (two
	// wall-clock readings differ from their monotonic difference by the
	// time between the two clock reads of each time.Now).
	base, at := s.measureFrom, s.measureFrom.UnixNano()
	*smp = Sample{Op: op, OK: ok, Intended: at + int64(intended.Sub(base)), Sent: at + int64(sent.Sub(base)), Done: at + int64(end.Sub(base))}
	s.samples.Publish()
}

// sendSlice is the PUSH socket's SNDTIMEO: a send on a full queue waits
// this long at a time, so that a stop is seen between two waits while the
// whole wait can still last LMCache's zmqx.SendTimeout.
const sendSlice = 100 * time.Millisecond

// openSockets creates the PUSH socket and the request lanes. Heartbeat
// DEALERs are created only once a heartbeat endpoint is known.
func (s *sender) openSockets() error {
	var err error
	if s.push, err = zmqx.NewPush(s.grp.zctx, s.cfg.PullEndpoint); err != nil {
		return fmt.Errorf("PUSH %s: %w", s.cfg.PullEndpoint, err)
	}
	if err = s.push.SetSndtimeo(sendSlice); err != nil {
		return fmt.Errorf("PUSH %s: %w", s.cfg.PullEndpoint, err)
	}
	if s.cfg.ReplyEndpoint == "" && s.cfg.HeartbeatEndpoint == "" && s.grp.heartbeatURL() == "" {
		return nil
	}
	if s.poller == nil {
		s.poller = zmq.NewPoller()
		s.bySock = map[*zmq.Socket]int{}
	}
	for i := 0; i < s.cfg.Concurrency; i++ {
		sl := &slot{}
		if s.cfg.ReplyEndpoint != "" {
			if sl.reply, err = zmqx.NewDealer(s.grp.zctx, s.cfg.ReplyEndpoint); err != nil {
				return fmt.Errorf("DEALER %s: %w", s.cfg.ReplyEndpoint, err)
			}
			s.bySock[sl.reply] = i
			s.poller.Add(sl.reply, zmq.POLLIN)
		}
		s.slots = append(s.slots, sl)
	}
	return nil
}

// openHeartbeat adds a heartbeat DEALER to every lane.
func (s *sender) openHeartbeat(endpoint string) error {
	if s.poller == nil {
		s.poller = zmq.NewPoller()
		s.bySock = map[*zmq.Socket]int{}
		for i := 0; i < s.cfg.Concurrency; i++ {
			s.slots = append(s.slots, &slot{})
		}
	}
	for i, sl := range s.slots {
		hb, err := zmqx.NewDealer(s.grp.zctx, endpoint)
		if err != nil {
			return fmt.Errorf("DEALER %s: %w", endpoint, err)
		}
		sl.heartbeat = hb
		s.bySock[hb] = i
		s.poller.Add(hb, zmq.POLLIN)
	}
	return nil
}

func isTimeout(err error) bool {
	return zmq.AsErrno(err) == zmq.Errno(11) // EAGAIN: RCVTIMEO/SNDTIMEO expired
}

// resetReply replaces lane i's reply DEALER after a timeout, so a late reply
// can never be taken for the answer to a later request.
func (s *sender) resetReply(i int) (*zmq.Socket, error) {
	return s.resetSocket(i, &s.slots[i].reply, s.cfg.ReplyEndpoint)
}

// resetHeartbeat does the same for lane i's heartbeat DEALER.
func (s *sender) resetHeartbeat(i int) error {
	_, err := s.resetSocket(i, &s.slots[i].heartbeat, s.grp.heartbeatURL())
	return err
}

func (s *sender) resetSocket(i int, sock **zmq.Socket, endpoint string) (*zmq.Socket, error) {
	old := *sock
	s.poller.RemoveBySocket(old)
	delete(s.bySock, old)
	old.SetLinger(0)
	old.Close()
	fresh, err := zmqx.NewDealer(s.grp.zctx, endpoint)
	if err != nil {
		*sock = nil
		return nil, err
	}
	*sock = fresh
	s.bySock[fresh] = i
	s.poller.Add(fresh, zmq.POLLIN)
	return fresh, nil
}
