#!/usr/bin/env bash
# Instruction counts per I/O for swiftportd's hot path (the benchmark issue): runs a
# release swiftportd (RAM LUN, 127.0.0.1) under valgrind --tool=callgrind, drives it
# with ../shared/bench/iscsi-bench, and prints the target's instructions per I/O for
# each pattern. Instruction counts are repeatable on a shared, noisy machine where
# wall-clock and CPU-time figures are not (perf's hardware counters are not available
# in this VM, so callgrind it is).
#
# For each pattern: a warm-up run (pages of the RAM LUN allocated, lazy state built),
# then the counters are zeroed, a measured run of TIME seconds is made (login and
# logout included: a few hundred thousand instructions, under 1% of a run), and the
# counters are dumped. Ir / I/Os is the figure; the dump (callgrind.out.*) stays in
# OUTDIR for callgrind_annotate.
#
# Knobs: PATTERNS ["randwrite randread"], BS [4k], QD [32], TIME [6] s under valgrind,
# RANGE_MB [16], BACKEND [ram] (or file: a RANGE_MB file LUN in /dev/shm), PORT [3280],
# BUILD [.build-perf], OUTDIR [/tmp/swiftport-profile], SKIP_BUILD [0], CALLGRIND_OPTS
# [extra valgrind options].
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source "$ROOT/scripts/bench-lib.sh"
SHARED=${SHARED:-$ROOT/../shared}
PATTERNS=${PATTERNS:-randwrite randread} BS=${BS:-4k} QD=${QD:-32} TIME=${TIME:-6}
RANGE_MB=${RANGE_MB:-16} BACKEND=${BACKEND:-ram} PORT=${PORT:-3280} BUILD=${BUILD:-.build-perf}
OUTDIR=${OUTDIR:-/tmp/swiftport-profile} SKIP_BUILD=${SKIP_BUILD:-0} CALLGRIND_OPTS=${CALLGRIND_OPTS:-}
WORK=$(mktemp -d /tmp/swiftport-profile.XXXXXX)
IQN=iqn.2026-11.io.swiftport:profile
VG_PID=

cleanup() {
    if [[ -n $VG_PID ]] && kill -0 "$VG_PID" 2>/dev/null; then
        kill -TERM "$VG_PID"; sleep 2; kill -9 "$VG_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK" "/dev/shm/swiftport-profile-$$.img"
}
trap cleanup EXIT
if ss -Hltn "sport = :$PORT" | grep -q .; then echo "port $PORT is in use; set PORT=" >&2; exit 2; fi
mkdir -p "$OUTDIR"

if [[ $SKIP_BUILD != 1 ]]; then
    bench_build "$BUILD" >&2
fi
BENCH_DIR=$WORK/bench
cp -r "$SHARED/bench" "$BENCH_DIR" && chmod -R u+w "$BENCH_DIR" && make -s -C "$BENCH_DIR" iscsi-bench
BENCH=$BENCH_DIR/iscsi-bench

# The negotiation limits of scripts/bench.sh, so the PDU flow is the benchmark's.
bench_config "$WORK" "$IQN" "$PORT" "$RANGE_MB"
case $BACKEND in
    ram) LUN=0 ;;
    file)
        LUN=1
        cat >> "$WORK/swiftport.toml" <<TOML
[[target.lun]]
id = 1
backend = "file"
path = "/dev/shm/swiftport-profile-$$.img"
size = "${RANGE_MB}MiB"
TOML
        ;;
    *) echo "BACKEND is ram or file, not $BACKEND" >&2; exit 2 ;;
esac

# Valgrind 3.19 cannot read the DWARF of a Swift 6 binary ("possibly corrupted
# debuginfo"), so it runs a copy without debug info (symbols stay). And it crashes in
# the signal handling of libdispatch's dispatch_main(), where an async @main parks the
# main thread in sigsuspend(2); the preloaded shim parks it in pause(2) instead, which
# is the same for a thread that only waits for exit().
objcopy --strip-debug "$ROOT/$BUILD/release/swiftportd" "$WORK/swiftportd"
printf '#include <signal.h>\n#include <unistd.h>\nint sigsuspend(const sigset_t *m) { (void)m; for (;;) pause(); }\n' > "$WORK/park.c"
cc -shared -fPIC -O2 -o "$WORK/park.so" "$WORK/park.c"
URL="iscsi://127.0.0.1:$PORT/$IQN/$LUN"
# shellcheck disable=SC2086
LD_PRELOAD=$WORK/park.so valgrind --tool=callgrind --callgrind-out-file="$OUTDIR/callgrind.out.%p" $CALLGRIND_OPTS \
    "$WORK/swiftportd" --config "$WORK/swiftport.toml" > "$WORK/swiftportd.log" 2>&1 &
VG_PID=$!
for _ in $(seq 1 120); do
    ss -Hltn "sport = :$PORT" | grep -q . && break
    kill -0 "$VG_PID" 2>/dev/null || { cat "$WORK/swiftportd.log" >&2; exit 1; }
    sleep 0.5
done

# Fill the LUN once so random writes never allocate pages in the measured window.
"$BENCH" -p seqwrite -b 1m -q 4 -t 8 -r "${RANGE_MB}m" -T 120 "$URL" > /dev/null 2>> "$WORK/bench.log" || true

for pattern in $PATTERNS; do
    "$BENCH" -p "$pattern" -b "$BS" -q "$QD" -t 2 -r "${RANGE_MB}m" -T 120 "$URL" > /dev/null 2>> "$WORK/bench.log" || true
    callgrind_control -z "$VG_PID" > /dev/null
    out=$("$BENCH" -p "$pattern" -b "$BS" -q "$QD" -t "$TIME" -r "${RANGE_MB}m" -T 120 -s 1 "$URL" 2>> "$WORK/bench.log")
    callgrind_control -d "$pattern" "$VG_PID" > /dev/null
    sleep 1
    dump=$(ls -t "$OUTDIR"/callgrind.out.$VG_PID.* | head -1)
    ios=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ios"])' "$out")
    instructions=$(awk '/^summary:|^totals:/ {print $2; exit}' "$dump")
    echo "$pattern bs=$BS qd=$QD ios=$ios instructions=$instructions per_io=$(( instructions / (ios > 0 ? ios : 1) )) dump=$dump"
done
