#!/bin/bash
# Path cut / restore for run-e2e.sh (--fail-cmd / --restore-cmd) through swiftportd's
# admin socket, for the ALUA run of scripts/e2e.sh:
#
#   alua-hooks.sh fail      swiftport portal disable ADDR   (stop listening, drop the
#                           portal's sessions: the guest sees its connection reset)
#   alua-hooks.sh restore   failback through standby, SPC-4 §5.15:
#                           1. swiftport alua set 0 TPG standby
#                           2. swiftport portal enable ADDR
#                           3. wait until the guest has logged in again through ADDR
#                              (`swiftport sessions`), then hold E2E_STANDBY_HOLD s
#                              (default 6: three multipathd checker intervals at the
#                              guest's polling_interval 2) with the path in standby
#                           4. swiftport alua set 0 TPG <its configured state>
#                              (E2E_ALUA_STATE1/2), which the guest sees as an
#                              ASYMMETRIC ACCESS STATE CHANGED unit attention
#
# run-e2e.sh runs these with `bash -c` in the root namespace and E2E_PATH (1|2),
# E2E_PORTAL1/2, E2E_PORT, E2E_IQN, E2E_WORKDIR exported; SWIFTPORT (the CLI) comes
# from scripts/e2e.sh. Portal group tag N is path N (scripts/e2e/swiftportd-target.sh).
# Every step goes to $E2E_WORKDIR/hooks.log as "<epoch> <EVENT> <path> ...", the start
# and end of the standby hold with the portals' tap byte counters ("taps rx1 tx1 rx2
# tx2"); the host-side checks (scripts/e2e/check-run.sh) read it. Exit 1 (and a HOOK-ERROR line)
# when a step fails; the guest then times out waiting for the path and the run fails.
set -uo pipefail
action=${1:?fail|restore}
: "${E2E_PATH:?}" "${E2E_PORT:?}" "${E2E_WORKDIR:?}" "${E2E_IQN:?}" "${E2E_NETNS:?}" "${SWIFTPORT:?}"
portal_var=E2E_PORTAL$E2E_PATH
addr="${!portal_var}:$E2E_PORT"
tpg=$E2E_PATH
state_var=E2E_ALUA_STATE$E2E_PATH
default_states=(x active-optimized active-non-optimized)
state=${!state_var:-${default_states[$E2E_PATH]}}
hold=${E2E_STANDBY_HOLD:-6}
socket=$E2E_WORKDIR/admin.sock
hooks_log=$E2E_WORKDIR/hooks.log

log() { echo "$(date +%s.%N) $*" >> "$hooks_log"; echo "[alua-hooks $(date +%T)] $*"; }
taps() {   # byte counters "rx1 tx1 rx2 tx2" of the two portals' tap devices (as observe-taps.sh)
    ip netns exec "$E2E_NETNS" sh -c 'for i in 1 2; do for d in rx tx; do
        cat /sys/class/net/tap$i/statistics/${d}_bytes; done; done' 2>/dev/null | tr '\n' ' '
}
die() { log "HOOK-ERROR $E2E_PATH $*"; exit 1; }
admin() { "$SWIFTPORT" "$@" --socket "$socket" >> "$hooks_log" 2>&1; }
session_via_portal() {   # a normal (not discovery) session to the target through $addr
    "$SWIFTPORT" sessions --socket "$socket" 2>/dev/null | grep -q -- "-> $E2E_IQN via $addr "
}

case "$action" in
    fail)
        admin portal disable "$addr" || die "portal disable $addr"
        log "DISABLED $E2E_PATH $addr"
        ;;
    restore)
        admin alua set 0 "$tpg" standby || die "alua set 0 $tpg standby"
        log "STANDBY $E2E_PATH tpg $tpg"
        admin portal enable "$addr" || die "portal enable $addr"
        log "ENABLED $E2E_PATH $addr"
        for _ in $(seq 600); do session_via_portal && break; sleep 0.1; done
        session_via_portal || die "no session through $addr within 60 s of enabling it"
        log "STANDBY-SESSION $E2E_PATH $addr taps $(taps)"
        sleep "$hold"
        # Still standby? An initiator may move a group itself with SET TARGET PORT GROUPS
        # (explicit ALUA); the check fails the run if it did so during the hold.
        shown=$("$SWIFTPORT" alua show --socket "$socket" 2>&1) || die "alua show: $shown"
        echo "$shown" >> "$hooks_log"
        if echo "$shown" | grep -q "LUN 0 TPG $tpg: standby"; then
            log "STILL-STANDBY $E2E_PATH tpg $tpg after ${hold}s with a session taps $(taps)"
        else
            log "NOT-STANDBY $E2E_PATH tpg $tpg changed during the hold"
        fi
        admin alua set 0 "$tpg" "$state" || die "alua set 0 $tpg $state"
        log "ACTIVE $E2E_PATH tpg $tpg $state after ${hold}s in standby with a session"
        ;;
    *) echo "usage: alua-hooks.sh fail|restore" >&2; exit 2 ;;
esac
