#!/usr/bin/env bash
# Benchmarks an rbd LUN (issue 15): swiftportd's rbd backend against tgtd's rbd store
# (Debian tgt-rbd) on the same image of a one-node bluestore cluster (../shared/ceph,
# loopback only), and `rbd bench` with the same I/O size and depth as librbd's own
# ceiling; the OSD's CPU per I/O beside each (it shares the cores); interleaved per
# configuration, medians of REPS, ratios (bench_summary.py).
# Not in CI (it measures); about 6 minutes by default. Stops only what it started.
#
# Knobs: TIME [5] s per run, WARMUP [2], REPS [3], PORT [3276], TGT_PORT [3277],
# TGT_CTRL [24], MON_PORT [3392], OSD_PORT_MIN [7100], BUILD [.build-perf],
# OUT [BENCH-RBD-RESULTS.md].
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source "$ROOT/scripts/bench-lib.sh"
SHARED=${SHARED:-$ROOT/../shared}
TIME=${TIME:-5} WARMUP=${WARMUP:-2} REPS=${REPS:-3} BUILD=${BUILD:-.build-perf} OUT=${OUT:-$ROOT/BENCH-RBD-RESULTS.md}
PORT=${PORT:-3276} TGT_PORT=${TGT_PORT:-3277} TGT_CTRL=${TGT_CTRL:-24}
export MON_PORT=${MON_PORT:-3392} OSD_PORT_MIN=${OSD_PORT_MIN:-7100} OBJECTSTORE=bluestore IMAGE_SIZE=2G
WORK=$(mktemp -d /tmp/swiftport-bench-rbd.XXXXXX)
CLUSTER=$WORK/ceph
IQN=iqn.2026-12.io.swiftport:bench-rbd
SP_PID= TGTD_PID=

cleanup() {
    set +e
    [[ -n $SP_PID ]] && kill -TERM "$SP_PID" 2>/dev/null
    [[ -n $TGTD_PID ]] && tgtd_stop "$TGT_CTRL" "$TGTD_PID"
    sleep 1
    [[ -d $CLUSTER ]] && "$SHARED/ceph/cluster-down.sh" "$CLUSTER" > /dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
bench_ports_free "$PORT" "$TGT_PORT" "$MON_PORT" "$OSD_PORT_MIN"

scripts/install-deps.sh
if ! command -v ceph-mon > /dev/null || [[ ! -e /usr/lib/tgt/backing-store/bs_rbd.so ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        ceph-mon ceph-osd ceph-common librbd-dev librados-dev tgt-rbd > "$WORK/apt.log" 2>&1 || { tail -n 20 "$WORK/apt.log"; exit 1; }
fi
bench_build "$BUILD"
bench_client "$WORK"

"$SHARED/ceph/cluster-up.sh" "$CLUSTER" > "$WORK/cluster-up.log" 2>&1 || { cat "$WORK/cluster-up.log"; exit 1; }
export CEPH_CONF=$CLUSTER/ceph.conf
# Every object written once, so no read meets an absent object (which librbd answers
# with zeros without asking the OSD) on one target and not the other.
rbd bench --io-type write --io-pattern seq --io-size 4M --io-threads 16 --io-total 2G rbd/img > "$WORK/fill.log" 2>&1

bench_config "$WORK" "$IQN" "$PORT" 16
cat >> "$WORK/swiftport.toml" <<TOML
[[target.lun]]
id = 1
backend = "rbd"
pool = "rbd"
image = "img"
ceph_conf = "$CEPH_CONF"
TOML
"$ROOT/$BUILD/release/swiftportd" --config "$WORK/swiftport.toml" > "$WORK/swiftportd.log" 2>&1 &
SP_PID=$!
tgtd_start "$WORK" "$TGT_CTRL" "$TGT_PORT" "$IQN-tgt"
"${TGTADM[@]}" --op new --mode logicalunit --tid 1 --lun 1 --bstype rbd --backing-store rbd/img --bsopts "conf=$CEPH_CONF;id=admin"
declare -A URL=([sp-rbd]="iscsi://127.0.0.1:$PORT/$IQN/1" [tgt-rbd]="iscsi://127.0.0.1:$TGT_PORT/$IQN-tgt/1")
declare -A PID=([sp-rbd]=$SP_PID [tgt-rbd]=$TGTD_PID)

# rbd bench as a row bench_summary.py reads: librbd alone, the ceiling of any target on
# it. Its CPU (user + system of the rbd process) is in the target CPU column.
rbd_bench() {
    local pattern=$1 bs=$2 qd=$3 bytes
    case $bs in *k) bytes=$(( ${bs%k} << 10 )) ;; *m) bytes=$(( ${bs%m} << 20 )) ;; esac
    python3 - "$pattern" "$bytes" "$qd" <<'PY'
import json, os, re, subprocess, sys
pattern, size, qd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kind, io_type = ("seq", pattern[3:]) if pattern.startswith("seq") else ("rand", pattern[4:])
# A few seconds' worth at the rates this machine reaches (../shared/ceph/README.md).
total = 2 << 30 if size >= 1 << 20 else 160 << 20
before = os.times()
out = subprocess.run(["rbd", "bench", "--io-type", io_type, "--io-pattern", kind, "--io-size", str(size),
                      "--io-threads", str(qd), "--io-total", str(total), "rbd/img"], capture_output=True, text=True)
after = os.times()
row = {"label": "rbd-bench", "pattern": pattern, "bs": size, "qd": qd, "sessions": 1}
# Its last line: "elapsed: 4   ops: 40960   ops/sec: 8490.88   bytes/sec: 33 MiB/s"
m = re.search(r"elapsed:\s*\S+\s+ops:\s*(\d+)\s+ops/sec:\s*([\d.]+)", out.stdout)
if out.returncode == 0 and m:
    ios, iops = int(m.group(1)), float(m.group(2))
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    row.update(status="ok", ios=ios, iops=iops, mib_s=iops * size / 2**20, target_cpu_s=cpu)
else:
    row.update(status="FAIL")
    print(out.stderr[-500:], file=sys.stderr)
print(json.dumps(row))
PY
}

# measured WARMUP COMMAND...: runs it (it prints one JSON row) and adds the OSD's CPU
# seconds from WARMUP seconds after the start to the end, the cost of the same I/O at the
# cluster, which shares these cores.
OSD_PID=$(cat "$CLUSTER/run/osd.0.pid")
osd_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$OSD_PID/stat"; }
measured() {
    local warmup=$1 out sampler
    shift
    ( sleep "$warmup"; osd_cpu > "$WORK/osd-cpu-start" ) &
    sampler=$!
    out=$("$@") || true
    wait "$sampler"  # not the daemons, which are this shell's jobs too
    python3 -c 'import json, sys; row = json.loads(sys.argv[1]); row["osd_cpu_s"] = float(sys.argv[3]) - float(sys.argv[2]); print(json.dumps(row))' \
        "$out" "$(cat "$WORK/osd-cpu-start")" "$(osd_cpu)" 2> /dev/null || echo "$out"
}

CFGS=("randread 4k 32" "randwrite 4k 32" "seqread 1m 8" "seqwrite 1m 8")
: > "$WORK/results.jsonl"
start=$(date +%s)
for rep in $(seq 1 "$REPS"); do
    for cfg in "${CFGS[@]}"; do
        read -r pattern bs qd <<< "$cfg"
        for target in sp-rbd tgt-rbd; do
            out=$(measured "$WARMUP" timeout $((TIME + WARMUP + 60)) "$BENCH" -p "$pattern" -b "$bs" -q "$qd" -t "$TIME" -w "$WARMUP" -r 2048m \
                -P "${PID[$target]}" -l "$target" "${URL[$target]}" 2>> "$WORK/bench.log")
            [[ $out == *'"status": "ok"'* || $out == *'"status":"ok"'* ]] || out="{\"label\":\"$target\",\"pattern\":\"$pattern\",\"status\":\"FAIL\"}"
            echo "$out" >> "$WORK/results.jsonl"
        done
        measured 0 rbd_bench "$pattern" "$bs" "$qd" >> "$WORK/results.jsonl" 2>> "$WORK/bench.log"
    done
    echo "repetition $rep done after $(( $(date +%s) - start )) s" >&2
done
: > "$WORK/limits.jsonl"
python3 "$ROOT/scripts/bench_summary.py" "$WORK/results.jsonl" "$WORK/limits.jsonl" --targets sp-rbd,tgt-rbd,rbd-bench \
    --baselines tgt-rbd,rbd-bench --machine "$(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -r), bluestore one-node cluster" \
    --seconds "$(( $(date +%s) - start ))" | tee "$OUT"
echo "wrote $OUT" >&2
