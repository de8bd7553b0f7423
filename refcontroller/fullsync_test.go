package refcontroller

import (
	"bytes"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/wire/wiretest"
)

// TestFullSyncTracker walks two workers through LMCache's full-sync
// protocol and checks every reply against msgspec's bytes where a golden
// vector exists: the controller asks every worker to sync until a status
// query finds the threshold reached, refuses a second session while one
// syncs, discards incremental batches during a sync, clears the location's
// keys at the start, and then stops asking.
func TestFullSyncTracker(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: FreePort, HTTPPort: NoPort, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	golden := func(name string) []byte { return wiretest.ByName(t, name).Bytes(t) }
	expect := func(what string, got, want []byte) {
		t.Helper()
		if !bytes.Equal(got, want) {
			gm, _ := wire.Decode(got)
			t.Fatalf("%s: got %x (%+v)\nwant %x", what, got, gm, want)
		}
	}
	const inst, loc = "instance_p0_3", "LocalCPUBackend"
	sid := "instance_p0_3_0_1a2b3c4d" // the golden vectors' sync id
	peer := "tcp://127.0.0.1:20000"
	w0 := wire.HeartbeatMsg{InstanceID: inst, WorkerID: 0, IP: "127.0.0.1", Port: 10000, PeerInitURL: &peer}
	w1 := wire.HeartbeatMsg{InstanceID: "instance_p0_4", WorkerID: 0, IP: "127.0.0.2", Port: 10001, PeerInitURL: &peer}
	for _, hb := range []wire.HeartbeatMsg{w0, w1} {
		c.ask(c.req, wire.RegisterMsg{InstanceID: hb.InstanceID, WorkerID: hb.WorkerID, IP: hb.IP, Port: hb.Port, PeerInitURL: hb.PeerInitURL})
	}
	b := &wire.BatchedKVOperationMsg{InstanceID: inst, WorkerID: 0, Location: loc}
	for i, k := range []int64{1, 2, 3} {
		b.Operations = append(b.Operations, wire.KVOpEvent{OpType: wire.OpAdmit, Key: wire.IntOf(k), SeqNum: int64(i)})
	}
	c.pushMsg(b)
	if got := c.settle(s); got.Keys != 3 {
		t.Fatalf("keys %d after the first batch, want 3", got.Keys)
	}

	expect("heartbeat of a fresh controller", c.ask(c.hb, w0), golden("heartbeat_ret_fullsync"))
	start := func(id string, batches int64) wire.FullSyncStartMsg {
		return wire.FullSyncStartMsg{InstanceID: inst, WorkerID: 0, Location: loc, SyncID: id, TotalKeys: 2, BatchCount: batches}
	}
	expect("first start", c.ask(c.req, start("other", 1)), wire.FullSyncStartRetMsg{SyncID: "other", Accepted: true}.AppendMsgpack(nil))
	if got := s.Counters(); got.Keys != 0 {
		t.Fatalf("keys %d after the start, want 0 (the location is cleared)", got.Keys)
	}
	expect("heartbeat while syncing", c.ask(c.hb, w0), golden("heartbeat_ret_empty"))
	expect("second session while syncing", c.ask(c.req, start(sid, 2)), golden("full_sync_start_ret_rejected"))
	c.pushMsg(b) // incremental: discarded while syncing
	c.pushMsg(&wire.FullSyncEndMsg{InstanceID: inst, WorkerID: 0, Location: loc, SyncID: "other", ActualTotalKeys: 0})
	got := c.settle(s)
	if got.SyncDiscardedBatches != 1 || got.SyncDiscardedKVOps != 3 || got.Keys != 0 || got.SyncCompleted != 1 {
		t.Fatalf("after an incremental batch during the sync and its end: %+v", got)
	}

	// A new session after the completed one; w1 has no session: ready.
	expect("start after completion", c.ask(c.req, start(sid, 2)), golden("full_sync_start_ret_accepted"))
	c.pushMsg(&wire.FullSyncBatchMsg{InstanceID: inst, WorkerID: 0, Location: loc, SyncID: sid, BatchID: 0, Keys: []wire.Int{wire.IntOf(10), wire.IntOf(11)}},
		&wire.FullSyncBatchMsg{InstanceID: inst, WorkerID: 0, Location: loc, SyncID: "stale", BatchID: 1, Keys: []wire.Int{wire.IntOf(12)}})
	if got := c.settle(s); got.Keys != 2 || got.SyncKeys != 2 || got.SyncBatchesRejected != 1 {
		t.Fatalf("after one good and one stale sync batch: %+v", got)
	}
	status := wire.FullSyncStatusMsg{InstanceID: inst, WorkerID: 0, SyncID: sid}
	expect("status with a batch missing", c.ask(c.req, status),
		wire.FullSyncStatusRetMsg{SyncID: sid, GlobalProgress: 0.5, MissingBatches: []int64{1}}.AppendMsgpack(nil))
	expect("w1 is still asked", c.ask(c.hb, w1), golden("heartbeat_ret_fullsync"))
	c.pushMsg(&wire.FullSyncEndMsg{InstanceID: inst, WorkerID: 0, Location: loc, SyncID: sid, ActualTotalKeys: 2})
	c.settle(s)
	expect("status once complete", c.ask(c.req, status), golden("full_sync_status_ret_done"))
	// The threshold was reached: nobody is asked any more.
	expect("w1 after the threshold", c.ask(c.hb, w1), golden("heartbeat_ret_empty"))
	expect("w0 after the threshold", c.ask(c.hb, w0), golden("heartbeat_ret_empty"))
	unknown := wire.HeartbeatMsg{InstanceID: "instance_p0_9", WorkerID: 0, IP: "127.0.0.9", Port: 10009, PeerInitURL: &peer}
	expect("unknown worker", c.ask(c.hb, unknown), golden("heartbeat_ret_re_registered"))
	expect("unknown worker's next heartbeat", c.ask(c.hb, unknown), golden("heartbeat_ret_empty"))

	// Incremental batches apply again after the sync, without a
	// discontinuity: a sync leaves the sequence tracker alone.
	c.pushMsg(batch(inst, wire.OpAdmit, 0, 4))
	b2 := batch(inst, wire.OpAdmit, 0, 4)
	b2.Location = loc
	c.pushMsg(b2)
	got = c.settle(s)
	if got.Keys != 4 || got.SeqDiscontinuity != 0 || got.SyncStarts != 2 || got.SyncStartsRejected != 1 || got.SyncCommands != 3 {
		t.Fatalf("end state: %+v", got)
	}
	if st := s.SyncStatus(); st.NeedAll || st.Completed != 1 || st.Syncing != 0 {
		t.Fatalf("sync status %+v", st)
	}
}

// TestFullSyncStartUnknownWorker: a start from a worker the controller
// does not know is refused with LMCache's text, and its batches are not
// applied.
func TestFullSyncStartUnknownWorker(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	sid := "instance_p0_3_0_1a2b3c4d"
	got := c.ask(c.req, wire.FullSyncStartMsg{InstanceID: "instance_p0_3", WorkerID: 0, Location: "x", SyncID: sid, TotalKeys: 1, BatchCount: 1})
	if want := wiretest.ByName(t, "full_sync_start_ret_rejected").Bytes(t); !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
	c.pushMsg(&wire.FullSyncBatchMsg{InstanceID: "instance_p0_3", WorkerID: 0, Location: "x", SyncID: sid, Keys: []wire.Int{wire.IntOf(1)}})
	if n := c.settle(s); n.Keys != 0 || n.SyncBatchesRejected != 1 {
		t.Fatalf("%+v", n)
	}
	// Status of nobody: not complete, no workers (progress 0), no freeze exit.
	reply := c.ask(c.req, wire.FullSyncStatusMsg{InstanceID: "instance_p0_3", WorkerID: 0, SyncID: ""})
	if want := wiretest.ByName(t, "full_sync_status_ret_zero").Bytes(t); !bytes.Equal(reply, want) {
		t.Fatalf("got %x want %x", reply, want)
	}
}

// TestHealthCheckDeregistersSilentWorkers: with a health check, a worker
// that sends no heartbeat for longer than the timeout is deregistered and
// its batches are dropped as unregistered, while one that heartbeats stays.
func TestHealthCheckDeregistersSilentWorkers(t *testing.T) {
	const timeout = 2 * time.Second
	s := startServer(t, Config{HeartbeatPort: FreePort, HTTPPort: NoPort, Log: zerolog.Nop(),
		HealthCheckInterval: 100 * time.Millisecond, WorkerTimeout: timeout})
	c := newClient(t, s.Ports())
	peer := "tcp://127.0.0.1:20000"
	c.ask(c.req, register("silent", &peer))
	c.ask(c.req, register("alive", &peer))
	begin := time.Now()
	alive := wire.HeartbeatMsg{InstanceID: "alive", IP: "127.0.0.1", Port: 10000, PeerInitURL: &peer}
	waitFor(t, "the silent worker's deregistration", func() bool {
		c.ask(c.hb, alive)
		time.Sleep(50 * time.Millisecond)
		return s.Counters().TimedOut >= 1
	})
	if el := time.Since(begin); el < timeout {
		t.Fatalf("deregistered after %v, before the %v timeout", el, timeout)
	}
	c.pushMsg(batch("silent", wire.OpAdmit, 0, 1, 2), batch("alive", wire.OpAdmit, 0, 1, 2))
	got := c.settle(s)
	if got.TimedOut != 1 || got.Registered != 1 || got.DroppedBatches != 1 || got.DroppedKVOps != 2 || got.Keys != 2 {
		t.Fatalf("%+v", got)
	}
}

// TestHealthCheckOffByDefault: without HealthCheckInterval (LMCache's -1)
// nobody is ever deregistered for silence.
func TestHealthCheckOffByDefault(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop(), WorkerTimeout: time.Millisecond})
	c := newClient(t, s.Ports())
	c.ask(c.req, register("a", nil))
	time.Sleep(300 * time.Millisecond)
	if got := s.Counters(); got.Registered != 1 || got.TimedOut != 0 {
		t.Fatalf("%+v", got)
	}
}
