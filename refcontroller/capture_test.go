package refcontroller

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/wire"
)

// fullSyncCapture is a full-sync exchange recorded against LMCache's own
// controller (TestRecordFullSyncExchange, -tags harness): every request
// lmfast sent and every reply the real controller gave, byte for byte.
//
//go:embed testdata/fullsync-exchange.jsonl
var fullSyncCapture []byte

// captureStep is one line of the capture: a frame pushed, or a request on
// the reply socket with the reply it got.
type captureStep struct {
	Socket string `json:"socket"` // "push" or "reply"
	Note   string `json:"note"`
	Req    string `json:"req"`           // hex
	Rep    string `json:"rep,omitempty"` // hex, for "reply"
}

// fullSyncScript is the exchange: two registered workers, one sync with
// a missing batch, the controller stopping its requests at the threshold,
// a worker re-registered by its heartbeat and syncing outside the cached
// worker list, refused starts.
func fullSyncScript() []captureStep {
	peer := "tcp://127.0.0.1:20000"
	const loc = "LocalCPUBackend"
	hb := func(inst string) wire.Msg {
		return wire.HeartbeatMsg{InstanceID: inst, WorkerID: 0, IP: "127.0.0.1", Port: 10000, PeerInitURL: &peer}
	}
	reg := func(inst string) wire.Msg {
		return wire.RegisterMsg{InstanceID: inst, WorkerID: 0, IP: "127.0.0.1", Port: 10000, PeerInitURL: &peer}
	}
	start := func(inst, id string, keys, batches int64) wire.Msg {
		return wire.FullSyncStartMsg{InstanceID: inst, WorkerID: 0, Location: loc, SyncID: id, TotalKeys: keys, BatchCount: batches}
	}
	status := func(inst, id string) wire.Msg {
		return wire.FullSyncStatusMsg{InstanceID: inst, WorkerID: 0, SyncID: id}
	}
	batch := func(inst, id string, b int64, keys ...int64) wire.Msg {
		m := wire.FullSyncBatchMsg{InstanceID: inst, WorkerID: 0, Location: loc, SyncID: id, BatchID: b, Keys: []wire.Int{}}
		for _, k := range keys {
			m.Keys = append(m.Keys, wire.IntOf(k))
		}
		return m
	}
	end := func(inst, id string, n int64) wire.Msg {
		return wire.FullSyncEndMsg{InstanceID: inst, WorkerID: 0, Location: loc, SyncID: id, ActualTotalKeys: n}
	}
	kv := wire.BatchedKVOperationMsg{InstanceID: "instance_a", WorkerID: 0, Location: loc,
		Operations: []wire.KVOpEvent{{OpType: wire.OpAdmit, Key: wire.IntOf(1)}, {OpType: wire.OpAdmit, Key: wire.IntOf(2), SeqNum: 1}}}
	steps := []struct {
		sock, note string
		m          wire.Msg
	}{
		{"reply", "register A", reg("instance_a")},
		{"reply", "register B", reg("instance_b")},
		{"push", "A's incremental batch", kv},
		{"reply", "heartbeat A: fresh controller asks", hb("instance_a")},
		{"reply", "start A s1, 2 batches", start("instance_a", "instance_a_0_00000001", 3, 2)},
		{"reply", "heartbeat A while syncing: no command", hb("instance_a")},
		{"reply", "start A s2 while s1 syncs: refused", start("instance_a", "instance_a_0_00000002", 0, 1)},
		{"reply", "status A s1: both batches missing, progress 1/2", status("instance_a", "instance_a_0_00000001")},
		{"push", "A batch 0", batch("instance_a", "instance_a_0_00000001", 0, 10, 11)},
		{"reply", "status A s1: batch 1 missing", status("instance_a", "instance_a_0_00000001")},
		{"reply", "heartbeat B: still asked", hb("instance_b")},
		{"push", "A batch 1", batch("instance_a", "instance_a_0_00000001", 1, 12)},
		{"push", "A end", end("instance_a", "instance_a_0_00000001", 3)},
		{"reply", "status A s1: complete, threshold reached", status("instance_a", "instance_a_0_00000001")},
		{"reply", "heartbeat B: no longer asked", hb("instance_b")},
		{"reply", "heartbeat C (unknown): re-registered", hb("instance_c")},
		{"reply", "heartbeat C: no command", hb("instance_c")},
		{"reply", "start C", start("instance_c", "instance_c_0_00000003", 1, 1)},
		{"push", "C batch 0", batch("instance_c", "instance_c_0_00000003", 0, 99)},
		{"reply", "status C while syncing: C not in the cached list", status("instance_c", "instance_c_0_00000003")},
		{"push", "C end with a wrong count", end("instance_c", "instance_c_0_00000003", 5)},
		{"reply", "status C: complete", status("instance_c", "instance_c_0_00000003")},
		{"reply", "start D (unknown): refused", start("instance_d", "instance_d_0_00000004", 0, 1)},
		{"reply", "status D (unknown)", status("instance_d", "x")},
		{"reply", "status A with another sync id", status("instance_a", "instance_a_0_00000002")},
	}
	out := make([]captureStep, len(steps))
	for i, s := range steps {
		out[i] = captureStep{Socket: s.sock, Note: s.note, Req: hex.EncodeToString(s.m.AppendMsgpack(nil))}
	}
	return out
}

// exchange runs the script's steps against a controller: pushes on push,
// requests on req; settle waits until the frames pushed so far were
// handled before each request.
func exchange(t testing.TB, steps []captureStep, push, req *zmq.Socket, settle func(pushed int64)) []captureStep {
	t.Helper()
	var pushed int64
	out := make([]captureStep, len(steps))
	for i, s := range steps {
		out[i] = s
		b, err := hex.DecodeString(s.Req)
		if err != nil {
			t.Fatal(err)
		}
		if s.Socket == "push" {
			if _, err := push.SendBytes(b, 0); err != nil {
				t.Fatal(err)
			}
			pushed++
			continue
		}
		settle(pushed)
		if _, err := req.SendBytes(nil, zmq.SNDMORE); err != nil {
			t.Fatal(err)
		}
		if _, err := req.SendBytes(b, 0); err != nil {
			t.Fatal(err)
		}
		frames, err := req.RecvMessageBytes(0)
		if err != nil {
			t.Fatalf("step %d (%s): no reply: %v", i, s.Note, err)
		}
		out[i].Rep = hex.EncodeToString(frames[len(frames)-1])
	}
	return out
}

func loadCapture(t *testing.T) []captureStep {
	t.Helper()
	var out []captureStep
	sc := bufio.NewScanner(bytes.NewReader(fullSyncCapture))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s captureStep
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestFullSyncReplayRealCapture replays the exchange recorded against
// LMCache's controller and requires every reply byte for byte.
func TestFullSyncReplayRealCapture(t *testing.T) {
	want := loadCapture(t)
	script := fullSyncScript()
	if len(want) != len(script) {
		t.Fatalf("capture has %d steps, the script %d: record it again", len(want), len(script))
	}
	for i := range script {
		if script[i].Req != want[i].Req {
			t.Fatalf("step %d (%s): the script's request differs from the recorded one: record it again", i, script[i].Note)
		}
	}
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	got := exchange(t, script, c.push, c.req, func(n int64) { s.WaitFrames(n, 30*time.Second) })
	for i := range got {
		if got[i].Rep != want[i].Rep {
			gm, _ := hexDecode(got[i].Rep)
			wm, _ := hexDecode(want[i].Rep)
			t.Errorf("step %d (%s):\n got %s %+v\nwant %s %+v", i, want[i].Note, got[i].Rep, gm, want[i].Rep, wm)
		}
	}
}

func hexDecode(h string) (wire.Msg, error) {
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, err
	}
	return wire.Decode(b)
}
