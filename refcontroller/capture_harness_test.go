//go:build harness

package refcontroller

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/zmqx"
)

// TestRecordFullSyncExchange runs the full-sync script against a running
// controller (LMCache's own, started on 127.0.0.1 without a heartbeat
// socket) whose PULL and reply ports are in LMFAST_REAL_CONTROLLER
// ("PULL,REPLY"). With LMFAST_RECORD=1 it writes the exchange to
// testdata/fullsync-exchange.jsonl; without, it compares the replies with
// that file. The controller must be fresh: the exchange starts from a
// controller that has never seen a worker.
func TestRecordFullSyncExchange(t *testing.T) {
	var pull, reply int
	if _, err := fmt.Sscanf(os.Getenv("LMFAST_REAL_CONTROLLER"), "%d,%d", &pull, &reply); err != nil {
		t.Skip("LMFAST_REAL_CONTROLLER=PULL,REPLY names no running controller")
	}
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Term()
	push, err := zmqx.NewPush(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", pull))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { push.SetLinger(0); push.Close() }()
	req, err := zmqx.NewDealer(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", reply))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { req.SetLinger(0); req.Close() }()
	// LMCache's controller reads the PULL and ROUTER sockets on one event
	// loop in no fixed order: give it time to take the frames pushed.
	got := exchange(t, fullSyncScript(), push, req, func(int64) { time.Sleep(500 * time.Millisecond) })
	if os.Getenv("LMFAST_RECORD") == "1" {
		var b strings.Builder
		for _, s := range got {
			line, _ := json.Marshal(s)
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile("testdata/fullsync-exchange.jsonl", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %d steps", len(got))
		return
	}
	want := loadCapture(t)
	for i := range got {
		if i >= len(want) || got[i].Rep != want[i].Rep {
			t.Errorf("step %d (%s): the controller answered %s, the capture has %v", i, got[i].Note, got[i].Rep, want[min(i, len(want)-1)].Rep)
		}
	}
}
