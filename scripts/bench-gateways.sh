#!/usr/bin/env bash
# Benchmarks one rbd LUN through one gateway and through two gateways of a [cluster] at
# once (issue 19, active/active: the image has layering only, so nothing moves between
# the gateways per I/O), on a one-node bluestore cluster (../shared/ceph, loopback
# only). Rows: sp-1gw (iscsi-bench at QD 32 through gateway A) and sp-2gw (QD 16 through
# each of A and B, one session each, the same total depth); the gateways' CPU per I/O
# (both processes, from /proc) and the OSD's beside them; interleaved, medians of REPS,
# ratios to sp-1gw (bench_summary.py). Not in CI (it measures); about 4 minutes.
#
# Knobs: TIME [5] s per run, WARMUP [2], REPS [3], PORT [3278], MON_PORT [3393],
# OSD_PORT_MIN [7400], BUILD [.build-perf], OUT [BENCH-GATEWAYS-RESULTS.md].
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source "$ROOT/scripts/bench-lib.sh"
source "$ROOT/scripts/cluster-lib.sh"
SHARED=${SHARED:-$ROOT/../shared}
TIME=${TIME:-5} WARMUP=${WARMUP:-2} REPS=${REPS:-3} BUILD=${BUILD:-.build-perf} OUT=${OUT:-$ROOT/BENCH-GATEWAYS-RESULTS.md}
PORT=${PORT:-3278}
export MON_PORT=${MON_PORT:-3393} OSD_PORT_MIN=${OSD_PORT_MIN:-7400} OBJECTSTORE=bluestore IMAGE_SIZE=2G
WORK=$(mktemp -d /tmp/swiftport-bench-gateways.XXXXXX)
CLUSTER=$WORK/ceph
IQN=iqn.2026-12.io.swiftport:bench-gateways
PIDS=()

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    sleep 1
    [[ -d $CLUSTER ]] && "$SHARED/ceph/cluster-down.sh" "$CLUSTER" > /dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
bench_ports_free "$PORT" "$MON_PORT" "$OSD_PORT_MIN"

scripts/install-deps.sh
if ! command -v ceph-mon > /dev/null || [[ ! -e /usr/lib/x86_64-linux-gnu/librbd.so.1 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        ceph-mon ceph-osd ceph-common librbd-dev librados-dev > "$WORK/apt.log" 2>&1 || { tail -n 20 "$WORK/apt.log"; exit 1; }
fi
bench_build "$BUILD"
bench_client "$WORK"

"$SHARED/ceph/cluster-up.sh" "$CLUSTER" > "$WORK/cluster-up.log" 2>&1 || { cat "$WORK/cluster-up.log"; exit 1; }
export CEPH_CONF=$CLUSTER/ceph.conf
rbd create --size 2G --image-feature layering rbd/shared
# Every object written once, so no read meets an absent object (answered with zeros by
# librbd without asking the OSD).
rbd bench --io-type write --io-pattern seq --io-size 4M --io-threads 16 --io-total 2G rbd/shared > "$WORK/fill.log" 2>&1

# gateway NAME TAG ADDRESS: starts gateway NAME (portal ADDRESS:PORT, target port group
# TAG) with bench_config's negotiation limits and the rbd LUN 1.
gateway() {
    mkdir -p "$WORK/$1"
    bench_config "$WORK/$1" "$IQN" "$PORT" 16
    sed -i "s|^portals = \\[\"127.0.0.1:$PORT\"\\]|[[target.portal_group]]\\ntag = $2\\nportals = [\"$3:$PORT\"]|" "$WORK/$1/swiftport.toml"
    cat >> "$WORK/$1/swiftport.toml" <<TOML
[[target.lun]]
id = 1
backend = "rbd"
pool = "rbd"
image = "shared"
ceph_conf = "$CEPH_CONF"
$(cluster_toml bench "$1" "$CEPH_CONF" "gw-a gw-b")
TOML
    "$ROOT/$BUILD/release/swiftportd" --config "$WORK/$1/swiftport.toml" > "$WORK/$1.log" 2>&1 &
    PIDS+=($!)
    # bench_config logs warnings only: ready once the portal listens.
    for _ in $(seq 150); do ss -Hltn "src $3:$PORT" | grep -q . && return 0; sleep 0.2; done
    cat "$WORK/$1.log"; exit 1
}
gateway gw-a 1 127.0.0.1
gateway gw-b 2 127.0.0.2
URL_A="iscsi://127.0.0.1:$PORT/$IQN/1" URL_B="iscsi://127.0.0.2:$PORT/$IQN/1"

# CPU seconds so far of the processes PIDS (utime + stime).
cpu_of() { for pid in "$@"; do awk '{ print $14 + $15 }' "/proc/$pid/stat"; done | awk -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { print s / hz }'; }
OSD_PID=$(cat "$CLUSTER/run/osd.0.pid")

# run LABEL PATTERN QD URL...: one iscsi-bench row with the gateways' and the OSD's CPU
# seconds over the measured window (sampled after the warm-up, as iscsi-bench's own).
run() {
    local label=$1 pattern=$2 qd=$3 out sampler
    shift 3
    ( sleep "$WARMUP"; echo "$(cpu_of "${PIDS[@]}") $(cpu_of "$OSD_PID")" > "$WORK/cpu-start" ) &
    sampler=$!
    out=$(timeout $((TIME + WARMUP + 60)) "$BENCH" -p "$pattern" -b 4k -q "$qd" -t "$TIME" -w "$WARMUP" -r 2048m -l "$label" "$@" 2>> "$WORK/bench.log") || true
    wait "$sampler"
    python3 - "$out" "$(cat "$WORK/cpu-start")" "$(cpu_of "${PIDS[@]}") $(cpu_of "$OSD_PID")" $((qd * $#)) <<'PY'
import json, sys
try:
    row = json.loads(sys.argv[1])
except ValueError:
    print(json.dumps({"status": "FAIL"}))
    sys.exit()
gateways0, osd0 = map(float, sys.argv[2].split())
gateways1, osd1 = map(float, sys.argv[3].split())
# One row however many URLs: both gateways count as the target, one logical unit, and
# qd is the total depth, so the rows of one and two gateways compare.
row.update(sessions=1, qd=int(sys.argv[4]), target_cpu_s=gateways1 - gateways0, osd_cpu_s=osd1 - osd0)
print(json.dumps(row))
PY
}

: > "$WORK/results.jsonl"
start=$(date +%s)
for rep in $(seq 1 "$REPS"); do
    for pattern in randread randwrite; do
        run sp-1gw "$pattern" 32 "$URL_A" >> "$WORK/results.jsonl"
        run sp-2gw "$pattern" 16 "$URL_A" "$URL_B" >> "$WORK/results.jsonl"
    done
    echo "repetition $rep done after $(( $(date +%s) - start )) s" >&2
done
: > "$WORK/limits.jsonl"
python3 "$ROOT/scripts/bench_summary.py" "$WORK/results.jsonl" "$WORK/limits.jsonl" --targets sp-1gw,sp-2gw --baselines sp-1gw \
    --machine "$(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -r), bluestore one-node cluster" \
    --seconds "$(( $(date +%s) - start ))" | tee "$OUT"
echo "wrote $OUT" >&2
