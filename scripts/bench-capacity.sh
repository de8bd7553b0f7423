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
# Every run against controller-server scrapes its /metrics
# (--controller-metrics) and ends with the reconciliation of what lmfast
# sent with what the controller received. LMCache's controller (9f5cee0c)
# is not scraped during the load: its /metrics reads its PULL socket's
# ZMQ_EVENTS from the HTTP server's thread, and a read while frames are
# pending leaves its asyncio PULL loop asleep for good (measured: 5 123 of
# 10 930 frames received at 1 000 requests/s with scraping, all without).
# lmfast reads its /metrics only while it is idle, before the run and
# after the drain (--controller-metrics-idle), and reconciles from those. Before the sweeps, a floor run per controller: heartbeats only
# (the cheapest request: no state is read) at 100/s for 10 s, whose p99 is
# what the machine's wake-ups alone cost a round trip; an SLO below it
# measures the machine, not the controller. Knobs:
#   CAP_SWEEP ("rate=250:64000:x2"), CAP_SLO ("p2p_lookup.p99<5ms;p2p_lookup.p99<50ms":
#   one sweep per SLO, ';'-separated),
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
slos=${CAP_SLO:-p2p_lookup.p99<5ms;p2p_lookup.p99<50ms}
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

# run_against TARGET WHAT ARGS...: starts TARGET, runs lmfast controller
# against it with ARGS (JSONL to $tmp/run.jsonl, stderr to $tmp/run.err)
# and stops it; sets rc, before and after (the load averages around it).
run_against() {
	local target=$1 what=$2
	shift 2
	start "$target"
	before=$(load)
	echo "bench-capacity: $target, $what (load $before)" >&2
	rc=0
	"${cpu_lmfast[@]}" "$bin" controller --controller-host 127.0.0.1 \
		--monitor-ports "{\"pull\":$pp,\"reply\":$rp,\"heartbeat\":$hp}" \
		$(scrape_flags "$target") "$@" --out "$tmp/run.jsonl" 2>"$tmp/run.err" || rc=$?
	after=$(load)
	stop
}

# scrape_flags TARGET: --controller-metrics, read only while idle for
# LMCache's controller (see the header).
scrape_flags() {
	echo "--controller-metrics=http://127.0.0.1:$http/metrics"
	[ "$1" = lmcache ] && echo --controller-metrics-idle
	return 0
}

if [ "${CAP_REPORT_ONLY:-}" != 1 ]; then
	: >"$jsonl"
	for target in $targets; do
		if [ "$target" = lmcache ] && [ -z "${LMCACHE_CONTROLLER_CMD:-}" ]; then
			echo "bench-capacity: LMCACHE_CONTROLLER_CMD is unset: LMCache's controller is left out" >&2
			continue
		fi
		run_against "$target" floor \
			--num-instances 50 --operations heartbeat:100 --rate 100 --duration 10 --no-headroom
		jq -cn --arg target "$target" --arg before "$before" --arg after "$after" --argjson rc "$rc" \
			'{event:"bench", kind:"floor", target:$target, load_before:$before, load_after:$after, exit:$rc}' >>"$jsonl"
		cat "$tmp/run.jsonl" >>"$jsonl"
		IFS=';' read -r -a slo_list <<<"$slos"
		for slo in "${slo_list[@]}"; do
			for conc in $concs; do
				# shellcheck disable=SC2086 # CAP_FLAGS is word-split on purpose
				run_against "$target" "--slo '$slo', --concurrency $conc" \
					"${seed_flags[@]}" --concurrency "$conc" --sweep "$sweep" --slo "$slo" \
					--step-duration "$step" ${CAP_FLAGS:-}
				jq -cn --arg target "$target" --argjson conc "$conc" --arg slo "$slo" --arg before "$before" --arg after "$after" \
					--argjson rc "$rc" --rawfile report "$tmp/run.err" --rawfile server "$tmp/srv.out" \
					'{event:"bench", kind:"sweep", target:$target, concurrency:$conc, slo:$slo, load_before:$before, load_after:$after,
					  exit:$rc, report:$report, server_output:($server|.[-2000:])}' >>"$jsonl"
				cat "$tmp/run.jsonl" >>"$jsonl"
			done
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
	echo "Method: \`lmfast controller ${seed_flags[*]} --concurrency C --sweep $sweep --slo SLO"
	echo "--step-duration $step\` (\`--warmup 2s\` per step, excluded), with \`--controller-metrics\` on"
	echo "controller-server's /metrics (LMCache's is read only idle, before and after each run: see the"
	echo "script's header); lmfast on CPU 0, the controller on CPU 1. Coarse steps double the rate"
	echo "until one fails the SLO, then bisection to 5 %. Latency terms are corrected latency (from each"
	echo "request's intended send time), so a stall of the machine counts against the controller as it"
	echo "would against a user; the load average before and after each run says how quiet the machine was."
	echo "\`limited by rate\` means lmfast sent what was due (achieved = target); \`lmfast\` would mean"
	echo "lmfast itself was the limit, and the capacity would be lmfast's, not the controller's."
	echo
	echo "## Capacities"
	echo
	echo "| controller | SLO | --concurrency | capacity (requests/s) | lowest failing rate, and why | frames |"
	echo "|---|---|---|---|---|---|"
	jq -rs '
		. as $all | [range(length)] | map(select($all[.].event == "bench")) as $st |
		range($st | length) as $k | $all[$st[$k]] as $b | select($b.kind != "floor") |
		$all[($st[$k] + 1):($st[$k + 1] // ($all | length))] as $run |
		($run | map(select(.event == "capacity")) | first) as $c |
		($run | map(select(.event == "summary" and .op == "all")) | first) as $s |
		($s.push_frames_sent + $s.teardown_frames_sent) as $sent |
		(if $s.controller_received_frames != null then $s.controller_received_frames else $b.received_frames end) as $got |
		"| \($b.target) | `\($b.slo)` | \($b.concurrency) | \(if $c.pass_step == null then "below \($c.first_fail)" else $c.capacity end) | \($c.first_fail // "-"): \(($c.fail_slo // []) | map(.term + " = " + (.value | tostring) + " " + .unit) | join(", ")) | \($sent) sent, \($got) received |"
	' "$jsonl"
	echo
	echo "## The machine's floor"
	echo
	echo "Heartbeats only (\`--operations heartbeat:100 --rate 100 --duration 10\`): the controller reads no"
	echo "state to answer, so the latency is the round trip itself — on an idle VM mostly the wake-ups of"
	echo "idle vCPUs along it. A latency SLO below this p99 measures the machine, not the controller."
	echo
	echo "| controller | load before | heartbeat p50 / p90 / p99 / max ms (service) | p99 ms (corrected) |"
	echo "|---|---|---|---|"
	jq -rs '
		def r2: if . == null then "-" else (. * 100 | round / 100 | tostring) end;
		. as $all | [range(length)] | map(select($all[.].event == "bench" and $all[.].kind == "floor")) as $starts |
		$starts[] as $i | $all[$i] as $b |
		($all[($i + 1):] | map(select(.event == "summary" and .op == "heartbeat")) | first) as $h |
		"| \($b.target) | \($b.load_before) | \($h.latency_us.p50 / 1000 | r2) / \($h.latency_us.p90 / 1000 | r2) / \($h.latency_us.p99 / 1000 | r2) / \($h.latency_us.max / 1000 | r2) | \($h.corrected_us.p99 / 1000 | r2) |"
	' "$jsonl"
	jq -rs '
		def r2: if . == null then "-" else (. * 100 | round / 100 | tostring) end;
		. as $all | [range(length)] | map(select($all[.].event == "bench")) as $allstarts |
		[range($allstarts | length)] | map(select($all[$allstarts[.]].kind != "floor")) as $ks |
		$ks[] as $k | $allstarts[$k] as $si |
		$all[$si] as $b |
		$all[($si + 1):($allstarts[$k + 1] // ($all | length))] as $run |
		"\n## \($b.target), --slo \u0027\($b.slo)\u0027, --concurrency \($b.concurrency)\n",
		"Load average before / after: \($b.load_before) / \($b.load_after); lmfast exit \($b.exit).\n",
		($run | map(select(.event == "summary" and .op == "all")) | first) as $s |
		($s.push_frames_sent + $s.teardown_frames_sent) as $sent |
		(if $s.controller_received_frames != null then
			"Frames (lmfast\u0027s --controller-metrics): sent \($sent) (run and teardown), the controller received \($s.controller_received_frames): \(if $s.reconciled then "reconciled" else "NOT reconciled" end).\n"
		else
			"Frames (the controller\u0027s /metrics read idle before and after the run, not during it): sent \($sent) (run and teardown), the controller received \($b.received_frames): \(if $sent == $b.received_frames then "reconciled" else "NOT reconciled" end).\n"
		end),
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
