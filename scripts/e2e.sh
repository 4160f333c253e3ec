#!/usr/bin/env bash
# End-to-end test with the REAL Linux initiator (open-iscsi + iscsi_tcp + dm-multipath
# in a qemu guest) against swiftportd on two portals, using the shared harness in
# ../shared/e2e (README.md there; run-e2e.sh drives the guest, this script plugs in
# swiftportd and adds the checks the guest script cannot make).
#
# Target (scripts/e2e/swiftportd-target.sh): one LUN, portal 1 = TPG 1 ALUA
# active/optimized, portal 2 = TPG 2 active/non-optimized. Guest multipath: the
# device stanza printed by `swiftport profile multipath-conf` for that config
# (path_grouping_policy group_by_prio, prio alua, path_checker tur, failback
# immediate), installed as /etc/multipath/conf.d/swiftport.conf in the guest
# (appended to the harness's initramfs) and run-e2e.sh --policy default, so nothing
# overrides the grouping (the harness's own overrides keep no_path_retry 5).
#
# Runs (--runs, default "alua linkdown negative gateways owner"):
#   alua      the issue-4 sequence. Guest (shared e2e-guest.sh): discover + log in on
#             both portals; one map with both paths; a 16 MiB pattern written and
#             verified through /dev/mapper/mpathX; a writer running; FAIL 1 ->
#             `swiftport portal disable` of portal 1 mid-write; writes continue on
#             portal 2 with no error; RESTORE 1 -> scripts/e2e/alua-hooks.sh: TPG 1
#             standby, portal enabled, re-login while standby, TPG 1 active/optimized
#             again (failback immediate); every block read back through the map and
#             through each path. Host (scripts/e2e/check-run.sh, after the guest's
#             PASS): two path groups by ALUA prio (50 / 10) in `multipath -ll`, I/O on
#             portal 1 before the cut, on portal 2 during it, back on portal 1 after
#             the failback (per-portal byte counters of the tap devices), the path
#             not reported ready while standby.
#   linkdown  same profile; the path is cut by taking portal 1's tap link down (silent
#             loss, found by NOP-Out timeouts) and restored by bringing it up; same
#             host checks except the standby step
#   multibus  the harness's default guest policy (one group, both paths busy), both
#             portals cut in turn with `swiftport portal disable|enable`; no ALUA checks
#   negative  negative control: two daemons, one per portal, serving the same target
#             name with DIFFERENT LUN identities; this run must FAIL
#   gateways  two gateways of one [cluster] (scripts/e2e/gateways-target.sh), one per
#             portal, exporting the same rbd image of a one-node Ceph cluster in the
#             namespace, active/active; the harness's default guest policy (multibus:
#             both paths carry I/O at once); each path cut in turn by killing its
#             gateway (kill -9) mid-write and restored by starting it again; every
#             block verified (needs the Ceph packages: scripts/rbd-integration.sh)
#   owner     the same two gateways, the image with the exclusive-lock feature (owner
#             mode, gateway 1 its home) and the Swiftport profile (group_by_prio, ALUA):
#             gateway 1, the owner, killed (kill -9) mid-write; the writes go on through
#             gateway 2 once it has taken the LUN over; gateway 1 started again takes it
#             back (failback) and the guest's I/O follows; the linkdown host checks
#
# Usage: sudo scripts/e2e.sh [--bin DIR] [--runs "alua linkdown negative gateways owner"]
#                            [--rebuild-guest] [-- extra run-e2e.sh options]
#   --bin DIR   where swiftportd and swiftport are   [$SWIFTPORT_BIN or .build/release]
#               (or set SWIFTPORTD / SWIFTPORT to the binaries themselves)
#   e.g. scripts/e2e.sh --bin .build/debug --runs alua -- --noop 2 --replacement-timeout 5
# Environment: E2E_DIR (the harness, default ../shared/e2e), E2E_GUEST_DIR
# (default /var/tmp/linux-initiator-e2e/guest), E2E_RUN_ROOT (logs, default
# /var/tmp/swiftport-e2e/<time>), E2E_STANDBY_HOLD (seconds in standby, default 6).
# Needs root, /dev/net/tun and network namespaces; without them it stops with exit 2
# (it never skips). Exit status: 0 every run gave its expected result, 1 otherwise,
# 2 setup error.
# A run whose host-side checks are inconclusive (check-run.sh exit 3: the guest's
# multipathd called a standby path ready before the target had answered anything on it)
# is made once more, in RUN-again; inconclusive twice fails. So is an alua run whose
# guest failed after reporting a path restored before its TPG left standby (the same
# artifact: the guest then reads the standby path directly and meets NOT READY).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
E2E_DIR=${E2E_DIR:-$ROOT/../shared/e2e}
[ -d "$E2E_DIR" ] || E2E_DIR=/work/shared/e2e
GUEST_DIR=${E2E_GUEST_DIR:-/var/tmp/linux-initiator-e2e/guest}
BIN=${SWIFTPORT_BIN:-$ROOT/.build/release}
RUNS="alua linkdown negative gateways owner"
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
# The harness needs a network namespace with tap devices: say so loudly, never skip.
[ -c /dev/net/tun ] || { echo "e2e.sh: /dev/net/tun missing: this machine cannot run the qemu guest's tap NICs" >&2; exit 2; }
probe=swp-e2e-probe-$$
if ! ip netns add "$probe" 2>/dev/null; then
    echo "e2e.sh: cannot create a network namespace (ip netns add): this machine cannot run the e2e test" >&2; exit 2
fi
if ! ip netns exec "$probe" ip tuntap add dev tapprobe mode tap 2>/dev/null; then
    ip netns del "$probe"
    echo "e2e.sh: cannot create a tap device in a network namespace: this machine cannot run the e2e test" >&2; exit 2
fi
ip netns del "$probe"
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "no directory $BIN: build first (swift build -c release)" >&2; exit 2; }
export SWIFTPORTD=${SWIFTPORTD:-$BIN/swiftportd} SWIFTPORT=${SWIFTPORT:-$BIN/swiftport}
for b in "$SWIFTPORTD" "$SWIFTPORT"; do
    [ -x "$b" ] || { echo "$b missing: swift build -c release --product ${b##*/} (or --bin DIR)" >&2; exit 2; }
done
for f in run-e2e.sh build-guest.sh guest/e2e-guest.sh; do
    [ -e "$E2E_DIR/$f" ] || { echo "harness file $E2E_DIR/$f missing (set E2E_DIR)" >&2; exit 2; }
done
TARGET_SH=$ROOT/scripts/e2e/swiftportd-target.sh
GATEWAYS_SH=$ROOT/scripts/e2e/gateways-target.sh
# gateways-target.sh brings up its Ceph cluster with the workplace's ceph/ scripts.
export SHARED=${SHARED:-$(cd "$E2E_DIR/.." && pwd)}
HOOKS_SH=$ROOT/scripts/e2e/alua-hooks.sh
OBSERVE_SH=$ROOT/scripts/e2e/observe-taps.sh
CHECK_SH=$ROOT/scripts/e2e/check-run.sh
# the ALUA states of the two target port groups (read by swiftportd-target.sh and alua-hooks.sh)
export E2E_ALUA_STATE1=active-optimized E2E_ALUA_STATE2=active-non-optimized
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

RUN_ROOT=${E2E_RUN_ROOT:-/var/tmp/swiftport-e2e/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$RUN_ROOT"

# ---- guest with Swiftport's multipath profile ------------------------------------
# The harness writes the guest's /etc/multipath.conf itself (defaults + overrides); it
# takes no devices section. multipathd also reads /etc/multipath/conf.d/*.conf, so the
# stanza `swiftport profile multipath-conf` prints for the target's configuration goes
# there, in a small cpio appended to the harness's initramfs (the kernel unpacks
# concatenated archives in order), in a guest dir of our own passed with --guest-dir.
PROFILE_GUEST=$RUN_ROOT/guest-profile
mkdir -p "$PROFILE_GUEST/root/etc/multipath/conf.d" "$RUN_ROOT/profile"
E2E_PORTAL1=10.77.1.1 E2E_PORTAL2=10.77.2.1 E2E_PORT=3260 E2E_IQN=iqn.2024-01.test.e2e:target1 \
    E2E_WORKDIR=$RUN_ROOT/profile "$TARGET_SH" --config-only > /dev/null \
    || { echo "swiftportd-target.sh --config-only failed" >&2; exit 2; }
"$SWIFTPORT" profile multipath-conf --config "$RUN_ROOT/profile/e2e-target.toml" \
    > "$PROFILE_GUEST/root/etc/multipath/conf.d/swiftport.conf" \
    || { echo "swiftport profile multipath-conf failed" >&2; exit 2; }
for setting in "path_grouping_policy group_by_prio" "prio alua" "path_checker tur" "failback immediate"; do
    grep -q "^ *$setting\$" "$PROFILE_GUEST/root/etc/multipath/conf.d/swiftport.conf" \
        || { echo "swiftport profile multipath-conf does not say '$setting'" >&2; exit 2; }
done
# swiftportd offers implicit ALUA only (explicit_alua is off in the target's config):
# Linux's scsi_dh_alua then never sends SET TARGET PORT GROUPS, and the states stay
# the operator's, which is what the alua run checks (check-run.sh fails if the guest
# changed one).
echo "== guest multipath profile (/etc/multipath/conf.d/swiftport.conf in the guest):"
sed 's/^/   /' "$PROFILE_GUEST/root/etc/multipath/conf.d/swiftport.conf"
( cd "$PROFILE_GUEST/root" && find etc | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1 ) > "$PROFILE_GUEST/profile.cpio.gz"
cat "$GUEST_DIR/initramfs.cpio.gz" "$PROFILE_GUEST/profile.cpio.gz" > "$PROFILE_GUEST/initramfs.cpio.gz"
ln -sf "$GUEST_DIR/vmlinuz" "$PROFILE_GUEST/vmlinuz"
T_SETUP=$(( $(date +%s) - T0 ))

# ---- runs ---------------------------------------------------------------------
# Cut / restore path $E2E_PATH through the admin socket. run-e2e.sh runs these with
# `bash -c` in the root namespace, with E2E_PATH and E2E_* exported; the socket is a
# file in the run directory, so it is reachable from there.
ADMIN_FAIL='p=E2E_PORTAL$E2E_PATH; "$SWIFTPORT" portal disable "${!p}:$E2E_PORT" --socket "$E2E_WORKDIR/admin.sock"'
ADMIN_RESTORE='p=E2E_PORTAL$E2E_PATH; "$SWIFTPORT" portal enable "${!p}:$E2E_PORT" --socket "$E2E_WORKDIR/admin.sock"'

# guest_ahead_of_failback WORK: the guest reported a path restored (phase restoreK-done
# in taps.txt) before the hooks set its TPG active again (ACTIVE K in hooks.log).
guest_ahead_of_failback() {
    local k done active
    for k in 1 2; do
        done=$(awk -v n="restore$k-done" '$3 == n { print $1; exit }' "$1/taps.txt" 2>/dev/null)
        active=$(awk -v k="$k" '$2 == "ACTIVE" && $3 == k { print $1; exit }' "$1/hooks.log" 2>/dev/null)
        [ -n "$done" ] && [ -n "$active" ] && awk -v d="$done" -v a="$active" 'BEGIN { exit !(d < a) }' && return 0
    done
    return 1
}

declare -a RESULTS
failures=0
run_no=0
for run in $RUNS; do
    run_no=$((run_no + 1))
    args=()
    expect=0
    checks=
    case "$run" in
        alua) args+=(--guest-dir "$PROFILE_GUEST" --policy default --failover-paths 1
                     --fail-cmd "\"$HOOKS_SH\" fail" --restore-cmd "\"$HOOKS_SH\" restore")
              checks=alua ;;
        linkdown) args+=(--guest-dir "$PROFILE_GUEST" --policy default --failover-paths 1)
              checks=linkdown ;;
        multibus|admin) args+=(--guest-dir "$GUEST_DIR" --fail-cmd "$ADMIN_FAIL" --restore-cmd "$ADMIN_RESTORE") ;;
        negative) args+=(--guest-dir "$PROFILE_GUEST" --policy default); expect=1 ;;
        gateways) args+=(--guest-dir "$GUEST_DIR"
                         --fail-cmd 'touch "$E2E_WORKDIR/kill-gw$E2E_PATH"' --restore-cmd 'touch "$E2E_WORKDIR/restart-gw$E2E_PATH"') ;;
        owner) args+=(--guest-dir "$PROFILE_GUEST" --policy default --failover-paths 1
                      --fail-cmd 'touch "$E2E_WORKDIR/kill-gw$E2E_PATH"' --restore-cmd 'touch "$E2E_WORKDIR/restart-gw$E2E_PATH"')
               checks=owner ;;
        *) echo "unknown run '$run' (alua, linkdown, multibus, negative, gateways, owner)" >&2; exit 2 ;;
    esac
    target=$TARGET_SH
    case "$run" in gateways|owner) target=$GATEWAYS_SH ;; esac
    owner_mode=0; [ "$run" = owner ] && owner_mode=1
    t=$(date +%s)
    # A run the host-side checks call inconclusive (exit 3: the guest's multipathd
    # declared a path ready on its own, check-run.sh says when) is made once more.
    for attempt in 1 2; do
        work=$RUN_ROOT/$run netns=swp-e2e-$$-$run_no
        [ "$attempt" = 2 ] && { work=$work-again; netns=$netns-again; }
        echo
        echo "================ run '$run' (expected: $([ $expect = 0 ] && echo PASS || echo FAIL))$([ "$attempt" = 2 ] && echo ", again: the first was inconclusive") ================"
        mkdir -p "$work"; rm -f "$work/observe.stop"
        "$OBSERVE_SH" "$work" "$netns" & observer=$!
        split=0; [ "$run" = negative ] && split=1
        E2E_SPLIT_BRAIN=$split E2E_OWNER_MODE=$owner_mode "$E2E_DIR/run-e2e.sh" --target-cmd "$target" --work-dir "$work" --netns "$netns" \
            "${args[@]}" "${EXTRA[@]}" 2>&1 | tee "$RUN_ROOT/$run.out"
        rc=${PIPESTATUS[0]}
        touch "$work/observe.stop"; wait "$observer" 2>/dev/null
        reason=$(sed -n 's/.*E2E FAIL: \(.*\)  (logs:.*/\1/p' "$RUN_ROOT/$run.out" | tail -n 1)
        # The artifact check-run.sh calls inconclusive can fail the guest itself: taking
        # the standby path for restored, it reads it directly and meets NOT READY.
        if [ "$run" = alua ] && [ "$rc" = 1 ] && [ "$attempt" = 1 ] && guest_ahead_of_failback "$work"; then
            echo "---- run '$run' inconclusive: the guest took a path for restored while its TPG was still standby (check-run.sh)"
            continue
        fi
        [ "$rc" = 0 ] && [ -n "$checks" ] || break
        echo "---- host-side checks of run '$run'"
        "$CHECK_SH" "$work" "$checks" 2>&1 | tee "$RUN_ROOT/$run.checks"
        rc=${PIPESTATUS[0]}
        case "$rc" in
            0) break ;;
            3) reason="inconclusive twice (see $RUN_ROOT/$run.checks)"; rc=1 ;;
            *) rc=1; reason="host-side checks failed: $(grep -c FAILED "$RUN_ROOT/$run.checks") (see $RUN_ROOT/$run.checks)"; break ;;
        esac
    done
    secs=$(( $(date +%s) - t ))
    if [ "$rc" = "$expect" ]; then verdict=ok; else verdict=UNEXPECTED; failures=$((failures + 1)); fi
    if [ "$rc" = 0 ]; then got=PASS; elif [ "$rc" = 1 ]; then got=FAIL; else got="setup error (rc $rc)"; fi
    RESULTS+=("$(printf '%-9s %-5s got %-4s %4ss  %s%s' "$run" "$verdict" "$got" "$secs" "$work" "${reason:+  [$reason]}")")
    # the negative control can leave no timing table worth printing; keep the others
    if [ "$run" != negative ] && [ -f "$work/summary.txt" ]; then
        { echo "---- $run ($secs s) ----"; sed -n '/phase timings/,/host: target ready/p' "$work/summary.txt"
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
