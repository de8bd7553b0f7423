# Shared by the bench-*.sh scripts (sourced, not run).

# need CMD [PACKAGE]: install the Debian package when CMD is missing.
need() {
	command -v "$1" >/dev/null && return
	echo "installing ${2:-$1}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${2:-$1}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${2:-$1}" >/dev/null; }
}

# machine_md BIN: a markdown paragraph naming the machine a report ran on.
machine_md() {
	local model
	model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
	echo "Machine: $(nproc) vCPUs ($model), $(free -g | awk '/^Mem:/ {print $2}') GiB," \
		"Linux $(uname -r), $(go version 2>/dev/null | awk '{print $3}'), libzmq $(pkg-config --modversion libzmq 2>/dev/null)," \
		"$("$1" version). Run on $(date -u +%Y-%m-%dT%H:%MZ)."
}

# jq_num FILE FILTER: one number from a JSONL file.
jq_num() { jq -rs "$2" "$1"; }

# listening FILE: wait (5 s at most) for the listening line a server
# (lmfast sink, controller-server) writes first on its JSONL stdout.
listening() {
	for _ in $(seq 100); do
		[ -s "$1" ] && head -1 "$1" | jq -e '.event=="listening"' >/dev/null 2>&1 && return
		sleep 0.05
	done
	echo "no listening line in $1" >&2
	exit 1
}

# back_memory: write zeros over the VM's free memory but 1 GiB once, into
# a tmpfs mounted for it and unmounted after, and print "MiB seconds".
# A page the VM handed back to its host (free page reporting, a balloon)
# faults on the host at its next touch; on the VM of bench_results/ the
# first touch of 22 GiB took 44.7 s, the second 3.5 s. Which pages a
# cold load, a buffer or the hold of bench-l2-lmcache.sh then got decided
# its speed; touched once here, none of them pays for it inside a run.
# Call it with the reporting already off, or the pages go back again.
back_memory() {
	local mib
	mib=$(($(awk '/^MemFree:/ {print $2}' /proc/meminfo) / 1024 - 1024))
	[ "$mib" -gt 0 ] || { echo "0 0"; return; }
	(
		d=$(mktemp -d) || exit 1
		trap 'umount "$d" 2>/dev/null; rm -f "$d/zeros"; rmdir "$d"' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		mount -t tmpfs -o size="${mib}m" lmfast-back-memory "$d" || exit 1
		t0=$(date +%s.%N)
		head -c "${mib}M" /dev/zero >"$d/zeros" || exit 1
		t1=$(date +%s.%N)
		echo "$mib $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')"
	)
}
