package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmfast/lmfast/engine/calibrate"
	"github.com/lmfast/lmfast/internal/cpus"
	"github.com/lmfast/lmfast/stream"
)

// calibrateCmd is `lmfast calibrate`: this machine's raw ZMQ ceiling with
// lmfast's own message bytes, and (--engine) how close lmfast's engine gets
// to it. The work is in engine/calibrate.
type calibrateCmd struct {
	Duration    seconds `default:"2s" help:"How long each measurement sends (seconds or a Go duration)."`
	Transports  string  `default:"tcp,ipc" help:"Transports to measure: tcp (127.0.0.1), ipc."`
	Sizes       string  `default:"64,512,4096,32768" help:"Payload sizes in bytes of the PUSH size sweep, beside the batch itself (\"\" for none)."`
	BatchSize   int     `name:"batch-size" default:"50" help:"KV operations in the BatchedKVOperationMsg payload (as lmfast controller --batch-size)."`
	NumKeys     int     `name:"num-keys" default:"10000" help:"Key space of that batch (as lmfast controller --num-keys)."`
	NumHashes   int     `name:"num-hashes" default:"100" help:"Hashes in the BatchedP2PLookupMsg of the round-trip measurement."`
	Senders     int     `default:"1" help:"Sending goroutines, each with its own sockets and OS thread (ignored with --pin-cpus)."`
	PinCPUs     string  `name:"pin-cpus" help:"One sender per listed CPU, pinned (taskset syntax)."`
	Concurrency int     `default:"1" help:"Round trips in flight per sender, each on its own DEALER."`
	Engine      bool    `help:"Also measure lmfast's engine into the same sink, alternating with the raw PUSH of the same bytes, and report engine/raw."`
	Rounds      int     `default:"1" help:"Repeat every measurement this many times; medians are reported."`
	Seed        uint64  `default:"1" help:"Seed of the batch payload's keys."`
	Out         string  `help:"Write the JSONL stream to this file instead of stdout."`
}

// Run takes every planned measurement --rounds times and writes them.
func (c *calibrateCmd) Run(a *app) error {
	duration := time.Duration(c.Duration)
	var transports []string
	for _, t := range strings.Split(c.Transports, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(calibrate.Transports, t) {
			return badInput("--transports: unknown transport %q (tcp, ipc)", t)
		}
		transports = append(transports, t)
	}
	var sizes []int
	for _, s := range strings.Split(c.Sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 64<<20 {
			return badInput("--sizes: %q is not a size from 1 to 67108864 bytes", s)
		}
		sizes = append(sizes, n)
	}
	switch {
	case c.BatchSize < 1:
		return badInput("--batch-size must be positive")
	case c.NumKeys < 1:
		return badInput("--num-keys must be positive")
	case c.NumHashes < 0:
		return badInput("--num-hashes must not be negative")
	case c.Senders < 1:
		return badInput("--senders must be positive")
	case c.Concurrency < 1:
		return badInput("--concurrency must be positive")
	case c.Rounds < 1:
		return badInput("--rounds must be positive")
	}
	pinned, err := pinList(c.PinCPUs)
	if err != nil {
		return err
	}
	common := calibrate.Common{Senders: c.Senders, CPUs: pinned, Duration: duration}
	if pinned != nil {
		common.Senders = len(pinned)
	}
	sink, closeOut, err := openOut(a, c.Out)
	if err != nil {
		return err
	}
	defer closeOut()
	out := stream.New(sink, "calibrate", stream.NewRunID())
	withMachine(out.Event("config")).Str("libzmq", libzmqVersion()).Float64("duration_s", duration.Seconds()).Strs("transports", transports).
		Ints("sizes", sizes).Int("batch_size", c.BatchSize).Int("num_keys", c.NumKeys).Int("num_hashes", c.NumHashes).
		Int("senders", common.Senders).Str("pin_cpus", cpus.Format(pinned)).Int("concurrency", c.Concurrency).
		Bool("engine", c.Engine).Int("rounds", c.Rounds).Uint64("seed", c.Seed).Send()

	traffic := calibrate.Traffic{BatchSize: c.BatchSize, NumKeys: c.NumKeys, NumHashes: c.NumHashes, Lanes: c.Concurrency, Seed: c.Seed}
	plan := calibrate.Plan(transports, sizes, c.Engine, traffic)

	fmt.Fprintf(a.stderr, "lmfast calibrate: raw ZMQ ceiling of this machine (%s, libzmq %s), %s per measurement, %d round(s)\n",
		cpus.Describe(), libzmqVersion(), duration, c.Rounds)
	fmt.Fprintf(a.stderr, "  %-12s %-9s %8s %7s %9s %14s %10s\n", "kind", "transport", "bytes", "senders", "in flight", "msgs/s", "MiB/s")
	results, err := calibrate.Rounds(a.ctx, common, traffic, plan, c.Rounds, func(round int, m calibrate.Measurement) {
		out.Event("calibration").Int("round", round).Str("kind", m.Kind).Str("transport", m.Transport).
			Int("bytes", m.Bytes).Int("senders", m.Senders).Int("lanes", m.Lanes).
			Int64("sent", m.Sent).Int64("received", m.Received).Float64("seconds", m.Seconds).
			Float64("rate", m.Rate).Float64("mib_per_s", m.MiBPerSec()).Send()
		writeCalibrationRow(a.stderr, m)
	})
	var stepErr *calibrate.StepError
	if errors.As(err, &stepErr) {
		s := stepErr.Step
		out.Event("error").Str("kind", s.Kind).Str("transport", s.Transport).Str("error", stepErr.Err.Error()).Send()
		return failed("%v", stepErr)
	}
	writeCalibrationSummaries(a.stderr, out, calibrate.Summarize(plan, results))
	if err := out.Err(); err != nil {
		return failed("writing the JSONL stream: %v", err)
	}
	if a.ctx.Err() != nil {
		return errInterrupted
	}
	return nil
}

func writeCalibrationRow(w io.Writer, m calibrate.Measurement) {
	lanes := "-"
	if m.Kind == calibrate.KindRoundTrip {
		lanes = strconv.Itoa(m.Lanes)
	}
	fmt.Fprintf(w, "  %-12s %-9s %8d %7d %9s %14.1f %10.1f\n", m.Kind, m.Transport, m.Bytes, m.Senders, lanes, m.Rate, m.MiBPerSec())
}

// writeCalibrationSummaries writes one summary line per planned measurement
// (median, min, max over the rounds) and, for the engine's measurements,
// their ratio to the raw ones of the same traffic taken in the same rounds.
func writeCalibrationSummaries(stderr io.Writer, out *stream.Writer, sums []calibrate.Summary) {
	for _, s := range sums {
		out.Event("summary").Str("kind", s.Kind).Str("transport", s.Transport).Int("bytes", s.Bytes).
			Int("senders", s.Senders).Int("lanes", s.Lanes).Int("rounds", s.Rounds).
			Float64("rate_median", s.Median).Float64("rate_min", s.Min).Float64("rate_max", s.Max).Send()
		r := s.VsRaw
		if r == nil {
			continue
		}
		out.Event("summary").Str("kind", "engine_vs_raw").Str("measure", r.Measure).Str("transport", s.Transport).Int("bytes", s.Bytes).
			Int("raw_bytes", r.RawBytes).Int("rounds", len(r.Ratios)).Float64("ratio_median", r.Median).Floats64("ratios", r.Ratios).Send()
		fmt.Fprintf(stderr, "engine / raw %s of the same bytes over %s: %.3f (median of %d round(s): %s)\n",
			strings.ReplaceAll(r.Measure, "_", " "), s.Transport, r.Median, len(r.Ratios), formatFloats(r.Ratios))
	}
}

func formatFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = strconv.FormatFloat(f, 'f', 3, 64)
	}
	return strings.Join(parts, " ")
}
