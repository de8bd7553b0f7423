package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/scenario/storm"
	"github.com/lmfast/lmfast/engine/scrape"
	"github.com/lmfast/lmfast/stream"
)

// scenarioRestartStorm is --scenario restart-storm (engine/scenario/storm).
const scenarioRestartStorm = storm.Name

// stormFlags are the restart-storm scenario's flags (--scenario itself is
// scenarioFlags').
type stormFlags struct {
	StormAt    seconds `name:"storm-at" placeholder:"D" help:"restart-storm: the steady phase before the restart (default: a third of --duration)."`
	RestartCmd string  `name:"restart-cmd" placeholder:"CMD" help:"restart-storm against an external controller: the shell command that restarts it (run with sh -c at the storm's start; the scenario waits for it)."`
}

// checkStorm validates --scenario and its flags before anything runs.
func (c *controllerCmd) checkStorm(duration time.Duration) error {
	switch c.Scenario {
	case "":
		if c.StormAt != 0 || c.RestartCmd != "" {
			return badInput("--storm-at and --restart-cmd need --scenario restart-storm")
		}
		return nil
	case scenarioRestartStorm:
	default:
		if c.StormAt != 0 || c.RestartCmd != "" {
			return badInput("--storm-at and --restart-cmd need --scenario restart-storm")
		}
		return nil // another scenario (scenario.go)
	}
	switch {
	case c.Embedded && c.RestartCmd != "":
		return badInput("--scenario restart-storm: --restart-cmd restarts an external controller; --embedded is restarted in-process")
	case !c.Embedded && c.RestartCmd == "":
		return badInput("--scenario restart-storm needs --embedded or --restart-cmd CMD (the command that restarts the controller)")
	case !c.Embedded && c.ControllerMetrics == "":
		return badInput("--scenario restart-storm against an external controller needs --controller-metrics URL: its key count is read there")
	case c.NumProcesses > 1 || c.NumProcessesTotal > 1:
		return badInput("--scenario restart-storm runs in one process of one group (--num-processes 1)")
	case c.Sweep != "":
		return badInput("--scenario restart-storm and --sweep exclude each other")
	case time.Duration(c.StormAt) >= duration:
		return badInput("--storm-at %v is not before the end of --duration %v", time.Duration(c.StormAt), duration)
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = heartbeatInterval(engine.DefaultHeartbeatInterval)
	}
	return nil
}

// newStorm wires the restart-storm of checked flags: the embedded
// controller (server) restarts in-process and its key count is read on its
// /controller/key-stats; an external one restarts by --restart-cmd and its
// key count is read from the host of --controller-metrics (metrics).
func (c *controllerCmd) newStorm(a *app, out *stream.Writer, server *embeddedServer, metrics *scrape.Scraper, duration time.Duration) *storm.Storm {
	cfg := storm.Config{Out: out, Log: a.stderr, At: time.Duration(c.StormAt), Duration: duration,
		Jitter: time.Duration(c.StormJitter), Linger: time.Duration(c.RequestTimeout)}
	switch {
	case server != nil:
		cfg.Restart = func(context.Context) error { return server.restart() }
		cfg.RestartBy = storm.RestartEmbedded
		cfg.KeysFrom = fmt.Sprintf("http://127.0.0.1:%d/controller/key-stats", server.srv.Ports().HTTP)
		cfg.Keys = storm.KeyStats(cfg.KeysFrom)
	default:
		cfg.Restart, cfg.RestartBy = storm.Command(c.RestartCmd, a.stderr), storm.RestartCommand
		if metrics != nil {
			cfg.Keys, cfg.KeysFrom = storm.ExternalKeys(metrics)
		}
	}
	return storm.New(cfg)
}
