package enginetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
)

// Sink is the stand-in controller. Its ports are on 127.0.0.1.
type Sink struct {
	Pull, Reply, Heartbeat int // bound ports

	mu           sync.Mutex
	frames       int64
	kvOps        int64
	decodeErrors int64
	byType       map[string]int64
	seqGaps      int64
	lastSeq      map[string]int64
	stop         chan struct{}
	done         chan struct{}
}

func bindFree(t testing.TB, ctx *zmq.Context, typ zmq.Type) (*zmq.Socket, int) {
	t.Helper()
	s, err := ctx.NewSocket(typ)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := s.GetLastEndpoint()
	var port int
	fmt.Sscanf(ep[strings.LastIndex(ep, ":")+1:], "%d", &port)
	return s, port
}

// Start binds the sink on free ports and serves until the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	pull, pp := bindFree(t, ctx, zmq.PULL)
	rep, rp := bindFree(t, ctx, zmq.ROUTER)
	hb, hp := bindFree(t, ctx, zmq.ROUTER)
	k := &Sink{Pull: pp, Reply: rp, Heartbeat: hp, byType: map[string]int64{}, lastSeq: map[string]int64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(k.done)
		poller := zmq.NewPoller()
		poller.Add(pull, zmq.POLLIN)
		poller.Add(rep, zmq.POLLIN)
		poller.Add(hb, zmq.POLLIN)
		for {
			select {
			case <-k.stop:
				for _, s := range []*zmq.Socket{pull, rep, hb} {
					s.SetLinger(0)
					s.Close()
				}
				ctx.Term()
				return
			default:
			}
			polled, _ := poller.Poll(20 * time.Millisecond)
			for _, p := range polled {
				for {
					frames, err := p.Socket.RecvMessageBytes(zmq.DONTWAIT)
					if err != nil {
						break
					}
					if p.Socket == pull {
						for _, f := range frames {
							k.onPush(f)
						}
						continue
					}
					if len(frames) < 3 {
						continue
					}
					reply := k.onRequest(frames[2], p.Socket == rep)
					p.Socket.SendMessage(frames[0], "", reply)
				}
			}
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
}

// Settle waits until the counts stop changing (the senders drained), then
// returns them.
func (k *Sink) Settle() Counts {
	var last int64 = -1
	for i := 0; i < 200; i++ {
		k.mu.Lock()
		n := k.frames
		k.mu.Unlock()
		if n == last {
			break
		}
		last = n
		time.Sleep(50 * time.Millisecond)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	c := Counts{Frames: k.frames, KVOps: k.kvOps, DecodeErrors: k.decodeErrors, SeqGaps: k.seqGaps, ByType: map[string]int64{}}
	for t, n := range k.byType {
		c.ByType[t] = n
	}
	return c
}
