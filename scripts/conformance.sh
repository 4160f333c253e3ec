#!/usr/bin/env bash
# libiscsi conformance, swiftportd beside tgtd in the same run (the device-server issue):
# iscsi-test-cu ALL (destructive tests on, two initiator names, the same URL twice so
# the multipath and two-initiator tests run) against a thin-provisioned RAM LUN, a file
# LUN and a read-only LUN on swiftportd, and the same three kinds of LUN on a private
# tgtd; each log scored by ../shared/conformance/score-libiscsi.py, swiftportd compared
# with tgtd through --baseline. Fails if swiftportd has a failed test, or fails a test
# that tgtd passes. Loopback only; stops only what it started.
#
# Knobs: TESTS [ALL] (iscsi-test-cu -t pattern), LUNS ["ram file readonly"], PORT [3274],
# TGT_PORT [3275], KEEP (a directory to copy the logs and scores to).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
BIN=${BIN:-$ROOT/.build/debug}
TESTS=${TESTS:-ALL} LUNS=${LUNS:-"ram file readonly"}
PORT=${PORT:-3274} TGT_PORT=${TGT_PORT:-3275} TGT_CTRL=${TGT_CTRL:-23}
IQN=iqn.2026-11.io.swiftport:conformance
source scripts/lib.sh
lib_begin conformance
require_free_ports "$PORT" "$TGT_PORT"

# 256 MiB each: the suites write the whole LUN in places, so size bounds the run time.
cat > "$WORK/swiftport.toml" <<TOML
[daemon]
state_dir = "$WORK/state"
admin_socket = "$WORK/admin.sock"
log_level = "notice"
[[target]]
name = "$IQN"
portals = ["127.0.0.1:$PORT"]
[[target.lun]]
id = 0
backend = "ram"
size = "256MiB"
[[target.lun]]
id = 1
backend = "file"
path = "$WORK/file.img"
size = "256MiB"
[[target.lun]]
id = 2
backend = "ram"
size = "256MiB"
read_only = true
TOML
start_swiftportd swiftportd "$WORK/swiftport.toml"

for name in ram file readonly; do truncate -s 256M "$WORK/tgt-$name.img"; done
start_tgtd "$TGT_PORT" "$TGT_CTRL"
"${TGTADM[@]}" --op new --mode target --tid 1 -T "$IQN-tgt"
"${TGTADM[@]}" --op new --mode logicalunit --tid 1 --lun 1 -b "$WORK/tgt-ram.img"
"${TGTADM[@]}" --op update --mode logicalunit --tid 1 --lun 1 --params thin_provisioning=1
"${TGTADM[@]}" --op new --mode logicalunit --tid 1 --lun 2 -b "$WORK/tgt-file.img"
"${TGTADM[@]}" --op new --mode logicalunit --tid 1 --lun 3 -b "$WORK/tgt-readonly.img"
"${TGTADM[@]}" --op update --mode logicalunit --tid 1 --lun 3 --params readonly=1
"${TGTADM[@]}" --op bind --mode target --tid 1 -I ALL

source scripts/conformance-lib.sh
declare -A SP_LUN=([ram]=0 [file]=1 [readonly]=2) TGT_LUN=([ram]=1 [file]=2 [readonly]=3)
status=0
for lun in $LUNS; do
    for target in tgtd swiftportd; do
        if [[ $target == tgtd ]]; then url="iscsi://127.0.0.1:$TGT_PORT/$IQN-tgt/${TGT_LUN[$lun]}"; else url="iscsi://127.0.0.1:$PORT/$IQN/${SP_LUN[$lun]}"; fi
        start=$(date +%s)
        timeout 1800 iscsi-test-cu -d -t "$TESTS" "$url" "$url" > "$WORK/$target-$lun.raw.log" 2>&1
        echo "== $target $lun LUN: iscsi-test-cu took $(( $(date +%s) - start )) s"
        separate_cleanup_output "$WORK/$target-$lun.raw.log" > "$WORK/$target-$lun.log"
        grep -h "^    (after the verdict)" "$WORK/$target-$lun.log" | sed "s/^/   $target: /"
        if [[ $target == tgtd ]]; then
            python3 "$SHARED/conformance/score-libiscsi.py" "$WORK/$target-$lun.log" --json "$WORK/$target-$lun.json" -s | tail -n 1
        else
            python3 "$SHARED/conformance/score-libiscsi.py" "$WORK/$target-$lun.log" --json "$WORK/$target-$lun.json" \
                --baseline "$WORK/tgtd-$lun.json" -s | tee "$WORK/$target-$lun.txt"
            if unexplained BEHIND-BASELINE "$WORK/$target-$lun.txt"; then status=1; fi
            # On the read-only LUN every write test fails on any target: only the
            # comparison with tgtd counts there.
            if [[ $lun != readonly ]] && unexplained FAILED "$WORK/$target-$lun.txt"; then status=1; fi
        fi
    done
done
exit $status
