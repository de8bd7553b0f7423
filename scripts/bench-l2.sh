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
# end; L2_BENCH_KEEP_MEMORY=0 leaves it alone.
#
# Writes OUTDIR/l2-DATE.md and OUTDIR/l2-DATE.jsonl (one line per run).
# Knobs: L2_BENCH_REPS (5), L2_BENCH_PAIRS (8: paired cold loads of
# standing files per point, section 2), L2_BENCH_MIB (data per run, 1024),
# L2_BENCH_DIR (/var/tmp/lmfast-bench-l2: on the disk, not tmpfs; the runs
# go to a fresh mktemp directory inside it, which is all that is removed),
# L2_BENCH_REPORT_ONLY=1 (re-render the .md from an existing .jsonl; runs
# nothing, creates and removes nothing, and keeps the machine lines of the
# existing .md), L2_BENCH_HUGEPAGES (1: lmfast runs with --hugepages, as the
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
REPS=${L2_BENCH_REPS:-5}
MIB=${L2_BENCH_MIB:-1024}
WORK=${L2_BENCH_DIR:-/var/tmp/lmfast-bench-l2}
HUGE=${L2_BENCH_HUGEPAGES:-1}
IDLE=${L2_BENCH_IDLE:-1}
SETUP=${L2_BENCH_SETUP:-1.5}
KEEP=${L2_BENCH_KEEP_MEMORY:-1}
PAIRS=${L2_BENCH_PAIRS:-8}
REPORTING=/sys/module/page_reporting/parameters/page_reporting_order
KEPT=0 # 1: free page reporting was off for the run
HUGEFLAG=() FIOHUGE=()
# Both tools alike: on this VM an O_DIRECT transfer from 4 KiB pages costs
# the host one operation per page, from a 2 MiB page one per transfer (fio
# psync O_DIRECT 256 KiB stores: 371-740 MiB/s from malloc'd buffers,
# 1628-1903 with --iomem=shmhuge), so fio gets huge pages when lmfast does.
[ "$HUGE" = 1 ] && HUGEFLAG=(--hugepages) FIOHUGE=(--iomem=shmhuge)

ONLY_REPORT=${L2_BENCH_REPORT_ONLY:-0}
MEASURED=1 ROTATED=1 # this script's method; a re-rendered JSONL says its own
[ "$ONLY_REPORT" = 1 ] && MEASURED=0 ROTATED=0
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
	printf '{"settings":{"hugepages":%s,"idle_s":%s,"fio_extra_s":%s,"memory_kept":%s,"setup_measured":1,"rotated":1,"pairs":%s,"reps":%s,"mib":%s}}\n' "$HUGE" "$IDLE" "$SETUP" "$KEPT" "$PAIRS" "$REPS" "$MIB" >>"$RAW"
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
lmfast_order() { if [ $(($1 % 2)) = 1 ]; then echo psync psync-thread; else echo psync-thread psync; fi; }
# load_pos ENGINE REP: the place (1 or 2) of lmfast's load ENGINE after its
# store in repetition REP.
load_pos() {
	local first
	read -r first _ <<<"$(lmfast_order "$2")"
	if [ "$1" = "$first" ]; then echo 1; else echo 2; fi
}

record() { # tool engine op kb qd direct rep value
	printf '{"tool":"%s","engine":"%s","op":"%s","payload_kb":%s,"qd":%s,"direct":%s,"rep":%s,"value":%s}\n' "$@" >>"$RAW"
}

# median [DECIMALS]: the median of stdin's numbers (an even count, left by a
# failed run, averages the middle two to DECIMALS, default 2); n/a for none.
median() {
	sort -g | awk -v d="${1:-2}" '{v[NR]=$1} END {if (NR==0) {print "n/a"; exit}; if (NR%2) print v[(NR+1)/2]; else printf("%." d "f\n", (v[NR/2]+v[NR/2+1])/2)}'
}

# The JSONL, read back (by the paired loads of section 2 and by the report).
# rows TOOL ENGINE OP KB QD DIRECT [REP]: the JSONL lines of those runs.
rows() {
	local rep=""
	[ $# -ge 7 ] && rep="\"rep\":$7,"
	{ grep "\"tool\":\"$1\",\"engine\":\"$2\",\"op\":\"$3\",\"payload_kb\":$4,\"qd\":$5,\"direct\":$6,$rep" "$RAW" || true; }
}
val() { # tool engine op kb qd direct [rep] -> the values of the runs that did not fail, one a line
	rows "$@" | sed -n 's/.*"value":\([-0-9.e+][-0-9.e+]*\)}.*/\1/p'
}
failures() { # tool engine op kb qd direct -> how many runs failed (value null)
	rows "$@" | grep -c '"value":null' || true
}
best_engine() { # op kb qd direct: the fio engine with the highest median (loads: of both loads)
	for e in psync io_uring libaio; do
		m=$(fio_vals "$e" "$@" | median)
		if [ "$m" != n/a ]; then echo "$m $e"; fi
	done | sort -g | tail -1 | cut -d' ' -f2
}
setups() { # OP: lmfast's measured setups of OP (store or load), one a line
	{ grep "\"op\":\"setup_$1\"" "$RAW" || true; } | sed -n 's/.*"value":\([0-9.][0-9.]*\)}.*/\1/p'
}
# has_load2: fio loaded twice after each store (runs before that have no load2).
LOAD2=0
has_load2() { [ "$LOAD2" = 1 ]; }
fio_vals() { # engine op kb qd direct: fio's values at that point, a load's with its second load's
	val fio "$@"
	if [ "$2" = load ]; then val fio "$1" load2 "${@:3}"; fi
}

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
					else
						record fio "$e" pair_load "$kb" "$qd" "$direct" "$pair" "$v"
					fi
				done
				echo "pair kb=$kb qd=$qd direct=$direct pair=$pair lmfast=$(val lmfast psync-thread pair_load "$kb" "$qd" "$direct" "$pair") fio $e=$(val fio "$e" pair_load "$kb" "$qd" "$direct" "$pair")"
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

# 4. report.
# fio_cell engine op kb qd direct: the median for the table; loads "first / second" when fio loaded twice.
fio_cell() {
	local m
	m=$(val fio "$@" | median)
	if [ "$2" = load ] && [ "$m" != n/a ] && has_load2; then m="$m / $(val fio "$1" load2 "${@:3}" | median)"; fi
	echo "$m"
}
# ratio L B: L / B to 3 decimals; nothing when either is missing.
ratio() { awk -v l="$1" -v b="$2" 'BEGIN {if (l != "" && b != "" && b > 0) printf "%.3f\n", l / b}'; }
ratios() { # op kb qd direct [LMFAST_ENGINE]: per repetition where both ran, lmfast / the best fio engine's run of that repetition (a load: fio's load in the same place after its store)
	local e l b lme=${5:-psync} fop
	e=$(best_engine "$1" "$2" "$3" "$4")
	[ -n "$e" ] || return 0
	for rep in $(seq 1 "$REPS"); do
		fop=$1
		if [ "$1" = load ] && has_load2 && [ "$(load_pos "$lme" "$rep")" = 2 ]; then fop=load2; fi
		l=$(val lmfast "$lme" "$1" "$2" "$3" "$4" "$rep")
		b=$(val fio "$e" "$fop" "$2" "$3" "$4" "$rep")
		ratio "$l" "$b"
	done
}
# pair_engine KB QD DIRECT: the fio engine of the paired loads at that point.
pair_engine() {
	{ grep "\"tool\":\"fio\",\"engine\":\"[a-z_]*\",\"op\":\"pair_load\",\"payload_kb\":$1,\"qd\":$2,\"direct\":$3," "$RAW" || true; } |
		head -1 | sed -n 's/.*"engine":"\([a-z_]*\)".*/\1/p'
}
# pair_ratios KB QD DIRECT ENGINE: lmfast / fio of each pair where both ran.
pair_ratios() {
	local rep l b
	for rep in $(rows lmfast psync-thread pair_load "$1" "$2" "$3" | sed -n 's/.*"rep":\([0-9]*\),.*/\1/p'); do
		l=$(val lmfast psync-thread pair_load "$1" "$2" "$3" "$rep")
		b=$(val fio "$4" pair_load "$1" "$2" "$3" "$rep")
		ratio "$l" "$b"
	done
}
# second_faster TOOL DIRECT: "A of B": of the B pairs of cold loads after
# one store (lmfast: its two layouts; fio: each engine's two loads), how
# many had the faster load second.
second_faster() {
	local tool=$1 direct=$2 kb qd rep e f s pair
	for kb in 256 1024; do
		for qd in 8 32; do
			for rep in $(seq 1 "$REPS"); do
				if [ "$tool" = lmfast ]; then
					read -ra pair <<<"$(lmfast_order "$rep")"
					f=$(val lmfast "${pair[0]}" load $kb $qd "$direct" "$rep")
					s=$(val lmfast "${pair[1]}" load $kb $qd "$direct" "$rep")
					echo "$f $s"
				else
					for e in psync io_uring libaio; do
						echo "$(val fio $e load $kb $qd "$direct" "$rep") $(val fio $e load2 $kb $qd "$direct" "$rep")"
					done
				fi
			done
		done
	done | awk 'NF == 2 {b++; if ($2 > $1) a++} END {printf "%d of %d\n", a, b}'
}
# verdict VALUE TARGET: yes / **no** against a numeric target, n/a without a number.
verdict() {
	awk -v v="$1" -v t="$2" 'BEGIN {if (v !~ /^[-0-9.e+]+$/) print "n/a"; else print (v + 0 >= t + 0) ? "yes" : "**no**"}'
}
FAILED_RUNS=""
# note_failures NAME TOOL ENGINE OP KB QD DIRECT: remember a cell's failed runs for the report.
note_failures() {
	local n
	n=$(failures "${@:2}")
	if [ "$n" != 0 ]; then FAILED_RUNS="$FAILED_RUNS, $1 $2 $3: $n"; fi
}
# failed_line: the failed runs noted since the last call, as one line.
failed_line() {
	echo "Failed runs, left out: ${FAILED_RUNS:-, none}." | sed 's/: , /: /'
	FAILED_RUNS=""
}
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
MACHINE=$(machine_lines) # before the report overwrites $MD
if grep -q '"op":"load2"' "$RAW"; then LOAD2=1; fi
PAIRED=0 # 1: the JSONL has section 2's paired loads
if grep -q '"op":"pair_load"' "$RAW"; then PAIRED=1; fi
if [ "$ONLY_REPORT" = 1 ] && grep -q '^{"settings"' "$RAW"; then
	setting() { sed -n "s/^{\"settings\":.*\"$1\":\([0-9.]*\).*/\1/p" "$RAW" | head -1; }
	HUGE=$(setting hugepages) IDLE=$(setting idle_s) SETUP=$(setting fio_extra_s) KEPT=$(setting memory_kept)
	MEASURED=$(setting setup_measured) ROTATED=$(setting rotated) PAIRS=$(setting pairs)
	# runs before these were recorded: the environment's (or the defaults)
	REPS=$(setting reps) MIB=$(setting mib)
	REPS=${REPS:-${L2_BENCH_REPS:-5}} MIB=${MIB:-${L2_BENCH_MIB:-1024}}
fi
{
	echo "# lmfast l2 vs fio ($DATE)"
	echo
	echo "$MACHINE"
	echo
	echo "Command: \`make bench\` (= \`bash scripts/bench-l2.sh bin/lmfast bench_results $DATE\`), L2_BENCH_REPS=$REPS,$([ "$PAIRED" = 1 ] && echo " L2_BENCH_PAIRS=$PAIRS,") L2_BENCH_MIB=$MIB."
	echo
	echo "Method: one file per key, $MIB MiB per run ($((MIB * 4)) keys of 256 KiB or $MIB of 1 MiB), written once and read back"
	echo "whole. Queue depth Q: lmfast \`--in-flight Q --num-keys K/Q --rounds 1 --warmup-rounds 0\` (Q psync I/O threads,"
	echo "LMCache's fs layout: temp file, pwrite, close, rename — RENAME_NOREPLACE instead of LMCache's stat first, see the"
	echo "README; payload buffers distinct per key, as LMCache's L1 slots$([ "$HUGE" = 1 ] && echo ', `--hugepages` on 2 MiB pages the script reserves'));"
	echo "every lmfast store is followed by two cold loads, in alternating order: into those slots (\"lmfast\") and with"
	echo "\`--load-buffers per-thread\` (\"per-thread\": one buffer per I/O thread, the memory footprint of fio's jobs, which"
	echo "each reuse one buffer per I/O in flight). The verdict on loads compares the per-thread runs: like with like."
	if has_load2; then echo "Every fio engine loads twice after its store too, and each lmfast load is compared with fio's load in the same place."; fi
	echo "fio psync \`numjobs=Q\`, io_uring and libaio$([ "$HUGE" = 1 ] && echo ' (all with `--iomem=shmhuge`: huge-page buffers for both tools)')"
	echo "\`iodepth=Q\` (libaio only with O_DIRECT), \`filesize=bs=payload\`, \`create_on_open=1 fallocate=none\`. The page"
	echo "cache is dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every store and every cold load, and the"
	if [ "${MEASURED:-0}" = 1 ]; then
		echo "disk then left idle for as long before either tool's first I/O: $IDLE s, then lmfast sets up its buffers (measured"
		echo "from launch to its first round's start: median $(setups store | median) s for stores, $(setups load | median) s for loads) and fio"
		echo "waits $IDLE s plus lmfast's latest setup of the same operation. Each"
	else
		echo "disk then left idle for the same time before either tool starts ($IDLE s, fio $SETUP s more for lmfast's buffer setup). Each"
	fi
	if [ "${ROTATED:-0}" = 1 ]; then
		echo "repetition runs lmfast and every fio engine back to back, repetition r starting with the r-th of lmfast, psync,"
		echo "io_uring(, libaio) in that cyclic order, so no tool always follows the same one. Best fio engine = the one with the highest median at"
	else
		echo "repetition runs lmfast and every fio engine back to back. Best fio engine = the one with the highest median at"
	fi
	echo "that point; ratio = lmfast / that engine's run *of the same repetition*; the table gives medians over $REPS"
	echo "repetitions (MiB/s = 2^20 B/s). A failed run (lmfast: a failed key or no summary; fio: an error) counts"
	echo "for neither tool: it is left out of the medians and of the ratios of its repetition, and listed below"
	echo "each table; a cell without data is n/a, never a pass."
	if [ "${KEPT:-0}" = 1 ]; then
		echo "Free page reporting (virtio-balloon: free guest memory handed back to the host, whose next touch then faults"
		echo "on the host) was off for the run, so that the page cache of a cold load is memory the VM holds (notes §10)."
	fi
	echo
	echo "| op | payload | Q | O_DIRECT | lmfast MiB/s | lmfast per-thread MiB/s | fio psync | fio io_uring | fio libaio | best fio | lmfast / best fio | per-thread / best fio | ≥ 0.95 |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for op in store load; do
		for kb in 256 1024; do
			for qd in 8 32; do
				for direct in 1 0; do
					lm=$(val lmfast psync $op $kb $qd $direct | median)
					lt=$(val lmfast psync-thread $op $kb $qd $direct | median)
					ps=$(fio_cell psync $op $kb $qd $direct)
					iu=$(fio_cell io_uring $op $kb $qd $direct)
					la=$(fio_cell libaio $op $kb $qd $direct)
					r=$(ratios $op $kb $qd $direct | median 3)
					rt=$(ratios $op $kb $qd $direct psync-thread | median 3)
					be=$(best_engine $op $kb $qd $direct)
					name=$op
					if [ $op = load ]; then
						name="cold load"
						ok=$(verdict "$rt" 0.95)
					else
						lt="—" rt="—" # no per-thread stores: a store only reads its buffer (notes §8)
						ok=$(verdict "$r" 0.95)
					fi
					echo "| $name | $kb KiB | $qd | $direct | $lm | $lt | $ps | $iu | $la | ${be:-n/a} | $r | $rt | $ok |"
					cell="$name $kb KiB Q$qd direct=$direct"
					note_failures "$cell" lmfast psync $op $kb $qd $direct
					[ $op = load ] && note_failures "$cell" lmfast psync-thread $op $kb $qd $direct
					for e in psync io_uring libaio; do note_failures "$cell" fio $e $op $kb $qd $direct; done
					if [ $op = load ]; then for e in psync io_uring libaio; do note_failures "$cell (2nd)" fio $e load2 $kb $qd $direct; done; fi
				done
			done
		done
	done
	echo
	echo "Stores: LMCache's layout publishes every key with a temp file and a rename (two journalled directory changes"
	echo "per key where fio's create-write-close makes one); no fio engine can do that, so the store ratio includes it."
	if has_load2; then
		echo
		echo "Order: of two cold loads after one store, the second was the faster in $(second_faster lmfast 1) lmfast pairs and"
		echo "$(second_faster fio 1) fio pairs with O_DIRECT, in $(second_faster lmfast 0) and $(second_faster fio 0) buffered (lmfast's pair is its two layouts, so"
		echo "their difference is mixed in). Each lmfast load is compared with the fio load in the same place after its store;"
		echo "fio's cells give the medians of its first and second loads."
	fi
	echo
	failed_line
	echo
	if [ "$PAIRED" = 1 ]; then
		echo "Cold loads of standing files, in tight pairs: lmfast (\`--load-buffers per-thread\`) and the best fio engine for loads"
		echo "at that point (above) each store one set of files once, in their own directories; then the two sets are loaded cold"
		echo "alternately (after one untimed load of each), odd pairs lmfast first, each load after the same drop and idle as"
		echo "above, so the two loads of a pair are seconds apart where the table above compares loads a rotation apart."
		echo "Ratio = lmfast / fio of the same pair; medians over the pairs."
		echo
		echo "| payload | Q | O_DIRECT | fio engine | pairs | lmfast per-thread MiB/s | fio MiB/s | lmfast / fio (median of pairs) | lmfast faster | ≥ 0.95 |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		for kb in 256 1024; do
			for qd in 8 32; do
				for direct in 1 0; do
					e=$(pair_engine $kb $qd $direct)
					[ -n "$e" ] || continue
					pr=$(pair_ratios $kb $qd $direct "$e")
					r=$(echo "$pr" | awk NF | median 3)
					won=$(echo "$pr" | awk 'NF {n++; if ($1 > 1) w++} END {printf "%d of %d\n", w, n}')
					echo "| $kb KiB | $qd | $direct | $e | $(echo "$pr" | awk NF | wc -l) | $(val lmfast psync-thread pair_load $kb $qd $direct | median) | $(val fio "$e" pair_load $kb $qd $direct | median) | $r | $won | $(verdict "$r" 0.95) |"
					note_failures "paired store $kb KiB Q$qd direct=$direct" lmfast psync pair_store $kb $qd $direct
					note_failures "paired store $kb KiB Q$qd direct=$direct" fio "$e" pair_store $kb $qd $direct
					note_failures "paired load $kb KiB Q$qd direct=$direct" lmfast psync-thread pair_load $kb $qd $direct
					note_failures "paired load $kb KiB Q$qd direct=$direct" fio "$e" pair_load $kb $qd $direct
				done
			done
		done
		echo
		failed_line
		echo
	fi
	echo "Hot-cache load (256 KiB, buffered, files in the page cache; fio \`invalidate=0\`):"
	echo
	echo "| Q | lmfast MiB/s | lmfast GB/s | per-thread MiB/s | per-thread GB/s | fio psync MiB/s | target ≥ ~10 GB/s (LMCache's slots) |"
	echo "|---|---|---|---|---|---|---|"
	gbps() { awk -v m="$1" 'BEGIN {if (m ~ /^[-0-9.e+]+$/) printf "%.2f", m * 1048576 / 1e9; else print "n/a"}'; }
	for qd in 8 32; do
		lm=$(val lmfast psync hot_load 256 $qd 0 | median)
		lt=$(val lmfast psync-thread hot_load 256 $qd 0 | median)
		f=$(val fio psync hot_load 256 $qd 0 | median)
		gb=$(gbps "$lm")
		ok=$(verdict "$gb" 10)
		echo "| $qd | $lm | $gb | $lt | $(gbps "$lt") | $f | $ok |"
		note_failures "hot load Q$qd" lmfast psync hot_load 256 $qd 0
		note_failures "hot load Q$qd per-thread" lmfast psync-thread hot_load 256 $qd 0
		note_failures "hot load Q$qd" fio psync hot_load 256 $qd 0
	done
	echo
	failed_line
	echo
	echo "Lookups ($lkeys keys of 4 KiB on disk, dentries cached; \`--in-flight 4 --num-keys $((lkeys / 4))\`):"
	echo
	echo "| keys | I/O workers | lmfast keys/s (median) | target ≥ 300k |"
	echo "|---|---|---|---|"
	for kind in hit miss_new miss_again; do
		for w in 1 2 4; do
			v=$(val lmfast "psync-$w" "lookup_$kind" 4 4 0 | median)
			ok=$(verdict "$v" 300000)
			note_failures "lookup $kind, $w workers" lmfast "psync-$w" "lookup_$kind" 4 4 0
			case $kind in
			hit) what="all present (dentries cached by the store)" ;;
			miss_new) what="all missing, names never looked up before" ;;
			miss_again) what="all missing, the same names again" ;;
			esac
			wl=$w
			[ "$w" = 4 ] && wl="4 (the default: --in-flight)"
			echo "| $what | $wl | $v | $ok |"
		done
	done
	echo
	failed_line
	echo
	echo "For scale (from the issue, not measured here): LMCache's Python fs adapter ~25k keys/s, its C++ fs_native ~200-290k."
	echo
	echo "Raw figures: \`l2-$DATE.jsonl\` beside this file (one line per run: tool, engine, op, payload_kb, qd, direct, rep, value)."
} >"$MD"
echo "wrote $MD and $RAW"
