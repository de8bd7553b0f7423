package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/lmfast/lmfast/internal/flame"
	"github.com/lmfast/lmfast/stream"
)

// flameModes are LMCache's flame-graph modes and the tag each puts in the
// default file name (lmcache/cli/profiling.py, _MODE_TAG). lmfast records
// its own process with Go's CPU profiler, which samples on-CPU time: only
// on-cpu is available.
var flameModes = map[string]string{"on-cpu": "oncpu", "off-cpu": "offcpu", "offwake": "offwake", "wakeup": "wakeup", "wall": "wall", "gil": "gil"}

// flameModeNames lists flameModes sorted, as LMCache's error names them.
const flameModeNames = "gil, off-cpu, offwake, on-cpu, wakeup, wall"

// checkFlamegraph validates the --flamegraph flags (exit 2 on error), as
// LMCache's command does before it creates the adapter: the modes are
// only looked at with --flamegraph on.
func (c *l2Cmd) checkFlamegraph() error {
	switch c.Flamegraph {
	case "off":
		return nil
	case "on":
	default:
		return badInput("--flamegraph: invalid choice: '%s' (choose from 'on', 'off')", c.Flamegraph)
	}
	for _, m := range strings.Split(c.FlamegraphMode, ",") {
		m = strings.TrimSpace(m)
		if _, known := flameModes[m]; !known {
			return badInput("--flamegraph-mode: invalid flame-graph mode: '%s' (expected one of %s)", m, flameModeNames)
		}
		if m != "on-cpu" {
			return badInput("--flamegraph-mode: mode '%s' is not available in lmfast: it profiles itself with Go's CPU profiler, "+
				"which samples on-CPU time only (on-cpu)", m)
		}
	}
	return nil
}

// flameRecorder records the measured operations with Go's CPU profiler
// and renders the profile as an SVG flame graph (internal/flame).
type flameRecorder struct {
	svg, prof string
	title     string
	f         *os.File
	started   bool
	done      bool
	progress  io.Writer
	warn      func(string)
	out       *stream.Writer
}

// flameOutputs are the SVG path (--flamegraph-output, else LMCache's
// default /tmp/lmcache_bench_flames/<adapter>.oncpu.svg) and the profile's
// beside it: the same path with .pb.gz for .svg.
func flameOutputs(output, adapterClass string) (svg, prof string) {
	svg = output
	if svg == "" {
		svg = filepath.Join("/tmp/lmcache_bench_flames", adapterClass+"."+flameModes["on-cpu"]+".svg")
	}
	return svg, strings.TrimSuffix(svg, ".svg") + ".pb.gz"
}

// newFlameRecorder prepares the outputs: the directory is created and a
// previous run's files removed (a failed recording must not leave an old
// graph that reads as this run's), and the profile file is created. An
// error is exit 2, as LMCache's "cannot start flame-graph profiling". The
// caller sets progress, warn and out before the run starts.
func newFlameRecorder(output, adapterClass string) (*flameRecorder, error) {
	svg, prof := flameOutputs(output, adapterClass)
	if err := os.MkdirAll(filepath.Dir(svg), 0o777); err != nil {
		return nil, badInput("cannot start flame-graph profiling: %v", err)
	}
	for _, p := range []string{svg, prof} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return nil, badInput("cannot start flame-graph profiling: %v", err)
		}
	}
	f, err := os.Create(prof)
	if err != nil {
		return nil, badInput("cannot start flame-graph profiling: %v", err)
	}
	return &flameRecorder{svg: svg, prof: prof, title: "on-cpu (" + adapterClass + ")", f: f}, nil
}

func (r *flameRecorder) log(s string) {
	if r.progress != nil {
		fmt.Fprintln(r.progress, s)
	}
}

// start begins the CPU profile (l2.Config.BeforeOps).
func (r *flameRecorder) start() {
	if err := pprof.StartCPUProfile(r.f); err != nil {
		r.warn(fmt.Sprintf("flamegraph: cannot start the CPU profile: %v", err))
		return
	}
	r.started = true
	r.log(fmt.Sprintf("[Profile] on-cpu recording started (pid=%d) -> %s", os.Getpid(), r.svg))
}

// stop ends the profile and renders the SVG (l2.Config.AfterOps, and
// again after the run in case it ended early; only the first call acts).
// A profile that cannot be rendered is warned about; the run's exit code
// does not change, as in LMCache.
func (r *flameRecorder) stop() {
	if r.done {
		return
	}
	r.done = true
	if r.out == nil { // the run never started: nothing was recorded
		r.f.Close()
		os.Remove(r.prof)
		return
	}
	if r.started {
		pprof.StopCPUProfile()
	}
	if err := r.f.Close(); err != nil {
		r.warn(fmt.Sprintf("flamegraph: writing %s: %v", r.prof, err))
		return
	}
	if !r.started {
		os.Remove(r.prof)
		return
	}
	r.log("[Profile] rendering flame graph...")
	samples, cpu, err := r.render()
	if err != nil {
		r.warn(fmt.Sprintf("flamegraph: render failed: %v (the CPU profile is in %s)", err, r.prof))
		return
	}
	if samples == 0 {
		r.warn("flamegraph: the CPU profile captured no samples: the measured phase was too short to sample at 100 Hz; raise --rounds, --num-keys or --data-size-kb")
	}
	r.log(fmt.Sprintf("[Profile] wrote %s (profile: %s)", r.svg, r.prof))
	r.out.Event("flamegraph").Str("mode", "on-cpu").Str("svg", r.svg).Str("profile", r.prof).
		Int64("samples", samples).Float64("cpu_ms", float64(cpu)/1e6).Send()
}

// render reads the profile back and writes the SVG; it returns the
// samples and the CPU nanoseconds the profile holds.
func (r *flameRecorder) render() (samples, cpu int64, err error) {
	f, err := os.Open(r.prof)
	if err != nil {
		return 0, 0, err
	}
	p, err := profile.Parse(f)
	f.Close()
	if err != nil {
		return 0, 0, err
	}
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			for _, s := range p.Sample {
				cpu += s.Value[i]
			}
		}
	}
	out, err := os.Create(r.svg)
	if err != nil {
		return 0, 0, err
	}
	if err := flame.Render(out, p, r.title); err != nil {
		out.Close()
		return 0, 0, err
	}
	return flame.Samples(p), cpu, out.Close()
}
