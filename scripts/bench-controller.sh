#!/usr/bin/env bash
# make bench: lmfast's controller engine against the raw pebbe/zmq4 limit.
# Usage: bench-controller.sh BIN OUTDIR DATE  → OUTDIR/controller-DATE.{md,jsonl}
#
# `lmfast calibrate --engine` measures, in one process and one run, raw
# pebbe/zmq4 PUSH→PULL with one pre-encoded admit batch and lmfast's engine
# (an admit-only closed loop) into the same kind of counting sink, one after
# the other in every round; the report gives the median over the rounds of
# engine/raw. ROUNDS (default 7) and DURATION (default 3s) tune it;
# RENDER_ONLY=1 rebuilds the report from an existing OUTDIR/controller-DATE.jsonl.
set -euo pipefail
bin=$1 outdir=$2 date=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
need jq
rounds=${ROUNDS:-7} duration=${DURATION:-3s}
jsonl=$outdir/controller-$date.jsonl md=$outdir/controller-$date.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${RENDER_ONLY:-}" != 1 ]; then
	echo "controller: calibrate --engine, $rounds rounds of $duration (unpinned, tcp and ipc)" >&2
	"$bin" calibrate --engine --rounds "$rounds" --duration "$duration" --out "$tmp/free.jsonl" 2>/dev/null
	echo "controller: calibrate --engine --pin-cpus 0, $rounds rounds (tcp)" >&2
	"$bin" calibrate --engine --rounds "$rounds" --duration "$duration" --pin-cpus 0 --transports tcp --sizes "" \
		--out "$tmp/pinned.jsonl" 2>/dev/null
	cat "$tmp/free.jsonl" "$tmp/pinned.jsonl" >"$jsonl"
fi
# The two runs, by run id, in the order they ran.
first=$(jq -r .run "$jsonl" | uniq | sed -n 1p) second=$(jq -r .run "$jsonl" | uniq | sed -n 2p)
jq -c --arg r "$first" 'select(.run==$r)' "$jsonl" >"$tmp/free.jsonl"
jq -c --arg r "$second" 'select(.run==$r)' "$jsonl" >"$tmp/pinned.jsonl"
rounds=$(jq -rs 'map(select(.event=="config"))[0].rounds' "$tmp/free.jsonl")
duration=$(jq -rs 'map(select(.event=="config"))[0].duration_s | tostring + "s"' "$tmp/free.jsonl")

ratio_rows() { # FILE LABEL: the engine/raw PUSH rows
	jq -rs --arg who "$2" '
		(map(select(.event=="summary" and .kind=="push")) | group_by(.transport) | map({(.[0].transport): .[0]}) | add) as $raw |
		(map(select(.event=="summary" and .kind=="engine_push")) | map({(.transport): .}) | add) as $eng |
		.[] | select(.event=="summary" and .kind=="engine_vs_raw" and .measure=="push") |
		"| \($who) | \(.transport) | \(.raw_bytes) / \(.bytes) | \($raw[.transport].rate_median | floor) | \($eng[.transport].rate_median | floor) | **\(.ratio_median*1000|round/1000)** | \(.ratios | map(.*1000|round/1000|tostring) | join(" ")) | \(if .ratio_median >= 0.8 then "met" else "missed" end) |"' "$1"
}
{
	echo "# controller engine vs the raw pebbe/zmq4 PUSH→PULL limit ($date)"
	echo
	machine_md "$bin"
	echo
	echo "Command: \`make bench\` → \`scripts/bench-controller.sh\`: \`lmfast calibrate --engine --rounds $rounds --duration $duration\`"
	echo "and the same with \`--pin-cpus 0 --transports tcp --sizes \"\"\`. Raw JSONL: \`controller-$date.jsonl\`."
	echo
	echo "Method: in every round, raw pebbe/zmq4 PUSH sends one pre-encoded 50-op admit batch"
	echo "(\`calibrate.SampleBatch\`: the engine's encoder, steady-state sequence numbers) in a tight loop"
	echo "for $duration into a counting PULL sink (a C loop over \`zmq_msg_recv\`, no copies), then lmfast's"
	echo "engine runs an admit-only closed loop (\`--batch-size 50 --num-keys 10000\`, pre-encoding producer,"
	echo "ring, sender) for $duration into the same kind of sink. Rates are what the sink received, first to"
	echo "last frame; a run where the sink got fewer frames than were sent fails. The ratio is engine/raw"
	echo "within a round; the table gives the median over $rounds rounds. Target: ≥ 0.8."
	echo
	echo "| senders | transport | bytes raw / engine | raw msgs/s (median) | engine msgs/s (median) | engine/raw (median) | per round | target ≥ 0.8 |"
	echo "|---|---|---|---|---|---|---|---|"
	ratio_rows "$tmp/free.jsonl" "1 unpinned"
	ratio_rows "$tmp/pinned.jsonl" "1 pinned to CPU 0"
	echo
	echo "The engine's p2p lookups (closed loop, 1 lane, replies decoded and checked) against raw"
	echo "DEALER→ROUTER round trips of the same request, same rounds. With one request in flight a"
	echo "round trip is bound by the loopback latency, not by the sender's CPU: both loops wait for the"
	echo "same reply, so the ratio sits near 1 and can exceed it (the raw loop is no stricter there)."
	echo
	echo "| senders | transport | engine/raw (median) | per round |"
	echo "|---|---|---|---|"
	jq -rs '.[] | select(.event=="summary" and .kind=="engine_vs_raw" and .measure=="round_trip") |
		"| 1 unpinned | \(.transport) | \(.ratio_median*1000|round/1000) | \(.ratios | map(.*1000|round/1000|tostring) | join(" ")) |"' "$tmp/free.jsonl"
	echo
	echo "Raw PUSH→PULL size sweep and DEALER→ROUTER round trips (1 sender, unpinned; medians):"
	echo
	echo "| kind | transport | bytes | msgs/s | MiB/s |"
	echo "|---|---|---|---|---|"
	jq -rs '.[] | select(.event=="summary" and (.kind=="push" or .kind=="round_trip")) |
		"| \(.kind) | \(.transport) | \(.bytes) | \(.rate_median|floor) | \((.rate_median*.bytes/1048576)*10|round/10) |"' "$tmp/free.jsonl"
} >"$md"
echo "wrote $md" >&2
