#!/usr/bin/env bash
# End-to-end test with the REAL Linux initiator (open-iscsi + iscsi_tcp + dm-multipath
# in a qemu guest) against swiftportd on two portals, using the shared harness in
# ../shared/e2e (README.md there). For each run the guest discovers and logs in on
# both portals, checks that `multipath` builds one map with two paths, writes and
# verifies a pattern through /dev/mapper/mpathX, then for portal 1 and then portal 2:
# cuts the path while a writer is running, checks that I/O continues on the other
# path without error, restores it (failback) and verifies every block, and finally
# reads everything back through the map and through each path directly.
#
# Runs (--runs, default "admin linkdown negative"):
#   admin     the path is cut with `swiftport portal disable ADDR` (the daemon stops
#             listening and drops that portal's sessions) and restored with
#             `swiftport portal enable ADDR`, through the admin socket
#   linkdown  the harness's default: the portal's tap link goes down (silent packet
#             loss, detected by NOP-Out timeouts) and up again
#   negative  negative control: two daemons, one per portal, serving the same target
#             name with DIFFERENT LUN identities; this run must FAIL
#
# Usage: sudo scripts/e2e.sh [--bin DIR] [--runs "admin linkdown negative"]
#                            [--rebuild-guest] [-- extra run-e2e.sh options]
#   --bin DIR   where swiftportd and swiftport are   [$SWIFTPORT_BIN or .build/release]
#               (or set SWIFTPORTD / SWIFTPORT to the binaries themselves)
#   e.g. scripts/e2e.sh --bin .build/debug --runs admin -- --noop 2 --replacement-timeout 5
# Environment: E2E_DIR (the harness, default ../shared/e2e), E2E_GUEST_DIR
# (default /var/tmp/linux-initiator-e2e/guest), E2E_RUN_ROOT (logs, default
# /var/tmp/swiftport-e2e/<time>).
# Exit status: 0 every run gave its expected result, 1 otherwise, 2 setup error.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
E2E_DIR=${E2E_DIR:-$ROOT/../shared/e2e}
[ -d "$E2E_DIR" ] || E2E_DIR=/work/shared/e2e
GUEST_DIR=${E2E_GUEST_DIR:-/var/tmp/linux-initiator-e2e/guest}
BIN=${SWIFTPORT_BIN:-$ROOT/.build/release}
RUNS="admin linkdown negative"
REBUILD=0
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) BIN=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --rebuild-guest) REBUILD=1 ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

[ "$(id -u)" = 0 ] || { echo "e2e.sh needs root (network namespaces, tap devices)" >&2; exit 2; }
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "no directory $BIN: build first (swift build -c release)" >&2; exit 2; }
export SWIFTPORTD=${SWIFTPORTD:-$BIN/swiftportd} SWIFTPORT=${SWIFTPORT:-$BIN/swiftport}
for b in "$SWIFTPORTD" "$SWIFTPORT"; do
    [ -x "$b" ] || { echo "$b missing: swift build -c release --product ${b##*/} (or --bin DIR)" >&2; exit 2; }
done
for f in run-e2e.sh build-guest.sh guest/e2e-guest.sh; do
    [ -e "$E2E_DIR/$f" ] || { echo "harness file $E2E_DIR/$f missing (set E2E_DIR)" >&2; exit 2; }
done
TARGET_SH=$ROOT/scripts/e2e/swiftportd-target.sh
T0=$(date +%s)

# ---- dependencies and guest image -------------------------------------------
deps_missing() {
    local c
    for c in qemu-system-x86_64 iscsiadm iscsid multipath multipathd dmsetup sg_vpd sg_inq udevadm cpio gzip ss; do
        command -v "$c" >/dev/null || [ -x "/sbin/$c" ] || [ -x "/usr/sbin/$c" ] || return 0
    done
    command -v busybox >/dev/null || [ -x /bin/busybox ] || return 0
    ls /lib/modules/*/kernel/drivers/scsi/iscsi_tcp.ko* >/dev/null 2>&1 || return 0
    ls /boot/vmlinuz-* >/dev/null 2>&1 || return 0
    return 1
}
if deps_missing; then
    echo "== installing the harness's Debian packages and building the guest"
    "$E2E_DIR/build-guest.sh" --install-deps --out "$GUEST_DIR" || { echo "build-guest.sh --install-deps failed" >&2; exit 2; }
elif [ "$REBUILD" = 1 ] || [ ! -f "$GUEST_DIR/vmlinuz" ] || [ ! -f "$GUEST_DIR/initramfs.cpio.gz" ]; then
    echo "== building the guest"
    "$E2E_DIR/build-guest.sh" --out "$GUEST_DIR" || { echo "build-guest.sh failed" >&2; exit 2; }
else
    echo "== guest image: $GUEST_DIR ($(head -n 1 "$GUEST_DIR/BUILD-INFO" 2>/dev/null))"
fi
T_SETUP=$(( $(date +%s) - T0 ))

# ---- runs ---------------------------------------------------------------------
RUN_ROOT=${E2E_RUN_ROOT:-/var/tmp/swiftport-e2e/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$RUN_ROOT"
# Cut / restore path $E2E_PATH through the admin socket. run-e2e.sh runs these with
# `bash -c` in the root namespace, with E2E_PATH and E2E_* exported; the socket is a
# file in the run directory, so it is reachable from there.
ADMIN_FAIL='p=E2E_PORTAL$E2E_PATH; "$SWIFTPORT" portal disable "${!p}:$E2E_PORT" --socket "$E2E_WORKDIR/admin.sock"'
ADMIN_RESTORE='p=E2E_PORTAL$E2E_PATH; "$SWIFTPORT" portal enable "${!p}:$E2E_PORT" --socket "$E2E_WORKDIR/admin.sock"'

declare -a RESULTS
failures=0
for run in $RUNS; do
    work=$RUN_ROOT/$run
    args=(--target-cmd "$TARGET_SH" --work-dir "$work" --guest-dir "$GUEST_DIR")
    expect=0
    case "$run" in
        admin) args+=(--fail-cmd "$ADMIN_FAIL" --restore-cmd "$ADMIN_RESTORE") ;;
        linkdown) ;;
        negative) expect=1 ;;
        *) echo "unknown run '$run' (admin, linkdown, negative)" >&2; exit 2 ;;
    esac
    echo
    echo "================ run '$run' (expected: $([ $expect = 0 ] && echo PASS || echo FAIL)) ================"
    t=$(date +%s)
    if [ "$run" = negative ]; then
        E2E_SPLIT_BRAIN=1 "$E2E_DIR/run-e2e.sh" "${args[@]}" "${EXTRA[@]}" 2>&1 | tee "$RUN_ROOT/$run.out"
    else
        E2E_SPLIT_BRAIN=0 "$E2E_DIR/run-e2e.sh" "${args[@]}" "${EXTRA[@]}" 2>&1 | tee "$RUN_ROOT/$run.out"
    fi
    rc=${PIPESTATUS[0]}
    secs=$(( $(date +%s) - t ))
    if [ "$rc" = "$expect" ]; then verdict=ok; else verdict=UNEXPECTED; failures=$((failures + 1)); fi
    if [ "$rc" = 0 ]; then got=PASS; elif [ "$rc" = 1 ]; then got=FAIL; else got="setup error (rc $rc)"; fi
    reason=$(sed -n 's/.*E2E FAIL: \(.*\)  (logs:.*/\1/p' "$RUN_ROOT/$run.out" | tail -n 1)
    RESULTS+=("$(printf '%-9s %-5s got %-4s %4ss  %s%s' "$run" "$verdict" "$got" "$secs" "$work" "${reason:+  [$reason]}")")
    # the negative control can leave no timing table worth printing; keep the others
    if [ "$run" != negative ] && [ -f "$work/summary.txt" ]; then
        { echo "---- $run ----"; sed -n '/phase timings/,/host: target ready/p' "$work/summary.txt"
          grep -E 'guest info max-io-stall' "$work/summary.txt" | sed 's/^\[run-e2e *\([0-9.]*\)\] guest info /  /'; } >> "$RUN_ROOT/timings.txt"
    fi
done

echo
echo "================ swiftport e2e summary ================"
echo "setup (deps/guest): ${T_SETUP}s; binaries: $BIN; logs: $RUN_ROOT"
[ -f "$RUN_ROOT/timings.txt" ] && cat "$RUN_ROOT/timings.txt"
echo
for r in "${RESULTS[@]}"; do echo "  $r"; done
if [ "$failures" = 0 ]; then
    echo "E2E OK: every run gave its expected result ($(( $(date +%s) - T0 ))s in total)"
    exit 0
fi
echo "E2E FAILED: $failures run(s) did not give the expected result"
exit 1
