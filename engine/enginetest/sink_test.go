package enginetest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// push connects a PUSH socket to the sink's PULL port; close closes it
// after every queued frame has left.
func push(t *testing.T, k *Sink) (sock *zmq.Socket, close func()) {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	s, err := zmqx.NewPush(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", k.Pull))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	close = func() {
		once.Do(func() {
			s.SetLinger(-1)
			s.Close()
			ctx.Term()
		})
	}
	t.Cleanup(close)
	return s, close
}

// sendN sends n DeRegisterMsg frames on s.
func sendN(s *zmq.Socket, n int) error {
	frame := wire.DeRegisterMsg{InstanceID: "i", WorkerID: 0, IP: "127.0.0.1", Port: 1}.AppendMsgpack(nil)
	for i := 0; i < n; i++ {
		if _, err := s.SendBytes(frame, 0); err != nil {
			return err
		}
	}
	return nil
}

func waitFrames(t *testing.T, k *Sink, n int64) {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for k.Received().Frames < n {
		if time.Now().After(deadline) {
			t.Fatalf("sink received %d frames, want %d", k.Received().Frames, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSettleWaitsForTheConnectionToClose: a peer that pauses between two
// bursts is counted whole. Settle is called during the pause, when the sink
// has received nothing for a while (a wait for a quiet spell returned the
// first burst only); it returns once the peer closed, with both bursts.
func TestSettleWaitsForTheConnectionToClose(t *testing.T) {
	k := Start(t)
	s, closePush := push(t, k)
	if err := sendN(s, 100); err != nil {
		t.Fatal(err)
	}
	waitFrames(t, k, 100)
	go func() {
		time.Sleep(300 * time.Millisecond) // the pause; nothing is asserted about its length
		if err := sendN(s, 100); err != nil {
			t.Error(err)
		}
		closePush()
	}()
	if got := k.Settle(); got.Frames != 200 || got.ByType["DeRegisterMsg"] != 200 {
		t.Fatalf("Settle during the pause returned %d frames, want 200 (%v)", got.Frames, got.ByType)
	}
}

// TestSettleAfterAProbe: a TCP connection that carried nothing (a
// reachability check) and closed does not hold Settle up.
func TestSettleAfterAProbe(t *testing.T) {
	k := Start(t)
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", k.Pull))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	s, closePush := push(t, k)
	if err := sendN(s, 3); err != nil {
		t.Fatal(err)
	}
	closePush()
	if got := k.Settle(); got.Frames != 3 {
		t.Fatalf("Settle returned %d frames, want 3", got.Frames)
	}
}

// recorder is a testing.TB that keeps Errorf's messages instead of failing.
type recorder struct {
	*testing.T
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestSettleFailsWhileAPeerStaysConnected: Settle cannot vouch for the
// counts while a peer may still send, so it fails the test after its
// timeout instead of returning them as final.
func TestSettleFailsWhileAPeerStaysConnected(t *testing.T) {
	defer func(d time.Duration) { settleTimeout = d }(settleTimeout)
	settleTimeout = 300 * time.Millisecond
	r := &recorder{T: t}
	k := Start(r)
	s, _ := push(t, k)
	if err := sendN(s, 1); err != nil {
		t.Fatal(err)
	}
	waitFrames(t, k, 1)
	got := k.Settle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if got.Frames != 1 || len(r.errs) != 1 || !strings.Contains(r.errs[0], "1 connections still open") {
		t.Fatalf("Settle with a peer still connected: %d frames, errors %q", got.Frames, r.errs)
	}
}
