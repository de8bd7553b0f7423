package main

import (
	"time"

	"github.com/alecthomas/kong"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine"
)

// workerFlags make the simulated workers behave like LMCache's: a
// heartbeat timer each and the full-sync protocol when told.
type workerFlags struct {
	HeartbeatInterval heartbeatInterval `name:"heartbeat-interval" placeholder:"D|auto" help:"Every simulated worker sends a heartbeat every D (auto: 5 s), beside --operations, and runs LMCache's full sync when a reply says so (off by default)."`
	StormJitter       secondsOrZero     `name:"storm-jitter" default:"5s" help:"A worker told to full-sync starts after a random delay in [0, D] (LMCache's full_sync_startup_delay_s; 0: at once)."`
	FullSyncPoll      seconds           `name:"full-sync-poll" default:"5s" help:"A syncing worker's status query period (LMCache's full_sync_status_poll_interval_s)."`
}

// apply sets the engine's worker settings.
func (f *workerFlags) apply(cfg *engine.Config) {
	cfg.HeartbeatInterval = time.Duration(f.HeartbeatInterval)
	cfg.FullSync = engine.FullSync{StartupDelay: time.Duration(f.StormJitter), NoDelay: f.StormJitter == 0,
		PollInterval: time.Duration(f.FullSyncPoll)}
}

// configFields adds the worker settings to the config line.
func (f *workerFlags) configFields(e *zerolog.Event) {
	e.Float64("heartbeat_interval_s", time.Duration(f.HeartbeatInterval).Seconds()).
		Float64("storm_jitter_s", time.Duration(f.StormJitter).Seconds()).
		Float64("full_sync_poll_s", time.Duration(f.FullSyncPoll).Seconds())
}

// heartbeatInterval is --heartbeat-interval: a positive duration, auto
// (engine.DefaultHeartbeatInterval) or 0/off (none).
type heartbeatInterval time.Duration

// Decode implements kong.MapperValue.
func (h *heartbeatInterval) Decode(ctx *kong.DecodeContext) error {
	flag, v, err := flagValue(ctx)
	if err != nil {
		return err
	}
	switch {
	case v == "auto":
		*h = heartbeatInterval(engine.DefaultHeartbeatInterval)
		return nil
	case v == "off" || isZeroDuration(v):
		*h = 0
		return nil
	}
	d, err := parseSeconds(flag, v)
	if err != nil {
		return &flagError{err.Error() + " (or auto)"}
	}
	*h = heartbeatInterval(d)
	return nil
}
