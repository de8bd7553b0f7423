package zmtp_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/internal/zmtp"
	"github.com/lmfast/lmfast/refcontroller"
	"github.com/lmfast/lmfast/wire"
)

// TestProbesLeaveControllerUntouched probes the reference controller's
// three sockets many times as lmfast controller's sockets would connect
// (PUSH to pull, DEALER to reply and heartbeat), then registers a worker
// and pushes a batch for it. The controller's counters must show exactly
// that registration and that batch: the probes added nothing (no frame,
// no short ROUTER message, no decode error) and left every socket working.
func TestProbesLeaveControllerUntouched(t *testing.T) {
	srv, err := refcontroller.Start(context.Background(), refcontroller.Config{Host: "127.0.0.1",
		HeartbeatPort: refcontroller.FreePort, HTTPPort: refcontroller.NoPort, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ports := srv.Ports()
	probes := []struct {
		port     int
		as, want string
	}{{ports.Pull, "PUSH", "PULL"}, {ports.Reply, "DEALER", "ROUTER"}, {ports.Heartbeat, "DEALER", "ROUTER"}}
	for range 20 {
		for _, p := range probes {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			peer, err := zmtp.Probe(ctx, fmt.Sprintf("127.0.0.1:%d", p.port), p.as)
			cancel()
			if err != nil || peer.SocketType != p.want {
				t.Fatalf("probe of port %d: %+v, %v", p.port, peer, err)
			}
		}
	}

	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer zctx.Term()
	dealer, _ := zctx.NewSocket(zmq.DEALER)
	push, _ := zctx.NewSocket(zmq.PUSH)
	for _, s := range []*zmq.Socket{dealer, push} {
		defer s.Close()
		s.SetLinger(0)
	}
	dealer.SetRcvtimeo(10 * time.Second)
	if err := dealer.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", ports.Reply)); err != nil {
		t.Fatal(err)
	}
	if err := push.Connect(fmt.Sprintf("tcp://127.0.0.1:%d", ports.Pull)); err != nil {
		t.Fatal(err)
	}
	reg := wire.RegisterMsg{InstanceID: "probe_test", WorkerID: 0, IP: "127.0.0.1", Port: 1}.AppendMsgpack(nil)
	if _, err := dealer.SendMessage("", reg); err != nil {
		t.Fatal(err)
	}
	if _, err := dealer.RecvMessageBytes(0); err != nil {
		t.Fatalf("no reply to RegisterMsg: %v", err)
	}
	ops := []wire.KVOpEvent{{OpType: wire.OpAdmit, Key: wire.UintOf(1), SeqNum: 0}, {OpType: wire.OpAdmit, Key: wire.UintOf(2), SeqNum: 1}}
	if _, err := push.SendBytes(wire.NewBatchEncoder("probe_test", 0, "location_0").Append(nil, ops), 0); err != nil {
		t.Fatal(err)
	}

	var got refcontroller.Counters
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got = srv.Counters(); got.KVOpsApplied == 2 {
			break
		}
	}
	want := refcontroller.Counters{PullFrames: 1, PullMessages: 1, Batches: 1, KVOpsApplied: 2, Admits: 2,
		ReplyRequests: 1, Replies: 1, Registered: 1, Keys: 2,
		ByType: map[string]int64{"RegisterMsg": 1, "BatchedKVOperationMsg": 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("controller counters after 60 probes, one registration and one batch:\n got %+v\nwant %+v", got, want)
	}
}
