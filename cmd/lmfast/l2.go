package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/lmfast/lmfast/l2"
	"github.com/lmfast/lmfast/stream"
)

// l2Cmd is `lmfast l2`: LMCache's `lmcache bench l2` flag for flag, plus
// lmfast's own flags. It only parses and wires; the work is in l2/.
type l2Cmd struct {
	L2Adapter        []string `name:"l2-adapter" sep:"none" placeholder:"JSON" help:"L2 adapter spec as JSON with a \"type\" field (fs, fs_native, mock); repeatable, every one is validated and the first is benchmarked. Default: $L2_ADAPTER_JSON."`
	NumKeys          int      `name:"num-keys" default:"32" help:"Keys per submit."`
	InFlight         int      `name:"in-flight" default:"1" help:"Submits per round (wave) or kept outstanding (window)."`
	DataSizeKB       int      `name:"data-size-kb" default:"256" help:"Payload per key, KiB."`
	L1AlignBytes     int      `name:"l1-align-bytes" default:"1" help:"Alignment of the payload buffers (lmfast always aligns to at least 4096)."`
	Rounds           int      `default:"1" help:"Measured rounds per operation."`
	WarmupRounds     int      `name:"warmup-rounds" default:"1" help:"Warmup rounds per operation, discarded."`
	LookupMaxHitRate float64  `name:"lookup-max-hit-rate" default:"0.0" help:"Upper bound of the lookup hit rate, clamped to [0,1]."`
	SkipVerify       bool     `name:"skip-verify" default:"true" negatable:"" help:"Skip the store -> load round-trip check (default); --no-skip-verify enables it."`
	Only             string   `placeholder:"store|lookup|load" help:"Run only this operation (default: store, lookup, load)."`
	Format           string   `default:"terminal" placeholder:"terminal|json" help:"Summary format on stderr and in --output."`
	Output           string   `placeholder:"FILE" help:"Also write the rendered summary to FILE."`
	Quiet            bool     `short:"q" help:"No progress lines or summary on stderr (--output is still written)."`

	Out          string        `placeholder:"FILE" help:"Write the JSONL stream to FILE instead of stdout."`
	Mode         string        `default:"wave" placeholder:"wave|window" help:"wave: LMCache's rounds (--in-flight submits, then wait); window: keep --in-flight submits outstanding for --duration."`
	Duration     secondsOrZero `default:"10" help:"Window mode: measured time per operation (seconds, or a Go duration); 0: run --rounds rounds instead (a fixed amount of work)."`
	IOWorkers    int           `name:"io-workers" default:"0" help:"I/O threads (default: fs_native's num_workers if given, else --in-flight, with buffered stores on at most 4 per CPU at once)."`
	PinCPUs      string        `name:"pin-cpus" help:"Pin the I/O threads round-robin to these CPUs (taskset syntax)."`
	HugePages    bool          `name:"hugepages" help:"Payload buffers on 2 MiB huge pages (MAP_HUGETLB, else transparent huge pages)."`
	THP          bool          `name:"thp" default:"true" negatable:"" help:"Payload buffers advised for transparent huge pages (madvise), so an O_DIRECT transfer is one segment, not one per 4 KiB page (default); --no-thp: no advice (4 KiB pages unless THP is 'always')."`
	LoadBuffers  string        `name:"load-buffers" default:"per-key" placeholder:"per-key|per-thread" help:"per-key: each load reads into its key's slot (LMCache's L1 layout); per-thread: into one buffer per I/O thread (fio's footprint)."`
	HeadReadKB   int           `name:"head-read-kb" default:"0" help:"N > 0: a buffered load of a key larger than N KiB reads its first N KiB, then the rest, when the adapter spec sets no read_ahead_size (the kernel reads the rest into large page-cache folios). 0 (default): one pread per key, as LMCache's fs_native."`
	Publish      string        `default:"rename" placeholder:"rename|in-place" help:"How fs and fs_native stores publish a key. rename: LMCache's, a temp file renamed to the final name (default). in-place: create, write and close the final file (fio's file pattern, one directory change per key instead of two): the filesystem without LMCache's publication; a reader could see a partial file."`
	DropCaches   bool          `name:"drop-caches" help:"Drop the page cache before lookup and load (root: drop_caches; else fadvise DONTNEED)."`
	Raw          bool          `help:"Also write one JSONL sample line per key."`
	RoundTimeout seconds       `name:"round-timeout" help:"Longest wait for a completion before a round times out (default: LMCache's 120s for store/load, 60s for lookup)."`

	Flamegraph           string `name:"flamegraph" default:"off" placeholder:"on|off" help:"on: record the measured operations with Go's CPU profiler and render an SVG flame graph."`
	FlamegraphMode       string `name:"flamegraph-mode" default:"on-cpu" placeholder:"MODE" help:"What to sample with --flamegraph on: on-cpu, the only mode lmfast has (LMCache's off-cpu, offwake, wakeup, wall and gil are refused)."`
	FlamegraphOutput     string `name:"flamegraph-output" placeholder:"PATH" help:"SVG path for --flamegraph on (default /tmp/lmcache_bench_flames/<adapter>.oncpu.svg); the Go CPU profile goes beside it, .svg replaced by .pb.gz."`
	FlamegraphScriptsDir string `name:"flamegraph-scripts-dir" placeholder:"DIR" help:"Accepted for LMCache compatibility and unused: lmfast renders the SVG itself."`

	specWarnings []string // the adapter specs' parse-time warnings, shown once the stream is open
}

// skipCost says what a store of a key already on disk cost.
func skipCost(inPlace bool) string {
	if inPlace {
		return "a refused create (O_EXCL)"
	}
	return "a discarded temp-file write"
}

// isSecond reports whether v, the value of a flag that takes one of two
// words, is the second; any other value is bad input naming both.
func isSecond(flag, v, first, second string) (bool, error) {
	switch v {
	case first:
		return false, nil
	case second:
		return true, nil
	}
	return false, badInput("%s: %q is not %s or %s", flag, v, first, second)
}

// l2ConfigHook, if set, adjusts the run's l2.Config after the flags were
// parsed: tests inject faults through it (a failing poll). nil otherwise.
var l2ConfigHook func(*l2.Config)

func (c *l2Cmd) Run(a *app) error {
	cfg, format, err := c.config()
	if err != nil {
		return err
	}
	if l2ConfigHook != nil {
		l2ConfigHook(cfg)
	}
	var flames *flameRecorder
	if c.Flamegraph == "on" { // its files are made before anything is written: an error is bad input
		if flames, err = newFlameRecorder(c.FlamegraphOutput, cfg.Spec.ClassName()); err != nil {
			return err
		}
		defer flames.stop()
	}

	summary, err := openSummary(c.Output)
	if err != nil {
		return err
	}
	defer summary.close()
	runID := stream.NewRunID()
	sink, outName, closeOut, err := openRunOut(a, c.Out, runID)
	if err != nil {
		return err
	}
	defer closeOut()
	out := stream.New(sink, "l2", runID)
	c.writeConfig(out, cfg)
	if err := out.Err(); err != nil {
		return outputError(err, outName, "nothing was run")
	}

	if !c.Quiet {
		cfg.Progress = a.stderr
	}
	// l2.Run sends its warnings to cfg.Warn and to the JSONL stream; the
	// command's own warnings go to both through warn.
	cfg.Warn = func(msg string) { fmt.Fprintf(a.stderr, "lmfast: warning: %s\n", msg) }
	warn := func(msg string) {
		cfg.Warn(msg)
		out.Event("warning").Str("warning", msg).Send()
	}
	for _, w := range c.specWarnings {
		warn(w)
	}
	if cfg.Verify && !cfg.Runs(l2.Load) {
		warn("--no-skip-verify: nothing to verify without a load operation")
	}
	if c.FlamegraphScriptsDir != "" {
		warn("--flamegraph-scripts-dir is not used: lmfast renders the flame graph itself from its Go CPU profile")
	}
	if flames != nil {
		flames.progress, flames.warn, flames.out = cfg.Progress, warn, out
		cfg.BeforeOps, cfg.AfterOps = flames.start, flames.stop
		defer flames.stop() // a run that ended early: before the stream closes
	}
	var verdict l2.Verdict
	var renderErr error
	cfg.BeforeCleanup = func(res *l2.Result) {
		verdict = l2.Judge(res)
		if verdict.SkippedStores > 0 {
			warn(fmt.Sprintf("store: %d keys were already on disk and were not rewritten (LMCache's skip-if-present); "+
				"they count as success but not as throughput, and each cost %s — use an empty base_path to measure writes", verdict.SkippedStores, skipCost(cfg.InPlace)))
		}
		doc := l2.Document(res, verdict.Status())
		l2.WriteSummaries(out, res, doc, verdict)
		text := l2.RenderTerminal(doc)
		if format == "json" {
			text = l2.RenderJSON(doc)
		}
		if !c.Quiet && out.Err() == nil { // a lost output is reported in one line
			io.WriteString(a.stderr, text)
		}
		if err := summary.write(text); err != nil {
			renderErr = failed("--output: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	go func() { // a lost output stops the run as an interrupt does
		select {
		case <-out.Failed():
			cancel()
		case <-ctx.Done():
		}
	}()
	res, err := l2.Run(ctx, cfg, out)
	if err := out.Err(); err != nil {
		return outputError(err, outName, "stopped the run")
	}
	if err != nil {
		out.Event("error").Str("error", err.Error()).Send()
		return failed("%v", err)
	}
	if res.Interrupted {
		return errInterrupted
	}
	if renderErr != nil {
		return renderErr
	}
	if !verdict.OK() {
		return failed("l2: %s", strings.TrimPrefix(verdict.Status(), "FAILED: "))
	}
	return nil
}

// summaryFile is --output, opened before the run so that a path that
// cannot be written is exit 2 at once, not a summary lost after the whole
// benchmark. A file that exists keeps its content until the summary
// replaces it; one the run created is removed again if the run ends
// without a summary (adapter creation failed, a failed wait). A nil
// *summaryFile (no --output) does nothing.
type summaryFile struct {
	f                *os.File
	created, written bool
}

func openSummary(path string) (*summaryFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_WRONLY, 0)
	}
	if err != nil {
		return nil, badInput("--output: %v", err)
	}
	return &summaryFile{f: f, created: created}, nil
}

// write replaces the file's content with text (a pipe or a terminal just
// gets text) and closes it.
func (s *summaryFile) write(text string) error {
	if s == nil {
		return nil
	}
	s.written = true
	var err error
	if fi, e := s.f.Stat(); e == nil && fi.Mode().IsRegular() {
		err = s.f.Truncate(0)
	}
	if err == nil {
		_, err = s.f.WriteString(text)
	}
	if e := s.f.Close(); err == nil {
		err = e
	}
	return err
}

// close closes a file write did not, and removes it if the run created it.
func (s *summaryFile) close() {
	if s == nil || s.written {
		return
	}
	s.f.Close()
	if s.created {
		os.Remove(s.f.Name())
	}
}

// config turns the flags into an l2.Config; every error is exit 2, in
// LMCache's words where LMCache has them.
func (c *l2Cmd) config() (*l2.Config, string, error) {
	if c.L1AlignBytes <= 0 {
		return nil, "", badInput("--l1-align-bytes must be positive")
	}
	if c.DataSizeKB < 1 {
		return nil, "", badInput("--data-size-kb must be at least 1")
	}
	if c.DataSizeKB > 1<<20 {
		return nil, "", badInput("--data-size-kb %d is more than 1 GiB per key", c.DataSizeKB)
	}
	payload := c.DataSizeKB * 1024
	if payload%c.L1AlignBytes != 0 {
		return nil, "", badInput("--data-size-kb must produce a payload size that is a multiple of --l1-align-bytes")
	}
	format := c.Format
	if format != "terminal" && format != "json" {
		return nil, "", badInput("--format: unknown format %q (available: json, terminal)", format)
	}
	if err := c.checkFlamegraph(); err != nil {
		return nil, "", err
	}
	ops := l2.Ops
	if c.Only != "" {
		op, err := l2.ParseOp(c.Only)
		if err != nil {
			return nil, "", badInput("--only: %v", err)
		}
		ops = []l2.Op{op}
	}
	window, err := isSecond("--mode", c.Mode, "wave", "window")
	if err != nil {
		return nil, "", err
	}
	mode := l2.Wave
	if window {
		mode = l2.Window
	}
	inPlace, err := isSecond("--publish", c.Publish, "rename", "in-place")
	if err != nil {
		return nil, "", err
	}
	threadBufs, err := isSecond("--load-buffers", c.LoadBuffers, "per-key", "per-thread")
	if err != nil {
		return nil, "", err
	}
	duration := time.Duration(c.Duration) // 0, window mode: --rounds rounds
	storeLoad, lookup := l2.DefaultStoreLoadTimeout, l2.DefaultLookupTimeout
	if c.RoundTimeout != 0 {
		storeLoad, lookup = time.Duration(c.RoundTimeout), time.Duration(c.RoundTimeout)
	}
	pinned, err := pinList(c.PinCPUs)
	if err != nil {
		return nil, "", err
	}
	if c.IOWorkers < 0 {
		return nil, "", badInput("--io-workers must not be negative")
	}
	if c.HeadReadKB < 0 || c.HeadReadKB > 1<<20 {
		return nil, "", badInput("--head-read-kb must be between 0 and 1048576")
	}

	raws := c.L2Adapter
	if len(raws) == 0 {
		if env := os.Getenv("L2_ADAPTER_JSON"); env != "" {
			raws = []string{env}
		} else {
			return nil, "", badInput("No L2 adapter configuration provided. Use --l2-adapter JSON or set L2_ADAPTER_JSON environment variable.")
		}
	}
	specs, err := l2.ParseSpecs(raws)
	if err != nil {
		return nil, "", badInput("Error parsing L2 adapter config: %v", err)
	}
	for _, sp := range specs {
		c.specWarnings = append(c.specWarnings, sp.Warnings()...)
	}
	spec := specs[0]
	workers, storeWorkers := c.IOWorkers, 0
	if workers == 0 {
		workers = c.InFlight
		if spec.Type == "fs_native" && spec.NumWorkers > 0 {
			workers = spec.NumWorkers
		} else {
			storeWorkers = bufferedStoreWorkers(len(pinned))
		}
		workers = min(max(workers, 1), 256)
	}
	cfg := &l2.Config{
		Spec: spec, NumKeys: c.NumKeys, InFlight: c.InFlight, Payload: payload, Align: c.L1AlignBytes,
		Rounds: c.Rounds, Warmup: c.WarmupRounds, HitRate: max(0, min(1, c.LookupMaxHitRate)),
		Verify: !c.SkipVerify, Ops: ops, Mode: mode, Duration: duration, IOWorkers: workers, BufferedStoreWorkers: storeWorkers, CPUs: pinned,
		HugePages: c.HugePages, PlainPages: !c.THP, HeadRead: c.HeadReadKB * 1024, InPlace: inPlace, ThreadBuffers: threadBufs, DropCaches: c.DropCaches, Raw: c.Raw,
		StoreLoadTimeout: storeLoad, LookupTimeout: lookup,
	}
	if c.LookupMaxHitRate != c.LookupMaxHitRate { // NaN
		return nil, "", badInput("--lookup-max-hit-rate must be a number")
	}
	if err := cfg.Validate(); err != nil {
		return nil, "", badInput("%v", err)
	}
	return cfg, format, nil
}

// writeConfig writes the run's config line: every effective setting.
func (c *l2Cmd) writeConfig(out *stream.Writer, cfg *l2.Config) {
	ops := make([]string, len(cfg.Ops))
	for i, o := range cfg.Ops {
		ops[i] = o.String()
	}
	pins := make([]string, len(cfg.CPUs))
	for i, p := range cfg.CPUs {
		pins[i] = fmt.Sprint(p)
	}
	s := cfg.Spec
	withMachine(out.Event("config")).
		Str("go", runtime.Version()).Str("kernel", kernelRelease()).
		Str("l2_adapter_json", s.Raw).Str("adapter_type", s.Type).Str("adapter", s.ClassName()).
		Str("base_path", s.BasePath).Bool("use_odirect", s.UseODirect).Str("relative_tmp_dir", s.RelativeTmpDir).
		Int64("read_ahead_size", s.ReadAheadSize).Float64("max_capacity_gb", s.MaxCapacityGB).Bool("recover_on_start", s.RecoverOnStart).
		Str("eviction_policy", s.Eviction.Policy).Float64("trigger_watermark", s.Eviction.TriggerWatermark).Float64("eviction_ratio", s.Eviction.EvictionRatio).
		Int("num_keys", cfg.NumKeys).Int("in_flight", cfg.InFlight).Int("keys_per_round", cfg.KeysPerRound()).
		Int("data_size_kb", c.DataSizeKB).Int("payload_bytes", cfg.Payload).Int("l1_align_bytes", cfg.Align).
		Int("rounds", cfg.Rounds).Int("warmup_rounds", cfg.Warmup).
		Float64("lookup_max_hit_rate", c.LookupMaxHitRate).Float64("lookup_hit_rate", cfg.HitRate).
		Bool("verify", cfg.Verify).Str("operations", strings.Join(ops, ",")).Str("mode", cfg.Mode.String()).
		Float64("duration_s", cfg.Duration.Seconds()).Int("io_workers", cfg.IOWorkers).Int("buffered_store_workers", cfg.BufferedStoreWorkers).Str("pin_cpus", strings.Join(pins, ",")).
		Str("io_engine", "psync").Bool("hugepages", cfg.HugePages).Bool("thp", !cfg.PlainPages).Int("head_read_kb", c.HeadReadKB).Str("load_buffers", c.LoadBuffers).Str("publish", c.Publish).Bool("drop_caches", cfg.DropCaches).Bool("raw", cfg.Raw).
		Float64("store_load_timeout_s", cfg.StoreLoadTimeout.Seconds()).Float64("lookup_timeout_s", cfg.LookupTimeout.Seconds()).
		Str("format", c.Format).Str("flamegraph", c.Flamegraph).Str("flamegraph_mode", c.FlamegraphMode).
		Send()
}

// storeThreadsPerCPU is how many I/O threads per CPU store at once by
// default when stores are buffered (docs/performance.md, "L2: buffered
// stores").
const storeThreadsPerCPU = 4

// bufferedStoreWorkers is the default cap on threads storing at once when
// stores are buffered: storeThreadsPerCPU per pinned CPU, or per CPU this
// process may run on.
func bufferedStoreWorkers(pinned int) int {
	if pinned == 0 {
		pinned = runtime.NumCPU()
	}
	return storeThreadsPerCPU * pinned
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
