package refcontroller

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/wire"
)

// Port values with a special meaning in Config.
const (
	FreePort = 0  // bind any free port
	NoPort   = -1 // do not open this socket (heartbeat, HTTP only)
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
	// (default 1: decoding and applying overlap on two cores).
	Appliers int
	// Log receives the server's JSON log lines (zerolog.Nop() for none).
	Log zerolog.Logger
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

	pull, reply, heartbeat *zmq.Socket

	shards    []chan shardWork
	seed      maphash.Seed
	enqueued  atomic.Int64
	processed atomic.Int64
	pullDead  atomic.Bool

	stop      chan struct{}
	loops     sync.WaitGroup
	appliers  sync.WaitGroup
	closeOnce sync.Once
}

// shardWork is a batch or a deregistration for one applier.
type shardWork struct {
	batch *wire.BatchedKVOperationMsg
	dereg *wire.DeRegisterMsg
	sync  *wire.FullSyncBatchMsg
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
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, zctx: zctx, reg: newRegistry(), stop: make(chan struct{}), seed: maphash.MakeSeed(),
		log: newLimitedLog(cfg.Log), ports: Ports{Heartbeat: NoPort, HTTP: NoPort}}
	fail := func(err error) (*Server, error) {
		for _, sock := range []*zmq.Socket{s.pull, s.reply, s.heartbeat} {
			if sock != nil {
				sock.SetLinger(0)
				sock.Close()
			}
		}
		zctx.Term()
		return nil, err
	}
	if s.pull, s.ports.Pull, err = s.bind(zmq.PULL, "pull", cfg.PullPort); err != nil {
		return fail(err)
	}
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
	for i := 0; i < cfg.Appliers; i++ {
		ch := make(chan shardWork, 4096)
		s.shards = append(s.shards, ch)
		s.appliers.Add(1)
		go s.applyLoop(ch)
	}
	s.loops.Add(1)
	go s.pullLoop()
	s.loops.Add(1)
	go s.routerLoop(s.reply, false)
	if s.heartbeat != nil {
		s.loops.Add(1)
		go s.routerLoop(s.heartbeat, true)
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
	bound, err := strconv.Atoi(last[strings.LastIndex(last, ":")+1:])
	if err != nil {
		sock.Close()
		return nil, 0, fmt.Errorf("%s: cannot read bound port from %q", name, last)
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

// Ports returns the bound ports.
func (s *Server) Ports() Ports { return s.ports }

// Counters returns an exact snapshot of the server's counters.
func (s *Server) Counters() Counters { return s.c.snapshot(s.reg) }

// WaitIdle returns once no PULL frame has arrived for quiet and every
// received batch has been applied, or after max, whichever is first.
func (s *Server) WaitIdle(quiet, max time.Duration) Counters {
	deadline := time.Now().Add(max)
	last := s.c.pullFrames.Load()
	since := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(min(quiet/4+time.Millisecond, 20*time.Millisecond))
		n := s.c.pullFrames.Load()
		if n != last {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) >= quiet && s.enqueued.Load() == s.processed.Load() {
			break
		}
	}
	return s.Counters()
}

// Close stops the loops, closes the sockets and the HTTP server.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.loops.Wait()
		for _, ch := range s.shards {
			close(ch)
		}
		s.appliers.Wait()
		for _, sock := range []*zmq.Socket{s.pull, s.reply, s.heartbeat} {
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
// with '{', else msgpack.
func decode(payload []byte) (wire.Msg, error) {
	if len(payload) > 0 && payload[0] == '{' {
		return wire.FromJSON(payload)
	}
	return wire.Decode(payload)
}

// pullLoop reads the PULL socket: frames decode one by one, in order.
func (s *Server) pullLoop() {
	defer s.loops.Done()
	poller := zmq.NewPoller()
	poller.Add(s.pull, zmq.POLLIN)
	for {
		frames, ok := s.recv(s.pull, poller)
		if !ok {
			return
		}
		if s.pullDead.Load() {
			continue // LMCache's dead PULL loop: frames are never read again
		}
		s.c.pullMessages.Add(1)
		for _, f := range frames {
			s.c.pullFrames.Add(1)
			m, err := decode(f)
			if err != nil {
				s.c.pullDecodeErrors.Add(1)
				s.log.warn("pull_decode", "PULL frame did not decode", err.Error())
				if s.cfg.CompatPullDies {
					s.pullDead.Store(true)
					s.log.warn("pull_dead", "PULL loop stopped (--compat-pull-dies), as LMCache's controller does", "")
					break
				}
				continue
			}
			s.c.countType(m.TypeName())
			s.handlePull(m)
		}
	}
}

// handlePull dispatches one decoded PULL message (spec §3.2).
func (s *Server) handlePull(m wire.Msg) {
	switch msg := m.(type) {
	case *wire.BatchedKVOperationMsg:
		if len(msg.Operations) == 0 {
			return
		}
		s.dispatch(msg.InstanceID, msg.WorkerID, shardWork{batch: msg})
	case *wire.DeRegisterMsg:
		s.dispatch(msg.InstanceID, msg.WorkerID, shardWork{dereg: msg})
	case *wire.FullSyncBatchMsg:
		s.dispatch(msg.InstanceID, msg.WorkerID, shardWork{sync: msg})
	case *wire.FullSyncEndMsg:
		// bookkeeping only
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

func (s *Server) dispatch(inst string, worker int64, w shardWork) {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(inst)
	shard := (h.Sum64() ^ uint64(worker)) % uint64(len(s.shards))
	s.enqueued.Add(1)
	s.shards[shard] <- w
}

// applyLoop applies one shard's work in arrival order.
func (s *Server) applyLoop(ch <-chan shardWork) {
	defer s.appliers.Done()
	for w := range ch {
		switch {
		case w.batch != nil:
			s.applyBatch(w.batch)
		case w.dereg != nil:
			if s.reg.deregister(workerKey{w.dereg.InstanceID, w.dereg.WorkerID}) {
				s.c.deregistered.Add(1)
			} else {
				s.c.deregisterMisses.Add(1)
				s.log.warn("dereg_unknown", "Instance-worker not registered", fmt.Sprintf("(%s, %d)", w.dereg.InstanceID, w.dereg.WorkerID))
			}
		case w.sync != nil:
			if wk := s.reg.lookup(workerKey{w.sync.InstanceID, w.sync.WorkerID}); wk != nil {
				ops := make([]wire.KVOpEvent, len(w.sync.Keys))
				for i, k := range w.sync.Keys {
					ops[i] = wire.KVOpEvent{OpType: wire.OpAdmit, Key: k}
				}
				wk.applySync(w.sync.Location, ops)
			}
		}
		s.processed.Add(1)
	}
}

func (s *Server) applyBatch(b *wire.BatchedKVOperationMsg) {
	w := s.reg.lookup(workerKey{b.InstanceID, b.WorkerID})
	if w == nil {
		s.c.droppedBatches.Add(1)
		s.c.droppedKVOps.Add(int64(len(b.Operations)))
		s.log.warn("batch_unregistered", "Failed to handle batched KV operations", fmt.Sprintf("instance: %s, worker: %d", b.InstanceID, b.WorkerID))
		return
	}
	admits, evicts, gap := w.apply(b.Location, b.Operations)
	s.c.batches.Add(1)
	s.c.admits.Add(admits)
	s.c.evicts.Add(evicts)
	if gap != nil {
		s.c.seqDiscontinuity.Add(1)
		s.log.warn("seq_gap", "KV batch sequence out of order detected",
			fmt.Sprintf("key=(%s, %d, %s), expected_seq=%d, actual_seq=%d, gap=%d", b.InstanceID, b.WorkerID, b.Location, gap.expected, gap.actual, gap.actual-gap.expected))
	}
}

// applySync admits full-sync keys without sequence checks.
func (w *worker) applySync(location string, ops []wire.KVOpEvent) {
	w.mu.Lock()
	seq, had := w.seq[location]
	w.mu.Unlock()
	w.apply(location, ops)
	w.mu.Lock()
	if had {
		w.seq[location] = seq
	} else {
		delete(w.seq, location)
	}
	w.mu.Unlock()
}

// routerLoop serves one ROUTER socket: [identity, "", payload] in,
// [identity, "", reply] out, in arrival order.
func (s *Server) routerLoop(sock *zmq.Socket, heartbeatOnly bool) {
	defer s.loops.Done()
	poller := zmq.NewPoller()
	poller.Add(sock, zmq.POLLIN)
	for {
		frames, ok := s.recv(sock, poller)
		if !ok {
			return
		}
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
		if _, err := sock.SendMessage(frames[0], "", reply); err == nil {
			s.c.replies.Add(1)
		}
	}
}

// classPath is how the controller prints a message class in ErrorMsg texts
// (the lmcache.v1 layout of the spec's [F] citations).
func classPath(name string) string {
	return "<class 'lmcache.v1.cache_controller.message." + name + "'>"
}

// handleRequest answers one ROUTER request (spec §3.4, §3.5).
func (s *Server) handleRequest(payload []byte, heartbeatOnly bool) []byte {
	m, err := decode(payload)
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
		if w := s.reg.lookup(workerKey{msg.InstanceID, msg.WorkerID}); w != nil {
			w.mu.Lock()
			delete(w.seq, msg.Location)
			w.mu.Unlock()
		}
		return wire.FullSyncStartRetMsg{SyncID: msg.SyncID, Accepted: true}.AppendMsgpack(nil)
	case *wire.FullSyncStatusMsg:
		return wire.FullSyncStatusRetMsg{SyncID: msg.SyncID, IsComplete: true, GlobalProgress: 1, CanExitFreeze: true}.AppendMsgpack(nil)
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

// heartbeatReply handles a heartbeat: a registered worker is told to full
// sync because the controller (re)started; an unknown one is registered
// from the heartbeat's address and told so.
func (s *Server) heartbeatReply(hb *wire.HeartbeatMsg) []byte {
	reason := "controller_restart"
	if w := s.reg.lookup(workerKey{hb.InstanceID, hb.WorkerID}); w != nil {
		w.mu.Lock()
		w.lastHeartbeat = time.Now()
		w.mu.Unlock()
	} else {
		s.reg.register(workerKey{hb.InstanceID, hb.WorkerID}, hb.IP, hb.Port, hb.PeerInitURL, time.Now())
		s.log.warn("heartbeat_unregistered", "heartbeat from unregistered worker, re-registering", fmt.Sprintf("(%s, %d)", hb.InstanceID, hb.WorkerID))
		reason = "worker_re_registered"
	}
	return wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{wire.FullSyncCommand(reason)}}.AppendMsgpack(nil)
}
