package zmqx_test

import (
	"bytes"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/zmqx"
)

// recvN receives until n frames arrived (or 5 s passed), copying them out
// of the Puller's arena.
func recvN(t *testing.T, p *zmqx.Puller, n int) ([][]byte, []bool) {
	t.Helper()
	var frames [][]byte
	var last []bool
	deadline := time.Now().Add(5 * time.Second)
	for len(frames) < n && time.Now().Before(deadline) {
		fs, ls, err := p.Recv(100 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for i := range fs {
			frames = append(frames, bytes.Clone(fs[i]))
			last = append(last, ls[i])
		}
	}
	if len(frames) != n {
		t.Fatalf("received %d frames, want %d", len(frames), n)
	}
	return frames, last
}

// TestPullerReceivesInOrderWithMessageEnds: frames come back in order,
// each flagged where its multipart message ends, batched at most
// maxFrames at a time, and a frame larger than the arena comes back whole.
func TestPullerReceivesInOrderWithMessageEnds(t *testing.T) {
	p, err := zmqx.OpenPuller("tcp://127.0.0.1:*", 2, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if port, err := zmqx.Port(p.Endpoint()); err != nil || port == 0 {
		t.Fatalf("endpoint %q: port %d, %v", p.Endpoint(), port, err)
	}
	ctx, _ := zmq.NewContext()
	defer ctx.Term()
	push, err := zmqx.NewPush(ctx, p.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { push.SetLinger(0); push.Close() }()
	big := bytes.Repeat([]byte("x"), 100)
	if _, err := push.SendMessage("a", "bb"); err != nil {
		t.Fatal(err)
	}
	if _, err := push.SendMessage(big); err != nil {
		t.Fatal(err)
	}
	if _, err := push.SendMessage("ccc"); err != nil {
		t.Fatal(err)
	}
	frames, last := recvN(t, p, 4)
	want := [][]byte{[]byte("a"), []byte("bb"), big, []byte("ccc")}
	for i := range want {
		if !bytes.Equal(frames[i], want[i]) {
			t.Errorf("frame %d: %q, want %q", i, frames[i], want[i])
		}
	}
	if wantLast := []bool{false, true, true, true}; !slices.Equal(last, wantLast) {
		t.Errorf("message ends %v, want %v", last, wantLast)
	}
	if fs, _, err := p.Recv(50 * time.Millisecond); err != nil || len(fs) != 0 {
		t.Fatalf("idle Recv: %d frames, %v", len(fs), err)
	}
}

// TestPullerBusyPort: binding a port in use fails with EADDRINUSE.
func TestPullerBusyPort(t *testing.T) {
	p, err := zmqx.OpenPuller("tcp://127.0.0.1:*", 4, 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if q, err := zmqx.OpenPuller(p.Endpoint(), 4, 1024); !errors.Is(err, syscall.EADDRINUSE) {
		if q != nil {
			q.Close()
		}
		t.Fatalf("second bind on %s: %v, want EADDRINUSE", p.Endpoint(), err)
	}
}

func TestPort(t *testing.T) {
	if p, err := zmqx.Port("tcp://127.0.0.1:41234"); p != 41234 || err != nil {
		t.Errorf("Port: %d, %v", p, err)
	}
	if _, err := zmqx.Port("ipc:///tmp/x.ipc"); err == nil {
		t.Error("Port of an ipc endpoint: no error")
	}
}
