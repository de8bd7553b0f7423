package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/refcontroller"
	"github.com/lmfast/lmfast/stream"
)

// controllerServerCmd is `lmfast controller-server`: the reference
// controller as a process of its own.
type controllerServerCmd struct {
	Host           string `default:"127.0.0.1" help:"Bind host."`
	PullPort       int    `name:"pull-port" default:"8100" help:"PULL socket port (0: any free port)."`
	ReplyPort      int    `name:"reply-port" default:"8101" help:"ROUTER reply socket port (0: any free port)."`
	HeartbeatPort  int    `name:"heartbeat-port" default:"8102" help:"ROUTER heartbeat socket port (0: any free port, -1: none, as LMCache's default)."`
	HTTPPort       int    `name:"http-port" default:"-1" help:"HTTP port for /metrics and /controller/* (0: any free port, -1: none)."`
	CompatPullDies bool   `name:"compat-pull-dies" help:"Stop reading the PULL socket at the first undecodable frame, as LMCache's controller does."`
	Appliers       int    `default:"1" help:"Goroutines applying KV batches (sharded by worker)."`
	CPUProfile     string `name:"cpu-profile" placeholder:"FILE" help:"Write a Go CPU profile of the run to FILE (go tool pprof)."`

	HealthCheckInterval secondsOrOff `name:"health-check-interval" default:"-1" help:"Every this often, deregister workers whose last heartbeat is older than --lmcache-worker-timeout (-1: off, LMCache's default)."`
	WorkerTimeout       seconds      `name:"lmcache-worker-timeout" default:"300" help:"Heartbeat timeout of the health check (LMCache's default 300 s)."`

	InjectStall string `name:"inject-stall" placeholder:"DURATION" help:"Test aid: every socket loop stops reading for DURATION once every --stall-every; each stall is a 'stall' line on stdout."`
	StallEvery  string `name:"stall-every" placeholder:"DURATION" help:"Test aid: the period of --inject-stall."`
	InjectDelay string `name:"inject-delay" placeholder:"DURATION" help:"Test aid: answer reply and heartbeat requests serially, each DURATION after the previous answer (at most 1/DURATION per second)."`
	InjectDrop  string `name:"inject-drop" placeholder:"SHARE" help:"Test aid: drop this share of PULL frames unread and uncounted, as a controller that loses frames (0.01, 1%, 1/100)."`
}

// inject reads the test-aid flags.
func (c *controllerServerCmd) inject() (refcontroller.Inject, error) {
	var in refcontroller.Inject
	for _, d := range []struct {
		flag, value string
		into        *time.Duration
	}{{"--inject-stall", c.InjectStall, &in.Stall}, {"--stall-every", c.StallEvery, &in.StallEvery}, {"--inject-delay", c.InjectDelay, &in.Delay}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil || v <= 0 {
			return in, badInput("%s %q: want a positive duration such as 100ms", d.flag, d.value)
		}
		*d.into = v
	}
	switch {
	case in.Stall > 0 && in.StallEvery == 0:
		return in, badInput("--inject-stall needs --stall-every")
	case in.Stall == 0 && in.StallEvery > 0:
		return in, badInput("--stall-every needs --inject-stall")
	case in.Stall > 0 && in.StallEvery <= in.Stall:
		return in, badInput("--stall-every %v must be longer than --inject-stall %v", in.StallEvery, in.Stall)
	}
	if c.InjectDrop != "" {
		d, err := refcontroller.ParseDropRate(c.InjectDrop)
		if err != nil {
			return in, badInput("--inject-drop: %v", err)
		}
		in.Drop = d
	}
	return in, nil
}

// unixNanos is t in Unix nanoseconds, 0 for the zero time.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Run serves until SIGINT or SIGTERM, then writes the summary and exits 0.
func (c *controllerServerCmd) Run(a *app) error {
	for _, p := range []struct {
		flag      string
		port      int
		mayBeNone bool
	}{{"--pull-port", c.PullPort, false}, {"--reply-port", c.ReplyPort, false}, {"--heartbeat-port", c.HeartbeatPort, true}, {"--http-port", c.HTTPPort, true}} {
		if p.port > 65535 || p.port < -1 || (p.port == -1 && !p.mayBeNone) {
			return badInput("%s %d: out of range", p.flag, p.port)
		}
	}
	if c.Appliers < 1 {
		return badInput("--appliers must be at least 1")
	}
	inject, err := c.inject()
	if err != nil {
		return err
	}
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return badInput("--cpu-profile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return failed("--cpu-profile: %v", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	log := zerolog.New(a.stderr).With().Timestamp().Str("cmd", "controller-server").Logger()
	out := stream.New(a.stdout, "controller-server", stream.NewRunID())
	listened := make(chan struct{}) // the listening line stays the first
	if inject.Stall > 0 {
		inject.OnStall = func(st refcontroller.Stall) {
			<-listened
			out.Event("stall").Str("socket", st.Socket).Int("index", st.Index).Int64("nominal_unix_ns", st.Nominal.UnixNano()).
				Int64("start_unix_ns", st.Start.UnixNano()).Int64("end_unix_ns", st.End.UnixNano()).Int64("served_unix_ns", unixNanos(st.Served)).Send()
		}
	}
	srv, err := refcontroller.Start(a.ctx, refcontroller.Config{
		Host: c.Host, PullPort: c.PullPort, ReplyPort: c.ReplyPort, HeartbeatPort: c.HeartbeatPort,
		HTTPPort: c.HTTPPort, CompatPullDies: c.CompatPullDies, Appliers: c.Appliers, Log: log, Inject: inject,
		HealthCheckInterval: time.Duration(c.HealthCheckInterval), WorkerTimeout: time.Duration(c.WorkerTimeout),
	})
	if err != nil {
		var be *refcontroller.BindError
		close(listened)
		if errors.As(err, &be) {
			return badInput("--%s-port %d: %v", be.Socket, be.Port, be.Err)
		}
		return failed("%v", err)
	}
	if inject.Stall > 0 || inject.Delay > 0 || !inject.Drop.IsZero() {
		fmt.Fprintf(a.stderr, "controller-server: test aids on (stall %v every %v, delay %v, drop %s): slow and lossy on purpose\n",
			inject.Stall, inject.StallEvery, inject.Delay, inject.Drop)
	}
	if c.HealthCheckInterval == 0 && time.Duration(c.WorkerTimeout) != refcontroller.DefaultWorkerTimeout {
		fmt.Fprintln(a.stderr, "controller-server: --lmcache-worker-timeout has no effect without --health-check-interval (off by default, as in LMCache)")
	}
	p := srv.Ports()
	listening(out, c.Host).Int("pull_port", p.Pull).Int("reply_port", p.Reply).Int("heartbeat_port", p.Heartbeat).Int("http_port", p.HTTP).
		Bool("compat_pull_dies", c.CompatPullDies).
		Float64("health_check_interval_s", time.Duration(c.HealthCheckInterval).Seconds()).Float64("lmcache_worker_timeout_s", time.Duration(c.WorkerTimeout).Seconds()).
		Str("inject_stall", inject.Stall.String()).Str("stall_every", inject.StallEvery.String()).
		Str("inject_delay", inject.Delay.String()).Str("inject_drop", inject.Drop.String()).Send()
	close(listened)
	<-a.ctx.Done()
	srv.Close() // drains the appliers: the counters below agree with each other
	counters := srv.Counters()
	e := out.Event("summary").
		Int64("pull_frames", counters.PullFrames).Int64("pull_decode_errors", counters.PullDecodeErrors).
		Int64("batches", counters.Batches).Int64("kv_ops_applied", counters.KVOpsApplied).
		Int64("admits", counters.Admits).Int64("evicts", counters.Evicts).
		Int64("batches_dropped_unregistered", counters.DroppedBatches).Int64("kv_ops_dropped_unregistered", counters.DroppedKVOps).
		Int64("seq_discontinuities", counters.SeqDiscontinuity).
		Int64("reply_requests", counters.ReplyRequests).Int64("heartbeat_requests", counters.HeartbeatRequests).
		Int64("short_requests", counters.ShortRequests).Int64("router_decode_errors", counters.RouterDecodeErrors).
		Int64("replies", counters.Replies).Int64("error_replies", counters.ErrorReplies).Int64("injected_drops", counters.InjectedDrops).
		Int("registered_workers", counters.Registered).Int("keys", counters.Keys).
		Int64("workers_timed_out", counters.TimedOut).Int64("full_sync_commands", counters.SyncCommands).
		Int64("full_sync_starts", counters.SyncStarts).Int64("full_sync_starts_rejected", counters.SyncStartsRejected).
		Int64("full_sync_batches", counters.SyncBatches).Int64("full_sync_batches_rejected", counters.SyncBatchesRejected).
		Int64("full_sync_keys", counters.SyncKeys).Int64("full_sync_completed", counters.SyncCompleted).
		Int64("batches_discarded_syncing", counters.SyncDiscardedBatches).Int64("kv_ops_discarded_syncing", counters.SyncDiscardedKVOps)
	types := zerolog.Dict()
	for name, n := range counters.ByType {
		types = types.Int64(name, n)
	}
	e.Dict("by_type", types).Send()
	fmt.Fprintln(a.stderr, "controller-server: stopped")
	return errStopped // a requested stop is success, not an interruption
}
