package refcontroller

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/wire/pyjson"
	"github.com/lmfast/lmfast/zmqx"
)

// Config says where the server listens.
type Config struct {
	Host          string // bind host, e.g. "127.0.0.1"
	PullPort      int    // PULL socket (worker messages); FreePort for any
	ReplyPort     int    // ROUTER reply socket (requests); FreePort for any
	HeartbeatPort int    // ROUTER heartbeat socket; NoPort (the real default) for none
	HTTPPort      int    // /metrics and /controller/*; NoPort for none
	// CompatPullDies reproduces LMCache's controller, whose PULL loop ends
	// on the first frame that fails to decode.
	CompatPullDies bool
	// Appliers is the number of goroutines applying KV batches, sharded by
	// (instance, worker) so each worker's batches keep their order
	// (default 1: decoding and applying overlap on two cores). With 1 and
	// GOMAXPROCS 1 the PULL goroutine applies them itself: on one CPU a
	// hand-off to an applier only adds scheduling work per batch.
	Appliers int
	// Log receives the server's JSON log lines (zerolog.Nop() for none).
	Log zerolog.Logger
	// Inject are test aids: stalls, a serial answer delay, dropped frames.
	Inject Inject
	// HealthCheckInterval, when positive, runs the health check: every
	// interval, workers silent for longer than WorkerTimeout are
	// deregistered (LMCache's --health-check-interval; its default, -1,
	// is off).
	HealthCheckInterval time.Duration
	// WorkerTimeout is LMCache's --lmcache-worker-timeout; 0 means its
	// default, DefaultWorkerTimeout.
	WorkerTimeout time.Duration
	// SyncThreshold is the share of ready workers at which freeze mode may
	// end (full_sync_completion_threshold); 0 means DefaultSyncThreshold.
	SyncThreshold float64
}

// Ports are the ports actually bound (NoPort for sockets not opened).
type Ports struct {
	Pull, Reply, Heartbeat, HTTP int
}

// BindError reports a socket that could not bind its port.
type BindError struct {
	Socket string // "pull", "reply", "heartbeat" or "http"
	Port   int
	Err    error
}

func (e *BindError) Error() string {
	return fmt.Sprintf("%s port %d: %v", e.Socket, e.Port, e.Err)
}

func (e *BindError) Unwrap() error { return e.Err }

// Server is a running reference controller.
type Server struct {
	cfg   Config
	zctx  *zmq.Context
	ports Ports
	reg   *registry
	c     counters
	log   *limitedLog
	http  *http.Server
	inj   *injector // test aids; nil: none
	track *tracker  // full-sync sessions (fullsync.go)

	pull             *puller
	reply, heartbeat *zmq.Socket

	shards    []chan *applyGroup
	seed      maphash.Seed
	enqueued  atomic.Int64
	processed atomic.Int64
	pullDead  atomic.Bool
	// inline: the PULL goroutine applies what it decodes itself (one
	// applier and one CPU for Go: a hand-off would only add copies).
	inline bool

	stop      chan struct{}
	loops     sync.WaitGroup
	appliers  sync.WaitGroup
	closeOnce sync.Once
}

// Start binds the sockets (and HTTP server) and starts serving. The server
// runs until Close or until ctx is cancelled.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Appliers <= 0 {
		cfg.Appliers = 1
	}
	if err := cfg.Inject.Check(); err != nil {
		return nil, err
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, zctx: zctx, reg: newRegistry(), stop: make(chan struct{}), seed: maphash.MakeSeed(),
		log: newLimitedLog(cfg.Log), ports: Ports{Heartbeat: NoPort, HTTP: NoPort}}
	s.inj = newInjector(cfg.Inject)
	s.track = newTracker(s.reg, cfg.SyncThreshold)
	if cfg.WorkerTimeout <= 0 {
		cfg.WorkerTimeout = DefaultWorkerTimeout
		s.cfg.WorkerTimeout = cfg.WorkerTimeout
	}
	fail := func(err error) (*Server, error) {
		if s.pull != nil {
			s.pull.Close()
		}
		for _, sock := range []*zmq.Socket{s.reply, s.heartbeat} {
			if sock != nil {
				sock.SetLinger(0)
				sock.Close()
			}
		}
		zctx.Term()
		return nil, err
	}
	if s.pull, err = openPuller(cfg.Host, cfg.PullPort); err != nil {
		return fail(err)
	}
	s.ports.Pull = s.pull.port
	if s.reply, s.ports.Reply, err = s.bind(zmq.ROUTER, "reply", cfg.ReplyPort); err != nil {
		return fail(err)
	}
	if cfg.HeartbeatPort != NoPort {
		if s.heartbeat, s.ports.Heartbeat, err = s.bind(zmq.ROUTER, "heartbeat", cfg.HeartbeatPort); err != nil {
			return fail(err)
		}
	}
	if cfg.HTTPPort != NoPort {
		if s.ports.HTTP, err = s.startHTTP(cfg.HTTPPort); err != nil {
			return fail(err)
		}
	}
	s.inline = cfg.Appliers == 1 && runtime.GOMAXPROCS(0) == 1
	for i := 0; i < cfg.Appliers && !s.inline; i++ {
		ch := make(chan *applyGroup, 64)
		s.shards = append(s.shards, ch)
		s.appliers.Add(1)
		go s.applyLoop(ch)
	}
	s.inj.startDelivery()
	s.loops.Add(1)
	go s.pullLoop()
	s.loops.Add(1)
	go s.routerLoop(s.reply, false)
	if s.heartbeat != nil {
		s.loops.Add(1)
		go s.routerLoop(s.heartbeat, true)
	}
	if cfg.HealthCheckInterval > 0 {
		s.loops.Add(1)
		go s.healthLoop(cfg.HealthCheckInterval, cfg.WorkerTimeout)
	}
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.stop:
		}
	}()
	return s, nil
}

// Ports returns the bound ports.
func (s *Server) Ports() Ports { return s.ports }

// Counters returns an exact snapshot of the server's counters.
func (s *Server) Counters() Counters { return s.c.snapshot(s.reg) }

// WaitFrames returns once the PULL socket has read at least n frames and
// every batch among them has been applied, or after max, whichever is
// first. It waits for that count, not for a quiet spell, so a slow machine
// cannot cut it short; a caller that knows how many frames were sent
// compares the counters it returns.
func (s *Server) WaitFrames(n int64, max time.Duration) Counters {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		// pullFrames is added after the frames' work was enqueued, so
		// once it reaches n, enqueued covers those frames.
		if s.c.pullFrames.Load() >= n && s.enqueued.Load() == s.processed.Load() {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return s.Counters()
}

// Close stops the loops, closes the sockets and the HTTP server.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.loops.Wait()
		s.inj.finish()
		for _, ch := range s.shards {
			close(ch)
		}
		s.appliers.Wait()
		s.pull.Close()
		for _, sock := range []*zmq.Socket{s.reply, s.heartbeat} {
			if sock != nil {
				sock.SetLinger(0)
				sock.Close()
			}
		}
		s.zctx.Term()
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = s.http.Shutdown(ctx)
			cancel()
		}
		s.log.flush()
	})
	return nil
}

// Port values with a special meaning in Config.
const (
	FreePort = 0  // bind any free port
	NoPort   = -1 // do not open this socket (heartbeat, HTTP only)
)

// applyGroup is one applier's share of one PULL receive: its works in
// arrival order. A batch's operations are copied into ops (the decoder
// reuses its own), so a group owns all it holds; groups are recycled.
type applyGroup struct {
	works []shardWork
	ops   []wire.KVOpEvent
}

// shardWork is a batch (operations ops[from:to] of its group), a
// deregistration, a full-sync batch or a full-sync end for one applier.
type shardWork struct {
	instance string
	worker   int64
	location string
	from, to int
	dereg    *wire.DeRegisterMsg
	sync     *wire.FullSyncBatchMsg
	syncEnd  *wire.FullSyncEndMsg
}

var groups = sync.Pool{New: func() any { return new(applyGroup) }}

// maxPooledOps bounds the operations a recycled group keeps room for.
const maxPooledOps = 1 << 16

func putGroup(g *applyGroup) {
	clear(g.works) // drop the strings and messages it pointed to
	g.works = g.works[:0]
	if cap(g.ops) > maxPooledOps {
		g.ops = nil
	}
	g.ops = g.ops[:0]
	groups.Put(g)
}

func (s *Server) bind(typ zmq.Type, name string, port int) (*zmq.Socket, int, error) {
	sock, err := s.zctx.NewSocket(typ)
	if err != nil {
		return nil, 0, err
	}
	ep := fmt.Sprintf("tcp://%s:%d", s.cfg.Host, port)
	if port == FreePort {
		ep = fmt.Sprintf("tcp://%s:*", s.cfg.Host)
	}
	if err := sock.Bind(ep); err != nil {
		sock.Close()
		return nil, 0, &BindError{Socket: name, Port: port, Err: bindErr(err)}
	}
	last, err := sock.GetLastEndpoint()
	if err != nil {
		sock.Close()
		return nil, 0, err
	}
	bound, err := zmqx.Port(last)
	if err != nil {
		sock.Close()
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	return sock, bound, nil
}

// bindErr turns libzmq's errno into the words users know.
func bindErr(err error) error {
	if zmq.AsErrno(err) == zmq.Errno(98) { // EADDRINUSE
		return errors.New("address already in use")
	}
	return err
}

// recv waits for one multipart message on sock, checking for Close every
// 100 ms.
func (s *Server) recv(sock *zmq.Socket, poller *zmq.Poller) ([][]byte, bool) {
	for {
		select {
		case <-s.stop:
			return nil, false
		default:
		}
		frames, err := sock.RecvMessageBytes(zmq.DONTWAIT)
		if err == nil {
			return frames, true
		}
		if _, err := poller.Poll(100 * time.Millisecond); err != nil && zmq.AsErrno(err) == zmq.ETERM {
			return nil, false
		}
		s.log.tick()
	}
}

// decode reads a payload the way the controller does: JSON when it starts
// with '{', else msgpack, through dec when there is one (nil: wire.Decode).
func decode(dec *wire.Decoder, payload []byte) (wire.Msg, error) {
	switch {
	case len(payload) > 0 && payload[0] == '{':
		return pyjson.Decode(payload)
	case dec != nil:
		return dec.Decode(payload)
	}
	return wire.Decode(payload)
}

// pullLoop reads the PULL socket: each receive takes every queued frame
// (up to pullerFrames), which decode one by one in order; then each
// applier gets its share of them in one group.
func (s *Server) pullLoop() {
	defer s.loops.Done()
	var dec wire.Decoder
	pending := make([]*applyGroup, len(s.shards))
	atStart := true // the next frame starts a multipart message
	lastStall := 0
	var served time.Time // when the frames last received were handled
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		frames, last, err := s.pull.Recv(100 * time.Millisecond)
		if err != nil {
			s.log.warn("pull_recv", "PULL receive failed", err.Error())
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.inj.stall("pull", &lastStall, served, s.stop) // frames in hand wait, uncounted
		if len(frames) == 0 {
			s.log.tick()
			continue
		}
		var got, messages, batches int64
		for i, f := range frames {
			if s.pullDead.Load() {
				if !atStart { // LMCache received the fatal frame's message whole and counted it
					got++
					atStart = last[i]
					continue
				}
				break // LMCache's dead PULL loop: frames are never read again
			}
			if s.inj.drop() { // lost before the application: no count sees it
				s.c.injectedDrops.Add(1)
				atStart = last[i]
				continue
			}
			got++
			if atStart { // a message counts from its first frame, as it always did
				messages++
			}
			atStart = last[i]
			if s.pullFrame(&dec, f, pending) {
				batches++
			}
		}
		s.flush(pending)
		// Counted after the flush, so that WaitFrames, which waits for
		// these counts, also finds the work enqueued.
		s.c.byType[batchTypeIndex].Add(batches)
		s.c.pullMessages.Add(messages)
		s.c.pullFrames.Add(got)
		served = s.inj.served()
	}
}

// batchTypeIndex is BatchedKVOperationMsg's slot in counters.byType.
var batchTypeIndex = typeIndex[wire.TypeBatchedKVOperationMsg]

// pullFrame decodes one PULL frame and queues its work in pending (one
// group per applier). It reports whether the frame was a
// BatchedKVOperationMsg, which the caller counts; it counts the rest.
func (s *Server) pullFrame(dec *wire.Decoder, f []byte, pending []*applyGroup) bool {
	m, err := decode(dec, f)
	if err != nil {
		s.c.pullDecodeErrors.Add(1)
		s.log.warn("pull_decode", "PULL frame did not decode", err.Error())
		if s.cfg.CompatPullDies {
			s.pullDead.Store(true)
			s.log.warn("pull_dead", "PULL loop stopped (--compat-pull-dies), as LMCache's controller does", "")
		}
		return false
	}
	if b, ok := m.(*wire.BatchedKVOperationMsg); ok {
		switch {
		case len(b.Operations) == 0:
		case s.inline:
			s.applyBatch(b.InstanceID, b.WorkerID, b.Location, b.Operations)
		default:
			g := s.group(pending, b.InstanceID, b.WorkerID)
			from := len(g.ops)
			g.ops = append(g.ops, b.Operations...)
			g.works = append(g.works, shardWork{instance: b.InstanceID, worker: b.WorkerID, location: b.Location, from: from, to: len(g.ops)})
		}
		return true
	}
	s.c.countType(m.TypeName())
	s.handlePull(m, pending)
	return false
}

// handlePull queues or handles one decoded PULL message other than a KV
// batch (docs/protocol.md, "PULL messages").
func (s *Server) handlePull(m wire.Msg, pending []*applyGroup) {
	switch msg := m.(type) {
	case *wire.DeRegisterMsg:
		s.queue(pending, msg.InstanceID, msg.WorkerID, shardWork{dereg: msg})
	case *wire.FullSyncBatchMsg:
		s.queue(pending, msg.InstanceID, msg.WorkerID, shardWork{sync: msg})
	case *wire.FullSyncEndMsg:
		s.queue(pending, msg.InstanceID, msg.WorkerID, shardWork{syncEnd: msg})
	case *wire.GenericMsg:
		if isOrchestration(msg.Type) {
			return // executed and discarded by the real controller
		}
		s.c.unhandled.Add(1)
		s.log.warn("pull_unknown", "Unknown message type", msg.Type)
	default:
		s.c.unhandled.Add(1)
		s.log.warn("pull_unknown", "Unknown worker message type", m.TypeName())
	}
}

// isOrchestration reports whether a class is one of the OrchMsg family the
// HTTP API sends (they end in "Msg" and are not Ret, Worker or Control).
func isOrchestration(name string) bool {
	switch name {
	case "LookupMsg", "ClearMsg", "PinMsg", "CompressMsg", "DecompressMsg", "MoveMsg", "HealthMsg",
		"CheckFinishMsg", "QueryInstMsg", "QueryWorkerInfoMsg":
		return true
	}
	return false
}

// queue applies w now (inline) or queues it for its applier.
func (s *Server) queue(pending []*applyGroup, inst string, worker int64, w shardWork) {
	if s.inline {
		s.applyWork(w, nil)
		return
	}
	g := s.group(pending, inst, worker)
	g.works = append(g.works, w)
}

// group returns the pending group of the applier that owns the worker
// (inst, worker), so that each worker's messages keep their order.
func (s *Server) group(pending []*applyGroup, inst string, worker int64) *applyGroup {
	shard := 0
	if len(s.shards) > 1 {
		var h maphash.Hash
		h.SetSeed(s.seed)
		h.WriteString(inst)
		shard = int((h.Sum64() ^ uint64(worker)) % uint64(len(s.shards)))
	}
	if pending[shard] == nil {
		pending[shard] = groups.Get().(*applyGroup)
	}
	return pending[shard]
}

// flush hands every pending group to its applier. The work is counted as
// enqueued before the first send, so that WaitFrames never sees an applier
// done while a later shard's group is still unsent.
func (s *Server) flush(pending []*applyGroup) {
	var n int64
	for _, g := range pending {
		if g != nil {
			n += int64(len(g.works))
		}
	}
	s.enqueued.Add(n)
	for i, g := range pending {
		if g == nil {
			continue
		}
		pending[i] = nil
		if len(g.works) == 0 {
			putGroup(g)
			continue
		}
		s.shards[i] <- g
	}
}

// applyLoop applies one shard's groups in arrival order.
func (s *Server) applyLoop(ch <-chan *applyGroup) {
	defer s.appliers.Done()
	for g := range ch {
		for _, w := range g.works {
			s.applyWork(w, g.ops[w.from:w.to])
		}
		s.processed.Add(int64(len(g.works)))
		putGroup(g)
	}
}

// applyWork applies one work item; ops are a batch's operations.
func (s *Server) applyWork(w shardWork, ops []wire.KVOpEvent) {
	switch {
	case w.dereg != nil:
		if s.reg.deregister(workerKey{w.dereg.InstanceID, w.dereg.WorkerID}) {
			s.c.deregistered.Add(1)
		} else {
			s.c.deregisterMisses.Add(1)
			s.log.warn("dereg_unknown", "Instance-worker not registered", fmt.Sprintf("(%s, %d)", w.dereg.InstanceID, w.dereg.WorkerID))
		}
	case w.sync != nil:
		s.syncBatch(w.sync)
	case w.syncEnd != nil:
		s.syncEnd(w.syncEnd)
	default:
		s.applyBatch(w.instance, w.worker, w.location, ops)
	}
}

func (s *Server) applyBatch(inst string, worker int64, location string, ops []wire.KVOpEvent) {
	w := s.reg.lookup(workerKey{inst, worker})
	if w == nil {
		s.c.droppedBatches.Add(1)
		s.c.droppedKVOps.Add(int64(len(ops)))
		s.log.warn("batch_unregistered", "Failed to handle batched KV operations", fmt.Sprintf("instance: %s, worker: %d", inst, worker))
		return
	}
	w.mu.Lock()
	if info := w.fs.info; info != nil && info.state == syncSyncing {
		w.mu.Unlock() // incremental operations of a worker in full sync are discarded
		s.c.syncDiscardedBatches.Add(1)
		s.c.syncDiscardedKVOps.Add(int64(len(ops)))
		return
	}
	admits, evicts, gap := w.applyLocked(location, ops, true)
	w.mu.Unlock()
	s.c.batches.Add(1)
	s.c.admits.Add(admits)
	s.c.evicts.Add(evicts)
	if gap != nil {
		s.c.seqDiscontinuity.Add(1)
		s.log.warn("seq_gap", "KV batch sequence out of order detected",
			fmt.Sprintf("key=(%s, %d, %s), expected_seq=%d, actual_seq=%d, gap=%d", inst, worker, location, gap.expected, gap.actual, gap.actual-gap.expected))
	}
}

// routerLoop serves one ROUTER socket: [identity, "", payload] in,
// [identity, "", reply] out, in arrival order.
func (s *Server) routerLoop(sock *zmq.Socket, heartbeatOnly bool) {
	defer s.loops.Done()
	poller := zmq.NewPoller()
	poller.Add(sock, zmq.POLLIN)
	name, lastStall := "reply", 0
	var served time.Time // when the last reply was sent
	if heartbeatOnly {
		name = "heartbeat"
	}
	for {
		queued := s.inj.queued(sock)
		frames, ok := s.recv(sock, poller)
		if !ok {
			return
		}
		s.inj.stall(name, &lastStall, served, s.stop)
		if len(frames) < 3 {
			s.c.shortRequests.Add(1)
			s.log.warn("router_frames", "Invalid ROUTER message format, expected >= 3 frames", fmt.Sprintf("got %d", len(frames)))
			continue
		}
		if heartbeatOnly {
			s.c.heartbeatRequests.Add(1)
		} else {
			s.c.replyRequests.Add(1)
		}
		reply := s.handleRequest(frames[2], heartbeatOnly)
		s.inj.delay(queued, s.stop)
		if _, err := sock.SendMessage(frames[0], "", reply); err == nil {
			s.c.replies.Add(1)
		}
		served = s.inj.served()
	}
}

// classPath is how the controller prints a message class in ErrorMsg texts
// (the lmcache.v1 module layout; docs/protocol.md, "Requests and replies").
func classPath(name string) string {
	return "<class 'lmcache.v1.cache_controller.message." + name + "'>"
}

// handleRequest answers one ROUTER request (docs/protocol.md, "Requests and replies", "Malformed input").
func (s *Server) handleRequest(payload []byte, heartbeatOnly bool) []byte {
	m, err := decode(nil, payload)
	if err != nil {
		s.c.routerDecode.Add(1)
		s.log.warn("router_decode", "request did not decode", err.Error())
		return s.errorReply(err.Error())
	}
	s.c.countType(m.TypeName())
	if heartbeatOnly {
		if hb, ok := m.(*wire.HeartbeatMsg); ok {
			return s.heartbeatReply(hb)
		}
		return s.errorReply("Expected HeartbeatMsg, got " + classPath(m.TypeName()))
	}
	switch msg := m.(type) {
	case *wire.RegisterMsg:
		if _, isNew := s.reg.register(workerKey{msg.InstanceID, msg.WorkerID}, msg.IP, msg.Port, msg.PeerInitURL, time.Now()); !isNew {
			s.log.warn("register_dup", "already registered, skip registration", fmt.Sprintf("(%s, %d)", msg.InstanceID, msg.WorkerID))
		}
		return wire.RegisterRetMsg{ExtraConfig: s.extraConfig()}.AppendMsgpack(nil)
	case *wire.HeartbeatMsg:
		return s.heartbeatReply(msg)
	case *wire.BatchedP2PLookupMsg:
		return wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{s.reg.p2pLookup(msg)}}.AppendMsgpack(nil)
	case *wire.FullSyncStartMsg:
		return s.startSync(msg)
	case *wire.FullSyncStatusMsg:
		return s.syncStatus(msg)
	}
	return s.errorReply("Unknown message type: " + classPath(m.TypeName()))
}

func (s *Server) errorReply(text string) []byte {
	s.c.errorReplies.Add(1)
	return wire.ErrorMsg{Error: text}.AppendMsgpack(nil)
}

// extraConfig is RegisterRetMsg.extra_config: the heartbeat URL as
// "host:port" (no tcp://) when a heartbeat socket is open. A wildcard bind
// host is reported as 127.0.0.1 (the real controller asks the OS for its
// outward IP; lmfast never looks outward).
func (s *Server) extraConfig() []wire.StrPair {
	if s.heartbeat == nil {
		return []wire.StrPair{}
	}
	host := s.cfg.Host
	if host == "0.0.0.0" || host == "*" || host == "" {
		host = "127.0.0.1"
	}
	return []wire.StrPair{{Key: "heartbeat_url", Value: fmt.Sprintf("%s:%d", host, s.ports.Heartbeat)}}
}

// heartbeatReply handles a heartbeat (registration_controller.py
// heartbeat): a registered worker's heartbeat time is updated and the
// tracker says whether it must full-sync; an unknown one is registered
// from the heartbeat's address and told to full-sync.
func (s *Server) heartbeatReply(hb *wire.HeartbeatMsg) []byte {
	var reason string
	if w := s.reg.lookup(workerKey{hb.InstanceID, hb.WorkerID}); w != nil {
		w.mu.Lock()
		w.lastHeartbeat = time.Now()
		w.mu.Unlock()
		reason = s.track.shouldRequest(w)
	} else {
		s.reg.register(workerKey{hb.InstanceID, hb.WorkerID}, hb.IP, hb.Port, hb.PeerInitURL, time.Now())
		s.log.warn("heartbeat_unregistered", "heartbeat from unregistered worker, re-registering", fmt.Sprintf("(%s, %d)", hb.InstanceID, hb.WorkerID))
		reason = "worker_re_registered"
	}
	if reason == "" {
		return wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{}}.AppendMsgpack(nil)
	}
	s.c.syncCommands.Add(1)
	return wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{wire.FullSyncCommand(reason)}}.AppendMsgpack(nil)
}
