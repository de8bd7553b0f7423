#!/usr/bin/env bash
# make bench: the reference controller's applied KV ops/s under lmfast load.
# Usage: bench-controller-server.sh BIN OUTDIR DATE → OUTDIR/controller-server-DATE.{md,jsonl}
#
# Two processes, one core each (taskset): lmfast controller, all its threads
# on CPU 0 (one lmfast sender core), and on CPU 1 either `lmfast sink` (a
# counting PULL that decodes nothing: what one sender core produces) or
# `lmfast controller-server` (decode and apply). Rounds interleave the runs:
#   A  sink               ← admit:50,evict:50
#   B  controller-server  ← admit:50,evict:50 (workers pre-registered, so every batch applies)
#   C  controller-server  ← admit:35,evict:29,heartbeat:1,p2p_lookup:35 (the seed's mix)
# After each server run the script waits until the server applied every KV
# op lmfast sent (its /metrics counter), then stops it; the server's CPU
# time over the run comes from /proc. ROUNDS (default 7), DURATION (s,
# default 10) tune it; RENDER_ONLY=1 rebuilds the report from an existing
# OUTDIR/controller-server-DATE.jsonl.
set -euo pipefail
bin=$1 outdir=$2 date=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
need jq
need curl
need bc
rounds=${ROUNDS:-7} dur=${DURATION:-10}
jsonl=$outdir/controller-server-$date.jsonl md=$outdir/controller-server-$date.md
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
hz=$(getconf CLK_TCK)

field() { jq -r "$2" "$1"; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
applied() { curl -s "127.0.0.1:$1/metrics" | awk '$1=="lmfast_controller_kv_ops_applied_total" {printf "%d", $2}'; }

run_lmfast() { # OUT ARGS...: lmfast controller on CPU 0
	local out=$1
	shift
	taskset -c 0 "$bin" controller --duration "$dur" --batch-size 50 --num-instances 10 --no-headroom --out "$out" "$@" 2>"$out.err"
}

if [ "${RENDER_ONLY:-}" != 1 ]; then
: >"$jsonl"
for r in $(seq "$rounds"); do
	# A: counting sink
	taskset -c 1 "$bin" sink --pull-port 0 >"$tmp/sink.jsonl" 2>/dev/null &
	sink=$!
	pids+=("$sink")
	listening "$tmp/sink.jsonl"
	port=$(head -1 "$tmp/sink.jsonl" | jq .pull_port)
	run_lmfast "$tmp/a.jsonl" --monitor-ports "{\"pull\":$port}" --operations admit:50,evict:50 --no-register-first
	sleep 0.5
	kill -TERM "$sink"
	wait "$sink" || true
	sent=$(jq -s 'map(select(.event=="summary" and .op=="all"))[0].push_frames_sent' "$tmp/a.jsonl")
	got=$(jq -s 'map(select(.event=="summary"))[0].frames' "$tmp/sink.jsonl")
	rate=$(jq -s 'map(select(.event=="summary"))[0].rate' "$tmp/sink.jsonl")
	scpu=$(jq -s 'map(select(.event=="summary" and .op=="all"))[0].process_cpu_util' "$tmp/a.jsonl")
	rowA=$(jq -n --argjson r "$r" --argjson sent "$sent" --argjson got "$got" --argjson rate "$rate" --argjson scpu "$scpu" \
		'{round:$r, run:"A sink", kv_ops_per_s:($rate*50), frames_sent:$sent, frames_received:$got, exact:($sent==$got), sender_cpu:$scpu}')
	echo "$rowA" >>"$jsonl"
	cat "$tmp/a.jsonl" >>"$jsonl"

	for run in B C; do
		mix=admit:50,evict:50
		[ "$run" = C ] && mix=admit:35,evict:29,heartbeat:1,p2p_lookup:35
		taskset -c 1 "$bin" controller-server --pull-port 0 --reply-port 0 --heartbeat-port 0 --http-port 0 >"$tmp/srv.jsonl" 2>/dev/null &
		srv=$!
		pids+=("$srv")
		listening "$tmp/srv.jsonl"
		pp=$(head -1 "$tmp/srv.jsonl" | jq .pull_port) rp=$(head -1 "$tmp/srv.jsonl" | jq .reply_port)
		hp=$(head -1 "$tmp/srv.jsonl" | jq .heartbeat_port) http=$(head -1 "$tmp/srv.jsonl" | jq .http_port)
		t0=$(ticks "$srv") w0=$(date +%s.%N)
		run_lmfast "$tmp/$run.jsonl" --monitor-ports "{\"pull\":$pp,\"reply\":$rp,\"heartbeat\":$hp}" --operations "$mix"
		want=$(jq -s 'map(select(.event=="summary" and .op=="all"))[0].kv_ops_sent' "$tmp/$run.jsonl")
		for _ in $(seq 300); do [ "$(applied "$http")" = "$want" ] && break; sleep 0.1; done
		t1=$(ticks "$srv") w1=$(date +%s.%N)
		kill -TERM "$srv"
		wait "$srv" || true
		row=$(jq -s --argjson r "$r" --arg run "$run $mix" --argjson cpu "$(echo "($t1-$t0)/$hz/($w1-$w0)" | bc -l)" '
			(map(select(.event=="summary" and .op=="all" and .cmd=="controller"))[0]) as $all |
			(map(select(.event=="summary" and .op=="p2p_lookup"))[0]) as $p2p |
			(map(select(.event=="summary" and .cmd=="controller-server"))[0]) as $srv |
			{round:$r, run:$run, kv_ops_per_s:($all.kv_ops_sent/$all.duration_s), kv_ops_sent:$all.kv_ops_sent,
			 kv_ops_applied:$srv.kv_ops_applied, exact:($all.kv_ops_sent==$srv.kv_ops_applied and $srv.kv_ops_dropped_unregistered==0),
			 server_cpu:$cpu, sender_cpu:$all.process_cpu_util, drain_ms:$all.drain_ms, errors:$all.errors,
			 p2p_rps:($p2p.rps // null), p2p_p50_us:($p2p.latency_us.p50 // null), p2p_p99_us:($p2p.latency_us.p99 // null)}' \
			"$tmp/$run.jsonl" "$tmp/srv.jsonl")
		echo "$row" >>"$jsonl"
		cat "$tmp/$run.jsonl" "$tmp/srv.jsonl" >>"$jsonl"
	done
	echo "controller-server: round $r done" >&2
done
else
	rounds=$(jq -s 'map(.round // empty) | max' "$jsonl")
fi

rows() { jq -s 'map(select(has("kv_ops_per_s") and .run != null))' "$jsonl"; }
{
	echo "# reference controller: applied KV ops/s under lmfast load ($date)"
	echo
	machine_md "$bin"
	echo
	echo "Command: \`make bench\` → \`scripts/bench-controller-server.sh\` ($rounds rounds of ${dur} s runs). Raw JSONL:"
	echo "\`controller-server-$date.jsonl\` (one line per run with the figures below, then the runs' own JSONL)."
	echo
	echo "Method: two processes, one core each. \`taskset -c 0 lmfast controller\` (sender, producer, libzmq"
	echo "I/O thread, collector: one lmfast core), closed loop, \`--batch-size 50 --num-instances 10\`; on CPU 1"
	echo "either \`lmfast sink\` (counts PULL frames, decodes nothing: run A measures what one lmfast core"
	echo "produces) or \`lmfast controller-server\` (decodes and applies every batch: runs B, C). Runs"
	echo "interleave A, B, C in every round. For B and C the script waits until the server's"
	echo "\`lmfast_controller_kv_ops_applied_total\` equals lmfast's \`kv_ops_sent\`, then stops it; \`exact\` is"
	echo "sent = applied (and nothing dropped) per the server's own summary. \`sender CPU\` is lmfast's"
	echo "\`process_cpu_util\` (its whole process's CPU time over the timed run; 100 % = the core is"
	echo "busy throughout), \`server CPU\` the server's CPU time over the run's wall time (from"
	echo "\`/proc/PID/stat\`). KV ops/s of A is the sink's frames/s × 50; of B and C lmfast's"
	echo "kv_ops_sent / duration: in a closed loop a slower server holds the sender back through the HWM,"
	echo "so this is what the server absorbed. The VM's speed drifts between rounds (A alone"
	echo "varies by up to 25 %), so the verdict is the median over rounds of B / A of the same round, as"
	echo "in the engine's bench; the ratio of the medians is given beside it."
	echo
	echo "| round | run | KV ops/s | exact | sender CPU | server CPU | p2p rps | p2p p50 / p99 µs |"
	echo "|---|---|---|---|---|---|---|---|"
	rows | jq -r 'def pct: if . then (.*100|round|tostring)+" %" else "-" end;
		.[] | "| \(.round) | \(.run) | \(.kv_ops_per_s|floor) | \(.exact) | \(.sender_cpu|pct) | \(.server_cpu|pct) | \(.p2p_rps // "-" | if type=="number" then floor else . end) | \(if .p2p_p50_us then "\(.p2p_p50_us|floor) / \(.p2p_p99_us|floor)" else "-" end) |"'
	echo
	rows | jq -r '
		def med: if length==0 then null else sort | if length%2==1 then .[length/2|floor] else (.[length/2-1]+.[length/2])/2 end end;
		def r3: if .==null then "n/a" else .*1000|round/1000 end;
		(map(select(.run=="A sink")) | map(.kv_ops_per_s) | med) as $a |
		(map(select(.run|startswith("B"))) | map(.kv_ops_per_s) | med) as $b |
		(map(select(.run|startswith("B"))) | map(.server_cpu) | med) as $cpu |
		(map(select(.run|startswith("C"))) | map(.kv_ops_per_s) | med) as $c |
		[group_by(.round)[] | (map(select(.run=="A sink"))[0].kv_ops_per_s) as $ra |
			(map(select(.run|startswith("B")))[0].kv_ops_per_s) as $rb | select($ra and $rb) | $rb/$ra] as $ratios |
		($ratios | med) as $ratio |
		"Medians: one lmfast core produces \($a|floor) KV ops/s (A); the server applied \($b|floor) KV ops/s of the same load (B) using \($cpu*100|round) % of its core, and \($c|floor) KV ops/s within the seed mix (C).",
		"",
		"Per round, B / A: \($ratios | map(.*100|round/100|tostring) | join(", ")); ratio of the medians \(if $a and $b then $b/$a else null end|r3).",
		"",
		"**B / A = \($ratio|r3)** (median of the rounds; target: the server applies at least what one lmfast sender core produces, i.e. ≥ 1 within noise, taken as ≥ 0.97: \(if $ratio != null and $ratio >= 0.97 then "met" else "missed" end)). Every run exact: \(all(.exact))."'
} >"$md"
echo "wrote $md" >&2
