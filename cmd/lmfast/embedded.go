package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/refcontroller"
	"github.com/lmfast/lmfast/stream"
)

// embeddedServer is the in-process reference controller behind --embedded.
type embeddedServer struct {
	srv   *refcontroller.Server
	ports monitorPorts
	// before are the counters of the controllers a restart-storm closed.
	before []refcontroller.Counters
}

// startEmbedded starts the reference controller on free 127.0.0.1 ports
// (pull, reply, heartbeat, and HTTP for its /metrics page, which the run
// reconciles with as with --controller-metrics). Its warnings are not
// logged: the verify line reports what it counted.
func startEmbedded(a *app) (*embeddedServer, error) {
	srv, err := refcontroller.Start(context.Background(), refcontroller.Config{
		Host: "127.0.0.1", HeartbeatPort: refcontroller.FreePort, HTTPPort: refcontroller.FreePort, Log: zerolog.Nop(),
	})
	if err != nil {
		return nil, err
	}
	p := srv.Ports()
	return &embeddedServer{srv: srv, ports: monitorPorts{Pull: p.Pull, Reply: p.Reply, Heartbeat: p.Heartbeat}}, nil
}

// metricsURL is the embedded controller's /metrics page.
func (s *embeddedServer) metricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", s.srv.Ports().HTTP)
}

// verifyWait bounds how long verify waits for the frames of a drained run
// to be read and applied.
const verifyWait = 30 * time.Second

func verifyWaitFor(r *engine.Result) time.Duration {
	if r.Drained {
		return verifyWait
	}
	return time.Second
}

// Close stops the embedded controller.
func (s *embeddedServer) Close() { s.srv.Close() }

// verify waits until the controller has read every frame lmfast sent and
// applied them (at most verifyWait after a drained run, whose frames have
// all left; a second after one that did not drain, whose missing frames
// never come), writes a "verify" line comparing what lmfast sent with what
// the controller received and applied, and fails the run when they differ.
// r is the whole run's result; with several processes the line is theirs
// together (proc -1, as the merged summaries).
//
// extraFrames and extraKVOps are what a --scenario pushed itself.
func (s *embeddedServer) verify(out *stream.Writer, r *engine.Result, extraFrames, extraKVOps int64) error {
	if r.Config.NumProcesses > 1 {
		out = out.ForProc(-1)
	}
	framesSent := r.PushFrames + r.TeardownFrames + extraFrames
	kvOpsSent := r.KVOpsSent + extraKVOps
	c := s.srv.WaitFrames(framesSent, verifyWaitFor(r))
	ok := c.PullFrames == framesSent && c.PullDecodeErrors == 0 && kvOpsSent == c.KVOpsApplied+c.DroppedKVOps+c.SyncDiscardedKVOps
	out.Event("verify").
		Int64("frames_sent", framesSent).Int64("frames_received", c.PullFrames).
		Int64("kv_ops_sent", kvOpsSent).Int64("kv_ops_applied", c.KVOpsApplied).
		Int64("kv_ops_dropped_unregistered", c.DroppedKVOps).Int64("kv_ops_discarded_syncing", c.SyncDiscardedKVOps).Int64("decode_errors", c.PullDecodeErrors+c.RouterDecodeErrors).
		Int64("seq_discontinuities", c.SeqDiscontinuity).Int("registered_workers", c.Registered).Int("keys", c.Keys).
		Bool("ok", ok).Send()
	if !ok {
		return failed("embedded controller check failed: sent %d frames / %d KV ops, it received %d frames, applied %d and dropped %d KV ops, %d decode errors",
			framesSent, kvOpsSent, c.PullFrames, c.KVOpsApplied, c.DroppedKVOps, c.PullDecodeErrors)
	}
	return nil
}

// restart closes the embedded controller and starts a fresh one on the
// same ports (retrying while the ports are still held), as a controller
// process that restarts: no worker, no key.
func (s *embeddedServer) restart() error {
	p := s.srv.Ports()
	s.before = append(s.before, s.srv.Counters())
	s.srv.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := refcontroller.Start(context.Background(), refcontroller.Config{
			Host: "127.0.0.1", PullPort: p.Pull, ReplyPort: p.Reply, HeartbeatPort: p.Heartbeat, HTTPPort: p.HTTP, Log: zerolog.Nop(),
		})
		if err == nil {
			s.srv = srv
			return nil
		}
		var be *refcontroller.BindError
		if !errors.As(err, &be) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
