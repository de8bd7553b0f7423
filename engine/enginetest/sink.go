package enginetest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
)

// Sink is the stand-in controller. Its ports are on 127.0.0.1.
type Sink struct {
	Pull, Reply, Heartbeat int // bound ports

	t            testing.TB
	mu           sync.Mutex
	frames       int64
	kvOps        int64
	decodeErrors int64
	byType       map[string]int64
	seqGaps      int64
	lastSeq      map[string]int64
	byWorker     map[string]int64
	open         int   // connections accepted and not yet disconnected, as of the last pass
	closedSince  int64 // the first pass of the current run of passes that found open 0
	passes       int64 // passes of the receive loop completed
	stop         chan struct{}
	done         chan struct{}

	keepOrder bool     // record pullOrder
	pullOrder []string // the worker of each BatchedKVOperationMsg, in the order received
}

// settleTimeout bounds Settle: how long a run's connections may take to
// close and their frames to be read after the run returned.
var settleTimeout = 30 * time.Second

// monitorSeq makes the inproc addresses of the socket monitors unique.
var monitorSeq atomic.Int64

// bindFree binds a socket of type typ on a free 127.0.0.1 port, with a
// monitor that reports every connection it accepts and every disconnection
// on the PAIR socket returned (connected before the bind, so no event is
// missed).
func bindFree(t testing.TB, ctx *zmq.Context, typ zmq.Type) (*zmq.Socket, *zmq.Socket, int) {
	t.Helper()
	s, err := ctx.NewSocket(typ)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("inproc://enginetest-monitor-%d", monitorSeq.Add(1))
	if err := s.Monitor(addr, zmq.EVENT_ACCEPTED|zmq.EVENT_DISCONNECTED); err != nil {
		t.Fatal(err)
	}
	mon, err := ctx.NewSocket(zmq.PAIR)
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Connect(addr); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := s.GetLastEndpoint()
	var port int
	fmt.Sscanf(ep[strings.LastIndex(ep, ":")+1:], "%d", &port)
	return s, mon, port
}

// Start binds the sink on free ports and serves until the test ends.
//
// Each pass of its loop first reads the monitors' events, then every frame
// queued on the three sockets. libzmq reports a disconnection once it has
// read the connection to its end, and hands the socket whatever it decoded
// last right after the event, so the pass after one that found no
// connection open has counted everything every closed connection carried.
func Start(t testing.TB) *Sink {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	pull, pullMon, pp := bindFree(t, ctx, zmq.PULL)
	rep, repMon, rp := bindFree(t, ctx, zmq.ROUTER)
	hb, hbMon, hp := bindFree(t, ctx, zmq.ROUTER)
	k := &Sink{Pull: pp, Reply: rp, Heartbeat: hp, t: t, byType: map[string]int64{}, lastSeq: map[string]int64{}, byWorker: map[string]int64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(k.done)
		poller := zmq.NewPoller()
		for _, s := range []*zmq.Socket{pull, rep, hb, pullMon, repMon, hbMon} {
			poller.Add(s, zmq.POLLIN)
		}
		open := 0
		for {
			select {
			case <-k.stop:
				for _, s := range []*zmq.Socket{pull, rep, hb} {
					s.Monitor("", 0)
				}
				for _, s := range []*zmq.Socket{pull, rep, hb, pullMon, repMon, hbMon} {
					s.SetLinger(0)
					s.Close()
				}
				ctx.Term()
				return
			default:
			}
			poller.Poll(20 * time.Millisecond)
			for _, mon := range []*zmq.Socket{pullMon, repMon, hbMon} {
				for {
					ev, _, _, err := mon.RecvEvent(zmq.DONTWAIT)
					if err != nil {
						break
					}
					switch ev {
					case zmq.EVENT_ACCEPTED:
						open++
					case zmq.EVENT_DISCONNECTED:
						open--
					}
				}
			}
			for _, s := range []*zmq.Socket{pull, rep, hb} {
				for {
					frames, err := s.RecvMessageBytes(zmq.DONTWAIT)
					if err != nil {
						break
					}
					if s == pull {
						for _, f := range frames {
							k.onPush(f)
						}
						continue
					}
					if len(frames) < 3 {
						continue
					}
					reply := k.onRequest(frames[2], s == rep)
					s.SendMessage(frames[0], "", reply)
				}
			}
			k.mu.Lock()
			k.passes++
			if open != 0 || k.open != 0 {
				k.closedSince = k.passes
			}
			k.open = open
			k.mu.Unlock()
		}
	}()
	t.Cleanup(func() { close(k.stop); <-k.done })
	return k
}

func (k *Sink) onPush(f []byte) {
	m, err := wire.Decode(f)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.frames++
	if err != nil {
		k.decodeErrors++
		return
	}
	k.byType[m.TypeName()]++
	if b, ok := m.(*wire.BatchedKVOperationMsg); ok {
		k.kvOps += int64(len(b.Operations))
		k.byWorker[WorkerKey(b.InstanceID, b.WorkerID)]++
		if k.keepOrder {
			k.pullOrder = append(k.pullOrder, WorkerKey(b.InstanceID, b.WorkerID))
		}
		key := fmt.Sprintf("%s/%d/%s", b.InstanceID, b.WorkerID, b.Location)
		for _, op := range b.Operations {
			if last, seen := k.lastSeq[key]; seen && op.SeqNum != last+1 {
				k.seqGaps++
			}
			k.lastSeq[key] = op.SeqNum
		}
	}
}

func (k *Sink) onRequest(f []byte, onReply bool) []byte {
	m, err := wire.Decode(f)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.decodeErrors++
		return wire.ErrorMsg{Error: err.Error()}.AppendMsgpack(nil)
	}
	k.byType[m.TypeName()]++
	switch r := m.(type) {
	case *wire.HeartbeatMsg:
		k.byWorker[WorkerKey(r.InstanceID, r.WorkerID)]++
	case *wire.BatchedP2PLookupMsg:
		k.byWorker[WorkerKey(r.InstanceID, r.WorkerID)]++
	}
	switch m.(type) {
	case *wire.RegisterMsg:
		return wire.RegisterRetMsg{ExtraConfig: []wire.StrPair{{Key: "heartbeat_url", Value: fmt.Sprintf("127.0.0.1:%d", k.Heartbeat)}}}.AppendMsgpack(nil)
	case *wire.HeartbeatMsg:
		return wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{wire.FullSyncCommand("controller_restart")}}.AppendMsgpack(nil)
	case *wire.BatchedP2PLookupMsg:
		return wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{{}}}.AppendMsgpack(nil)
	}
	return wire.ErrorMsg{Error: "Unknown message type"}.AppendMsgpack(nil)
}

// Counts is what the sink received.
type Counts struct {
	Frames       int64            // PULL frames
	KVOps        int64            // KV operations inside BatchedKVOperationMsg frames
	DecodeErrors int64            // frames or requests that did not decode
	SeqGaps      int64            // KV operations whose seq_num did not follow the last one of its (instance, worker, location)
	ByType       map[string]int64 // decoded messages per class, all sockets
	// ByWorker counts the load operations of each simulated worker
	// (WorkerKey): its BatchedKVOperationMsg frames, lookups and
	// heartbeats; registrations are not counted.
	ByWorker map[string]int64
}

// WorkerKey names a simulated worker in Counts.ByWorker: "instance/worker".
func WorkerKey(instance string, worker int64) string { return fmt.Sprintf("%s/%d", instance, worker) }

// Settle waits until every connection the sink accepted so far has been
// closed by its peer and everything they carried has been counted, then
// returns the counts: call it after the run (whose sockets are closed when
// it returns) and compare. It waits for that state, not for a quiet spell,
// so a slow machine cannot cut the count short. If connections are still
// open after settleTimeout it fails the test and returns what it has.
func (k *Sink) Settle() Counts {
	k.mu.Lock()
	from := k.passes
	k.mu.Unlock()
	deadline := time.Now().Add(settleTimeout)
	for {
		k.mu.Lock()
		// The last two passes found every connection closed, and the
		// first of them began after this call, so it read every event
		// until now.
		settled := k.open == 0 && k.passes >= from+3 && k.closedSince < k.passes
		open := k.open
		k.mu.Unlock()
		if settled {
			break
		}
		if time.Now().After(deadline) {
			k.t.Errorf("stand-in controller: %d connections still open %v after Settle was called", open, settleTimeout)
			break
		}
		time.Sleep(time.Millisecond)
	}
	return k.Received()
}

// KeepPullOrder makes the sink record the worker (WorkerKey) of every
// BatchedKVOperationMsg from now on, in the order its PULL socket
// received them (PullOrder): one sender's batches, in the order sent.
func (k *Sink) KeepPullOrder() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keepOrder = true
}

// PullOrder returns the workers KeepPullOrder recorded so far.
func (k *Sink) PullOrder() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.pullOrder...)
}

// Received returns what the sink has counted so far, without waiting.
func (k *Sink) Received() Counts {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := Counts{Frames: k.frames, KVOps: k.kvOps, DecodeErrors: k.decodeErrors, SeqGaps: k.seqGaps, ByType: map[string]int64{},
		ByWorker: map[string]int64{}}
	for t, n := range k.byType {
		c.ByType[t] = n
	}
	for w, n := range k.byWorker {
		c.ByWorker[w] = n
	}
	return c
}
