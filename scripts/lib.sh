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
