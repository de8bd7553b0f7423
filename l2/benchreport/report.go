package benchreport

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Options are what the report says besides the rows: its date label, the
// machine paragraph, and the settings the JSONL's settings line gives when
// it has them. A JSONL without a settings line (an early run) is rendered
// with the Fallback settings and as measured without setups and turns.
type Options struct {
	Date    string // the report's label: l2-<Date>.md, l2-<Date>.jsonl
	Machine string // the machine paragraph, one or more lines
	// Fallback are the script's settings from its environment (or its
	// defaults); the JSONL's own win where it has them.
	Fallback Settings
}

// Settings are the bench's knobs as text, as the script passes them.
type Settings struct {
	Reps, MiB, Pairs string // L2_BENCH_REPS, L2_BENCH_MIB, L2_BENCH_PAIRS
	HugePages        string // L2_BENCH_HUGEPAGES: 1 when both tools ran on huge pages
	Idle, Setup      string // L2_BENCH_IDLE, L2_BENCH_SETUP (seconds)
}

// DefaultSettings are the script's defaults.
var DefaultSettings = Settings{Reps: "5", MiB: "1024", Pairs: "8", HugePages: "1", Idle: "1", Setup: "1.5"}

// run is one rendering: the data and the settings it was run with.
type run struct {
	d                                 *Data
	huge, idle, setup, kept, measured string
	backedMiB, backedS                string // the free memory written over before the run ("" or 0: not)
	rotated, pairs, reps, mib         string
	nreps                             int
	failed                            []string // failed runs noted since the last failedLine
}

// The report's points: payloads, queue depths, O_DIRECT first.
var (
	sizes   = []int{256, 1024}
	depths  = []int{8, 32}
	directs = []int{1, 0}
)

// lookupKeys is how many keys the lookup section stores.
const lookupKeys = 65536

// Render writes the markdown report of d.
func Render(w io.Writer, d *Data, opt Options) error {
	r := &run{d: d}
	f := opt.Fallback
	if d.HasSettings() {
		r.huge, r.idle, r.setup, r.kept = d.Setting("hugepages"), d.Setting("idle_s"), d.Setting("fio_extra_s"), d.Setting("memory_kept")
		r.measured, r.rotated, r.pairs = d.Setting("setup_measured"), d.Setting("rotated"), d.Setting("pairs")
		r.reps, r.mib = d.Setting("reps"), d.Setting("mib")
		r.backedMiB, r.backedS = d.Setting("memory_backed_mib"), d.Setting("memory_backed_s")
		if r.reps == "" {
			r.reps = f.Reps
		}
		if r.mib == "" {
			r.mib = f.MiB
		}
	} else {
		r.huge, r.idle, r.setup, r.kept = f.HugePages, f.Idle, f.Setup, "0"
		r.measured, r.rotated, r.pairs, r.reps, r.mib = "0", "0", f.Pairs, f.Reps, f.MiB
	}
	r.nreps, _ = strconv.Atoi(r.reps)
	var b strings.Builder
	r.header(&b, opt)
	r.mainTable(&b)
	if d.paired {
		r.pairTable(&b)
	}
	r.hotTable(&b)
	r.lookupTable(&b)
	fmt.Fprintf(&b, "For scale (from the issue, not measured here): LMCache's Python fs adapter ~25k keys/s, its C++ fs_native ~200-290k.\n\n")
	fmt.Fprintf(&b, "Raw figures: `l2-%s.jsonl` beside this file (one line per run: tool, engine, op, payload_kb, qd, direct, rep, value).\n", opt.Date)
	_, err := io.WriteString(w, b.String())
	return err
}

// orDefault0 is the text with "" read as "0" (the script's ${X:-0}).
func orDefault0(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func (r *run) header(b *strings.Builder, opt Options) {
	huge := r.huge == "1"
	mib, _ := strconv.Atoi(r.mib)
	fmt.Fprintf(b, "# lmfast l2 vs fio (%s)\n\n", opt.Date)
	fmt.Fprintf(b, "%s\n\n", strings.TrimRight(opt.Machine, "\n"))
	pairs := ""
	if r.d.paired {
		pairs = " L2_BENCH_PAIRS=" + r.pairs + ","
	}
	fmt.Fprintf(b, "Command: `make bench` (= `bash scripts/bench-l2.sh bin/lmfast bench_results %s`), L2_BENCH_REPS=%s,%s L2_BENCH_MIB=%s.\n\n", opt.Date, r.reps, pairs, r.mib)
	fmt.Fprintf(b, "Method: one file per key, %s MiB per run (%d keys of 256 KiB or %s of 1 MiB), written once and read back\n", r.mib, mib*4, r.mib)
	b.WriteString("whole. Queue depth Q: lmfast `--in-flight Q --num-keys K/Q --rounds 1 --warmup-rounds 0` (Q psync I/O threads,\n")
	b.WriteString("LMCache's fs layout: temp file, pwrite, close, rename — RENAME_NOREPLACE instead of LMCache's stat first, see the\n")
	hugeNote := ""
	if huge {
		hugeNote = ", `--hugepages` on 2 MiB pages the script reserves"
	}
	fmt.Fprintf(b, "README; payload buffers distinct per key, as LMCache's L1 slots%s);\n", hugeNote)
	b.WriteString("every lmfast store is followed by two cold loads, in alternating order: into those slots (\"lmfast\") and with\n")
	b.WriteString("`--load-buffers per-thread` (\"per-thread\": one buffer per I/O thread, the memory footprint of fio's jobs, which\n")
	b.WriteString("each reuse one buffer per I/O in flight). The verdict on loads compares the per-thread runs: like with like.\n")
	if r.d.load2 {
		b.WriteString("Every fio engine loads twice after its store too, and each lmfast load is compared with fio's load in the same place.\n")
	}
	fioHuge := ""
	if huge {
		fioHuge = " (all with `--iomem=shmhuge`: huge-page buffers for both tools)"
	}
	fmt.Fprintf(b, "fio psync `numjobs=Q`, io_uring and libaio%s\n", fioHuge)
	b.WriteString("`iodepth=Q` (libaio only with O_DIRECT), `filesize=bs=payload`, `create_on_open=1 fallocate=none`. The page\n")
	b.WriteString("cache is dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every store and every cold load, and the\n")
	if orDefault0(r.measured) == "1" {
		fmt.Fprintf(b, "disk then left idle for as long before either tool's first I/O: %s s, then lmfast sets up its buffers (measured\n", r.idle)
		fmt.Fprintf(b, "from launch to its first round's start: median %s s for stores, %s s for loads) and fio\n", median(r.d.setups("store"), 2), median(r.d.setups("load"), 2))
		fmt.Fprintf(b, "waits %s s plus lmfast's latest setup of the same operation. Each\n", r.idle)
	} else {
		fmt.Fprintf(b, "disk then left idle for the same time before either tool starts (%s s, fio %s s more for lmfast's buffer setup). Each\n", r.idle, r.setup)
	}
	if orDefault0(r.rotated) == "1" {
		b.WriteString("repetition runs lmfast and every fio engine back to back, repetition r starting with the r-th of lmfast, psync,\n")
		b.WriteString("io_uring(, libaio) in that cyclic order, so no tool always follows the same one. Best fio engine = the one with the highest median at\n")
	} else {
		b.WriteString("repetition runs lmfast and every fio engine back to back. Best fio engine = the one with the highest median at\n")
	}
	fmt.Fprintf(b, "that point; ratio = lmfast / that engine's run *of the same repetition*; the table gives medians over %s\n", r.reps)
	b.WriteString("repetitions (MiB/s = 2^20 B/s). A failed run (lmfast: a failed key or no summary; fio: an error) counts\n")
	b.WriteString("for neither tool: it is left out of the medians and of the ratios of its repetition, and listed below\n")
	b.WriteString("each table; a cell without data is n/a, never a pass.\n")
	if orDefault0(r.kept) == "1" {
		b.WriteString("Free page reporting (virtio-balloon: free guest memory handed back to the host, whose next touch then faults\n")
		b.WriteString("on the host) was off for the run, so that the page cache of a cold load is memory the VM holds (notes §10).\n")
	}
	if orDefault0(r.backedMiB) != "0" {
		fmt.Fprintf(b, "Before the run the free memory but 1 GiB was written over once (%s MiB in %s s), so that pages the VM had handed\n", r.backedMiB, r.backedS)
		b.WriteString("back before it were its own again and no timed run paid the host's first touch.\n")
	}
	b.WriteString("\n")
}

// LoadOrder is lmfast's two cold loads after a store in repetition rep,
// first one first, as JSONL engines: psync (per-key) first in odd
// repetitions, psync-thread (per-thread) first in even ones.
func LoadOrder(rep int) [2]string {
	if rep%2 == 1 {
		return [2]string{"psync", "psync-thread"}
	}
	return [2]string{"psync-thread", "psync"}
}

// loadPos is the place (1 or 2) of lmfast's load engine after its store in
// repetition rep.
func loadPos(engine string, rep int) int {
	if LoadOrder(rep)[0] == engine {
		return 1
	}
	return 2
}

// ratios are, per repetition where both ran, lmfast (engine lme) / the
// best fio engine's run of that repetition; a load is compared with fio's
// load in the same place after its store.
func (r *run) ratios(op string, p Point, lme string) []string {
	e := r.d.BestEngine(op, p)
	if e == "" {
		return nil
	}
	var out []string
	for rep := 1; rep <= r.nreps; rep++ {
		fop := op
		if op == "load" && r.d.load2 && loadPos(lme, rep) == 2 {
			fop = "load2"
		}
		l := r.d.value(one("lmfast", lme, op, p, rep))
		b := r.d.value(one("fio", e, fop, p, rep))
		if q := ratio(l, b); q != "" {
			out = append(out, q)
		}
	}
	return out
}

// fioCell is fio's median for the table; a load's "first / second" when
// fio loaded twice.
func (r *run) fioCell(engine, op string, p Point) string {
	m := median(r.d.values(all("fio", engine, op, p)), 2)
	if op == "load" && m != "n/a" && r.d.load2 {
		m += " / " + median(r.d.values(all("fio", engine, "load2", p)), 2)
	}
	return m
}

// note remembers a cell's failed runs for the line under its table.
func (r *run) note(name, tool, engine, op string, p Point) {
	if n := r.d.failures(all(tool, engine, op, p)); n != 0 {
		r.failed = append(r.failed, fmt.Sprintf("%s %s %s: %d", name, tool, engine, n))
	}
}

// failedLine writes the failed runs noted since the last call.
func (r *run) failedLine(b *strings.Builder) {
	list := "none"
	if len(r.failed) > 0 {
		list = strings.Join(r.failed, ", ")
	}
	fmt.Fprintf(b, "Failed runs, left out: %s.\n", list)
	r.failed = nil
}

func (r *run) mainTable(b *strings.Builder) {
	b.WriteString("| op | payload | Q | O_DIRECT | lmfast MiB/s | lmfast per-thread MiB/s | fio psync | fio io_uring | fio libaio | best fio | lmfast / best fio | per-thread / best fio | ≥ 0.95 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, op := range []string{"store", "load"} {
		for _, kb := range sizes {
			for _, qd := range depths {
				for _, direct := range directs {
					p := Point{kb, qd, direct}
					lm := median(r.d.values(all("lmfast", "psync", op, p)), 2)
					lt := median(r.d.values(all("lmfast", "psync-thread", op, p)), 2)
					ps, iu, la := r.fioCell("psync", op, p), r.fioCell("io_uring", op, p), r.fioCell("libaio", op, p)
					q := median(r.ratios(op, p, "psync"), 3)
					qt := median(r.ratios(op, p, "psync-thread"), 3)
					be := r.d.BestEngine(op, p)
					if be == "" {
						be = "n/a"
					}
					name, ok := op, ""
					if op == "load" {
						name, ok = "cold load", verdict(qt, 0.95)
					} else {
						lt, qt = "—", "—" // no per-thread stores: a store only reads its buffer
						ok = verdict(q, 0.95)
					}
					fmt.Fprintf(b, "| %s | %d KiB | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, kb, qd, direct, lm, lt, ps, iu, la, be, q, qt, ok)
					cell := fmt.Sprintf("%s %d KiB Q%d direct=%d", name, kb, qd, direct)
					r.note(cell, "lmfast", "psync", op, p)
					if op == "load" {
						r.note(cell, "lmfast", "psync-thread", op, p)
					}
					for _, e := range fioEngines {
						r.note(cell, "fio", e, op, p)
					}
					if op == "load" {
						for _, e := range fioEngines {
							r.note(cell+" (2nd)", "fio", e, "load2", p)
						}
					}
				}
			}
		}
	}
	b.WriteString("\n")
	b.WriteString("Stores: LMCache's layout publishes every key with a temp file and a rename (two journalled directory changes\n")
	b.WriteString("per key where fio's create-write-close makes one); no fio engine can do that, so the store ratio includes it.\n")
	if r.d.load2 {
		b.WriteString("\n")
		fmt.Fprintf(b, "Order: of two cold loads after one store, the second was the faster in %s lmfast pairs and\n", r.secondFaster("lmfast", 1))
		fmt.Fprintf(b, "%s fio pairs with O_DIRECT, in %s and %s buffered (lmfast's pair is its two layouts, so\n", r.secondFaster("fio", 1), r.secondFaster("lmfast", 0), r.secondFaster("fio", 0))
		b.WriteString("their difference is mixed in). Each lmfast load is compared with the fio load in the same place after its store;\n")
		b.WriteString("fio's cells give the medians of its first and second loads.\n")
	}
	b.WriteString("\n")
	r.failedLine(b)
	b.WriteString("\n")
}

// secondFaster is "A of B": of the B pairs of cold loads after one store
// (lmfast: its two layouts; fio: each engine's two loads), how many had
// the faster load second.
func (r *run) secondFaster(tool string, direct int) string {
	a, n := 0, 0
	pair := func(first, second string) {
		if first == "" || second == "" {
			return
		}
		n++
		if num(second) > num(first) {
			a++
		}
	}
	for _, kb := range sizes {
		for _, qd := range depths {
			p := Point{kb, qd, direct}
			for rep := 1; rep <= r.nreps; rep++ {
				if tool == "lmfast" {
					o := LoadOrder(rep)
					pair(r.d.value(one("lmfast", o[0], "load", p, rep)), r.d.value(one("lmfast", o[1], "load", p, rep)))
					continue
				}
				for _, e := range fioEngines {
					pair(r.d.value(one("fio", e, "load", p, rep)), r.d.value(one("fio", e, "load2", p, rep)))
				}
			}
		}
	}
	return fmt.Sprintf("%d of %d", a, n)
}

func (r *run) pairTable(b *strings.Builder) {
	b.WriteString("Cold loads of standing files, in tight pairs: lmfast (`--load-buffers per-thread`) and the best fio engine for loads\n")
	b.WriteString("at that point (above) each store one set of files once, in their own directories; then the two sets are loaded cold\n")
	b.WriteString("alternately (after one untimed load of each), odd pairs lmfast first, each load after the same drop and idle as\n")
	b.WriteString("above, so the two loads of a pair are seconds apart where the table above compares loads a rotation apart.\n")
	b.WriteString("Ratio = lmfast / fio of the same pair; medians over the pairs.\n")
	b.WriteString("\n")
	b.WriteString("| payload | Q | O_DIRECT | fio engine | pairs | lmfast per-thread MiB/s | fio MiB/s | lmfast / fio (median of pairs) | lmfast faster | ≥ 0.95 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, kb := range sizes {
		for _, qd := range depths {
			for _, direct := range directs {
				p := Point{kb, qd, direct}
				e := r.d.pairEngine(p)
				if e == "" {
					continue
				}
				var pr []string
				for _, rep := range r.d.pairReps(p) {
					pr = append(pr, ratio(r.d.value(one("lmfast", "psync-thread", "pair_load", p, rep)), r.d.value(one("fio", e, "pair_load", p, rep))))
				}
				pr = nonEmpty(pr)
				q := median(pr, 3)
				won := 0
				for _, x := range pr {
					if num(x) > 1 {
						won++
					}
				}
				fmt.Fprintf(b, "| %d KiB | %d | %d | %s | %d | %s | %s | %s | %d of %d | %s |\n", kb, qd, direct, e, len(pr),
					median(r.d.values(all("lmfast", "psync-thread", "pair_load", p)), 2), median(r.d.values(all("fio", e, "pair_load", p)), 2),
					q, won, len(pr), verdict(q, 0.95))
				name := fmt.Sprintf("%d KiB Q%d direct=%d", kb, qd, direct)
				r.note("paired store "+name, "lmfast", "psync", "pair_store", p)
				r.note("paired store "+name, "fio", e, "pair_store", p)
				r.note("paired load "+name, "lmfast", "psync-thread", "pair_load", p)
				r.note("paired load "+name, "fio", e, "pair_load", p)
			}
		}
	}
	b.WriteString("\n")
	r.failedLine(b)
	b.WriteString("\n")
}

func (r *run) hotTable(b *strings.Builder) {
	b.WriteString("Hot-cache load (256 KiB, buffered, files in the page cache; fio `invalidate=0`):\n")
	b.WriteString("\n")
	b.WriteString("| Q | lmfast MiB/s | lmfast GB/s | per-thread MiB/s | per-thread GB/s | fio psync MiB/s | target ≥ ~10 GB/s (LMCache's slots) |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, qd := range depths {
		p := Point{256, qd, 0}
		lm := median(r.d.values(all("lmfast", "psync", "hot_load", p)), 2)
		lt := median(r.d.values(all("lmfast", "psync-thread", "hot_load", p)), 2)
		f := median(r.d.values(all("fio", "psync", "hot_load", p)), 2)
		gb := gbps(lm)
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s |\n", qd, lm, gb, lt, gbps(lt), f, verdict(gb, 10))
		r.note(fmt.Sprintf("hot load Q%d", qd), "lmfast", "psync", "hot_load", p)
		r.note(fmt.Sprintf("hot load Q%d per-thread", qd), "lmfast", "psync-thread", "hot_load", p)
		r.note(fmt.Sprintf("hot load Q%d", qd), "fio", "psync", "hot_load", p)
	}
	b.WriteString("\n")
	r.failedLine(b)
	b.WriteString("\n")
}

func (r *run) lookupTable(b *strings.Builder) {
	fmt.Fprintf(b, "Lookups (%d keys of 4 KiB on disk, dentries cached; `--in-flight 4 --num-keys %d`):\n", lookupKeys, lookupKeys/4)
	b.WriteString("\n")
	b.WriteString("| keys | I/O workers | lmfast keys/s (median) | target ≥ 300k |\n")
	b.WriteString("|---|---|---|---|\n")
	what := map[string]string{
		"hit":        "all present (dentries cached by the store)",
		"miss_new":   "all missing, names never looked up before",
		"miss_again": "all missing, the same names again",
	}
	p := Point{4, 4, 0}
	for _, kind := range []string{"hit", "miss_new", "miss_again"} {
		for _, w := range []int{1, 2, 4} {
			engine := "psync-" + strconv.Itoa(w)
			v := median(r.d.values(all("lmfast", engine, "lookup_"+kind, p)), 2)
			r.note(fmt.Sprintf("lookup %s, %d workers", kind, w), "lmfast", engine, "lookup_"+kind, p)
			wl := strconv.Itoa(w)
			if w == 4 {
				wl = "4 (the default: --in-flight)"
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", what[kind], wl, v, verdict(v, 300000))
		}
	}
	b.WriteString("\n")
	r.failedLine(b)
	b.WriteString("\n")
}
