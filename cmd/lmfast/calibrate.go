package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/lmfast/lmfast/engine/calibrate"
	"github.com/lmfast/lmfast/internal/cpus"
	"github.com/lmfast/lmfast/stream"
)

// calibrateCmd is `lmfast calibrate`: this machine's raw ZMQ ceiling with
// lmfast's own message bytes, and (--engine) how close lmfast's engine gets
// to it. The work is in engine/calibrate.
type calibrateCmd struct {
	Duration    string `default:"2s" help:"How long each measurement sends (seconds or a Go duration)."`
	Transports  string `default:"tcp,ipc" help:"Transports to measure: tcp (127.0.0.1), ipc."`
	Sizes       string `default:"64,512,4096,32768" help:"Payload sizes in bytes of the PUSH size sweep, beside the batch itself (\"\" for none)."`
	BatchSize   int    `name:"batch-size" default:"50" help:"KV operations in the BatchedKVOperationMsg payload (as lmfast controller --batch-size)."`
	NumKeys     int    `name:"num-keys" default:"10000" help:"Key space of that batch (as lmfast controller --num-keys)."`
	NumHashes   int    `name:"num-hashes" default:"100" help:"Hashes in the BatchedP2PLookupMsg of the round-trip measurement."`
	Senders     int    `default:"1" help:"Sending goroutines, each with its own sockets and OS thread (ignored with --pin-cpus)."`
	PinCPUs     string `name:"pin-cpus" help:"One sender per listed CPU, pinned (taskset syntax)."`
	Concurrency int    `default:"1" help:"Round trips in flight per sender, each on its own DEALER."`
	Engine      bool   `help:"Also measure lmfast's engine into the same sink, alternating with the raw PUSH of the same bytes, and report engine/raw."`
	Rounds      int    `default:"1" help:"Repeat every measurement this many times; medians are reported."`
	Seed        uint64 `default:"1" help:"Seed of the batch payload's keys."`
	Out         string `help:"Write the JSONL stream to this file instead of stdout."`
}

// calibrationPlan is one measurement to take.
type calibrationPlan struct {
	kind, transport string
	payload         []byte // push: what is sent
}

// Run takes every planned measurement --rounds times and writes them.
func (c *calibrateCmd) Run(a *app) error {
	duration, err := parseSeconds("--duration", c.Duration)
	if err != nil {
		return badInput("%v", err)
	}
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
	withMachine(out.Event("config")).Float64("duration_s", duration.Seconds()).Strs("transports", transports).
		Ints("sizes", sizes).Int("batch_size", c.BatchSize).Int("num_keys", c.NumKeys).Int("num_hashes", c.NumHashes).
		Int("senders", common.Senders).Str("pin_cpus", cpus.Format(pinned)).Int("concurrency", c.Concurrency).
		Bool("engine", c.Engine).Int("rounds", c.Rounds).Uint64("seed", c.Seed).Send()

	batch := calibrate.SampleBatch(c.BatchSize, c.NumKeys, c.Seed)
	request, reply := calibrate.SampleLookup(c.NumHashes, c.NumKeys)
	var plan []calibrationPlan
	for _, t := range transports {
		plan = append(plan, calibrationPlan{kind: calibrate.KindPush, transport: t, payload: batch})
		if c.Engine {
			plan = append(plan, calibrationPlan{kind: calibrate.KindEnginePush, transport: t})
		}
		for _, n := range sizes {
			plan = append(plan, calibrationPlan{kind: calibrate.KindPush, transport: t, payload: filler(n)})
		}
		plan = append(plan, calibrationPlan{kind: calibrate.KindRoundTrip, transport: t})
		if c.Engine {
			plan = append(plan, calibrationPlan{kind: calibrate.KindEngineRoundTrip, transport: t})
		}
	}

	fmt.Fprintf(a.stderr, "lmfast calibrate: raw ZMQ ceiling of this machine (%s, libzmq %s), %s per measurement, %d round(s)\n",
		cpus.Describe(), libzmqVersion(), duration, c.Rounds)
	fmt.Fprintf(a.stderr, "  %-12s %-9s %8s %7s %9s %14s %10s\n", "kind", "transport", "bytes", "senders", "in flight", "msgs/s", "MiB/s")
	var results [][]calibrate.Measurement // per plan entry, one per round
	results = make([][]calibrate.Measurement, len(plan))
	for round := 1; round <= c.Rounds && a.ctx.Err() == nil; round++ {
		for i, p := range plan {
			if a.ctx.Err() != nil {
				break
			}
			common.Transport = p.transport
			var m calibrate.Measurement
			switch p.kind {
			case calibrate.KindPush:
				m, err = calibrate.Push(a.ctx, common, p.payload)
			case calibrate.KindEnginePush:
				m, err = calibrate.EnginePush(a.ctx, common, c.BatchSize, c.NumKeys, c.Seed)
			case calibrate.KindRoundTrip:
				m, err = calibrate.RoundTrip(a.ctx, common, c.Concurrency, request, reply)
			case calibrate.KindEngineRoundTrip:
				m, err = calibrate.EngineRoundTrip(a.ctx, common, c.Concurrency, c.NumHashes, c.NumKeys, c.Seed)
			}
			if a.ctx.Err() != nil {
				break // interrupted: what was cut short is not a measurement
			}
			if err != nil {
				out.Event("error").Str("kind", p.kind).Str("transport", p.transport).Str("error", err.Error()).Send()
				return failed("calibrate %s over %s: %v", p.kind, p.transport, err)
			}
			results[i] = append(results[i], m)
			out.Event("calibration").Int("round", round).Str("kind", m.Kind).Str("transport", m.Transport).
				Int("bytes", m.Bytes).Int("senders", m.Senders).Int("lanes", m.Lanes).
				Int64("sent", m.Sent).Int64("received", m.Received).Float64("seconds", m.Seconds).
				Float64("rate", m.Rate).Float64("mib_per_s", m.MiBPerSec()).Send()
			writeCalibrationRow(a.stderr, m)
		}
	}
	writeCalibrationSummaries(a.stderr, out, plan, results)
	if err := out.Err(); err != nil {
		return failed("writing the JSONL stream: %v", err)
	}
	if a.ctx.Err() != nil {
		return errInterrupted
	}
	return nil
}

// filler is an n-byte payload for the size sweep (libzmq does not look
// inside messages; msgpack-valid bytes are not needed).
func filler(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
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
func writeCalibrationSummaries(stderr io.Writer, out *stream.Writer, plan []calibrationPlan, results [][]calibrate.Measurement) {
	raw := map[string][]calibrate.Measurement{} // transport/measure → raw results
	for i, p := range plan {
		ms := results[i]
		if len(ms) == 0 {
			continue
		}
		rates := make([]float64, len(ms))
		for j, m := range ms {
			rates[j] = m.Rate
		}
		m := ms[0]
		out.Event("summary").Str("kind", m.Kind).Str("transport", m.Transport).Int("bytes", m.Bytes).
			Int("senders", m.Senders).Int("lanes", m.Lanes).Int("rounds", len(ms)).
			Float64("rate_median", median(rates)).Float64("rate_min", slices.Min(rates)).Float64("rate_max", slices.Max(rates)).Send()
		measure := "push"
		switch p.kind {
		case calibrate.KindPush:
			if raw[p.transport+"/push"] == nil {
				raw[p.transport+"/push"] = ms // the first push of a transport is the batch
			}
			continue
		case calibrate.KindRoundTrip:
			raw[p.transport+"/round_trip"] = ms
			continue
		case calibrate.KindEngineRoundTrip:
			measure = "round_trip"
		}
		base := raw[p.transport+"/"+measure]
		var ratios []float64
		for j := 0; j < len(ms) && j < len(base); j++ {
			if base[j].Rate > 0 {
				ratios = append(ratios, ms[j].Rate/base[j].Rate)
			}
		}
		if len(ratios) == 0 {
			continue
		}
		out.Event("summary").Str("kind", "engine_vs_raw").Str("measure", measure).Str("transport", p.transport).Int("bytes", m.Bytes).
			Int("raw_bytes", base[0].Bytes).Int("rounds", len(ratios)).Float64("ratio_median", median(ratios)).Floats64("ratios", ratios).Send()
		fmt.Fprintf(stderr, "engine / raw %s of the same bytes over %s: %.3f (median of %d round(s): %s)\n",
			strings.ReplaceAll(measure, "_", " "), p.transport, median(ratios), len(ratios), formatFloats(ratios))
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func formatFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = strconv.FormatFloat(f, 'f', 3, 64)
	}
	return strings.Join(parts, " ")
}
