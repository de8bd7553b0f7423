package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/refcontroller"
)

// startRef starts the reference controller on free 127.0.0.1 ports.
func startRef(t *testing.T, cfg refcontroller.Config) *refcontroller.Server {
	t.Helper()
	cfg.Host, cfg.HeartbeatPort, cfg.HTTPPort, cfg.Log = "127.0.0.1", refcontroller.FreePort, refcontroller.NoPort, zerolog.Nop()
	s, err := refcontroller.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// refConfig is a paced admit/lookup run of four workers against srv.
func refConfig(srv *refcontroller.Server, d time.Duration) Config {
	p := srv.Ports()
	ops, err := ParseOperations("admit:70,evict:10,p2p_lookup:20")
	if err != nil {
		panic(err)
	}
	return Config{
		PullEndpoint:  fmt.Sprintf("tcp://127.0.0.1:%d", p.Pull),
		ReplyEndpoint: fmt.Sprintf("tcp://127.0.0.1:%d", p.Reply),
		Duration:      d, BatchSize: 20, Mix: ops,
		NumInstances: 4, NumWorkers: 1, NumLocations: 1, NumKeys: 2000, NumHashes: 5,
		RegisterFirst: true, Senders: 1, Concurrency: 1, Rate: 400, Seed: 7,
		Interval: 500 * time.Millisecond, DrainTimeout: 5 * time.Second, LateGrace: time.Second,
	}
}

// TestWorkersHeartbeatAndFullSync: with a heartbeat timer, every worker
// heartbeats about once per interval (the controller counts each one),
// every worker the fresh controller sends a FullSyncCommand obeys it with
// LMCache's full-sync protocol, and once the syncs are over the
// controller holds exactly the keys each worker's sent batches left it
// holding; the controller then stops asking.
func TestWorkersHeartbeatAndFullSync(t *testing.T) {
	srv := startRef(t, refcontroller.Config{})
	cfg := refConfig(srv, 3*time.Second)
	cfg.HeartbeatInterval = 200 * time.Millisecond
	cfg.FullSync = FullSync{NoDelay: true, PollInterval: 100 * time.Millisecond, BatchSize: 300}
	var view *Workers
	cfg.Workers = func(w *Workers) { view = w }
	var held int64
	var atStop refcontroller.Counters
	hooks := Hooks{Stopped: func(sent int64) {
		atStop = srv.WaitFrames(sent, 30*time.Second)
		held = view.HeldKeys()
	}}
	began := time.Now()
	res, err := Run(context.Background(), cfg, &recorder{}, hooks)
	ran := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	w := res.Workers
	c := srv.WaitFrames(res.PushFrames+res.TeardownFrames, 30*time.Second)
	t.Logf("workers %+v; controller %+v; held at stop %d, controller keys then %d", *w, c, held, atStop.Keys)
	if c.PullFrames != res.PushFrames+res.TeardownFrames {
		t.Errorf("controller read %d frames, lmfast sent %d", c.PullFrames, res.PushFrames+res.TeardownFrames)
	}
	// A heartbeat in flight when the run stops is cut off, not an error:
	// the controller reads it, its reply is not awaited.
	if w.HeartbeatErrors != 0 || w.HeartbeatReplies+w.HeartbeatsCutOff != w.Heartbeats || w.HeartbeatsCutOff > int64(cfg.NumInstances) ||
		c.HeartbeatRequests != w.Heartbeats {
		t.Errorf("heartbeats: sent %d, answered %d, cut off by the stop %d, errors %d; the controller's heartbeat socket read %d",
			w.Heartbeats, w.HeartbeatReplies, w.HeartbeatsCutOff, w.HeartbeatErrors, c.HeartbeatRequests)
	}
	// The timer runs from the start of the load until the run stops it:
	// at least the load's Elapsed, at most Run's whole wall time (longer
	// than Elapsed when a loaded machine makes the drain overrun). So
	// about Elapsed/interval heartbeats per worker, and never more than
	// one per interval of Run's wall time plus the first.
	per := float64(w.Heartbeats) / 4
	want := res.Elapsed.Seconds() / cfg.HeartbeatInterval.Seconds()
	most := ran.Seconds()/cfg.HeartbeatInterval.Seconds() + 1
	if per < want/2 || per > most {
		t.Errorf("%.1f heartbeats per worker over a load of %v (Run took %v) at %v: want %.1f to %.1f", per, res.Elapsed, ran, cfg.HeartbeatInterval, want/2, most)
	}
	var cmds int64
	for _, n := range w.Commands {
		cmds += n
	}
	// The fresh controller asks each worker whose heartbeat comes before
	// the first status poll finds every worker ready; LMCache counts a
	// worker with no session as ready, so a worker whose first heartbeat
	// comes later may never be asked. Every worker asked must sync (a
	// command that comes while its sync runs is skipped).
	synced := w.SyncsStarted
	if synced < 1 || synced > 4 || w.Commands["controller_restart"] < synced || cmds != c.SyncCommands || w.SyncsDone != synced ||
		c.SyncStarts != synced || c.SyncCompleted != synced || c.SyncKeys != w.SyncKeys || c.SyncBatches != w.SyncBatches {
		t.Errorf("full sync: workers %+v; controller %+v", *w, c)
	}
	if st := srv.SyncStatus(); st.NeedAll || int64(st.Completed) != synced {
		t.Errorf("controller still asks every worker to sync, or counts other syncs: %+v after %d syncs", st, synced)
	}
	if atStop.Keys != int(held) || held == 0 {
		t.Errorf("at the end of the load the controller held %d keys, the workers %d", atStop.Keys, held)
	}
}

// TestNoHeartbeatsDropAfterWorkerTimeout: against a controller that
// deregisters workers silent for longer than its timeout, a run without
// heartbeats loses its workers and their batches are dropped as
// unregistered; with the heartbeat timer none is lost.
func TestNoHeartbeatsDropAfterWorkerTimeout(t *testing.T) {
	for _, hb := range []time.Duration{0, 100 * time.Millisecond} {
		t.Run(fmt.Sprintf("heartbeat=%v", hb), func(t *testing.T) {
			srv := startRef(t, refcontroller.Config{HealthCheckInterval: 100 * time.Millisecond, WorkerTimeout: time.Second})
			cfg := refConfig(srv, 2500*time.Millisecond)
			cfg.HeartbeatInterval = hb
			cfg.FullSync = FullSync{NoDelay: true, PollInterval: 100 * time.Millisecond}
			res, err := Run(context.Background(), cfg, &recorder{}, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			c := srv.WaitFrames(res.PushFrames+res.TeardownFrames, 30*time.Second)
			t.Logf("elapsed %v: timed out %d, batches dropped unregistered %d, applied %d", res.Elapsed, c.TimedOut, c.DroppedBatches, c.Batches)
			if res.Elapsed < 2*time.Second {
				t.Skipf("the run lasted %v, not long enough past the 1 s timeout", res.Elapsed)
			}
			if hb == 0 && (c.TimedOut != 4 || c.DroppedBatches == 0) {
				t.Errorf("without heartbeats: %d workers timed out, %d batches dropped", c.TimedOut, c.DroppedBatches)
			}
			if hb > 0 && (c.TimedOut != 0 || c.DroppedBatches != 0) {
				t.Errorf("with heartbeats: %d workers timed out, %d batches dropped", c.TimedOut, c.DroppedBatches)
			}
		})
	}
}
