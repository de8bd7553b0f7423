#!/usr/bin/env bash
# bench-l2-lmcache.sh BIN OUTDIR DATE — lmfast l2 against LMCache's own
# `lmcache bench l2` (its C++ fs_native adapter and its Python fs adapter)
# and fio, in tight alternating pairs, on this machine's disk.
#
# LMCACHE_L2_CMD is the command that runs `lmcache bench l2` (word-split;
# e.g. LMCACHE_L2_CMD="lmcache bench l2" with LMCache installed, or a
# wrapper that runs it from a source checkout). Unset: the script says so
# and does nothing (exit 0).
#
# Every tool runs with the same flags and file pattern — one file per key
# of --data-size-kb, written to a temp name and renamed (lmfast, LMCache),
# or written once (fio, one file per key too) — and each run is one
# operation (`--only store`, then `--only load` of the files it stored), so
# that the same is done before each: before a store the directory is
# emptied and the caches dropped (sync; drop_caches), before a cold load the
# page cache is dropped, and then the disk is left idle for L2L_IDLE s. All
# tools use one directory, emptied before each store: on ext4 a new
# directory lands in another block group, and a tool that always wrote
# elsewhere would measure another part of the disk. The drop after emptying
# it matters on an ext4 without a journal: there an inode deleted in the
# last minute is not reused while its inode table block is cached, and
# every create steps over all such inodes under the directory's lock (a
# store right after the delete ran at a fifth of its speed;
# docs/performance.md, "L2: buffered stores"). Dropped, none counts as
# recent, and every store reuses the same inodes.
#
# A pair is one store and one cold load of every tool, back to back, in
# an order that changes from pair to pair (fixed by the point and the
# pair, so a rerun repeats it): over every N pairs of N tools each tool
# goes first once, and the others follow in a shuffled order, so that no
# tool always follows the same one (with a rotation it would, and whatever
# a tool leaves the disk doing would always fall on the same next one).
# The report gives, per point, each pair's ratio of two tools and the
# median of the ratios. Tools:
#   lmfast            lmfast l2 with its defaults (transparent huge page
#                     buffers, one pread per key)
#   lmfast-no-thp     --no-thp: payload buffers on plain 4 KiB pages
#   lmfast-hugepages  --hugepages (2 MiB pages reserved by this script) and
#                     --load-buffers per-thread: fio's memory footprint
#   lmfast-window     lmfast-hugepages with --mode window --duration 0: the
#                     same keys and rounds, but --in-flight submits kept
#                     outstanding across the rounds, as fio keeps its jobs'
#                     I/O going, instead of LMCache's wait for every key of
#                     a round before the next starts (at 1 MiB in-flight 32
#                     with 32 MiB rounds that wait cost a quarter of the
#                     device time: docs/performance.md, "L2: rounds and fio")
#   lmfast-in-place   lmfast-window with --publish in-place: each key's
#                     final file created, written and closed, fio's file
#                     pattern, instead of LMCache's temp file and rename
#                     (docs/performance.md, "L2: LMCache's publication
#                     protocol"); the column the fio goal is read from
#   fs_native, fs     $LMCACHE_L2_CMD with LMCache's C++ and Python adapters
#   fio-psync         numjobs = --in-flight, iodepth 1
#   fio-io_uring, fio-libaio (O_DIRECT only): 8 jobs, iodepth --in-flight/8
# fio gets huge-page buffers (--iomem=shmhuge), as lmfast-hugepages.
# MiB/s of lmfast and LMCache: bytes per round / mean round duration, from
# the LMCache-format JSON summary both write (--format json --output),
# warmup rounds left out; of fio the same from its per-I/O completion log:
# the I/Os after the first (rounds+1)-th over the time from the completion
# that ended them to the last. fio's own figure, bytes over its longest
# job's runtime, reads high when its jobs start apart (each job's runtime
# starts with the job: 8 psync jobs on 2 CPUs started up to 22 ms apart on
# 30-50 ms buffered stores), so the JSONL keeps it (fio_bw) and the report
# shows it beside the ratios, but the ratios use the rounds figure.
#
# Writes OUTDIR/l2-lmcache-DATE.md and .jsonl (one line per run). Knobs:
#   L2L_PAIRS (8), L2L_SIZES ("256 1024" KiB), L2L_QDS ("8 32" in flight),
#   L2L_DIRECT ("1 0"), L2L_ROUNDS (5, plus 1 warmup), L2L_ROUND_MIB (64:
#   --num-keys is this over in-flight x size, so every point moves the same
#   data; 32 keys at 256 KiB x 8), L2L_IDLE (2 s), L2L_TOOLS (all above),
#   L2L_DIR (/var/tmp/lmfast-bench-l2-lmcache: on the disk, not tmpfs; the
#   runs use a mktemp directory inside, which is all that is removed),
#   L2L_REPORT_ONLY=1 (render the .md from an existing .jsonl, run nothing).
#   L2L_EQUAL_REST (1: lmfast and fio rest as long as LMCache starts up,
#   see below; 0: only L2L_IDLE for every tool).
#   L2L_KEEP_MEMORY (1: free page reporting off for the run, see below).
#   L2L_HOLD_MIB (frag: memory taken after each drop_caches and held
#   through the load, see below; a number: that many MiB; 0: none).
# Needs root (drop_caches, nr_hugepages); restores what it changed at exit.
#
# LMCache's Python start-up (2 s on an idle machine, up to a minute on a
# loaded one) leaves the disk idle before its first I/O, and this VM's
# disk is faster after a rest (docs/performance.md, "L2: huge pages and
# idle"; a cold load of fs_native's own C++ connector after 10 s more
# rest: median 1.45x). With L2L_EQUAL_REST=1 every lmfast and fio run
# first waits as long as the last LMCache start-up before the same
# operation took (its wall time less its warmup and measured rounds), so
# that every tool starts its I/O on an equally rested disk. It lengthens
# the run by about that start-up per lmfast and fio run.
#
# A VM whose balloon reports free memory to its host (free page reporting)
# gets such memory back through a fault on the host at its next touch: the
# 2 MiB pages reserved for the run, the page cache of a buffered cold load
# and every tool's buffers. With L2L_KEEP_MEMORY=1 the reporting is off for
# the run (page_reporting_order 11, above the largest order) and restored
# at exit, as scripts/bench-l2.sh does, and the free memory is written
# over once first (back_memory in lib.sh): pages handed back before the
# run are the VM's again before anything is timed.
#
# The pages drop_caches frees are handed out again first, and in an order
# that leaves a file read right after the drop on scattered 4 KiB pages:
# on the disk of bench_results/ (virtio, no indirect descriptors) a load
# then pays one ring descriptor per page. LMCache's Python start-up takes
# hundreds of MiB before its first read and so reads into fresh memory;
# lmfast and fio, started at once, did not (pagemap of the page cache after
# a 256 KiB cold load: 64 physically separate pieces per file for lmfast,
# 1 for fs_native; 1-3 for lmfast too once 64 MiB were taken first). The
# kernel hands out its smallest free blocks first, so before every tool's
# cold load, right after the drop, the script writes a file on /dev/shm
# (tmpfs) as large as the free memory then in blocks smaller than 2 MiB
# (/proc/buddyinfo) and on the per-CPU page lists (/proc/zoneinfo), and
# empties it after the load (removed at exit). A drop leaves the pages it
# freed on the per-CPU lists of the CPU that ran it (up to 1 GiB on the
# machine of bench_results/), and a writer takes pages off its own CPU's
# lists only, so one writer pinned to each CPU in turn first takes that
# CPU's lists' pages (with one writer the other CPU's lists kept them, and
# whichever tool's reads ran there got them). Every tool's load then
# reads into pages split off blocks of 2 MiB or more, as LMCache's does
# after its start-up. Each load's line in the JSONL has the MiB held.
set -euo pipefail
BIN=${1:?usage: bench-l2-lmcache.sh BIN OUTDIR DATE}
OUT=${2:?}
DATE=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
PAIRS=${L2L_PAIRS:-8}
SIZES=${L2L_SIZES:-256 1024}
QDS=${L2L_QDS:-8 32}
DIRECTS=${L2L_DIRECT:-1 0}
ROUNDS=${L2L_ROUNDS:-5}
ROUND_MIB=${L2L_ROUND_MIB:-64}
IDLE=${L2L_IDLE:-2}
EQUAL_REST=${L2L_EQUAL_REST:-1}
HOLD_MIB=${L2L_HOLD_MIB:-frag}
WORK=${L2L_DIR:-/var/tmp/lmfast-bench-l2-lmcache}
TOOLS=${L2L_TOOLS:-lmfast lmfast-no-thp lmfast-hugepages lmfast-window lmfast-in-place fs_native fs fio-psync fio-io_uring fio-libaio}
RAW="$OUT/l2-lmcache-$DATE.jsonl"
MD="$OUT/l2-lmcache-$DATE.md"

# disk_md DIR: the filesystem and block device DIR is on, and settings
# that change what a benchmark of it measures.
disk_md() {
	local src fs dev
	read -r src fs <<<"$(findmnt -no SOURCE,FSTYPE -T "$1")"
	dev=$(lsblk -no PKNAME "$src" 2>/dev/null | head -1)
	dev=${dev:-$(basename "$src")}
	echo "$1 on $src ($fs); $dev: $(lsblk -dno SIZE,MODEL "/dev/$dev" 2>/dev/null | xargs)," \
		"rotational $(cat "/sys/block/$dev/queue/rotational" 2>/dev/null), scheduler $(cat "/sys/block/$dev/queue/scheduler" 2>/dev/null)," \
		"max_segments $(cat "/sys/block/$dev/queue/max_segments" 2>/dev/null); transparent huge pages" \
		"$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null), defrag $(cat /sys/kernel/mm/transparent_hugepage/defrag 2>/dev/null);" \
		"free page reporting order $(cat /sys/module/page_reporting/parameters/page_reporting_order 2>/dev/null || echo n/a)."
}

if [ "${L2L_REPORT_ONLY:-0}" != 1 ]; then
	if [ -z "${LMCACHE_L2_CMD:-}" ]; then
		echo "bench-l2-lmcache: LMCACHE_L2_CMD is not set (the command that runs \`lmcache bench l2\`, e.g. LMCACHE_L2_CMD=\"lmcache bench l2\"): skipped" >&2
		exit 0
	fi
	read -r -a LMCACHE <<<"$LMCACHE_L2_CMD"
	[[ "$HOLD_MIB" =~ ^(frag|[0-9]+)$ ]] || { echo "bench-l2-lmcache: L2L_HOLD_MIB must be frag or a number of MiB, not $HOLD_MIB" >&2; exit 2; }
	[ "$HOLD_MIB" = 0 ] || [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] ||
		{ echo "bench-l2-lmcache: /dev/shm is not a tmpfs (L2L_HOLD_MIB=0 runs without the hold)" >&2; exit 1; }
	[ -w /proc/sys/vm/drop_caches ] || { echo "bench-l2-lmcache: needs root (drop_caches)" >&2; exit 1; }
	need jq
	need fio
	need taskset util-linux
	mkdir -p "$OUT" "$WORK"
	DIR=$(mktemp -d "$WORK/run.XXXXXX")
	HOLD=
	if [ "$HOLD_MIB" != 0 ]; then
		HOLD=$(mktemp /dev/shm/lmfast-bench-hold.XXXXXX)
	fi
	HUGE_BEFORE=$(cat /proc/sys/vm/nr_hugepages)
	REPORTING=/sys/module/page_reporting/parameters/page_reporting_order
	REPORTING_BEFORE=
	restore() {
		rm -rf "$DIR"
		[ -z "$HOLD" ] || rm -f "$HOLD"
		echo "$HUGE_BEFORE" >/proc/sys/vm/nr_hugepages
		[ -z "$REPORTING_BEFORE" ] || echo "$REPORTING_BEFORE" >"$REPORTING"
	}
	trap restore EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	DISK=$(disk_md "$WORK") # before the run changes any of it
	BACKED=(0 0) # MiB of free memory written over before the run, and seconds
	if [ "${L2L_KEEP_MEMORY:-1}" = 1 ] && [ -w "$REPORTING" ]; then
		REPORTING_BEFORE=$(cat "$REPORTING")
		echo 11 >"$REPORTING"
		backed=$(back_memory) || { echo "bench-l2-lmcache: could not write over the free memory (a tmpfs mount; L2L_KEEP_MEMORY=0 runs without it)" >&2; exit 1; }
		read -r -a BACKED <<<"$backed"
		echo "free page reporting off; wrote over the free memory once: ${BACKED[0]} MiB in ${BACKED[1]} s" >&2
	fi
	# lmfast-hugepages: a store half and a load half of one round, ROUND_MIB
	# 2 MiB pages; fio's shmhuge buffers (a 2 MiB page or two per job) fit
	# in the margin. The tools run one at a time.
	want=$((ROUND_MIB + 64))
	echo $((HUGE_BEFORE + want)) >/proc/sys/vm/nr_hugepages || true
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	if [ "${free:-0}" -lt "$want" ]; then
		echo "bench-l2-lmcache: only ${free:-0} free 2 MiB huge pages of $want: lmfast-hugepages and fio would fall back; giving up" >&2
		exit 1
	fi
	{
		printf '{"settings":{"pairs":%s,"rounds":%s,"round_mib":%s,"idle_s":%s,"equal_rest":%s,"hold_mib":%s,"tools":"%s","memory_kept":%s,"memory_backed_mib":%s,"memory_backed_s":%s,"store_drop_caches":1,"pair_order":"first-cycles","hold_per_cpu":1,"fio_value":"rounds","lmcache_cmd":%s,' \
			"$PAIRS" "$ROUNDS" "$ROUND_MIB" "$IDLE" "$EQUAL_REST" "$(jq -n --arg h "$HOLD_MIB" '$h | tonumber? // $h')" "$TOOLS" "$([ -n "$REPORTING_BEFORE" ] && echo 1 || echo 0)" "${BACKED[0]}" "${BACKED[1]}" "$(jq -Rn --arg c "$LMCACHE_L2_CMD" '$c')"
		printf '"lmcache_rev":%s,"machine":%s,"disk":%s}}\n' "$(jq -Rn --arg c "${L2L_LMCACHE_REV:-}" '$c')" \
			"$(machine_md "$BIN" | jq -Rs .)" "$(echo "$DISK" | jq -Rs .)"
	} >"$RAW"
fi

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# fragments_mib: MiB the kernel would hand out before splitting a block of
# 2 MiB or more: free blocks below order 9 in every zone, and the pages on
# the per-CPU lists (4 KiB pages); at most the free memory but 2 GiB.
fragments_mib() {
	{
		awk '/^Node/ {for (o = 0; o < 9 && 5 + o <= NF; o++) s += $(5 + o) * 2 ^ o} END {print s + 0}' /proc/buddyinfo
		awk '$1 == "count:" {s += $2} END {print s + 0}' /proc/zoneinfo
	} | awk -v free="$(awk '/^MemFree:/ {print int($2 / 1024) - 2048}' /proc/meminfo)" \
		'{s += $1} END {m = int(s * 4 / 1024) + 1; if (m > free) m = free; if (m < 0) m = 0; print m}'
}

# hold_memory: take L2L_HOLD_MIB (or the fragments) of memory after a drop
# (a tmpfs file); HELD is how many MiB. A tmpfs page comes off the per-CPU
# lists of the CPU its writer runs on, and a drop leaves the pages it freed
# on the lists of the CPU that ran it: the file is written by one writer
# pinned to each CPU in turn, each first taking as many MiB as that CPU's
# lists hold, then by any CPU up to the total.
HELD=0
hold_memory() {
	HELD=0
	[ -n "$HOLD" ] || return 0
	HELD=$HOLD_MIB
	[ "$HELD" != frag ] || HELD=$(fragments_mib)
	: >"$HOLD"
	local c n taken=0
	for c in $(online_cpus); do
		n=$(($(pcp_pages "$c") * 4 / 1024 + 1))
		[ $((taken + n)) -le "$HELD" ] || n=$((HELD - taken))
		[ "$n" -gt 0 ] || break
		taskset -c "$c" head -c "${n}M" /dev/zero >>"$HOLD"
		taken=$((taken + n))
	done
	[ "$HELD" -le "$taken" ] || head -c "$((HELD - taken))M" /dev/zero >>"$HOLD"
}

# pcp_pages CPU: the 4 KiB pages on CPU's per-CPU page lists, every zone.
pcp_pages() {
	awk -v c="$1" '$1 == "cpu:" {on = $2 == c} on && $1 == "count:" {s += $2} END {print s + 0}' /proc/zoneinfo
}

# online_cpus: the online CPUs' numbers, one a line.
online_cpus() {
	awk -F, '{for (i = 1; i <= NF; i++) {n = split($i, r, "-"); for (c = r[1]; c <= r[n]; c++) print c}}' /sys/devices/system/cpu/online
}

# release_memory: give it back after the load.
release_memory() {
	[ -z "$HOLD" ] || : >"$HOLD"
}

# summary_mibs JSON: MiB/s of an LMCache-format summary (bytes per round /
# mean round duration); null when a key failed or the file is missing.
summary_mibs() {
	jq -r '.metrics as $m | ($m | to_entries | map(select(.key | startswith("op_")))[0].value) as $o |
		if $o == null or $o.total_success != $o.total_keys or $o.duration_avg_ms <= 0 then "null"
		else ($m.config.data_per_round_mb / ($o.duration_avg_ms / 1000) * 100 | round / 100) end' "$1" 2>/dev/null || echo null
}

# fio_rounds_mibs PREFIX KB: fio's MiB/s measured as lmfast and LMCache
# measure theirs, from its per-I/O logs (PREFIX_clat.N.log, one per job;
# first column the completion time in Unix ms): the first (ROUNDS+1)-th of
# the I/Os is the warmup round, the rest over the time from the completion
# that ended it to the last completion. null without logs or time.
fio_rounds_mibs() {
	cat "$1"_clat.*.log 2>/dev/null | cut -d, -f1 | sort -n |
		awk -v r="$ROUNDS" -v kb="$2" '{c[NR] = $1} END {
			w = int(NR / (r + 1)); if (w < 1 || c[NR] <= c[w]) {print "null"; exit}
			printf "%.2f\n", (NR - w) * kb / 1024 / ((c[NR] - c[w]) / 1000) }'
}

# run_tool TOOL OP KB QD DIRECT: MiB/s of one store or load (null: failed);
# for LMCache's tools, its start-up in seconds (wall time less its warmup
# and measured rounds), else null; for fio, its own bandwidth figure (bytes
# over its longest job's runtime), else null.
run_tool() {
	local tool=$1 op=$2 kb=$3 qd=$4 direct=$5
	local nk=$((ROUND_MIB * 1024 / (qd * kb)))
	local od=false
	[ "$direct" = 1 ] && od=true
	local sum="$DIR/summary.json" d="$DIR/d"
	local flags=(--num-keys "$nk" --in-flight "$qd" --data-size-kb "$kb" --l1-align-bytes 4096
		--rounds "$ROUNDS" --warmup-rounds 1 --only "$op" -q --format json --output "$sum")
	rm -f "$sum"
	case $tool in
	lmfast | lmfast-no-thp | lmfast-hugepages | lmfast-window | lmfast-in-place)
		local extra=()
		case $tool in
		lmfast-no-thp) extra=(--no-thp) ;;
		lmfast-hugepages) extra=(--hugepages --load-buffers per-thread) ;;
		lmfast-window | lmfast-in-place) extra=(--hugepages --load-buffers per-thread --mode window --duration 0) ;;
		esac
		[ "$tool" != lmfast-in-place ] || extra+=(--publish in-place)
		"$BIN" l2 --l2-adapter "{\"type\":\"fs_native\",\"base_path\":\"$d\",\"use_odirect\":$od}" \
			"${flags[@]}" "${extra[@]}" >/dev/null 2>"$DIR/stderr" || true
		echo "$(summary_mibs "$sum") null null"
		;;
	fs_native | fs)
		local t0 t1
		t0=$(date +%s.%N)
		"${LMCACHE[@]}" --l2-adapter "{\"type\":\"$tool\",\"base_path\":\"$d\",\"use_odirect\":$od}" \
			"${flags[@]}" >/dev/null 2>"$DIR/stderr" || true
		t1=$(date +%s.%N)
		echo "$(summary_mibs "$sum") $(summary_startup "$sum" "$t0" "$t1") null"
		;;
	fio-*)
		local engine=${tool#fio-} keys=$(((ROUNDS + 1) * ROUND_MIB * 1024 / kb)) jobs iodepth rw=write create=(--create_on_open=1 --fallocate=none)
		[ "$op" = load ] && rw=read create=()
		jobs=$qd iodepth=1
		[ "$engine" = psync ] || jobs=8 iodepth=$((qd / 8))
		local t own
		mkdir -p "$d"
		rm -f "$DIR"/fio_*.log
		t=$(fio --name=b --directory="$d" --ioengine="$engine" --numjobs="$jobs" --iodepth="$iodepth" \
			--nrfiles=$((keys / jobs)) --openfiles=$((2 * iodepth)) --filesize="${kb}k" --bs="${kb}k" --rw="$rw" \
			--direct="$direct" --iomem=shmhuge "${create[@]}" --group_reporting \
			--write_lat_log="$DIR/fio" --log_unix_epoch=1 \
			--output-format=terse --terse-version=3 2>"$DIR/stderr" | tail -1 || true)
		if [ -z "$t" ] || [ "$(echo "$t" | cut -d';' -f5)" != 0 ]; then
			echo null null null
			return
		fi
		local field=48 # terse v3: write bandwidth (KiB/s); 7: read
		[ "$rw" = write ] || field=7
		own=$(echo "$t" | awk -F';' -v f="$field" '{printf "%.2f", $f/1024}')
		echo "$(fio_rounds_mibs "$DIR/fio" "$kb") null $own"
		;;
	esac
}

# summary_startup JSON T0 T1: seconds of a run from T0 to T1 not spent in
# its rounds (warmup counted as one more mean round): LMCache's start-up
# and teardown. null when the summary is missing.
summary_startup() {
	jq -r --argjson w "$(awk -v a="$2" -v b="$3" 'BEGIN {printf "%.3f", b - a}')" --argjson r "$ROUNDS" '
		(.metrics | to_entries | map(select(.key | startswith("op_")))[0].value) as $o |
		if $o == null then "null" else ([$w - ($r + 1) * $o.duration_avg_ms / 1000, 0] | max * 10 | round / 10) end' "$1" 2>/dev/null || echo null
}

# tools_at DIRECT: the tools that run at a point (libaio only with O_DIRECT:
# buffered, it is synchronous).
tools_at() {
	local t
	for t in $TOOLS; do
		[ "$t" = fio-libaio ] && [ "$1" = 0 ] && continue
		echo -n "$t "
	done
	echo
}

# order SEED PAIR TOOL...: the order of the tools in pair PAIR (1, 2, ...).
# The first is the PAIR-th tool of the list, cyclically, so that over every
# len(TOOL...) pairs each tool goes first once (the first run of a pair
# follows the previous pair's last, and where a tool runs changes its
# figures: docs/performance.md, "L2: noise, and how the bench compares");
# the rest follow sorted by a hash of SEED and the tool, so that no tool
# always follows the same one. (Not awk's srand: mawk, Debian's awk, takes
# every seed from 2^31 up as 2^31 - 1, and seeds close together start its
# rand() alike.)
order() {
	local seed=$1 pair=$2 t
	shift 2
	local first=${*:$(((pair - 1) % $# + 1)):1}
	echo -n "$first "
	for t in "$@"; do
		[ "$t" = "$first" ] || echo "$(echo "$seed $t" | md5sum | cut -c1-12) $t"
	done | sort | cut -d' ' -f2 | tr '\n' ' '
	echo
}

record() { # tool op kb qd direct pair position value rest_s startup_s hold_mib fio_bw
	printf '{"tool":"%s","op":"%s","kb":%s,"qd":%s,"direct":%s,"pair":%s,"position":%s,"value":%s,"rest_s":%s,"startup_s":%s,"hold_mib":%s,"fio_bw":%s}\n' "$@" >>"$RAW"
}

# rest TOOL OP: the extra seconds TOOL waits before OP (L2L_EQUAL_REST):
# LMCache's last start-up before OP for lmfast and fio, none for LMCache.
declare -A STARTUP=([store]=0 [load]=0)
rest() {
	case $1 in
	fs_native | fs) echo 0 ;;
	*) if [ "$EQUAL_REST" = 1 ]; then echo "${STARTUP[$2]}"; else echo 0; fi ;;
	esac
}

if [ "${L2L_REPORT_ONLY:-0}" != 1 ]; then
	for kb in $SIZES; do
		for qd in $QDS; do
			for direct in $DIRECTS; do
				for p in $(seq 1 "$PAIRS"); do
					load=$(cut -d' ' -f1 /proc/loadavg)
					printf '{"load":{"kb":%s,"qd":%s,"direct":%s,"pair":%s,"loadavg1":%s}}\n' "$kb" "$qd" "$direct" "$p" "$load" >>"$RAW"
					line="kb=$kb qd=$qd direct=$direct pair=$p load=$load"
					pos=0
					# shellcheck disable=SC2046
					for tool in $(order "$kb-$qd-$direct-$p" "$p" $(tools_at "$direct")); do
						pos=$((pos + 1))
						rm -rf "$DIR/d"
						drop_caches
						sleep "$IDLE"
						rs=$(rest "$tool" store)
						sleep "$rs"
						read -r s su so <<<"$(run_tool "$tool" store "$kb" "$qd" "$direct")"
						[ "$su" = null ] || STARTUP[store]=$su
						drop_caches
						hold_memory
						sleep "$IDLE"
						rl=$(rest "$tool" load)
						sleep "$rl"
						read -r l lu lo <<<"$(run_tool "$tool" load "$kb" "$qd" "$direct")"
						release_memory
						[ "$lu" = null ] || STARTUP[load]=$lu
						record "$tool" store "$kb" "$qd" "$direct" "$p" "$pos" "$s" "$rs" "$su" 0 "$so"
						record "$tool" load "$kb" "$qd" "$direct" "$p" "$pos" "$l" "$rl" "$lu" "$HELD" "$lo"
						[ "$s" != null ] && [ "$l" != null ] || { echo "$tool kb=$kb qd=$qd direct=$direct pair=$p failed:" >&2; tail -3 "$DIR/stderr" >&2; }
						line="$line | $tool $s/$l"
					done
					echo "$line"
				done
			done
		done
	done
fi

# ---------------------------------------------------------------- report
[ -f "$RAW" ] || { echo "no $RAW" >&2; exit 1; }
settings() { jq -rs ".[0].settings.$1" "$RAW"; }
# fio_rounds: whether fio's values are its rounds figure (fio_rounds_mibs),
# with its own bandwidth figure beside them; in runs from before the
# setting the values are fio's own figure.
fio_rounds() { [ "$(settings fio_value)" = rounds ]; }
# vals TOOL OP KB QD DIRECT: "pair value" of the runs that did not fail;
# TOOL fio-ENGINE@bw: fio's own bandwidth figure of those runs.
vals() {
	local t=$1 f=value
	if [ "${t%@bw}" != "$t" ]; then
		t=${t%@bw}
		! fio_rounds || f=fio_bw
	fi
	jq -r --arg t "$t" --arg f "$f" --arg o "$2" --argjson k "$3" --argjson q "$4" --argjson d "$5" \
		'select(.tool == $t and .op == $o and .kb == $k and .qd == $q and .direct == $d and .value != null and .[$f] != null) | "\(.pair) \(.[$f])"' "$RAW"
}
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "n/a"; exit}; if (NR%2) print v[(NR+1)/2]; else printf("%.3f\n", (v[NR/2]+v[NR/2+1])/2)}'; }
# ratios A B OP KB QD DIRECT: A / B per pair where both ran, one a line,
# in pair order.
ratios() {
	join <(vals "$1" "${@:3}" | sort -k1,1) <(vals "$2" "${@:3}" | sort -k1,1) |
		awk '$3 > 0 {printf "%d %.3f\n", $1, $2 / $3}' | sort -n | cut -d' ' -f2
}
# cell A B OP KB QD DIRECT: "median (wins/pairs): r1 r2 ..." of A / B.
cell() {
	local r
	r=$(ratios "$@" | sort -g)
	[ -n "$r" ] || { echo "n/a"; return; }
	local m n w
	m=$(echo "$r" | median)
	n=$(echo "$r" | wc -l)
	w=$(echo "$r" | awk '$1 >= 1' | wc -l)
	echo "**$m** ($w/$n ≥ 1): $(ratios "$@" | tr '\n' ' ' | sed 's/ $//')"
}
tool_median() { vals "$@" | cut -d' ' -f2 | median; }
# best_fio OP KB QD DIRECT: the fio engine with the highest median there.
best_fio() {
	local t
	for t in fio-psync fio-io_uring fio-libaio; do
		local m
		m=$(tool_median "$t" "$@")
		[ "$m" = n/a ] || echo "$m $t"
	done | sort -g | tail -1 | cut -d' ' -f2
}
# order_md: how the tools' order was chosen (md5: a run of 2026-12-06
# sorted by the hash alone; runs from before the setting: the awk shuffle
# whose seeds gave one order at whole points).
order_md() {
	case $(settings pair_order) in
	first-cycles) echo ": each tool first in turn, the others in a shuffled order" ;;
	md5) echo ": sorted by an md5 of the point, the pair and the tool" ;;
	*)
		echo " (an awk shuffle that ran the tools in one order in every pair at the 1 MiB in-flight 32 points, notes of 2026-12-06 §12)" ;;
	esac
}
# fio_value_md: how fio's MiB/s were taken.
fio_value_md() {
	if fio_rounds; then
		echo "MiB/s taken as lmfast's and LMCache's are, from its per-I/O log (\`--write_lat_log --log_unix_epoch=1\`," \
			"completion times in ms): the I/Os after the first 1/$(($(settings rounds) + 1)) of them (a warmup round, as the" \
			"others leave out 1 round of $(($(settings rounds) + 1))) over the time from the completion that ended it to the last. fio's own figure (bytes over its longest job's runtime) is beside it:" \
			"each job's runtime starts when that job starts, and jobs that start late (8 or more CPU-bound jobs on few CPUs)" \
			"end with runtimes shorter than the run, so on short runs it can read above what the jobs moved per second" \
			"(docs/performance.md, \"L2: noise, and how the bench compares\")."
	else
		echo "fio's own bandwidth figure (bytes over its longest job's runtime)."
	fi
}

# huge_label TOOL: the fio table's name of an lmfast --hugepages tool.
huge_label() {
	case $1 in
	lmfast-window) echo "lmfast --hugepages --mode window" ;;
	lmfast-in-place) echo "lmfast --hugepages --mode window --publish in-place" ;;
	*) echo "lmfast --hugepages" ;;
	esac
}
# ran TOOL: whether TOOL was one of the run's tools.
ran() { [[ " $(settings tools) " == *" $1 "* ]]; }
# rest_md: how the tools' rest before their I/O compared.
rest_md() {
	local m
	m=$(jq -r 'select(.tool and .startup_s != null) | .startup_s' "$RAW" | median)
	if [ "$(settings equal_rest)" = 1 ]; then
		echo "LMCache's start-up (median $m s) leaves the disk idle before its first I/O; lmfast and fio waited" \
			"as long as LMCache's last start-up before the same operation (\`L2L_EQUAL_REST=1\`), so every tool started on an equally rested disk."
	else
		echo "LMCache's Python start-up$([ "$m" = n/a ] || echo " (median $m s)") adds idle disk time before its first I/O" \
			"that the other tools did not get (\`L2L_EQUAL_REST=0\`, or a run from before the setting)."
	fi
}

# hold_md: what was held after each drop (none in runs from before the setting).
hold_md() {
	local h m
	h=$(settings hold_mib)
	case $h in
	null | 0) ;;
	frag)
		m=$(jq -r 'select(.tool and .op == "load") | .hold_mib' "$RAW" | sort -g | awk '{v[NR]=$1} END {if (NR) printf "%s–%s, median %s", v[1], v[NR], v[int((NR+1)/2)]}')
		echo "then a file on /dev/shm (tmpfs) written as large as the free memory in blocks smaller than 2 MiB and on the per-CPU page lists ($m MiB)$(hold_cpu_md) and kept until the load ended, so that every tool's load read into pages split off larger blocks (the script's header says why), " ;;
	*) echo "then ${h} MiB written to a file on /dev/shm (tmpfs) and kept until the load ended, so that no tool reads into the pages the drop just freed (the script's header says why), " ;;
	esac
}

# hold_cpu_md: how the hold was written (one writer on whichever CPU it ran,
# in runs from before the setting).
hold_cpu_md() {
	if [ "$(settings hold_per_cpu)" = 1 ]; then
		echo ", by a writer pinned to each CPU in turn, each first taking as many pages as its CPU's lists held,"
	else
		echo ", by one writer on whichever CPU it ran (another CPU's per-CPU lists could keep the pages the drop freed),"
	fi
}

# store_prep_md: what followed the emptying of the directory before a
# store (a sync only in runs from before the setting).
store_prep_md() {
	if [ "$(settings store_drop_caches)" = 1 ]; then
		echo "the caches dropped (\`sync; echo 3 > /proc/sys/vm/drop_caches\`: on an ext4 without a journal, inodes deleted within the minute and still cached are otherwise stepped over at every create; the script's header says why)"
	else
		echo "\`sync\`ed"
	fi
}

# backed_md: the free memory touched once before the run (none in runs
# from before the setting).
backed_md() {
	local b
	b=$(jq -rs '.[0].settings | "\(.memory_backed_mib // 0) \(.memory_backed_s // 0)"' "$RAW")
	[ "${b%% *}" = 0 ] || echo " Before the first pair the free memory but 1 GiB was written over once (${b%% *} MiB in ${b#* } s), so that no tool paid the host's first touch of a page the VM had handed back."
}

# loads: the machine's 1-minute load average at the start of the pairs
# (other work on the machine slows every tool, unevenly).
loads() {
	jq -rs '(map(select(.tool) | "\(.kb) \(.qd) \(.direct) \(.pair)") | unique) as $done |
		.[] | select(.load) | .load | select("\(.kb) \(.qd) \(.direct) \(.pair)" as $k | $done | index($k)) | .loadavg1' "$RAW" | sort -g |
		awk '{v[NR]=$1} END {if (NR) printf "Load average (1 min) at the start of the %d pairs: min %s, median %s, max %s (on %s vCPUs).", NR, v[1], v[int((NR+1)/2)], v[NR], "'"$(nproc)"'"}'
}
points() { jq -r 'select(.tool) | "\(.kb) \(.qd) \(.direct)"' "$RAW" | awk '!seen[$0]++'; }
label() { echo "$1 KiB, in-flight $2, $([ "$3" = 1 ] && echo O_DIRECT || echo buffered)"; }
# ratio_rows DEN TOOL...: a table row per point and operation, with a cell
# of each TOOL against DEN.
ratio_rows() {
	local den=$1 t
	shift
	points | while read -r kb qd d; do
		for op in store load; do
			printf '| %s | %s |' "$(label "$kb" "$qd" "$d")" "$op"
			for t in "$@"; do printf ' %s |' "$(cell "$t" "$den" "$op" "$kb" "$qd" "$d")"; done
			echo
		done
	done
}
{
	echo "# lmfast l2 against LMCache's \`lmcache bench l2\` (fs_native, fs) and fio — $DATE"
	echo
	settings machine
	echo
	echo "Disk: $(settings disk)"
	[ "$(settings lmcache_rev)" = "" ] || { echo; echo "LMCache: $(settings lmcache_rev)"; }
	echo
	echo "## Method"
	echo
	echo "\`scripts/bench-l2-lmcache.sh\`: $(settings pairs) tight pairs per point; in each pair every tool stores" \
		"$(settings rounds) measured rounds (+1 warmup) of $(settings round_mib) MiB (--num-keys = $(settings round_mib) MiB /" \
		"(in-flight × size): $(($(settings round_mib) / 2)) at 256 KiB × 8) with \`--only store\`, then loads them cold with \`--only load\`;" \
		"before each store the directory is emptied and $(store_prep_md), before each load \`sync; echo 3 > /proc/sys/vm/drop_caches\`," \
		"$(hold_md)then $(settings idle_s) s idle. One directory for every tool. The order of the tools changes from pair to pair$(order_md). lmfast and LMCache" \
		"with \`--l1-align-bytes 4096\` and an fs_native adapter spec (lmfast's fs_native is LMCache's file layout and" \
		"publication), MiB/s = bytes per round / mean round duration from the LMCache-format JSON summary; fio: one file" \
		"per key, \`--iomem=shmhuge\`, psync with numjobs = in-flight, io_uring/libaio with 8 jobs × iodepth in-flight/8," \
		"$(fio_value_md) LMCache: \`$(settings lmcache_cmd)\`. A failed run (a key not stored or loaded) is" \
		"left out of its pair. Each cell: **median of the per-pair ratios** (pairs with ratio ≥ 1 / pairs): the ratios" \
		"in pair order. $(rest_md) lmfast --hugepages loads with \`--load-buffers per-thread\` (one buffer per I/O thread, as fio's" \
		"jobs), the default and --no-thp into LMCache's per-key slots.$(! ran lmfast-window || echo " lmfast --hugepages --mode window: the same with \`--mode window --duration 0\`, the same keys and rounds with --in-flight submits kept outstanding across rounds.")$(! ran lmfast-in-place || echo " lmfast --hugepages --mode window --publish in-place: the same with each key's final file created, written and closed (fio's file pattern) instead of LMCache's temp file and rename.")" \
		"$([ "$(settings memory_kept)" = 1 ] && echo "Free page reporting was off for the run (page_reporting_order 11), restored after.")$(backed_md)" \
		"$(loads)"
	echo
	if ran fs_native; then
		echo "## Default lmfast against LMCache's fs_native (goal ≥ 1.0)"
		echo
		if ran lmfast-no-thp; then
			echo "| point | op | lmfast / fs_native | lmfast --no-thp / fs_native |"
			echo "|---|---|---|---|"
		else
			echo "| point | op | lmfast / fs_native |"
			echo "|---|---|---|"
		fi
		ratio_rows fs_native lmfast $(! ran lmfast-no-thp || echo lmfast-no-thp)
		echo
	fi
	huge=()
	for t in lmfast-hugepages lmfast-window lmfast-in-place; do ! ran "$t" || huge+=("$t"); done
	if [ ${#huge[@]} -gt 0 ]; then
		echo "## lmfast --hugepages against the best fio engine (goal ≥ 0.95)"
		echo
		if ran lmfast-in-place; then
			echo "fio keeps its jobs' I/O going from start to end and publishes a file by creating, writing and closing it. \`--mode window --publish in-place\` is that pattern (--in-flight submits kept outstanding across rounds; each key's final file created, written and closed) and is the column the goal is read from$(! ran lmfast-window && ! ran lmfast-hugepages || echo "; $(! ran lmfast-window || echo "the window column adds LMCache's temp file and rename per key (loads read the same files), ")$(! ran lmfast-hugepages || echo "the wave column also LMCache's wait for every key of a round before the next round starts, ")what LMCache's own protocol costs against the same device")."
			echo
		elif ran lmfast-window; then
			echo "fio keeps its jobs' I/O going from start to end; LMCache's rounds (lmfast's default wave mode) wait for every key of a round before the next round starts. \`--mode window\` keeps --in-flight submits outstanding across rounds, fio's pattern, and is the column the goal is read from$(! ran lmfast-hugepages || echo "; the wave column shows what the rounds' wait costs")."
			echo
		fi
		# fio's own figure beside the goal column (the last of them)
		own=()
		! fio_rounds || own=("${huge[-1]}")
		printf '| point | op | fio engine |'
		for t in "${huge[@]}"; do printf ' %s / fio |' "$(huge_label "$t")"; done
		for t in "${own[@]}"; do printf " %s / fio's own figure |" "$(huge_label "$t")"; done
		printf '\n|---|---|---|'
		for t in "${huge[@]}" "${own[@]}"; do printf -- '---|'; done
		echo
		points | while read -r kb qd d; do
			for op in store load; do
				e=$(best_fio "$op" "$kb" "$qd" "$d")
				eng=${e#fio-}
				printf '| %s | %s | %s |' "$(label "$kb" "$qd" "$d")" "$op" "${eng:-n/a}"
				for t in "${huge[@]}"; do
					if [ -z "$e" ]; then printf ' n/a |'; else printf ' %s |' "$(cell "$t" "$e" "$op" "$kb" "$qd" "$d")"; fi
				done
				for t in "${own[@]}"; do
					if [ -z "$e" ]; then printf ' n/a |'; else printf ' %s |' "$(cell "$t" "$e@bw" "$op" "$kb" "$qd" "$d")"; fi
				done
				echo
			done
		done
		echo
	fi
	if ran fs; then
		echo "## Default lmfast against LMCache's Python fs adapter"
		echo
		echo "| point | op | lmfast / fs |"
		echo "|---|---|---|"
		ratio_rows fs lmfast
	fi
	echo
	echo "## Medians of each tool (MiB/s; failed runs$(! fio_rounds || echo "; fio-ENGINE@bw: fio's own figure"))"
	echo
	tools=$(settings tools)
	if fio_rounds; then
		for t in $(settings tools); do [ "${t#fio-}" = "$t" ] || tools="$tools $t@bw"; done
	fi
	printf '| point | op |'
	for t in $tools; do printf ' %s |' "$t"; done
	printf '\n|---|---|'
	for t in $tools; do printf -- '---|'; done
	echo
	points | while read -r kb qd d; do
		for op in store load; do
			printf '| %s | %s |' "$(label "$kb" "$qd" "$d")" "$op"
			for t in $tools; do
				f=$(jq -r --arg t "${t%@bw}" --arg o "$op" --argjson k "$kb" --argjson q "$qd" --argjson d "$d" \
					'select(.tool == $t and .op == $o and .kb == $k and .qd == $q and .direct == $d and .value == null) | 1' "$RAW" | wc -l)
				m=$(tool_median "$t" "$op" "$kb" "$qd" "$d")
				[ "$f" = 0 ] || m="$m ($f failed)"
				printf ' %s |' "$m"
			done
			echo
		done
	done
} >"$MD"
echo "wrote $MD" >&2
