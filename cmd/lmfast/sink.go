package main

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/lmfast/lmfast/stream"
	"github.com/lmfast/lmfast/zmqx"
)

// sinkCmd is `lmfast sink`: a counting PULL socket that decodes nothing,
// for measuring what a generator (lmfast, or LMCache's own tool) really
// delivers. The sink is zmqx's.
type sinkCmd struct {
	Host     string        `default:"127.0.0.1" help:"Bind host."`
	PullPort int           `name:"pull-port" default:"8100" help:"PULL port to count on (0: any free port)."`
	Duration secondsOrZero `default:"0" help:"Stop after this long (seconds or a Go duration; 0: run until SIGINT/SIGTERM)."`
	Interval seconds       `default:"1s" help:"Period of the JSONL interval lines."`
	Out      string        `help:"Write the JSONL stream to this file instead of stdout."`
}

// Run counts until --duration or a signal, then writes the summary and
// exits 0.
func (c *sinkCmd) Run(a *app) error {
	if c.PullPort < 0 || c.PullPort > 65535 {
		return badInput("--pull-port %d: out of range", c.PullPort)
	}
	duration := time.Duration(c.Duration) // 0: until a signal
	interval := time.Duration(c.Interval)
	port := "*"
	if c.PullPort != 0 {
		port = fmt.Sprint(c.PullPort)
	}
	endpoint := fmt.Sprintf("tcp://%s:%s", c.Host, port)
	sink, err := zmqx.StartSink(endpoint, "", nil)
	if errors.Is(err, syscall.EADDRINUSE) {
		return badInput("--pull-port %d: address already in use", c.PullPort)
	}
	if err != nil {
		return badInput("cannot bind %s (--host, --pull-port): %v", endpoint, err)
	}
	defer sink.Close()
	w, closeOut, err := openOut(a, c.Out)
	if err != nil {
		return err
	}
	defer closeOut()
	out := stream.New(w, "sink", stream.NewRunID())
	bound, _ := zmqx.Port(sink.PullEndpoint())
	listening(out, c.Host).Int("pull_port", bound).Send()

	start := time.Now()
	var end <-chan time.Time
	if duration > 0 {
		end = time.After(duration)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last, lastAt := sink.Pull(), start
	for running := true; running; {
		select {
		case <-a.ctx.Done():
			running = false
		case <-end:
			running = false
		case now := <-tick.C:
			cur := sink.Pull()
			secs := now.Sub(lastAt).Seconds()
			out.Event("interval").Float64("t_s", now.Sub(start).Seconds()).Float64("interval_s", secs).
				Int64("frames", cur.Frames-last.Frames).Int64("bytes", cur.Bytes-last.Bytes).
				Float64("fps", float64(cur.Frames-last.Frames)/secs).Send()
			last, lastAt = cur, now
		}
	}
	got := sink.Pull()
	out.Event("summary").Int64("frames", got.Frames).Int64("bytes", got.Bytes).
		Float64("span_s", got.Span.Seconds()).Float64("rate", got.Rate()).Send()
	fmt.Fprintf(a.stderr, "lmfast sink: %d frames, %d bytes, %.0f frames/s from the first to the last\n", got.Frames, got.Bytes, got.Rate())
	if err := out.Err(); err != nil {
		return failed("writing the JSONL stream: %v", err)
	}
	return errStopped
}
