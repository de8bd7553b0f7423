#!/usr/bin/env bash
# make bench: lmfast at cluster scale against the reference controller.
# Usage: bench-scale.sh BIN OUTDIR DATE → OUTDIR/scale-DATE.{md,jsonl}
#
# For 1 000, 10 000 and 100 000 simulated workers (--num-instances N/10
# --num-workers 10) one `lmfast controller` (CPU 0) registers every worker
# with one `lmfast controller-server` (CPU 1) on 127.0.0.1, loads them for
# DURATION s with admit:50,evict:50 and deregisters them. Measured:
#   - lmfast's peak RSS: VmHWM of /proc/PID/status, read every 0.1 s while it
#     runs (the last reading before it exits); controller-server's VmHWM and
#     VmRSS after the run, before it is stopped.
#   - registration: lmfast's summary (registered, register_s) and the
#     server's registered-workers gauge on /metrics, polled while lmfast runs
#     (its peak must equal lmfast's registered).
#   - achieved load: lmfast's rps and kv_ops_sent over duration_s; the frames
#     the server received (--controller-metrics reconciliation).
#   - deregistration: lmfast's teardown_s, and the time from lmfast's exit
#     until the server's gauge reads 0.
#   - CPU time per registration: both processes' user+system time
#     (/proc/PID/stat) from lmfast's start until the server's gauge first
#     reads N, over N (--start-at holds the load until 2 s + N/5000 s after
#     the start, so that no load runs before that reading unless the
#     registration took longer): far less disturbed by other load than the rate, and
#     1 / (the larger of the two) is the rate one dedicated core each would
#     sustain. The load average at each run's start is kept beside it.
# ROUNDS (default 3) and DURATION (s, default 10) tune it; SIZES overrides
# the worker counts; RENDER_ONLY=1 rebuilds the report from the JSONL.
set -euo pipefail
bin=$1 outdir=$2 date=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
need jq
need curl
need bc
rounds=${ROUNDS:-3} dur=${DURATION:-10} sizes=${SIZES:-1000 10000 100000}
jsonl=$outdir/scale-$date.jsonl md=$outdir/scale-$date.md
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)
kib() { awk -v k="$2" '$1==k":" {print $2}' "/proc/$1/status" 2>/dev/null || true; }
gauge() { curl -s "127.0.0.1:$1/metrics" | awk '$1=="lmcache:cache_controller_registered_workers_count{role=\"controller\"}" {printf "%d", $2}'; }
now() { date +%s.%N; }

if [ "${RENDER_ONLY:-}" != 1 ]; then
: >"$jsonl"
for r in $(seq "$rounds"); do
	for n in $sizes; do
		taskset -c 1 "$bin" controller-server --pull-port 0 --reply-port 0 --heartbeat-port=-1 --http-port 0 >"$tmp/srv.jsonl" 2>/dev/null &
		srv=$!
		pids+=("$srv")
		listening "$tmp/srv.jsonl"
		pp=$(head -1 "$tmp/srv.jsonl" | jq .pull_port) rp=$(head -1 "$tmp/srv.jsonl" | jq .reply_port)
		http=$(head -1 "$tmp/srv.jsonl" | jq .http_port)
		rm -f "$tmp/run.jsonl"
		load=$(awk '{print $1}' /proc/loadavg)
		s0=$(ticks "$srv")
		taskset -c 0 "$bin" controller --monitor-ports "{\"pull\":$pp,\"reply\":$rp}" \
			--controller-metrics "http://127.0.0.1:$http/metrics" --num-instances $((n / 10)) --num-workers 10 \
			--duration "$dur" --warmup 0 --operations admit:50,evict:50 --register-timeout 10m --no-headroom \
			--start-at $(($(date +%s) + 2 + n / 5000)) \
			--out "$tmp/run.jsonl" 2>"$tmp/run.err" &
		lm=$!
		pids+=("$lm")
		hwm=0 peak=0 lreg=null sreg=null
		while kill -0 "$lm" 2>/dev/null; do
			h=$(kib "$lm" VmHWM)
			[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
			g=$(gauge "$http")
			[ -n "$g" ] && [ "$g" -gt "$peak" ] && peak=$g
			if [ "$lreg" = null ] && [ "$peak" = "$n" ]; then
				lreg=$(ticks "$lm") sreg=$(( $(ticks "$srv") - s0 ))
			fi
			sleep 0.1
		done
		wait "$lm" || echo "lmfast controller exited $? (round $r, $n workers): $(tail -1 "$tmp/run.err")" >&2
		t0=$(now)
		for _ in $(seq 6000); do [ "$(gauge "$http")" = 0 ] && break; sleep 0.01; done
		t1=$(now)
		shwm=$(kib "$srv" VmHWM) srss=$(kib "$srv" VmRSS)
		kill -TERM "$srv"
		wait "$srv" || true
		if ! jq -se 'map(select(.event=="summary" and .op=="all"))|length==1' "$tmp/run.jsonl" >/dev/null 2>&1; then
			echo "scale: round $r, $n workers: no summary, run left out" >&2
			continue
		fi
		row=$(jq -s --argjson r "$r" --argjson n "$n" --argjson hwm "$hwm" --argjson peak "$peak" \
			--argjson shwm "$shwm" --argjson srss "$srss" --argjson after "$(echo "$t1 - $t0" | bc -l)" \
			--argjson lreg "$lreg" --argjson sreg "$sreg" --argjson hz "$hz" --argjson load "$load" '
			(map(select(.event=="summary" and .op=="all" and .cmd=="controller"))[0]) as $all |
			(map(select(.event=="summary" and .cmd=="controller-server"))[0]) as $srv |
			{round:$r, workers:$n, load_avg:$load, lmfast_vmhwm_kib:$hwm, server_vmhwm_kib:$shwm, server_vmrss_kib:$srss,
			 registered:$all.registered, register_failed:$all.register_failed, register_s:$all.register_s,
			 register_per_s:($all.registered/$all.register_s), server_registered_peak:$peak,
			 duration_s:$all.duration_s, rps:$all.rps, kv_ops_per_s:($all.kv_ops_sent/$all.duration_s),
			 push_frames_sent:$all.push_frames_sent, teardown_frames_sent:$all.teardown_frames_sent,
			 controller_received_frames:$all.controller_received_frames, reconciled:$all.reconciled,
			 dropped_unregistered:$srv.batches_dropped_unregistered, server_batches:$srv.batches,
			 teardown_s:$all.teardown_s, drain_ms:$all.drain_ms, server_empty_after_s:$after,
			 server_registered_at_end:$srv.registered_workers,
			 lmfast_cpu_us_per_registration:(if $lreg then $lreg/$hz*1e6/$n else null end),
			 server_cpu_us_per_registration:(if $sreg then $sreg/$hz*1e6/$n else null end)}' "$tmp/run.jsonl" "$tmp/srv.jsonl")
		echo "$row" >>"$jsonl"
		cat "$tmp/run.jsonl" "$tmp/srv.jsonl" >>"$jsonl"
		echo "scale: round $r, $n workers: $(echo "$row" | jq -c '{register_per_s, lmfast_vmhwm_kib, server_vmhwm_kib, rps, reconciled}')" >&2
	done
done
fi

rows() { jq -s 'map(select(has("lmfast_vmhwm_kib")))' "$jsonl"; }
med='def med: map(select(. != null)) | if length==0 then null else sort | if length%2==1 then .[length/2|floor] else (.[length/2-1]+.[length/2])/2 end end;'
{
	echo "# lmfast at scale: 1 k, 10 k, 100 k simulated workers ($date)"
	echo
	machine_md "$bin"
	echo
	echo "Command: \`make bench\` → \`scripts/bench-scale.sh\` ($(rows | jq 'map(.round) | max') rounds, ${dur} s of load per run). Raw JSONL:"
	echo "\`scale-$date.jsonl\` (one line per run with the figures below, then the run's and the server's own JSONL)."
	echo
	echo "Method: per run, a fresh \`lmfast controller-server\` (\`taskset -c 1\`, no heartbeat socket, HTTP on a"
	echo "free port) and one \`lmfast controller\` (\`taskset -c 0\`) with \`--num-instances N/10 --num-workers 10"
	echo "--duration $dur --warmup 0 --operations admit:50,evict:50 --register-timeout 10m --controller-metrics …\`:"
	echo "it pre-registers all N workers (one sender, 256 \`RegisterMsg\` in flight), loads them (closed loop,"
	echo "one sequence counter per (instance, worker, location)), then deregisters them. \`--start-at\` (2 s +"
	echo "N / 5000 s after the start) holds the load back until the registration's CPU time was read."
	echo "**lmfast RSS** is the last \`VmHWM\` read from \`/proc/PID/status\` (every 0.1 s) before it exits: the"
	echo "peak of the whole run, registration and teardown included. **server RSS** is the server's \`VmHWM\`"
	echo "after the run. **reg/s** is lmfast's \`registered / register_s\` (the JSONL summary: the whole"
	echo "pre-registration, sockets opened included); **server peak** is the highest"
	echo "\`lmcache:cache_controller_registered_workers_count\` polled from the server's \`/metrics\` during"
	echo "the run (it must equal lmfast's \`registered\`). **CPU µs/reg** is each process's user+system time"
	echo "(\`/proc/PID/stat\`, 10 ms ticks) from lmfast's start until the server's gauge first read N, over N"
	echo "(lmfast's includes its start-up): other load disturbs it far less than a rate, and **1-core reg/s** ="
	echo "10⁶ / the larger of the two is the rate one dedicated core each sustains. **rps / KV ops/s** are"
	echo "lmfast's over its measured time; **reconciled** is lmfast's \`--controller-metrics\` check (frames sent,"
	echo "run and teardown, = frames the server counted), and **dropped** the batches the server dropped for"
	echo "an unregistered worker. **teardown** is lmfast's \`teardown_s\` (every \`DeRegisterMsg\` handed to the"
	echo "socket) and **empty after** the time from lmfast's exit until the server's gauge read 0. **load** is"
	echo "the 1-minute load average when the run started: the VM's 2 vCPUs are shared with other work."
	echo
	echo "| round | workers | load | lmfast RSS MiB | server RSS MiB | registered | server peak | reg/s | CPU µs/reg lmfast / server | 1-core reg/s | rps | KV ops/s | reconciled | dropped | teardown s | empty after s |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	rows | jq -r 'def r1: if . == null then "-" else (.*10|round/10) end;
		.[] | "| \(.round) | \(.workers) | \(.load_avg) | \(.lmfast_vmhwm_kib/1024|r1) | \(.server_vmhwm_kib/1024|r1) | \(.registered) | \(.server_registered_peak) | \(.register_per_s|floor) | \(.lmfast_cpu_us_per_registration|r1) / \(.server_cpu_us_per_registration|r1) | \(if .lmfast_cpu_us_per_registration then 1e6/([.lmfast_cpu_us_per_registration, .server_cpu_us_per_registration]|max)|floor else "-" end) | \(.rps|floor) | \(.kv_ops_per_s|floor) | \(.reconciled) | \(.dropped_unregistered) | \(.teardown_s*1000|round/1000) | \(.server_empty_after_s*100|round/100) |"'
	echo
	echo "Medians over the rounds:"
	echo
	echo "| workers | lmfast RSS MiB | server RSS MiB | reg/s | CPU µs/reg lmfast / server | 1-core reg/s | rps | teardown s | empty after s |"
	echo "|---|---|---|---|---|---|---|---|---|"
	rows | jq -r "$med"'
		def r1: if . == null then "-" else (.*10|round/10) end;
		group_by(.workers)[] | . as $g |
		($g|map(.lmfast_cpu_us_per_registration)|med) as $lc | ($g|map(.server_cpu_us_per_registration)|med) as $sc |
		"| \($g[0].workers) | \($g|map(.lmfast_vmhwm_kib/1024)|med|r1) | \($g|map(.server_vmhwm_kib/1024)|med|r1) | \($g|map(.register_per_s)|med|floor) | \($lc|r1) / \($sc|r1) | \(if $lc and $sc then 1e6/([$lc,$sc]|max)|floor else "-" end) | \($g|map(.rps)|med|floor) | \($g|map(.teardown_s)|med*1000|round/1000) | \($g|map(.server_empty_after_s)|med*100|round/100) |"'
	echo
	rows | jq -r "$med"'
		(map(select(.workers==10000)) | map(.lmfast_vmhwm_kib) | med) as $mid |
		(map(select(.workers==100000)) | map(.lmfast_vmhwm_kib) | med) as $big |
		(map(select(.workers==100000)) | map(.register_per_s) | med) as $reg |
		(map(select(.workers==100000)) | map([.lmfast_cpu_us_per_registration, .server_cpu_us_per_registration] | max) | med) as $cpu |
		if $mid and $big then
		"lmfast RSS per simulated worker, from the medians at 10 000 and 100 000 workers: (\($big/1024*10|round/10) − \($mid/1024*10|round/10) MiB) / 90 000 = **\(($big-$mid)*1024/90000|round) B** (the RSS includes libzmq queues and garbage not yet collected, so this is rough; `go test -run TestPairsAreCompact -v ./engine` counts the bytes allocated per worker exactly).",
		"",
		"Targets at 100 000 workers: lmfast RSS < 1 GiB: \(if $big < 1048576 then "met" else "missed" end) (median \($big/1024|round) MiB). Registration ≥ 20 000 workers/s: wall-clock median \($reg|floor)/s on this shared VM; CPU cost \($cpu*10|round/10) µs per registration on the busier side, i.e. \(1e6/$cpu|floor)/s with one dedicated core each: \(if 1e6/$cpu >= 20000 then "met" else "missed" end) by CPU cost, \(if $reg >= 20000 then "met" else "not met" end) by the wall clock here."
		else empty end,
		"",
		"Every run: all registered \(all(.register_failed==0)); server peak = registered \(all(.server_registered_peak==.registered)); reconciled \(all(.reconciled)); nothing dropped \(all(.dropped_unregistered==0)); server empty at its end \(all(.server_registered_at_end==0))."'
} >"$md"
echo "wrote $md" >&2
