#!/usr/bin/env bash
# bench-capacity.sh BIN OUTDIR DATE — a controller's capacity under a
# latency SLO with LMCache's seed mix: `lmfast controller --sweep … --slo …`
# against lmfast's reference controller and, when LMCACHE_CONTROLLER_CMD is
# set, against LMCache's own controller. Writes OUTDIR/capacity-DATE.md and
# .jsonl (every run's JSONL, each after a `bench` line naming the run).
#
# LMCACHE_CONTROLLER_CMD is a command (word-split) that starts LMCache's
# controller on 127.0.0.1 with its PULL, reply and heartbeat ports as its
# three arguments and serves its Prometheus /metrics on the port in
# CONTROLLER_METRICS_PORT (LMCache's api_server does both; a wrapper around
# `LMCacheControllerManager` does too). Unset: only controller-server runs.
#
# Two processes, one core each where the machine has two: lmfast on CPU 0,
# the controller on CPU 1 (taskset), so that neither takes the other's core.
# Every run scrapes the controller's /metrics (--controller-metrics) and
# ends with the reconciliation of what lmfast sent with what the controller
# received. Knobs:
#   CAP_SWEEP ("rate=250:64000:x2"), CAP_SLO ("p2p_lookup.p99<5ms"),
#   CAP_STEP (10s per step, after --warmup 2s), CAP_CONCURRENCY ("1 8":
#   one sweep per value, --concurrency per sender), CAP_FLAGS (more lmfast
#   flags), CAP_TARGETS ("controller-server lmcache").
set -euo pipefail
bin=$1 outdir=$2 date=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
need jq
need curl
sweep=${CAP_SWEEP:-rate=250:64000:x2}
slo=${CAP_SLO:-p2p_lookup.p99<5ms}
step=${CAP_STEP:-10s}
concs=${CAP_CONCURRENCY:-1 8}
targets=${CAP_TARGETS:-controller-server lmcache}
mix=admit:35,evict:29,heartbeat:1,p2p_lookup:35
seed_flags=(--num-instances 50 --batch-size 100 --operations "$mix")
jsonl=$outdir/capacity-$date.jsonl md=$outdir/capacity-$date.md
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT

cpu_lmfast=() cpu_server=()
if [ "$(nproc)" -ge 2 ]; then
	cpu_lmfast=(taskset -c 0) cpu_server=(taskset -c 1)
fi

# free_port: a TCP port nothing on this machine listens on.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# wait_http PORT: until the controller's /metrics answers (60 s).
wait_http() {
	for _ in $(seq 600); do
		curl -sf "127.0.0.1:$1/metrics" >/dev/null && return
		sleep 0.1
	done
	echo "bench-capacity: no /metrics on 127.0.0.1:$1" >&2
	exit 1
}

# start TARGET: starts the controller; sets srv, pp, rp, hp, http.
start() {
	pp=$(free_port) rp=$(free_port) hp=$(free_port) http=$(free_port)
	case $1 in
	controller-server)
		"${cpu_server[@]}" "$bin" controller-server --pull-port "$pp" --reply-port "$rp" \
			--heartbeat-port "$hp" --http-port "$http" >"$tmp/srv.out" 2>&1 &
		;;
	lmcache)
		# shellcheck disable=SC2086 # the command is word-split on purpose
		CONTROLLER_METRICS_PORT=$http "${cpu_server[@]}" $LMCACHE_CONTROLLER_CMD "$pp" "$rp" "$hp" >"$tmp/srv.out" 2>&1 &
		;;
	esac
	srv=$!
	wait_http "$http"
}

stop() {
	kill -TERM "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	srv=
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

if [ "${CAP_REPORT_ONLY:-}" != 1 ]; then
	: >"$jsonl"
	for target in $targets; do
		if [ "$target" = lmcache ] && [ -z "${LMCACHE_CONTROLLER_CMD:-}" ]; then
			echo "bench-capacity: LMCACHE_CONTROLLER_CMD is unset: LMCache's controller is left out" >&2
			continue
		fi
		for conc in $concs; do
			start "$target"
			before=$(load)
			echo "bench-capacity: $target, --concurrency $conc (load $before)" >&2
			rc=0
			"${cpu_lmfast[@]}" "$bin" controller --controller-host 127.0.0.1 \
				--monitor-ports "{\"pull\":$pp,\"reply\":$rp,\"heartbeat\":$hp}" \
				--controller-metrics "http://127.0.0.1:$http/metrics" \
				"${seed_flags[@]}" --concurrency "$conc" --sweep "$sweep" --slo "$slo" \
				--step-duration "$step" ${CAP_FLAGS:-} --out "$tmp/run.jsonl" 2>"$tmp/run.err" || rc=$?
			after=$(load)
			stop
			jq -cn --arg target "$target" --argjson conc "$conc" --arg before "$before" --arg after "$after" \
				--argjson rc "$rc" --rawfile report "$tmp/run.err" --rawfile server "$tmp/srv.out" \
				'{event:"bench", target:$target, concurrency:$conc, load_before:$before, load_after:$after,
				  exit:$rc, report:$report, server_output:($server|.[-2000:])}' >>"$jsonl"
			cat "$tmp/run.jsonl" >>"$jsonl"
		done
	done
fi

# The report: one section per run, the step table and the capacity line
# as lmfast printed them, and the p2p_lookup figures of every step.
{
	echo "# Controller capacity under an SLO, LMCache's seed mix ($date)"
	echo
	machine_md "$bin"
	echo
	echo "Command: \`scripts/bench-capacity.sh BIN OUTDIR DATE\` (\`LMCACHE_CONTROLLER_CMD\` for LMCache's"
	echo "controller). Raw JSONL: \`capacity-$date.jsonl\` (a \`bench\` line per run, then the run's own lines)."
	echo
	echo "Method: \`lmfast controller ${seed_flags[*]} --concurrency C --sweep $sweep --slo '$slo'"
	echo "--step-duration $step\` (\`--warmup 2s\` per step, excluded) with \`--controller-metrics\` on the"
	echo "controller's /metrics; lmfast on CPU 0, the controller on CPU 1. Coarse steps double the rate"
	echo "until one fails the SLO, then bisection to 5 %. Latency terms are corrected latency (from each"
	echo "request's intended send time), so a stall of the machine counts against the controller as it"
	echo "would against a user; the load average before and after each run says how quiet the machine was."
	echo "\`limited by rate\` means lmfast sent what was due (achieved = target); \`lmfast\` would mean"
	echo "lmfast itself was the limit, and the capacity would be lmfast's, not the controller's."
	jq -rs '
		def r2: if . == null then "-" else (. * 100 | round / 100 | tostring) end;
		. as $all | [range(length)] | map(select($all[.].event == "bench")) as $starts |
		range($starts | length) as $i |
		$all[$starts[$i]] as $b |
		$all[($starts[$i] + 1):($starts[$i + 1] // ($all | length))] as $run |
		"\n## \($b.target), --concurrency \($b.concurrency)\n",
		"Load average before / after: \($b.load_before) / \($b.load_after); lmfast exit \($b.exit).\n",
		"```",
		($b.report | split("\n") | . as $l | (map(startswith("Sweep (")) | index(true)) as $k |
			if $k == null then "(no sweep table: see the report in the JSONL)" else $l[$k:] | map(select(. != "")) | join("\n") end),
		"```\n",
		"| step | phase | target/s | achieved/s | dropped | p2p_lookup p50 / p99 / p99.9 ms (corrected) | p2p_lookup p99 ms (service) | lmfast CPU | pass |",
		"|---|---|---|---|---|---|---|---|---|",
		($run[] | select(.event == "step") | (.ops[] | select(.op == "p2p_lookup")) as $p |
			"| \(.step) | \(.phase) | \(.target_rps) | \(.achieved_rps | r2) | \(.dropped) | \($p.corrected_us.p50 / 1000 | r2) / \($p.corrected_us.p99 / 1000 | r2) / \($p.corrected_us.p999 / 1000 | r2) | \($p.latency_us.p99 / 1000 | r2) | \(.process_cpu_util | r2) | \(.pass) |")
	' "$jsonl"
} >"$md"
echo "wrote $md" >&2
