#!/usr/bin/env bash
# Benchmarks swiftportd against tgtd in the same run, interleaved (the benchmark issue):
# builds release, starts swiftportd (RAM LUN, and a file LUN in /dev/shm) and a private
# tgtd (rdwr and aio stores, each on a /dev/shm file) with the same negotiation limits, and drives each
# with ../shared/bench/iscsi-bench, backends innermost so compared runs are close in
# time. Prints a markdown table (median of REPS repetitions, ratios to tgtd's stores) and
# the loopback TCP ceiling (iperf3). Loopback only; bounded (about 13 minutes by default).
#
# Two sessions are also run against a second swiftportd with one event loop
# (event_loop_threads = 1, label sp-ram-1loop): the client takes one of the two cores,
# and two loops sharing the other keep waking each other (BENCHMARKS.md).
#
# Memory: swiftportd's RSS idle (after start, before any I/O; one RAM LUN with nothing
# written and one file LUN) and during a bounded 64-session 4 KiB randread run.
#
# Knobs: TIME [3] s per run, WARMUP [1], REPS [3], SIZE_MB [1024], CFG_FILTER [.] (regex
# over "pattern bs qd sessions"), OUT [BENCH-RESULTS.md], PORT [3270], TGT_PORT [3271],
# LOOP1_PORT [3272] (the one-loop swiftportd),
# BUILD [.build-perf] (the release build's scratch path), SESSIONS64 [1] (0 skips the
# 64-session step).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source "$ROOT/scripts/bench-lib.sh"
SHARED=${SHARED:-$ROOT/../shared}
TIME=${TIME:-3} WARMUP=${WARMUP:-1} REPS=${REPS:-3} SIZE_MB=${SIZE_MB:-1024}
CFG_FILTER=${CFG_FILTER:-.} OUT=${OUT:-$ROOT/BENCH-RESULTS.md} BUILD=${BUILD:-.build-perf} SESSIONS64=${SESSIONS64:-1}
PORT=${PORT:-3270} TGT_PORT=${TGT_PORT:-3271} LOOP1_PORT=${LOOP1_PORT:-3272} TGT_CTRL=${TGT_CTRL:-21} IPERF_PORT=${IPERF_PORT:-5298}
WORK=$(mktemp -d /tmp/swiftport-bench.XXXXXX)
IQN=iqn.2026-11.io.swiftport:bench
SP_PID= SP1_PID= TGTD_PID= IPERF_PID=

cleanup() {
    # A failed step here (tgtd already gone) must not become the script's exit status.
    set +e
    [[ -n $SP_PID ]] && kill -TERM "$SP_PID" 2>/dev/null
    [[ -n $SP1_PID ]] && kill -TERM "$SP1_PID" 2>/dev/null
    [[ -n $TGTD_PID ]] && tgtd_stop "$TGT_CTRL" "$TGTD_PID"
    [[ -n $IPERF_PID ]] && kill "$IPERF_PID" 2>/dev/null
    rm -f /dev/shm/swiftport-bench-*.img
    rm -rf "$WORK"
}
trap cleanup EXIT
bench_ports_free "$PORT" "$TGT_PORT" "$LOOP1_PORT" "$IPERF_PORT"

scripts/install-deps.sh
bench_build "$BUILD"
bench_client "$WORK"

for name in sp-file tgt-rdwr tgt-aio; do head -c "${SIZE_MB}M" /dev/urandom > "/dev/shm/swiftport-bench-$name.img"; done

# The same negotiation limits on both targets (bench-lib.sh).
bench_config "$WORK" "$IQN" "$PORT" "$SIZE_MB"
cat >> "$WORK/swiftport.toml" <<TOML
[[target.lun]]
id = 1
backend = "file"
path = "/dev/shm/swiftport-bench-sp-file.img"
TOML
"$ROOT/$BUILD/release/swiftportd" --config "$WORK/swiftport.toml" > "$WORK/swiftportd.log" 2>&1 &
SP_PID=$!
mkdir "$WORK/loop1"
bench_config "$WORK/loop1" "$IQN" "$LOOP1_PORT" "$SIZE_MB" 1
"$ROOT/$BUILD/release/swiftportd" --config "$WORK/loop1/swiftport.toml" > "$WORK/loop1/swiftportd.log" 2>&1 &
SP1_PID=$!
tgtd_start "$WORK" "$TGT_CTRL" "$TGT_PORT" "$IQN-tgt"
"${TGTADM[@]}" --op new --mode logicalunit --tid 1 --lun 1 --bstype rdwr -b /dev/shm/swiftport-bench-tgt-rdwr.img
"${TGTADM[@]}" --op new --mode logicalunit --tid 1 --lun 2 --bstype aio -b /dev/shm/swiftport-bench-tgt-aio.img

rss() { awk '/VmRSS/ {print $2}' "/proc/$SP_PID/status"; }
echo "{\"swiftportd_rss_kib_idle\": $(rss)}" >> "$WORK/limits.jsonl"

declare -A URL=([sp-ram]="iscsi://127.0.0.1:$PORT/$IQN/0" [sp-file]="iscsi://127.0.0.1:$PORT/$IQN/1"
    [sp-ram-1loop]="iscsi://127.0.0.1:$LOOP1_PORT/$IQN/0"
    [tgt-rdwr]="iscsi://127.0.0.1:$TGT_PORT/$IQN-tgt/1" [tgt-aio]="iscsi://127.0.0.1:$TGT_PORT/$IQN-tgt/2")
declare -A PID=([sp-ram]=$SP_PID [sp-file]=$SP_PID [sp-ram-1loop]=$SP1_PID [tgt-rdwr]=$TGTD_PID [tgt-aio]=$TGTD_PID)

# Every LUN starts fully backed: the /dev/shm files were filled from /dev/urandom, and
# the RAM LUNs get one sequential pass here, so no measured run pays for first-touch
# page allocation on one target and not the other.
for ram in sp-ram sp-ram-1loop; do
    "$BENCH" -p seqwrite -b 1m -q 8 -t 8 -r "${SIZE_MB}m" "${URL[$ram]}" > "$WORK/fill.json" 2>> "$WORK/bench.log"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ios"] >= int(sys.argv[2]) else "the %s fill covered only %d MiB" % (sys.argv[3], d["ios"]))' \
        "$WORK/fill.json" "$SIZE_MB" "$ram"
done
CFGS=()
for qd in 1 32 128; do CFGS+=("randread 4k $qd 1" "randwrite 4k $qd 1"); done
for bs in 128k 1m; do CFGS+=("seqread $bs 8 1" "seqwrite $bs 8 1"); done
CFGS+=("randread 4k 32 2" "randwrite 4k 32 2" "seqread 1m 8 2" "seqwrite 1m 8 2")

: > "$WORK/results.jsonl"
start=$(date +%s)
for rep in $(seq 1 "$REPS"); do
    for cfg in "${CFGS[@]}"; do
        [[ $cfg =~ $CFG_FILTER ]] || continue
        read -r pattern bs qd sessions <<< "$cfg"
        backends=(sp-ram sp-file tgt-rdwr tgt-aio)
        [[ $sessions == 2 ]] && backends=(sp-ram sp-ram-1loop sp-file tgt-rdwr tgt-aio)
        for backend in "${backends[@]}"; do
            out=$(timeout $((TIME + WARMUP + 60)) "$BENCH" -p "$pattern" -b "$bs" -q "$qd" -c "$sessions" -t "$TIME" -w "$WARMUP" \
                -r "${SIZE_MB}m" -P "${PID[$backend]}" -l "$backend" "${URL[$backend]}" 2>> "$WORK/bench.log") || true
            [[ -n $out ]] || out="{\"label\":\"$backend\",\"pattern\":\"$pattern\",\"status\":\"FAIL\"}"
            echo "$out" >> "$WORK/results.jsonl"
        done
    done
    echo "repetition $rep done after $(( $(date +%s) - start )) s" >&2
done

iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" > /dev/null 2>&1 &
IPERF_PID=$!
sleep 1
for _ in 1 2 3; do
    iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -t 3 -J 2>/dev/null | python3 -c 'import json,sys; e=json.load(sys.stdin)["end"]; print(json.dumps({"iperf3_gbit_s": e["sum_received"]["bits_per_second"]/1e9}))' >> "$WORK/limits.jsonl" || true
done
echo "{\"swiftportd_rss_kib_after_run\": $(rss)}" >> "$WORK/limits.jsonl"
if [[ $SESSIONS64 == 1 ]]; then
    # 64 sessions, 4 KiB randread at QD 2 each (128 outstanding) on the RAM LUN; RSS
    # sampled in the middle of the window.
    "$BENCH" -p randread -b 4k -q 2 -c 64 -t "$TIME" -w "$WARMUP" -r "${SIZE_MB}m" -P "$SP_PID" -l sp-ram-64 \
        "${URL[sp-ram]}" > "$WORK/sessions64.json" 2>> "$WORK/bench.log" &
    load=$!
    sleep $(( WARMUP + TIME / 2 ))
    rss64=$(rss)
    wait "$load" || true
    iops64=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("iops", 0))' "$WORK/sessions64.json" 2>/dev/null || echo 0)
    echo "{\"swiftportd_rss_kib_64_sessions\": $rss64, \"iops_64_sessions\": $iops64}" >> "$WORK/limits.jsonl"
fi

python3 "$ROOT/scripts/bench_summary.py" "$WORK/results.jsonl" "$WORK/limits.jsonl" \
    --machine "$(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -r)" --seconds "$(( $(date +%s) - start ))" | tee "$OUT"
echo "wrote $OUT" >&2
