#!/usr/bin/env bash
# bench-l2.sh BIN OUTDIR DATE — lmfast l2 against fio on this machine's disk.
#
# Same pattern for both tools: one file per key of --data-size-kb, written
# once (store) and read back whole (load), with the same queue depth:
# lmfast --in-flight Q (Q psync I/O threads) against fio's psync with
# numjobs=Q and its io_uring and libaio engines with iodepth=Q, O_DIRECT on
# and off. The disk of this VM drifts by 1.5x within minutes, so every
# repetition runs each tool back to back (lmfast, fio psync, fio io_uring,
# fio libaio, taking turns: see below) and the report gives the median
# over repetitions of lmfast / the best fio engine's run of the same
# repetition (best: the engine with the highest median at that point).
#
# There each tool's loads follow its own store, so two loads the report
# compares lie a rotation (tens of seconds) apart. Section 2 therefore also
# measures cold loads in tight pairs: lmfast (per-thread buffers) and the
# best fio engine for loads at that point each store one set of files,
# once, in their own directories; after one untimed load of each, the two
# sets are loaded cold alternately L2_BENCH_PAIRS times, seconds apart
# (op "pair_load"; the stores "pair_store", rep 0).
#
# lmfast loads twice after each store, in alternating order: into LMCache's
# slots (one buffer per key, --load-buffers per-key, engine "psync" in the
# JSONL) and into one buffer per I/O thread as fio's jobs do
# (--load-buffers per-thread, engine "psync-thread"). Where the bytes land
# costs 15-30 % on this VM (notes §8), so the verdict on loads compares
# the per-thread runs, whose memory footprint is fio's; the per-key ratio
# is reported beside it. Every fio engine loads twice after its store too
# (op "load", then "load2"), and each lmfast load is compared with fio's
# load in the same place: the first load after a store with the first,
# the second with the second.
#
# This VM hands free memory back to its host (virtio-balloon free page
# reporting); the next touch of such a page faults on the host, and the
# page cache a buffered cold load fills then costs as much as the disk
# (notes §10). The script stops the reporting for the run
# (page_reporting_order above the largest order) and restores it at the
# end, and first writes over the free memory once (back_memory in lib.sh)
# so that pages handed back before the run are the VM's again;
# L2_BENCH_KEEP_MEMORY=0 leaves both alone.
#
# Writes OUTDIR/l2-DATE.md and OUTDIR/l2-DATE.jsonl (one line per run).
# Knobs: L2_BENCH_REPS (5), L2_BENCH_PAIRS (8: paired cold loads of
# standing files per point, section 2), L2_BENCH_MIB (data per run, 1024),
# L2_BENCH_DIR (/var/tmp/lmfast-bench-l2: on the disk, not tmpfs; the runs
# go to a fresh mktemp directory inside it, which is all that is removed),
# L2_BENCH_REPORT_ONLY=1 (re-render the .md from an existing .jsonl with
# BIN's `lmfast bench-report l2 render`; runs nothing, creates and removes
# nothing but the .md, and keeps the machine lines of the existing .md),
# L2_BENCH_HUGEPAGES (1: lmfast runs with --hugepages, as the
# README tells users to, on 2 MiB pages this script reserves in
# /proc/sys/vm/nr_hugepages for the run and gives back at the end; 0: plain
# pages), L2_BENCH_IDLE (seconds of idle disk before every store and cold
# load, 1: this virtual disk seems to refill a burst budget while idle).
# Both tools start their I/O on a disk idle for as long: lmfast spends the
# first part of its run setting up its buffers (filling a gigabyte of store
# slots takes ~1.4 s here, poisoning the load slots ~0.3 s), so fio waits
# the idle plus that setup, as measured on the latest lmfast run of the
# same operation (from its launch to its round's start in the JSONL,
# recorded as op setup_store / setup_load; L2_BENCH_SETUP, 1.5, until the
# first measurement). fio's own start-up (a few tens of ms) is not added
# to lmfast's side. Needs root to drop the page cache between store and
# cold load.
#
# The tools take turns: repetition r starts with the r-th of lmfast, fio
# psync, io_uring[, libaio] and runs the others in that cyclic order, so
# that no tool always follows the same one (whatever a tool leaves the
# disk doing falls on each of the others in turn).
#
# A run that fails — lmfast: no summary line or a failed key; fio: no terse
# line or a non-zero error field — is recorded with "value":null for either
# tool alike, and left out of every median and ratio; the report counts the
# failed runs of each cell. A cell without data shows n/a, never a pass.
set -euo pipefail
BIN=${1:?usage: bench-l2.sh BIN OUTDIR DATE}
OUT=${2:?}
DATE=${3:?}
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
REPS=${L2_BENCH_REPS:-5}
MIB=${L2_BENCH_MIB:-1024}
WORK=${L2_BENCH_DIR:-/var/tmp/lmfast-bench-l2}
HUGE=${L2_BENCH_HUGEPAGES:-1}
IDLE=${L2_BENCH_IDLE:-1}
SETUP=${L2_BENCH_SETUP:-1.5}
KEEP=${L2_BENCH_KEEP_MEMORY:-1}
PAIRS=${L2_BENCH_PAIRS:-8}
REPORTING=/sys/module/page_reporting/parameters/page_reporting_order
KEPT=0       # 1: free page reporting was off for the run
BACKED=(0 0) # MiB of free memory written over before the run, and seconds
HUGEFLAG=() FIOHUGE=()
# Both tools alike: on this VM an O_DIRECT transfer from 4 KiB pages costs
# the host one operation per page, from a 2 MiB page one per transfer (fio
# psync O_DIRECT 256 KiB stores: 371-740 MiB/s from malloc'd buffers,
# 1628-1903 with --iomem=shmhuge), so fio gets huge pages when lmfast does.
[ "$HUGE" = 1 ] && HUGEFLAG=(--hugepages) FIOHUGE=(--iomem=shmhuge)

ONLY_REPORT=${L2_BENCH_REPORT_ONLY:-0}
RAW="$OUT/l2-$DATE.jsonl"
MD="$OUT/l2-$DATE.md"
DIR=
RUN_DIR= # where lmfast_op and fio_op run: $DIR unless a caller says otherwise
if [ "$ONLY_REPORT" = 1 ]; then
	[ -f "$RAW" ] || { echo "L2_BENCH_REPORT_ONLY=1: no $RAW to render" >&2; exit 1; }
else
	if ! command -v fio >/dev/null; then
		echo "installing fio"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null
	fi
	mkdir -p "$OUT" "$WORK"
	ulimit -n 65536 2>/dev/null || true
	# Our own directory inside $WORK: the only thing this script ever deletes.
	DIR=$(mktemp -d "$WORK/lmfast-bench-l2.XXXXXX")
	HUGE_BEFORE= REPORTING_BEFORE=
	# restore: what the run borrowed from the machine, given back.
	restore() {
		rm -rf "$DIR"
		[ -z "$HUGE_BEFORE" ] || echo "$HUGE_BEFORE" >/proc/sys/vm/nr_hugepages
		[ -z "$REPORTING_BEFORE" ] || echo "$REPORTING_BEFORE" >"$REPORTING"
	}
	trap restore EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# Free page reporting off: a page the page cache or a buffer takes
	# stays the VM's, so a cold load does not pay for the host's fault.
	# Orders run 0..10; 11 stops every report (the free path compares the
	# order of the freed block with it).
	if [ "$KEEP" = 1 ] && [ -w "$REPORTING" ]; then
		REPORTING_BEFORE=$(cat "$REPORTING")
		echo 11 >"$REPORTING" && KEPT=1
		echo "free page reporting off for the run (page_reporting_order $REPORTING_BEFORE -> 11)"
		backed=$(back_memory) || { echo "bench-l2: could not write over the free memory (a tmpfs mount; L2_BENCH_KEEP_MEMORY=0 runs without it)" >&2; exit 1; }
		read -r -a BACKED <<<"$backed"
		echo "wrote over the free memory once: ${BACKED[0]} MiB in ${BACKED[1]} s"
	fi
	# lmfast's buffers: a store half and a load half of MIB each; fio's
	# (--iomem=shmhuge) fit in the margin. Both tools get huge pages or
	# neither: without the whole reservation the bench runs on plain pages.
	if [ "$HUGE" = 1 ]; then
		want=$(((MIB > 256 ? MIB : 256) + 64)) # the lookups hold 256 MiB
		if [ -w /proc/sys/vm/nr_hugepages ]; then
			HUGE_BEFORE=$(cat /proc/sys/vm/nr_hugepages)
			echo $((HUGE_BEFORE + want)) >/proc/sys/vm/nr_hugepages || true
		fi
		free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
		if [ "${free:-0}" -lt "$want" ]; then
			echo "only ${free:-0} free huge pages of the $want needed: running both tools on plain pages" >&2
			HUGE=0 HUGEFLAG=() FIOHUGE=()
		else
			echo "huge pages: $free free of 2 MiB (were $HUGE_BEFORE reserved)"
		fi
	fi
	: >"$RAW"
	# the run's settings, for a later L2_BENCH_REPORT_ONLY=1 rendering
	printf '{"settings":{"hugepages":%s,"idle_s":%s,"fio_extra_s":%s,"memory_kept":%s,"memory_backed_mib":%s,"memory_backed_s":%s,"setup_measured":1,"rotated":1,"pairs":%s,"reps":%s,"mib":%s}}\n' "$HUGE" "$IDLE" "$SETUP" "$KEPT" "${BACKED[0]}" "${BACKED[1]}" "$PAIRS" "$REPS" "$MIB" >>"$RAW"
fi

# fresh_dir: an empty run directory (our mktemp directory, emptied).
fresh_dir() { find "$DIR" -mindepth 1 -delete; }

drop_caches() {
	sync
	if [ -w /proc/sys/vm/drop_caches ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

# settle TOOL [OP]: the idle before a measured store or cold load (OP
# store or load): IDLE for lmfast, whose setup then adds to it; for fio
# IDLE plus lmfast's latest measured setup of OP (see L2_BENCH_IDLE).
settle() {
	if [ "$1" = lmfast ]; then sleep "$IDLE"; else sleep "$(awk -v a="$IDLE" -v b="$(lmfast_setup "$2")" 'BEGIN {print a + b}')"; fi
}
# lmfast_setup OP: seconds from lmfast's launch to its first I/O in its
# latest run of OP (SETUP before there is one).
lmfast_setup() {
	local v
	v=$({ grep "\"op\":\"setup_$1\"" "$RAW" || true; } | tail -1 | sed -n 's/.*"value":\([0-9.]*\)}.*/\1/p')
	echo "${v:-$SETUP}"
}
# epoch_s RFC3339: seconds since the epoch, with the fraction.
epoch_s() { date -d "$1" +%s.%N; }
# rotate REP TOOL...: the tools in the order repetition REP runs them, the
# list turned left by REP-1.
rotate() {
	local rep=$1
	shift
	local n=$# i
	for ((i = 0; i < n; i++)); do
		local k=$((((rep - 1 + i) % n) + 1))
		echo -n "${!k} "
	done
	echo
}

# field NAME: the number after "NAME": in stdin's first matching line.
field() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" | head -1; }

# lmfast_op OP PAYLOAD_KB QD DIRECT KEYS [extra flags...]: prints MiB/s of the op's summary
# (keys/s for lookups). Later flags override the defaults given here.
lmfast_op() {
	local op=$1 kb=$2 qd=$3 direct=$4 keys=$5
	shift 5
	local odirect=false
	[ "$direct" = 1 ] && odirect=true
	local out line launched started
	launched=$(date +%s.%N)
	out=$("$BIN" l2 --l2-adapter "{\"type\":\"fs\",\"base_path\":\"${RUN_DIR:-$DIR}\",\"use_odirect\":$odirect}" \
		--only "$op" --in-flight "$qd" --num-keys $((keys / qd)) --data-size-kb "$kb" \
		--rounds 1 --warmup-rounds 0 -q "${HUGEFLAG[@]}" "$@" || true)
	line=$(echo "$out" | grep "\"event\":\"summary\",.*\"op\":\"$op\"" || true)
	# the setup before the first I/O: the first round's start (its line's
	# time less its duration) less the launch
	if [ "$op" != lookup ]; then
		started=$(echo "$out" | grep -m1 "\"event\":\"round\",.*\"op\":\"$op\"" || true)
		if [ -n "$started" ]; then
			started=$(awk -v e="$(epoch_s "$(echo "$started" | sed -n 's/^{"time":"\([^"]*\)".*/\1/p')")" \
				-v d="$(echo "$started" | field duration_ms)" -v l="$launched" 'BEGIN {printf "%.3f\n", e - d / 1000 - l}')
			record lmfast psync "setup_$op" "$kb" "$qd" "$direct" 0 "$started"
		fi
	fi
	local failed
	failed=$(echo "$line" | field failed_keys)
	if [ -z "$line" ] || [ "$failed" != 0 ]; then echo "lmfast $op failed: $line" >&2; echo null; return; fi
	if [ "$op" = lookup ]; then echo "$line" | field ops_per_sec_avg; else echo "$line" | field throughput_avg_mbps; fi
}

# fio_op ENGINE RW PAYLOAD_KB QD DIRECT KEYS [extra]: prints MiB/s.
fio_op() {
	local engine=$1 rw=$2 kb=$3 qd=$4 direct=$5 keys=$6
	shift 6
	local jobs=(--numjobs=1 --iodepth="$qd" --nrfiles="$keys" --openfiles=$((2 * qd)))
	if [ "$engine" = psync ]; then jobs=(--numjobs="$qd" --iodepth=1 --nrfiles=$((keys / qd)) --openfiles=4); fi
	local extra=()
	[ "$rw" = write ] && extra=(--create_on_open=1 --fallocate=none)
	local t
	t=$(fio --name=b --directory="${RUN_DIR:-$DIR}" --ioengine="$engine" "${jobs[@]}" --rw="$rw" --bs="${kb}k" \
		--filesize="${kb}k" --direct="$direct" --group_reporting --output-format=terse --terse-version=3 \
		"${FIOHUGE[@]}" "${extra[@]}" "$@" 2>/dev/null | tail -1 || true)
	if [ -z "$t" ] || [ "$(echo "$t" | cut -d';' -f5)" != 0 ]; then echo "fio $engine $rw failed: $t" >&2; echo null; return; fi
	case "$engine:$rw" in
	*:write) echo "$t" | awk -F';' '{printf "%.2f\n", $48/1024}' ;;
	*) echo "$t" | awk -F';' '{printf "%.2f\n", $7/1024}' ;;
	esac
}

# lmfast_loads COLD REP KB QD DIRECT KEYS: prints "PER_KEY PER_THREAD", the MiB/s
# of two loads of the stored keys, into LMCache's slots and into one buffer
# per I/O thread, in the order repetition REP runs them (alternating, so that
# neither always comes first after the store); COLD=1 drops the page cache
# and settles before each.
lmfast_loads() {
	local cold=$1 rep=$2 pk="" pt="" v b e
	shift 2
	for e in $(lmfast_order "$rep"); do
		b=per-key
		[ "$e" = psync ] || b=per-thread
		if [ "$cold" = 1 ]; then
			drop_caches
			settle lmfast load
		fi
		v=$(lmfast_op load "$@" --load-buffers "$b")
		if [ "$b" = per-key ]; then pk=$v; else pt=$v; fi
	done
	echo "$pk $pt"
}
# lmfast_order REP: lmfast's two cold loads after a store in repetition
# REP, first one first, as JSONL engines (psync: per-key, psync-thread:
# per-thread); alternating, so that neither always comes first.
# The report reads the JSONL with the same order (benchreport.LoadOrder).
lmfast_order() { if [ $(($1 % 2)) = 1 ]; then echo psync psync-thread; else echo psync-thread psync; fi; }

record() { # tool engine op kb qd direct rep value
	printf '{"tool":"%s","engine":"%s","op":"%s","payload_kb":%s,"qd":%s,"direct":%s,"rep":%s,"value":%s}\n' "$@" >>"$RAW"
}

# best_engine OP KB QD DIRECT: the fio engine with the highest median at
# that point so far (loads: over both loads), as the report picks it.
best_engine() { "$BIN" bench-report l2 best-engine "$RAW" "$@"; }

# 1. store and cold load, interleaved.
[ "$ONLY_REPORT" = 1 ] && SIZES="" || SIZES="256 1024"
if [ -n "$SIZES" ]; then
	# untimed: one buffered store and load, so that the first measured runs
	# find memory the VM holds for their page cache and buffers too
	fresh_dir
	lmfast_op store 256 8 0 $((MIB * 4)) >/dev/null
	drop_caches
	lmfast_op load 256 8 0 $((MIB * 4)) >/dev/null
fi
for kb in $SIZES; do
	keys=$((MIB * 1024 / kb))
	for qd in 8 32; do
		for direct in 1 0; do
			engines="psync io_uring"
			[ "$direct" = 1 ] && engines="psync io_uring libaio"
			for rep in $(seq 1 "$REPS"); do
				for tool in $(rotate "$rep" lmfast $engines); do
					fresh_dir
					drop_caches
					settle "$tool" store
					if [ "$tool" = lmfast ]; then
						s=$(lmfast_op store "$kb" "$qd" "$direct" "$keys")
						record lmfast psync store "$kb" "$qd" "$direct" "$rep" "$s"
						read -r l t <<<"$(lmfast_loads 1 "$rep" "$kb" "$qd" "$direct" "$keys")"
						record lmfast psync load "$kb" "$qd" "$direct" "$rep" "$l"
						record lmfast psync-thread load "$kb" "$qd" "$direct" "$rep" "$t"
						l="$l per-thread=$t"
					else
						s=$(fio_op "$tool" write "$kb" "$qd" "$direct" "$keys")
						drop_caches
						settle "$tool" load
						l=$(fio_op "$tool" read "$kb" "$qd" "$direct" "$keys")
						drop_caches
						settle "$tool" load
						l2=$(fio_op "$tool" read "$kb" "$qd" "$direct" "$keys")
						record fio "$tool" store "$kb" "$qd" "$direct" "$rep" "$s"
						record fio "$tool" load "$kb" "$qd" "$direct" "$rep" "$l"
						record fio "$tool" load2 "$kb" "$qd" "$direct" "$rep" "$l2"
						l="$l then $l2"
					fi
					echo "kb=$kb qd=$qd direct=$direct rep=$rep $tool store=$s load=$l"
				done
			done
		done
	done
done

# 2. cold loads of standing files, in tight pairs. Section 1 compares loads
# that follow each tool's own store, so a pair of loads it compares lies a
# whole rotation apart (tens of seconds), and the disk drifts in between.
# Here lmfast (into one buffer per I/O thread: fio's footprint) and the
# best fio engine for loads at that point each store one set of files,
# in their own directories, once; then the two sets are loaded cold
# alternately, PAIRS times, odd pairs lmfast first, so the two loads of a
# pair are a few seconds apart. The ratio of each pair is lmfast / fio.
# standing_load TOOL: MiB/s of a cold load of TOOL's standing set at the
# point of the loop below (fio with its engine $e).
standing_load() {
	if [ "$1" = lmfast ]; then
		RUN_DIR=$DIR/lmfast lmfast_op load "$kb" "$qd" "$direct" "$keys" --load-buffers per-thread
	else
		RUN_DIR=$DIR/fio fio_op "$e" read "$kb" "$qd" "$direct" "$keys"
	fi
}
[ "$ONLY_REPORT" = 1 ] && PSIZES="" || PSIZES="256 1024"
for kb in $PSIZES; do
	keys=$((MIB * 1024 / kb))
	for qd in 8 32; do
		for direct in 1 0; do
			e=$(best_engine load "$kb" "$qd" "$direct")
			[ -n "$e" ] || continue
			fresh_dir
			mkdir "$DIR/lmfast" "$DIR/fio"
			drop_caches # no deleted inode counts as recent (docs/performance.md, "L2: buffered stores")
			s=$(RUN_DIR=$DIR/lmfast lmfast_op store "$kb" "$qd" "$direct" "$keys")
			record lmfast psync pair_store "$kb" "$qd" "$direct" 0 "$s"
			f=$(RUN_DIR=$DIR/fio fio_op "$e" write "$kb" "$qd" "$direct" "$keys")
			record fio "$e" pair_store "$kb" "$qd" "$direct" 0 "$f"
			if [ "$s" = null ] || [ "$f" = null ]; then
				echo "paired loads kb=$kb qd=$qd direct=$direct skipped: a store failed" >&2
				continue
			fi
			# untimed: one cold load of each set, so that the first timed
			# load does not always fall on lmfast right after the stores
			for tool in fio lmfast; do
				drop_caches
				standing_load "$tool" >/dev/null
			done
			for pair in $(seq 1 "$PAIRS"); do
				order="lmfast fio"
				[ $((pair % 2)) = 1 ] || order="fio lmfast"
				for tool in $order; do
					drop_caches
					settle "$tool" load
					v=$(standing_load "$tool")
					if [ "$tool" = lmfast ]; then
						record lmfast psync-thread pair_load "$kb" "$qd" "$direct" "$pair" "$v"
						lv=$v
					else
						record fio "$e" pair_load "$kb" "$qd" "$direct" "$pair" "$v"
						fv=$v
					fi
				done
				echo "pair kb=$kb qd=$qd direct=$direct pair=$pair lmfast=$lv fio $e=$fv"
			done
		done
	done
done

# 3. hot-cache load (buffered, page cache warm) and lookups, lmfast and fio.
kb=256
keys=$((MIB * 1024 / kb))
[ "$ONLY_REPORT" = 1 ] && HOTQ="" || HOTQ="8 32"
for qd in $HOTQ; do
	for rep in $(seq 1 "$REPS"); do
		fresh_dir
		lmfast_op store "$kb" "$qd" 0 "$keys" >/dev/null
		lmfast_op load "$kb" "$qd" 0 "$keys" >/dev/null # warm
		read -r h ht <<<"$(lmfast_loads 0 "$rep" "$kb" "$qd" 0 "$keys")"
		record lmfast psync hot_load "$kb" "$qd" 0 "$rep" "$h"
		record lmfast psync-thread hot_load "$kb" "$qd" 0 "$rep" "$ht"
		fresh_dir
		fio_op psync write "$kb" "$qd" 0 "$keys" >/dev/null
		f=$(fio_op psync read "$kb" "$qd" 0 "$keys" --invalidate=0 --loops=2)
		record fio psync hot_load "$kb" "$qd" 0 "$rep" "$f"
		echo "hot load qd=$qd rep=$rep lmfast=$h per-thread=$ht fio=$f MiB/s"
	done
done
lkeys=65536
[ "$ONLY_REPORT" = 1 ] && LREPS="" || LREPS=$(seq 1 "$REPS")
for rep in $LREPS; do
	fresh_dir
	lmfast_op store 4 4 0 "$lkeys" >/dev/null
	for w in 1 2 4; do
		# hits: the store just created the names, their dentries are cached
		v=$(lmfast_op lookup 4 4 0 "$lkeys" --lookup-max-hit-rate 1 --io-workers "$w")
		record lmfast "psync-$w" lookup_hit 4 4 0 "$rep" "$v"
		# misses on names never looked up (a directory index search each; a
		# warmup round makes the 2-worker run's measured names fresh too),
		# then the same names again (negative dentries cached)
		v=$(lmfast_op lookup 4 4 0 "$lkeys" --warmup-rounds $((w - 1)) --io-workers "$w")
		record lmfast "psync-$w" lookup_miss_new 4 4 0 "$rep" "$v"
		v=$(lmfast_op lookup 4 4 0 "$lkeys" --warmup-rounds $((w - 1)) --io-workers "$w")
		record lmfast "psync-$w" lookup_miss_again 4 4 0 "$rep" "$v"
	done
	echo "lookup rep=$rep lmfast(miss again, 4 workers)=$v keys/s"
done

# 4. report: medians, ratios, verdicts and the page are computed from the
# JSONL by lmfast (l2/benchreport); the settings flags are this script's,
# used where the JSONL's settings line (absent in early runs) does not say.

# machine_lines: the machine paragraph — the existing report's when re-rendering.
machine_lines() {
	if [ "$ONLY_REPORT" = 1 ] && [ -f "$MD" ] && grep -q '^Machine:' "$MD"; then
		sed -n '/^Machine:/,/^$/p' "$MD" | sed '$d'
		return
	fi
	echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r),"
	echo "filesystem $(df -T "$WORK" | awk 'NR==2 {print $2 " on " $1}') ($(findmnt -no OPTIONS --target "$WORK" 2>/dev/null || echo '?')),"
	echo "$(fio --version), lmfast $("$BIN" version | cut -d' ' -f2), $(free -g | awk '/Mem:/ {print $2}') GiB RAM."
}
MACHINE=$(machine_lines) # before the report replaces $MD
"$BIN" bench-report l2 render "$RAW" --date "$DATE" --machine "$MACHINE" --reps "$REPS" --mib "$MIB" \
	--pairs "$PAIRS" --hugepages "$HUGE" --idle "$IDLE" --setup "$SETUP" >"$MD.tmp"
mv "$MD.tmp" "$MD"
echo "wrote $MD and $RAW"
