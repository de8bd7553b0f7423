package zmqx_test

import (
	"bytes"
	"testing"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

func TestZMQHelpers(t *testing.T) {
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Term()

	router, err := ctx.NewSocket(zmq.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()
	if err := router.Bind("inproc://wire-test-reply"); err != nil {
		t.Fatal(err)
	}
	dealer, err := zmqx.NewDealer(ctx, "inproc://wire-test-reply")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { dealer.SetLinger(0); dealer.Close() }()
	if v, _ := dealer.GetRcvtimeo(); v != zmqx.RecvTimeout {
		t.Errorf("RCVTIMEO %v", v)
	}
	if v, _ := dealer.GetSndtimeo(); v != zmqx.SendTimeout {
		t.Errorf("SNDTIMEO %v", v)
	}

	req := wire.RegisterMsg{InstanceID: "i", WorkerID: 0, IP: "127.0.0.1", Port: 10000}.AppendMsgpack(nil)
	if err := zmqx.SendRequest(dealer, req); err != nil {
		t.Fatal(err)
	}
	frames, err := router.RecvMessageBytes(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 3 || len(frames[1]) != 0 || !bytes.Equal(frames[2], req) {
		t.Fatalf("controller saw %q", frames)
	}
	reply := wire.RegisterRetMsg{}.AppendMsgpack(nil)
	if _, err := router.SendMessage(frames[0], "", reply); err != nil {
		t.Fatal(err)
	}
	got, err := zmqx.RecvReply(dealer)
	if err != nil || !bytes.Equal(got, reply) {
		t.Fatalf("reply %x %v", got, err)
	}

	pull, err := ctx.NewSocket(zmq.PULL)
	if err != nil {
		t.Fatal(err)
	}
	defer pull.Close()
	if err := pull.Bind("inproc://wire-test-pull"); err != nil {
		t.Fatal(err)
	}
	push, err := zmqx.NewPush(ctx, "inproc://wire-test-pull")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { push.SetLinger(0); push.Close() }()
	if v, _ := push.GetSndhwm(); v != zmqx.SendHWM {
		t.Errorf("SNDHWM %d", v)
	}
	msg := wire.NewBatchEncoder("i", 0, "l").AppendKeys(nil, wire.OpAdmit, []wire.Int{wire.UintOf(1)}, 0)
	if _, err := push.SendBytes(msg, 0); err != nil {
		t.Fatal(err)
	}
	in, err := pull.RecvMessageBytes(0)
	if err != nil || len(in) != 1 || !bytes.Equal(in[0], msg) {
		t.Fatalf("pull got %q %v", in, err)
	}
	if _, err := wire.Decode(in[0]); err != nil {
		t.Fatal(err)
	}
}
