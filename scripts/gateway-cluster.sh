#!/usr/bin/env bash
# Several gateways, one LUN (issue 19), against a throwaway one-node Ceph cluster
# (../shared/ceph, loopback only, memstore): two swiftportd gateways of one [cluster],
# A on 127.0.0.1 and B on 127.0.0.2, export the same rbd image (layering only: no
# exclusive lock, both write) with their own target port groups, and share persistent
# reservations through RADOS. Checks: both join; a PREEMPT through B is in effect
# through A before it answers (X's WRITE meets RESERVATION CONFLICT, never GOOD; Y's
# data reads back through both); libiscsi's whole suite with its two initiators on
# different gateways (the multi-initiator reservation tests then cross gateways); a
# gateway killed (kill -9) during verified I/O through both, which goes on through the
# other, and restarted, which rejoins; a frozen gateway (SIGSTOP) fenced by the next
# change through the other, which answers within the acknowledgement timeout: after
# SIGCONT the fenced gateway writes nothing, closes its portals and exits 75, and
# started again it rejoins. Owner mode, on a second image with the exclusive-lock
# feature: its home gateway owns it at start, a write through the other moves it there,
# the owner killed during verified I/O is taken over by the other (the seconds without
# a completed I/O printed), and failback returns it home. Bounded in time; stops what
# it started. Prints "N passed, N failed" and exits non-zero on any failure. Needs the debug build (swift build --build-tests).
#
# Knobs: PORT [3286], MON_PORT [3481], OSD_PORT_MIN [7100], WHOLE_SUITE [1].
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
BIN=${BIN:-$ROOT/.build/debug}
PORT=${PORT:-3286}
export MON_PORT=${MON_PORT:-3481} OSD_PORT_MIN=${OSD_PORT_MIN:-7100}
WHOLE_SUITE=${WHOLE_SUITE:-1}
TARGET=iqn.2026-12.io.swiftport:shared
# An image with the exclusive-lock feature: owner mode, one gateway writes it.
OWNED=iqn.2026-12.io.swiftport:owned
# Short, so the fencing checks are quick (the defaults are 5 s); the heartbeat longer
# than the acknowledgement timeout, so a change fences a frozen gateway before the
# heartbeats do, and each check sees its own.
ACKNOWLEDGEMENT_TIMEOUT=3
HEARTBEAT=8
source scripts/lib.sh
lib_begin gateway-cluster
require_free_ports "$PORT" "$MON_PORT" "$OSD_PORT_MIN"

source scripts/ceph-lib.sh
source scripts/cluster-lib.sh
ceph_install
ceph_cluster_up
rbd create --size 64M --image-feature layering rbd/shared || exit 1
rbd create --size 64M --image-feature layering,exclusive-lock rbd/owned || exit 1

CLIENT=$WORK/rbd-client
cc -O2 -Wall -Wextra -o "$CLIENT" scripts/rbd-client.c -liscsi || exit 1

# rbd_target NAME IMAGE TPG ADDRESS: a target with LUN 0 on rbd/IMAGE, its portal on
# ADDRESS:PORT as target port group TPG.
rbd_target() {
    cat <<TOML
[[target]]
name = "$1"
[[target.portal_group]]
tag = $3
portals = ["$4:$PORT"]
[[target.lun]]
id = 0
backend = "rbd"
pool = "rbd"
image = "$2"
ceph_conf = "$CEPH_CONF"
TOML
}
# gateway_config NAME TPG ADDRESS: gateway NAME's file, both targets on ADDRESS:PORT as
# target port group TPG.
gateway_config() {
    cat <<TOML
[daemon]
state_dir = "$WORK/state-$1"
admin_socket = "$WORK/admin-$1.sock"

$(cluster_toml ci "$1" "$CEPH_CONF" "gw-a gw-b" "acknowledgement_timeout = $ACKNOWLEDGEMENT_TIMEOUT" "heartbeat = $HEARTBEAT")

$(rbd_target "$TARGET" shared "$2" "$3")

$(rbd_target "$OWNED" owned "$2" "$3")
TOML
}
gateway_config gw-a 1 127.0.0.1 > "$WORK/gw-a.toml"
gateway_config gw-b 2 127.0.0.2 > "$WORK/gw-b.toml"
URL_A=iscsi://127.0.0.1:$PORT/$TARGET/0
URL_B=iscsi://127.0.0.2:$PORT/$TARGET/0
OWNED_A=iscsi://127.0.0.1:$PORT/$OWNED/0
OWNED_B=iscsi://127.0.0.2:$PORT/$OWNED/0

echo "-- configuration"
check config-check-a "$BIN/swiftport" config check "$WORK/gw-a.toml"
check config-check-b "$BIN/swiftport" config check "$WORK/gw-b.toml"
check config-check-gateways-agree "$BIN/swiftport" config check "$WORK/gw-a.toml" "$WORK/gw-b.toml"
disagreeing_files_refused() {
    sed 's/image = "shared"/image = "other"/' "$WORK/gw-b.toml" > "$WORK/gw-b-other.toml"
    ! "$BIN/swiftport" config check "$WORK/gw-a.toml" "$WORK/gw-b-other.toml" 2> "$WORK/disagree.err"
    cat "$WORK/disagree.err"
    grep -q "gw-b-other.toml: LUN 0 of target $TARGET has image rbd/other, but rbd/shared in .*gw-a.toml" "$WORK/disagree.err"
}
check config-check-disagreeing-gateways-refused disagreeing_files_refused
start_swiftportd gw-a "$WORK/gw-a.toml"
PID_A=$SWIFTPORTD_PID
start_swiftportd gw-b "$WORK/gw-b.toml"
PID_B=$SWIFTPORTD_PID
both_joined() {
    grep -h "joined the cluster's gateways" "$WORK/gw-a.log" "$WORK/gw-b.log"
    grep -q "joined the cluster's gateways" "$WORK/gw-a.log" && grep -q "joined the cluster's gateways" "$WORK/gw-b.log"
}
check both-gateways-joined both_joined
both_answering() {
    "$BIN/swiftport" cluster status --socket "$WORK/admin-gw-b.sock" | tee "$WORK/cluster-status.txt"
    grep -q "^gateway gw-a: client\.[0-9]* .*, answering$" "$WORK/cluster-status.txt" \
        && grep -q "^gateway gw-b (this one): client\.[0-9]* .*, answering$" "$WORK/cluster-status.txt" \
        && grep -q "LUN 0 TPG 2: active-optimized" "$WORK/cluster-status.txt"
}
check cluster-status-both-answering both_answering
# rtpg PORTAL [TARGET]: the data of REPORT TARGET PORT GROUPS (MAINTENANCE IN 0A,
# SPC-4 §6.27) through PORTAL, past the session's first unit attention.
rtpg() {
    local output
    for _ in 1 2 3; do
        output=$("$BIN/swiftport" cdb --portal "$1:$PORT" --target "${2:-$TARGET}" A3 0A 00 00 00 00 00 00 04 00 00 00 --data-in 1024)
        grep -q "^status: 00" <<< "$output" && { grep "^data-in:" <<< "$output"; return 0; }
    done
    echo "$output"; return 1
}
same_port_groups_everywhere() {
    local a b
    a=$(rtpg 127.0.0.1) && b=$(rtpg 127.0.0.2) || return 1
    echo "through A: $a"; echo "through B: $b"
    # Two groups (tags 1 and 2), one port each: 4 + 2 x 12 bytes.
    [[ $a == "$b" && $(wc -w <<< "${a#data-in: }") -eq 28 ]]
}
check same-target-port-groups-through-both same_port_groups_everywhere

echo "-- owner mode: an exclusive-lock image, written through one gateway at a time"
# owner_of SOCKET: the owner's and the home's TPG of the owned LUN, as `cluster status`
# through SOCKET reports them ("2 1"), and "lock" when that gateway holds the image's lock.
owner_of() {
    "$BIN/swiftport" cluster status --socket "$1" \
        | sed -nE "s/^target $OWNED LUN 0: owner TPG ([0-9]+), home TPG ([0-9]+)(, this gateway holds the image's lock)?$/\1 \2 \3/p" \
        | sed -E 's/ this gateway.*/ lock/; s/ +$//'
}
# states PORTAL [TARGET]: "TPG:STATE[:pref] ..." of LUN 0 of TARGET (the owned one) through
# PORTAL (state: the low nibble of byte 0 of each descriptor: 0 active/optimized,
# 1 non-optimized, 2 standby).
states() {
    local data
    data=$(rtpg "$1" "${2:-$OWNED}") || return 1
    # shellcheck disable=SC2086 # words on purpose
    set -- ${data#data-in: }
    shift 4
    local out="" byte0 pref
    while [[ $# -ge 12 ]]; do
        byte0=$((16#$1)) pref=""
        ((byte0 & 128)) && pref=":pref"
        out+="$((16#$3 * 256 + 16#$4)):$((byte0 & 15))$pref "
        shift 12
    done
    echo "${out% }"
}
# until_owner SOCKET TPG: waits (bounded) until the owned LUN's owner is TPG.
until_owner() {
    for _ in $(seq 100); do [[ $(owner_of "$1") == "$2 "* ]] && return 0; sleep 0.1; done
    return 1
}
home_owns_at_start() {
    local a b
    until_owner "$WORK/admin-gw-a.sock" "$(owner_of "$WORK/admin-gw-a.sock" | cut -d' ' -f2)" || { owner_of "$WORK/admin-gw-a.sock"; return 1; }
    a=$(owner_of "$WORK/admin-gw-a.sock"); b=$(owner_of "$WORK/admin-gw-b.sock")
    echo "gateway A: owner, home = $a; gateway B: $b"
    HOME_TPG=$(cut -d' ' -f2 <<< "$a")
    local owner=${a%% *}
    # The home owns it; exactly one of the two holds the lock; both report the same states.
    [[ $owner == "$HOME_TPG" && ${b%% *} == "$owner" ]] || return 1
    local holders=0
    [[ $a == *lock ]] && holders=$((holders + 1))
    [[ $b == *lock ]] && holders=$((holders + 1))
    [[ $holders -eq 1 ]] || return 1
    local through_a through_b
    through_a=$(states 127.0.0.1) && through_b=$(states 127.0.0.2) || return 1
    echo "through A: $through_a; through B: $through_b"
    [[ $through_a == "$through_b" && $through_a == *"$owner:0:pref"* && $through_a == *":1"* ]]
}
check owner-mode-home-owns-at-start home_owns_at_start
# A state set through one gateway is every gateway's (the unit's shared record).
shared_alua_states() {
    "$BIN/swiftport" alua set all 2 standby --target "$TARGET" --socket "$WORK/admin-gw-a.sock" || return 1
    local through_b
    through_b=$(states 127.0.0.2 "$TARGET") || return 1
    echo "TPG 2 set standby through A; through B: $through_b"
    [[ $through_b == *"2:2"* ]] || return 1
    "$BIN/swiftport" alua set all 2 active-optimized --target "$TARGET" --socket "$WORK/admin-gw-b.sock" || return 1
    through_b=$(states 127.0.0.1 "$TARGET") || return 1
    echo "back through B; through A: $through_b"
    [[ $through_b == *"2:0"* ]] && ! "$BIN/swiftport" alua set all 2 standby --target "$OWNED" --socket "$WORK/admin-gw-a.sock"
}
check alua-states-shared-between-gateways shared_alua_states
# A write through the gateway that does not own the LUN moves it there (an implicit
# ALUA transition): COMPARE AND WRITE through B, then through A, each moving the LUN
# (the one from the home gateway first), the counter exact through both.
writes_move_the_owner() {
    "$CLIENT" zero-counter "$OWNED_A" 40 > /dev/null 2>&1 || "$CLIENT" zero-counter "$OWNED_B" 40 || return 1
    local url socket tpg
    for step in "$OWNED_B $WORK/admin-gw-b.sock 2" "$OWNED_A $WORK/admin-gw-a.sock 1"; do
        read -r url socket tpg <<< "$step"
        "$CLIENT" caw-increment "$url" 40 5 || return 1
        until_owner "$socket" "$tpg" || { echo "the LUN did not move to TPG $tpg: $(owner_of "$socket")"; return 1; }
        echo "after writes through TPG $tpg: $(owner_of "$socket"); states $(states 127.0.0.2)"
        [[ $(owner_of "$socket") == *lock ]] || return 1
    done
    [[ $(states 127.0.0.1) == *"1:0"* && $("$CLIENT" read-counter "$OWNED_B" 40) == 10 ]]
}
check owner-mode-writes-move-the-owner writes_move_the_owner

echo "-- persistent reservations across gateways"
check preempt-through-b-holds-through-a "$CLIENT" preempt-across "$URL_A" "$URL_B" 100

if [[ $WHOLE_SUITE == 1 ]]; then
    echo "-- libiscsi's whole suite, its two initiators on different gateways"
    source scripts/conformance-lib.sh
    whole_suite_across_gateways() {
        timeout 1500 iscsi-test-cu -d -t ALL "$URL_A" "$URL_B" > "$WORK/all-gateways.raw.log" 2>&1
        separate_cleanup_output "$WORK/all-gateways.raw.log" > "$WORK/all-gateways.log"
        python3 "$SHARED/conformance/score-libiscsi.py" "$WORK/all-gateways.log" -s > "$WORK/all-gateways.txt"
        tail -n 1 "$WORK/all-gateways.txt"
        ! unexplained FAILED "$WORK/all-gateways.txt"
    }
    check whole-libiscsi-suite-across-gateways whole_suite_across_gateways
fi

echo "-- a gateway killed (kill -9) during verified I/O through both"
# swiftport dsm io over A's and B's portals (one device, two paths), round robin; A is
# killed once 3 s of I/O are done. The I/O must go on through B with no verify
# mismatch; the longest gap between two completed I/Os after the kill is the
# failover time the host saw.
killed_gateway_ridden_through() {
    rm -f "$WORK/io.txt"
    # The owned LUN (owned by A, see above) at the same time, through the DSM's Round
    # Robin with Subset: the active/optimized path while there is one.
    timeout 90 "$BIN/swiftport" dsm io --portal "127.0.0.1:$PORT" --portal "127.0.0.2:$PORT" --target "$OWNED" --seconds 12 \
        --policy RRWS --range-mib 16 > "$WORK/owned-io.txt" 2>&1 &
    OWNED_IO=$!
    (
        for _ in $(seq 150); do grep -q '^\[3s\]' "$WORK/io.txt" 2> /dev/null && break; sleep 0.2; done
        kill -9 "$PID_A"
    ) &
    local killer=$!
    timeout 90 "$BIN/swiftport" dsm io --portal "127.0.0.1:$PORT" --portal "127.0.0.2:$PORT" --target "$TARGET" --seconds 12 \
        --policy RR --range-mib 16 | tee "$WORK/io.txt"
    local status=$?
    wait $killer
    grep -q "127.0.0.1:$PORT.*: failed" "$WORK/io.txt" || { echo "the killed gateway's path was never marked failed"; return 1; }
    local before after
    before=$(grep "^\[5s\]" "$WORK/io.txt" | sed -E "s/^.*127\.0\.0\.2:$PORT[^|]*ios=([0-9]+).*$/\1/")
    after=$(grep "^\[12s\]" "$WORK/io.txt" | sed -E "s/^.*127\.0\.0\.2:$PORT[^|]*ios=([0-9]+).*$/\1/")
    echo "gateway B's path: $before I/Os at 5 s, $after at 12 s"
    # Completed I/Os per second over both paths: the host's view of the failover (A
    # was killed after the 3rd second).
    echo "I/Os per second, both paths: $(grep -E '^\[[0-9]+s\]' "$WORK/io.txt" | sed -E 's/ios=([0-9]+)[^|]*\|.*ios=([0-9]+).*/\1 \2/; s/^.* ([0-9]+) ([0-9]+)$/\1 \2/' \
        | awk '{ total = $1 + $2; printf "%d ", total - last; last = total }')"
    [[ $status -eq 0 && -n $before && -n $after && $after -gt $before ]]
}
check killed-gateway-ridden-through killed_gateway_ridden_through
# The owned LUN: B takes it over (once A is fenced: its acknowledgement of B's change
# or its heartbeats), the I/O goes on through B with no verify mismatch.
owner_killed_ridden_through() {
    wait "$OWNED_IO"
    local status=$?
    cat "$WORK/owned-io.txt"
    grep -h "took over the logical unit" "$WORK/gw-b.log" | tail -n 1
    # The failover time as the host saw it: the seconds after the kill (after the 3rd)
    # in which no I/O completed on either path.
    local per_second
    per_second=$(grep -E '^\[[0-9]+s\]' "$WORK/owned-io.txt" | sed -E 's/ios=([0-9]+)[^|]*\|.*ios=([0-9]+).*/\1 \2/; s/^.* ([0-9]+) ([0-9]+)$/\1 \2/' \
        | awk '{ total = $1 + $2; printf "%d ", total - last; last = total }')
    echo "I/Os per second, both paths: $per_second"
    echo "owner-mode failover: $(awk '{ for (i = 4; i <= NF; i++) if ($i == 0) idle++; print idle + 0 }' <<< "$per_second") s without a completed I/O"
    [[ $status -eq 0 ]] && grep -q "took over the logical unit" "$WORK/gw-b.log" || return 1
    until_owner "$WORK/admin-gw-b.sock" 2 && [[ $(owner_of "$WORK/admin-gw-b.sock") == *lock ]]
}
check owner-killed-ridden-through owner_killed_ridden_through
grep -h "owner-mode failover\|I/Os per second" "$WORK/owner-killed-ridden-through.out" | sed 's/^/        /'
# A comes back: a new client instance, which replaces its record.
start_swiftportd gw-a-again "$WORK/gw-a.toml"
PID_A=$SWIFTPORTD_PID
check killed-gateway-rejoins grep -q "joined the cluster's gateways" "$WORK/gw-a-again.log"
# Failback (the default): the owned LUN goes back to its home gateway.
check owner-mode-failback-to-home until_owner "$WORK/admin-gw-b.sock" "$HOME_TPG"

echo "-- a frozen gateway is fenced (acknowledgement_timeout = $ACKNOWLEDGEMENT_TIMEOUT s)"
frozen_gateway_fenced() {
    "$CLIENT" zero-counter "$URL_B" 300 || return 1
    kill -STOP "$PID_A"
    INITIATOR=iqn.2026-12.io.swiftport:fencer "$CLIENT" register "$URL_B" 77 | tee "$WORK/fence-register.txt"
    local registered=$?
    kill -CONT "$PID_A"
    [[ $registered -eq 0 ]] || return 1
    grep -h "fenced a gateway" "$WORK/gw-b.log" || return 1
    # Through A nothing lands: its media access is refused (NOT READY, 04/03) or A
    # has already closed its portals; the counter read through B is untouched.
    "$CLIENT" caw-increment "$URL_A" 300 1 > "$WORK/fenced-write.txt" 2>&1
    local wrote=$?
    cat "$WORK/fenced-write.txt"
    [[ $wrote -ne 0 ]] && ! grep -q "^1 increments" "$WORK/fenced-write.txt" || return 1
    [[ $("$CLIENT" read-counter "$URL_B" 300) == 0 ]] && kill -0 "$PID_B" || return 1
    # A notices, closes its portals and exits with EX_TEMPFAIL (75).
    local status
    for _ in $(seq 100); do kill -0 "$PID_A" 2> /dev/null || break; sleep 0.2; done
    wait "$PID_A"
    status=$?
    grep -h "the cluster fenced this gateway" "$WORK/gw-a-again.log"
    echo "gateway A exited with status $status"
    [[ $status -eq 75 ]]
}
check frozen-gateway-fenced frozen_gateway_fenced
fence_in_status() {
    "$BIN/swiftport" cluster status --socket "$WORK/admin-gw-b.sock" | tee "$WORK/cluster-status-fenced.txt"
    grep -q "^gateway gw-a: no member record" "$WORK/cluster-status-fenced.txt" \
        && grep -q "^fenced gw-a (client\.[0-9]* .*) at .*: did not acknowledge within $ACKNOWLEDGEMENT_TIMEOUT s" "$WORK/cluster-status-fenced.txt"
}
check cluster-status-shows-the-fence fence_in_status
# Started again, the fenced gateway rejoins with a new client and serves the image.
start_swiftportd gw-a-third "$WORK/gw-a.toml"
rejoined_after_fence() {
    grep -q "joined the cluster's gateways" "$WORK/gw-a-third.log" && [[ $("$CLIENT" read-counter "$URL_A" 300) == 0 ]]
}
check fenced-gateway-rejoins rejoined_after_fence

echo "-- a frozen gateway is fenced by the heartbeats, with no change made (heartbeat = $HEARTBEAT s)"
PID_A=$SWIFTPORTD_PID
fenced_by_heartbeats() {
    local before start
    before=$(grep -c "fenced a gateway" "$WORK/gw-b.log")
    start=$(date +%s.%N)
    kill -STOP "$PID_A"
    for _ in $(seq 300); do
        [[ $(grep -c "fenced a gateway" "$WORK/gw-b.log") -gt $before ]] && break
        sleep 0.1
    done
    awk -v start="$start" -v now="$(date +%s.%N)" 'BEGIN { printf "fenced %.1f s after it froze\n", now - start }'
    kill -CONT "$PID_A"
    grep "fenced a gateway" "$WORK/gw-b.log" | tail -n 1
    grep "fenced a gateway" "$WORK/gw-b.log" | tail -n 1 | grep -q "answered no heartbeat" || return 1
    for _ in $(seq 100); do kill -0 "$PID_A" 2> /dev/null || break; sleep 0.2; done
    wait "$PID_A"
    local status=$?
    echo "gateway A exited with status $status"
    [[ $status -eq 75 ]]
}
check frozen-gateway-fenced-by-heartbeats fenced_by_heartbeats
grep -h "s after it froze" "$WORK/frozen-gateway-fenced-by-heartbeats.out" | sed 's/^/        /'

finish gateway-cluster
