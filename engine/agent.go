package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// DefaultHeartbeatInterval is --heartbeat-interval auto: 5 s, the
// heartbeat_interval default of LMCache's workers (multiprocess config;
// the cache-controller worker's lmcache_worker_heartbeat_time has no
// default: it sends no heartbeats unless configured).
const DefaultHeartbeatInterval = 5 * time.Second

// FullSync is how a simulated worker runs a full sync; zero fields take
// LMCache's defaults (full_sync_sender.py's extra_config keys).
type FullSync struct {
	StartupDelay  time.Duration // full_sync_startup_delay_s: the delay is uniform in [0, StartupDelay] (5 s)
	BatchSize     int           // full_sync_batch_size (2000 keys)
	BatchInterval time.Duration // full_sync_batch_interval_ms (5 ms)
	PollInterval  time.Duration // full_sync_status_poll_interval_s (5 s)
	MaxPolls      int           // full_sync_max_poll_attempts (60)
	MaxRetries    int           // full_sync_max_retry_count (3): start attempts and resends
	RetryDelay    time.Duration // full_sync_retry_delay_s (1 s)
	// NoDelay makes StartupDelay 0 (--storm-jitter 0: every worker at once).
	NoDelay bool
}

func (f FullSync) withDefaults() FullSync {
	if f.StartupDelay == 0 && !f.NoDelay {
		f.StartupDelay = 5 * time.Second
	}
	if f.NoDelay {
		f.StartupDelay = 0
	}
	if f.BatchSize <= 0 {
		f.BatchSize = 2000
	}
	if f.BatchInterval == 0 {
		f.BatchInterval = 5 * time.Millisecond
	}
	if f.PollInterval == 0 {
		f.PollInterval = 5 * time.Second
	}
	if f.MaxPolls <= 0 {
		f.MaxPolls = 60
	}
	if f.MaxRetries <= 0 {
		f.MaxRetries = 3
	}
	if f.RetryDelay == 0 {
		f.RetryDelay = time.Second
	}
	return f
}

// WorkerStats are the simulated workers' own counts: heartbeats on their
// timer and the full syncs the controller asked for.
type WorkerStats struct {
	Heartbeats       int64            // HeartbeatMsg sent by the timer
	HeartbeatReplies int64            // answered with a HeartbeatRetMsg
	HeartbeatErrors  int64            // not answered in time, or answered otherwise
	HeartbeatsCutOff int64            // sent, but the run stopped before their reply came
	Commands         map[string]int64 // FullSyncCommands received, per reason
	SyncsStarted     int64            // full syncs begun (after the startup delay)
	SyncsSkipped     int64            // commands ignored because a sync was running
	StartsRejected   int64            // FullSyncStartMsg not accepted (each attempt)
	SyncsAbandoned   int64            // syncs given up: no start accepted, or stopped
	SyncsDone        int64            // syncs that ended with can_exit_freeze
	SyncsPollTimeout int64            // syncs that ended after MaxPolls without it
	SyncBatches      int64            // FullSyncBatchMsg sent (resends included)
	SyncKeys         int64            // keys in them
	SyncEnds         int64            // FullSyncEndMsg sent
	StatusPolls      int64            // FullSyncStatusMsg answered
	SyncFrames       int64            // PUSH frames of the syncs (batches and ends) the socket accepted
	FrozenSkipped    int64            // admit/evict operations not sent: their worker was frozen
	HeldKeys         int64            // keys the workers held at the end, over all workers
}

// merge adds o to w.
func (w *WorkerStats) merge(o *WorkerStats) {
	w.Heartbeats += o.Heartbeats
	w.HeartbeatReplies += o.HeartbeatReplies
	w.HeartbeatErrors += o.HeartbeatErrors
	w.HeartbeatsCutOff += o.HeartbeatsCutOff
	if w.Commands == nil {
		w.Commands = map[string]int64{}
	}
	for k, v := range o.Commands {
		w.Commands[k] += v
	}
	w.SyncsStarted += o.SyncsStarted
	w.SyncsSkipped += o.SyncsSkipped
	w.StartsRejected += o.StartsRejected
	w.SyncsAbandoned += o.SyncsAbandoned
	w.SyncsDone += o.SyncsDone
	w.SyncsPollTimeout += o.SyncsPollTimeout
	w.SyncBatches += o.SyncBatches
	w.SyncKeys += o.SyncKeys
	w.SyncEnds += o.SyncEnds
	w.StatusPolls += o.StatusPolls
	w.SyncFrames += o.SyncFrames
	w.FrozenSkipped += o.FrozenSkipped
	w.HeldKeys += o.HeldKeys
}

// agent plays the part of LMCache's worker process for every simulated
// worker of a group, beside the op mix: a heartbeat per worker every
// HeartbeatInterval, and the full-sync protocol when a heartbeat reply
// carries a FullSyncCommand (full_sync_sender.py).
type agent struct {
	cfg   *Config
	fs    FullSync
	pairs []*pair
	hb    *reqClient // heartbeat socket (or the reply socket without one)
	req   *reqClient // reply socket: full-sync start and status
	push  *pusher    // PUSH: full-sync batches and ends

	stop  chan struct{}
	wg    sync.WaitGroup
	rngMu sync.Mutex
	rng   *rand.Rand

	heartbeats, hbReplies, hbErrors, hbCutOff              atomic.Int64
	started, skipped, rejected, abandoned, done, pollEnded atomic.Int64
	batches, keys, ends, polls                             atomic.Int64
	cmdMu                                                  sync.Mutex
	commands                                               map[string]int64
	synced                                                 atomic.Int64 // syncs whose (last) end was sent
}

// newAgent opens the agent's sockets in zctx. hbEndpoint may be the reply
// endpoint when the controller has no heartbeat socket.
func newAgent(zctx *zmq.Context, cfg *Config, pairs []*pair, hbEndpoint string) (*agent, error) {
	a := &agent{cfg: cfg, fs: cfg.FullSync.withDefaults(), pairs: pairs, stop: make(chan struct{}),
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x6865617274)), commands: map[string]int64{}}
	var err error
	if a.push, err = newPusher(zctx, cfg.PullEndpoint, cfg.DrainTimeout); err != nil {
		return nil, err
	}
	a.hb = newReqClient(zctx, hbEndpoint, cfg.RequestTimeout)
	if cfg.ReplyEndpoint != "" {
		a.req = newReqClient(zctx, cfg.ReplyEndpoint, cfg.RequestTimeout)
	}
	return a, nil
}

// start runs the heartbeat timer: worker i's heartbeats go at a phase
// drawn once in [0, interval), then every interval.
func (a *agent) start() {
	iv := a.cfg.HeartbeatInterval
	type due struct {
		p     *pair
		phase time.Duration
	}
	ds := make([]due, len(a.pairs))
	for i, p := range a.pairs {
		ds[i] = due{p, time.Duration(a.rng.Int64N(int64(iv)))}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].phase < ds[j].phase })
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		base := time.Now()
		for round := time.Duration(0); ; round += iv {
			for _, d := range ds {
				if !sleepUntil(base.Add(round+d.phase), a.stop) {
					return
				}
				a.wg.Add(1)
				go func() {
					defer a.wg.Done()
					a.heartbeat(d.p)
				}()
			}
		}
	}()
}

// close stops the timer and every sync (a frozen worker unfreezes), waits
// for them, and closes the sockets. It returns the workers' counts.
func (a *agent) close() *WorkerStats {
	close(a.stop)
	a.wg.Wait()
	if a.req != nil {
		a.req.close()
	}
	a.hb.close()
	a.push.close()
	st := &WorkerStats{Heartbeats: a.heartbeats.Load(), HeartbeatReplies: a.hbReplies.Load(), HeartbeatErrors: a.hbErrors.Load(), HeartbeatsCutOff: a.hbCutOff.Load(),
		SyncsStarted: a.started.Load(), SyncsSkipped: a.skipped.Load(), StartsRejected: a.rejected.Load(),
		SyncsAbandoned: a.abandoned.Load(), SyncsDone: a.done.Load(), SyncsPollTimeout: a.pollEnded.Load(),
		SyncBatches: a.batches.Load(), SyncKeys: a.keys.Load(), SyncEnds: a.ends.Load(), StatusPolls: a.polls.Load(),
		SyncFrames: a.push.sent.Load(), Commands: map[string]int64{}}
	a.cmdMu.Lock()
	for k, v := range a.commands {
		st.Commands[k] = v
	}
	a.cmdMu.Unlock()
	for _, p := range a.pairs {
		st.HeldKeys += int64(p.held.count())
	}
	return st
}

// heartbeat sends worker p's HeartbeatMsg (its registration address) and
// obeys the reply's commands.
func (a *agent) heartbeat(p *pair) {
	peer := PeerInitURL(p.worker)
	msg := wire.HeartbeatMsg{InstanceID: p.instance, WorkerID: int64(p.worker), IP: WorkerIP(p.worker),
		Port: int64(WorkerPort(p.worker)), PeerInitURL: &peer}
	reply, err := a.hb.do(msg.AppendMsgpack(nil), a.stop)
	if err == errNotSent { // the run stopped first: no heartbeat
		return
	}
	a.heartbeats.Add(1)
	switch {
	case err == errAgentStopped:
		a.hbCutOff.Add(1)
		return
	case err != nil:
		a.hbErrors.Add(1)
		return
	}
	m, err := wire.Decode(reply)
	ret, ok := m.(*wire.HeartbeatRetMsg)
	if err != nil || !ok {
		a.hbErrors.Add(1)
		return
	}
	a.hbReplies.Add(1)
	for _, c := range ret.Commands {
		if c.CommandType != wire.CommandFullSync {
			continue // the base class: LMCache's worker logs "not implemented"
		}
		reason := "None"
		if c.Reason != nil {
			reason = *c.Reason
		}
		a.cmdMu.Lock()
		a.commands[reason]++
		a.cmdMu.Unlock()
		if !p.syncing.CompareAndSwap(false, true) {
			a.skipped.Add(1) // "Full sync already in progress, skipping"
			continue
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			defer p.syncing.Store(false)
			a.fullSync(p)
		}()
	}
}

// fullSync is FullSyncSender.start_full_sync for worker p: a random
// startup delay, freeze, then per location the start (with retries), the
// key batches and the end, then status polls until can_exit_freeze
// (resending missing batches), then unfreeze.
func (a *agent) fullSync(p *pair) {
	fs := a.fs
	a.rngMu.Lock()
	delay := time.Duration(0)
	if fs.StartupDelay > 0 {
		delay = time.Duration(a.rng.Int64N(int64(fs.StartupDelay) + 1))
	}
	tag := a.rng.Uint32()
	a.rngMu.Unlock()
	if !sleepFor(delay, a.stop) {
		a.abandoned.Add(1)
		return
	}
	if a.req == nil {
		a.abandoned.Add(1) // no reply socket: a start cannot be sent
		return
	}
	a.started.Add(1)
	snapshot := p.held.freeze(&p.frozen)
	defer p.frozen.Store(false)
	var lastID string
	var lastKeys []wire.Int
	lastLoc := 0
	for loc := range a.cfg.NumLocations {
		keys := snapshot[loc]
		batches := max(1, (len(keys)+fs.BatchSize-1)/fs.BatchSize)
		id := fmt.Sprintf("%s_%d_%08x", p.instance, p.worker, tag+uint32(loc))
		start := wire.FullSyncStartMsg{InstanceID: p.instance, WorkerID: int64(p.worker), Location: LocationName(loc),
			SyncID: id, TotalKeys: int64(len(keys)), BatchCount: int64(batches)}
		accepted := false
		for attempt := 0; attempt < fs.MaxRetries && !accepted; attempt++ {
			if attempt > 0 && !sleepFor(fs.RetryDelay, a.stop) {
				break
			}
			reply, err := a.req.do(start.AppendMsgpack(nil), a.stop)
			if err == nil {
				if m, err := wire.Decode(reply); err == nil {
					if r, ok := m.(*wire.FullSyncStartRetMsg); ok && r.Accepted {
						accepted = true
						break
					}
				}
			}
			a.rejected.Add(1)
		}
		if !accepted {
			a.abandoned.Add(1)
			return
		}
		for b := 0; b < batches; b++ {
			if b > 0 && !sleepFor(fs.BatchInterval, a.stop) {
				a.abandoned.Add(1)
				return
			}
			a.sendBatch(p, loc, id, b, keys)
		}
		a.sendEnd(p, loc, id, len(keys))
		lastID, lastKeys, lastLoc = id, keys, loc
	}
	a.synced.Add(1)
	resends := 0
	for range fs.MaxPolls {
		if !sleepFor(fs.PollInterval, a.stop) {
			a.abandoned.Add(1)
			return
		}
		reply, err := a.req.do(wire.FullSyncStatusMsg{InstanceID: p.instance, WorkerID: int64(p.worker), SyncID: lastID}.AppendMsgpack(nil), a.stop)
		if err != nil {
			continue
		}
		m, err := wire.Decode(reply)
		st, ok := m.(*wire.FullSyncStatusRetMsg)
		if err != nil || !ok {
			continue
		}
		a.polls.Add(1)
		if st.CanExitFreeze {
			a.done.Add(1)
			return
		}
		if len(st.MissingBatches) > 0 && resends < fs.MaxRetries {
			resends++
			for _, b := range st.MissingBatches {
				if b >= 0 && int(b)*fs.BatchSize <= len(lastKeys) {
					a.sendBatch(p, lastLoc, lastID, int(b), lastKeys)
				}
				if !sleepFor(fs.BatchInterval, a.stop) {
					a.abandoned.Add(1)
					return
				}
			}
			a.sendEnd(p, lastLoc, lastID, len(lastKeys))
		}
	}
	a.pollEnded.Add(1) // "Full sync status poll timeout, exiting freeze mode anyway"
}

func (a *agent) sendBatch(p *pair, loc int, id string, b int, keys []wire.Int) {
	bs := a.fs.BatchSize
	part := keys[min(b*bs, len(keys)):min((b+1)*bs, len(keys))]
	a.push.send(wire.FullSyncBatchMsg{InstanceID: p.instance, WorkerID: int64(p.worker), Location: LocationName(loc),
		SyncID: id, BatchID: int64(b), Keys: part}.AppendMsgpack(nil))
	a.batches.Add(1)
	a.keys.Add(int64(len(part)))
}

func (a *agent) sendEnd(p *pair, loc int, id string, n int) {
	a.push.send(wire.FullSyncEndMsg{InstanceID: p.instance, WorkerID: int64(p.worker), Location: LocationName(loc),
		SyncID: id, ActualTotalKeys: int64(n)}.AppendMsgpack(nil))
	a.ends.Add(1)
}

// sleepFor waits d unless stop closes first (false then).
func sleepFor(d time.Duration, stop <-chan struct{}) bool {
	if d <= 0 {
		return !stopped(stop)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// sleepUntil waits until at unless stop closes first (false then).
func sleepUntil(at time.Time, stop <-chan struct{}) bool { return sleepFor(time.Until(at), stop) }

// pusher owns one PUSH socket: frames handed to send go out in order.
type pusher struct {
	in   chan []byte
	done chan struct{}
	sent atomic.Int64 // frames the socket accepted
}

func newPusher(zctx *zmq.Context, endpoint string, linger time.Duration) (*pusher, error) {
	sock, err := zmqx.NewPush(zctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("full-sync PUSH socket: %w", err)
	}
	p := &pusher{in: make(chan []byte, 1024), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for f := range p.in {
			if _, err := sock.SendBytes(f, 0); err == nil {
				p.sent.Add(1)
			}
		}
		sock.SetLinger(linger)
		sock.Close()
	}()
	return p, nil
}

func (p *pusher) send(f []byte) { p.in <- f }

// close sends what is queued, then closes the socket (which lingers).
func (p *pusher) close() {
	close(p.in)
	<-p.done
}

// errRequestTimeout is a request not answered within the request timeout.
var errRequestTimeout = errors.New("request timed out")

// errAgentStopped is a request abandoned because the agent stopped: it
// was handed to a socket, its reply was not awaited.
var errAgentStopped = errors.New("stopped")

// errNotSent is a request the agent stopped before handing to a socket.
var errNotSent = errors.New("stopped before it was sent")

// reqClient sends requests on a pool of DEALER sockets, each with at
// most one request outstanding, so that a reply always belongs to its
// socket's one request (a request the controller lost, in a restart,
// cannot shift the replies of others). A request not answered within
// timeout fails and its socket is opened anew, as LMCache's worker
// recreates its socket after a timeout.
type reqClient struct {
	in   chan *call
	quit chan struct{}
	wg   sync.WaitGroup
}

type call struct {
	payload []byte
	reply   []byte
	err     error
	ready   chan struct{}
}

// reqLanes is the number of DEALER sockets of a reqClient.
const reqLanes = 16

func newReqClient(zctx *zmq.Context, endpoint string, timeout time.Duration) *reqClient {
	c := &reqClient{in: make(chan *call), quit: make(chan struct{})}
	for range reqLanes {
		c.wg.Add(1)
		go c.lane(zctx, endpoint, timeout)
	}
	return c
}

// do sends payload and waits for its reply, or for stop.
func (c *reqClient) do(payload []byte, stop <-chan struct{}) ([]byte, error) {
	cl := &call{payload: payload, ready: make(chan struct{})}
	select {
	case c.in <- cl:
	case <-stop:
		return nil, errNotSent
	}
	select {
	case <-cl.ready:
		return cl.reply, cl.err
	case <-stop:
		return nil, errAgentStopped
	}
}

func (c *reqClient) close() {
	close(c.quit)
	c.wg.Wait()
}

// lane serves calls one at a time on a DEALER of its own.
func (c *reqClient) lane(zctx *zmq.Context, endpoint string, timeout time.Duration) {
	defer c.wg.Done()
	var sock *zmq.Socket
	var poller *zmq.Poller
	reset := func() {
		if sock != nil {
			sock.SetLinger(0)
			sock.Close()
			sock = nil
		}
	}
	defer reset()
	for {
		var cl *call
		select {
		case <-c.quit:
			return
		case cl = <-c.in:
		}
		if sock == nil {
			s, err := zmqx.NewDealer(zctx, endpoint)
			if err != nil {
				cl.err = err
				close(cl.ready)
				continue
			}
			sock, poller = s, zmq.NewPoller()
			poller.Add(sock, zmq.POLLIN)
		}
		cl.err = errRequestTimeout
		if err := zmqx.SendRequest(sock, cl.payload); err != nil {
			cl.err = err
			reset()
		} else {
			for deadline := time.Now().Add(timeout); ; {
				left := time.Until(deadline)
				if left <= 0 || stopped(c.quit) {
					reset() // the reply may still come: not on this socket
					break
				}
				polled, err := poller.Poll(min(left, 100*time.Millisecond))
				if err != nil {
					reset()
					break
				}
				if len(polled) == 0 {
					continue
				}
				frames, err := sock.RecvMessageBytes(zmq.DONTWAIT)
				if err != nil || len(frames) == 0 {
					continue
				}
				cl.reply, cl.err = frames[len(frames)-1], nil
				break
			}
		}
		close(cl.ready)
	}
}

// Workers is a live view of a group's simulated workers, for a caller
// that watches a run (the restart-storm scenario).
type Workers struct{ a *agent }

// HeldKeys returns the keys the workers hold now, over all of them.
func (w *Workers) HeldKeys() int64 {
	var n int64
	for _, p := range w.a.pairs {
		n += int64(p.held.count())
	}
	return n
}

// Syncing returns how many workers are in a full sync now (from the
// command to the end of their status polls).
func (w *Workers) Syncing() int {
	n := 0
	for _, p := range w.a.pairs {
		if p.syncing.Load() {
			n++
		}
	}
	return n
}

// Commands returns the FullSyncCommands the workers received so far.
func (w *Workers) Commands() int64 {
	w.a.cmdMu.Lock()
	defer w.a.cmdMu.Unlock()
	var n int64
	for _, v := range w.a.commands {
		n += v
	}
	return n
}

// Count returns the number of simulated workers.
func (w *Workers) Count() int { return len(w.a.pairs) }

// SyncsEnded returns the syncs whose end was sent so far.
func (w *Workers) SyncsEnded() int64 { return w.a.synced.Load() }

// startAgent starts the workers' heartbeats over every worker the group
// loads, on the heartbeat socket (learned or given), else on the reply
// socket.
func (g *group) startAgent() error {
	cfg := g.cfg
	ep := g.heartbeatURL()
	if ep == "" {
		ep = cfg.ReplyEndpoint
	}
	if ep == "" {
		return fmt.Errorf("--heartbeat-interval needs the controller's heartbeat or reply port")
	}
	var pairs []*pair
	for _, s := range g.senders {
		pairs = append(pairs, s.load...)
	}
	a, err := newAgent(g.zctx, cfg, pairs, ep)
	if err != nil {
		return err
	}
	g.agent = a
	a.start()
	if cfg.Workers != nil {
		cfg.Workers(&Workers{a})
	}
	return nil
}
