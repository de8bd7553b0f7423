// Package l2 benchmarks LMCache's L2 storage adapters: it drives store,
// lookup and load rounds exactly as `lmcache bench l2` does, on LMCache's
// own file layout byte for byte, and measures every key.
//
// A command uses it in this order:
//
//	ParseSpecs        the --l2-adapter JSON into Specs, with LMCache's messages
//	Config.Validate   the run's settings
//	Run               runs the operations; returns a Result
//	Judge             the Verdict of a Result (exit code, status line)
//	Document          the summary's sections (Stats of each operation)
//	RenderTerminal    the summary as LMCache prints it; RenderJSON as its JSON
//	WriteSummaries    the closing JSONL lines
//
// The pieces, one file each:
//
//	key.go      ObjectKey, LMCache's file names, a key's final and temp name
//	spec.go     the --l2-adapter JSON, with LMCache's validation messages
//	adapter.go  the Adapter ops table (store, lookup, load of one key) and its factory
//	fs.go       the fs / fs_native adapter: temp file and rename, O_DIRECT rules
//	cache.go    dropping the page cache before lookup and load
//	mock.go     the in-memory mock adapter and its shared link of fixed bandwidth
//	sys.go      the *at syscalls on NUL-terminated names, full reads and writes
//	engine.go   the Engine interface: the pinned psync worker pool, eventfd completions
//	config.go   Config, its modes and limits
//	runner.go   Run and the runner's lifecycle (Ctrl-C, cleanup)
//	buffers.go  the payload slots: LMCache's pattern, poisoned load buffers
//	harvest.go  issuing a submit's jobs, waiting for and draining completions
//	wave.go     LMCache's rounds: --in-flight submits, then wait for all
//	window.go   a window of --in-flight submits kept outstanding
//	record.go   finished keys into rounds, histograms and error counts; round lines
//	samples.go  the --raw sample lines
//	verify.go   the store -> load round-trip check
//	result.go   what a run measured
//	stats.go    the mean, deviation and percentiles LMCache computes
//	summary.go  LMCache's statistics of an operation, the summary and its renderings
//	report.go   the verdict and the closing JSONL lines
package l2
