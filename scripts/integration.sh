#!/usr/bin/env bash
# Loopback integration (STYLE.md §7 layer 4): starts the real swiftportd on 127.0.0.1 /
# 127.0.0.2 port 3262 from a generated config and checks it with real peers: libiscsi's
# tools, CHAP, header digests, a verify run of ../shared/bench/iscsi-bench, and the
# iSCSI family of libiscsi's iscsi-test-cu, scored by ../shared/conformance. Bounded in
# time; stops only what it started. Prints "N passed, N failed" and exits non-zero on
# any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
BIN=${BIN:-$ROOT/.build/debug}
PORT=${PORT:-3262}
TARGET=iqn.2026-11.io.swiftport:integration
CHAP_TARGET=iqn.2026-11.io.swiftport:chap
source scripts/lib.sh
lib_begin integration
require_free_ports "$PORT"

cat > "$WORK/swiftport.toml" <<TOML
[daemon]
state_dir = "$WORK/state"
admin_socket = "$WORK/admin.sock"
log_level = "info"
nop_in_interval = 5
nop_in_timeout = 10
event_loop_threads = 3

[[target]]
name = "$TARGET"
alias = "integration"
[[target.portal_group]]
tag = 1
portals = ["127.0.0.1:$PORT"]
[[target.portal_group]]
tag = 2
portals = ["127.0.0.2:$PORT"]

[[target.lun]]
id = 0
backend = "ram"
size = "512MiB"
serial = "SPINTEG0"

[[target.lun]]
id = 1
backend = "file"
path = "$WORK/lun1.img"
size = "128MiB"

# Untouched by the other checks: libiscsi's MultipathIO suite expects fresh blocks.
[[target.lun]]
id = 2
backend = "ram"
size = "64MiB"

[[target]]
name = "$CHAP_TARGET"
portals = ["127.0.0.1:$PORT"]
allowed_initiators = ["iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq"]
[target.auth]
username = "alice"
secret = "correct-horse-battery"
[[target.lun]]
id = 0
backend = "ram"
size = "64MiB"
TOML

start_daemon() {
    start_swiftportd swiftportd "$WORK/swiftport.toml"
    DAEMON_PID=$SWIFTPORTD_PID
}

echo "-- configuration"
check config-check "$BIN/swiftport" config check "$WORK/swiftport.toml"
printf '[[target]]\nname = "iqn.2026-11.io.swiftport:bad"\nportals = ["127.0.0.1:%s"]\n[[target.lun]]\nid = 0\nbackend = "ram"\nsize = "1GiB"\nblock_size = 1000\n' "$PORT" > "$WORK/bad.toml"
bad_config_reports_line() {
    ! "$BIN/swiftport" config check "$WORK/bad.toml" 2> "$WORK/bad.err" && grep -q "bad.toml:8" "$WORK/bad.err" && cat "$WORK/bad.err"
}
check config-error-names-file-and-line bad_config_reports_line
daemon_refuses_bad_config() {
    "$BIN/swiftportd" --config "$WORK/bad.toml" 2> "$WORK/bad-daemon.err"
    local status=$?
    cat "$WORK/bad-daemon.err"
    [[ $status -eq 78 ]] && grep -q "bad.toml:8" "$WORK/bad-daemon.err"
}
check daemon-refuses-bad-config daemon_refuses_bad_config

start_daemon
URL=iscsi://127.0.0.1:$PORT/$TARGET
# NIO names the shared group's loop threads NIO-SGLTN-1-#N.
check event-loop-threads sh -c "test \$(cat /proc/$SWIFTPORTD_PID/task/*/comm | grep -c '^NIO-SGLTN-1-') -eq 3"
echo "-- discovery and identity (libiscsi tools)"
check iscsi-ls sh -c "iscsi-ls -s iscsi://127.0.0.1:$PORT/ | tee /dev/stderr | grep -q 'Lun:1'"
# The CHAP target's ACL admits only iscsi-inq's name, so SendTargets must hide it from iscsi-ls.
check sendtargets-honours-acl sh -c "! iscsi-ls iscsi://127.0.0.1:$PORT/ | grep -q '$CHAP_TARGET'"
check sendtargets-lists-both-portals sh -c "iscsi-ls iscsi://127.0.0.1:$PORT/ | tee /dev/stderr | grep -q '127.0.0.2:$PORT,2'"
check iscsi-inq sh -c "iscsi-inq $URL/0 | tee /dev/stderr | grep -q 'Vendor:SWIFTPRT'"
check vpd-serial sh -c "iscsi-inq -e 1 -c 128 $URL/0 | tee /dev/stderr | grep -q SPINTEG0"
check vpd-device-identification sh -c "iscsi-inq -e 1 -c 131 $URL/0 | tee /dev/stderr | grep -qi 'NAA'"
check iscsi-readcapacity16 sh -c "iscsi-readcapacity16 $URL/1 | tee /dev/stderr | grep -q 'LOGICAL BLOCK LENGTH IN BYTES:512'"

echo "-- CHAP"
check chap-right-secret iscsi-inq "iscsi://alice%correct-horse-battery@127.0.0.1:$PORT/$CHAP_TARGET/0"
check chap-wrong-secret sh -c "! iscsi-inq iscsi://alice%wrong-secret-xx@127.0.0.1:$PORT/$CHAP_TARGET/0 2>&1 | tee /dev/stderr | grep -q 'Authentication failure' && exit 1 || exit 0"
check chap-missing sh -c "iscsi-inq iscsi://127.0.0.1:$PORT/$CHAP_TARGET/0 2>&1 | grep -q 'Authentication failure'"

echo "-- data integrity (iscsi-bench verify mode, header digest on)"
BENCH_DIR=$WORK/bench
cp -r "$SHARED/bench" "$BENCH_DIR" && chmod -R u+w "$BENCH_DIR"
make -s -C "$BENCH_DIR" iscsi-bench > "$WORK/bench-build.log" 2>&1 || { cat "$WORK/bench-build.log"; exit 1; }
check verify-file-lun "$BENCH_DIR/iscsi-bench" -V -p randrw -b 8k -q 16 -c 2 -r 64m -t 8 "$URL/1"
check verify-ram-lun-header-digest "$BENCH_DIR/iscsi-bench" -V -H -p randrw -b 64k -q 8 -r 64m -t 5 "$URL/0"

echo "-- libiscsi iscsi-test-cu, iSCSI family"
iscsi-test-cu -d -t iSCSI "$URL/0" > "$WORK/iscsi-test-cu.log" 2>&1
python3 "$SHARED/conformance/score-libiscsi.py" "$WORK/iscsi-test-cu.log" -s | tee "$WORK/score.txt"
check iscsi-test-cu-iSCSI-no-failures sh -c "tail -n 1 $WORK/score.txt | grep -q \", 0 failed\""

echo "-- multipath: libiscsi MultipathIO through both portals, ALUA over the wire"
iscsi-test-cu -d -t SCSI.MultipathIO "$URL/2" "iscsi://127.0.0.2:$PORT/$TARGET/2" > "$WORK/multipathio.log" 2>&1
python3 "$SHARED/conformance/score-libiscsi.py" "$WORK/multipathio.log" -s | tee "$WORK/multipathio-score.txt"
check iscsi-test-cu-MultipathIO-no-failures sh -c "tail -n 1 $WORK/multipathio-score.txt | grep -q \", 0 failed\""
alua_standby_seen_by_dsm() {
    "$BIN/swiftport" alua set 0 2 standby --socket "$WORK/admin.sock" || return 1
    "$BIN/swiftport" dsm scan --portal "127.0.0.1:$PORT" --portal "127.0.0.2:$PORT" --target "$TARGET" | tee "$WORK/alua-scan.txt"
    "$BIN/swiftport" alua set 0 2 active-optimized --socket "$WORK/admin.sock" || return 1
    grep -q "tpg=2 status=standby" "$WORK/alua-scan.txt" && grep -q "path.*LUN 0 standby" "$WORK/alua-scan.txt"
}
check alua-standby-reported-by-rtpg alua_standby_seen_by_dsm

echo "-- admin socket"
ADMIN=("$BIN/swiftport")
SOCKET=(--socket "$WORK/admin.sock")
check admin-socket-mode-0600 sh -c "stat -c %a '$WORK/admin.sock' | grep -qx 600"
check admin-status sh -c "'$BIN/swiftport' status ${SOCKET[*]} | tee /dev/stderr | grep -q 'portal 127.0.0.2:$PORT: enabled'"
no_session_left() {   # every tool above logged out: the session table must be empty
    sleep 0.5
    "${ADMIN[@]}" sessions "${SOCKET[@]}" | tee /dev/stderr | grep -qx "no sessions"
}
check admin-no-sessions-left no_session_left
fail_sense_fault() {
    "${ADMIN[@]}" fault set 127.0.0.1:$PORT --fail-sense 02/04/0B "${SOCKET[@]}" || return 1
    local output; output=$(iscsi-readcapacity16 "$URL/0" 2>&1); echo "$output"
    "${ADMIN[@]}" fault clear 127.0.0.1:$PORT "${SOCKET[@]}" || return 1
    grep -q "NOT READY" <<< "$output" && iscsi-readcapacity16 "$URL/0" > /dev/null
}
check admin-fault-fail-sense fail_sense_fault
portal_disable_enable() {
    "${ADMIN[@]}" portal disable 127.0.0.1:$PORT "${SOCKET[@]}" || return 1
    ! timeout 10 iscsi-inq "$URL/0" > /dev/null 2>&1 || return 1
    iscsi-inq "iscsi://127.0.0.2:$PORT/$TARGET/0" > /dev/null || return 1   # the other portal still serves
    "${ADMIN[@]}" portal enable 127.0.0.1:$PORT "${SOCKET[@]}" || return 1
    iscsi-inq "$URL/0" > /dev/null
}
check admin-portal-disable-enable portal_disable_enable
check admin-bad-request-is-refused sh -c "! '$BIN/swiftport' portal disable 10.9.9.9:1 ${SOCKET[*]} 2>&1 | tee /dev/stderr | grep -q 'no portal 10.9.9.9:1' && exit 1 || exit 0"

echo "-- online resize and persistent reservations across kill -9 (swiftport lun, swiftport cdb)"
online_resize() {
    "${ADMIN[@]}" lun resize 1 256MiB --target "$TARGET" "${SOCKET[@]}" || return 1
    local capacity; capacity=$(iscsi-readcapacity16 "$URL/1")
    echo "$capacity"; grep -q "RETURNED LOGICAL BLOCK ADDRESS:524287" <<< "$capacity"
}
check lun-resize-read-capacity online_resize
echo "-- LUNs added and removed live (swiftport lun add / lun remove), with I/O on another LUN throughout"
live_lun_add_remove() {
    # A verified read/write load on another LUN of the target for the whole change,
    # through Swiftport's DSM initiator: like Linux it retries the REPORTED LUNS DATA
    # HAS CHANGED unit attention, and must see no error (iscsi-bench stops at any).
    timeout 60 "$BIN/swiftport" dsm io --portal "127.0.0.1:$PORT" --target "$TARGET" --seconds 8 --range-mib 16 > "$WORK/live-lun-io.txt" 2>&1 &
    local io=$!
    sleep 1
    "${ADMIN[@]}" lun add "$TARGET" 7 --backend ram --size 64MiB "${SOCKET[@]}" || return 1
    iscsi-ls -s "iscsi://127.0.0.1:$PORT/" | tee /dev/stderr | grep -q 'Lun:7' || return 1
    iscsi-readcapacity16 "$URL/7" | tee /dev/stderr | grep -q "RETURNED LOGICAL BLOCK ADDRESS:131071" || return 1
    "${ADMIN[@]}" lun remove "$TARGET" 7 "${SOCKET[@]}" || return 1
    if iscsi-ls -s "iscsi://127.0.0.1:$PORT/" | grep -q 'Lun:7'; then echo "LUN 7 still listed"; return 1; fi
    # READ(10) of the removed LUN: CHECK CONDITION, ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED (05/25/00).
    local read; read=$("$BIN/swiftport" cdb --portal "127.0.0.1:$PORT" --target "$TARGET" --lun 7 28 00 00 00 00 00 00 00 01 00 --data-in 512)
    echo "$read"; grep -Eq '^sense: 70 00 05( [0-9A-F]{2}){9} 25 00' <<< "$read" || return 1
    wait "$io"; local status=$?
    cat "$WORK/live-lun-io.txt"; return $status
}
check live-lun-add-remove live_lun_add_remove
CDB=("$BIN/swiftport" cdb --portal "127.0.0.1:$PORT" --target "$TARGET" --lun 1)
# SPC-4 §6.16: PR OUT parameter list: reservation key, service action key, scope-specific
# address, then byte 20 with APTPL (bit 0).
pr_parameters() { printf '%016x%016x00000000%02x000000' "$1" "$2" "$3"; }
READ_FULL_STATUS=(5E 03 00 00 00 00 00 10 00 00 --data-in 4096)
aptpl_registration_and_reservation() {
    "${CDB[@]}" 00 00 00 00 00 00 > /dev/null   # takes this nexus's power-on unit attention
    "${CDB[@]}" 5F 00 00 00 00 00 00 00 18 00 --data-out "$(pr_parameters 0 0xAB 1)" || return 1   # REGISTER, APTPL
    "${CDB[@]}" 5F 01 01 00 00 00 00 00 18 00 --data-out "$(pr_parameters 0xAB 0 0)" || return 1   # RESERVE, write exclusive
    "${CDB[@]}" "${READ_FULL_STATUS[@]}" | tee "$WORK/full-status-before.txt"
    grep -q "00 00 00 00 00 00 00 AB" "$WORK/full-status-before.txt"
}
check pr-register-reserve-aptpl aptpl_registration_and_reservation
restart_after_kill9_keeps_reservation() {
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
    start_daemon
    "${CDB[@]}" 00 00 00 00 00 00 > /dev/null   # power-on unit attention again
    "${CDB[@]}" "${READ_FULL_STATUS[@]}" | tee "$WORK/full-status-after.txt" || return 1
    # PRGENERATION (bytes 0-3) may differ; the descriptors must not.
    diff <(cut -c 22- "$WORK/full-status-before.txt") <(cut -c 22- "$WORK/full-status-after.txt") || return 1
    # Another I_T nexus (another ISID) is still fenced off: WRITE(10) gets RESERVATION CONFLICT.
    "${CDB[@]}" --isid 23d000000002 00 00 00 00 00 00 > /dev/null
    local write; write=$("${CDB[@]}" --isid 23d000000002 2A 00 00 00 00 00 00 00 01 00 --data-out "$(printf '%01024d' 0)")
    echo "$write"; grep -q "status: 18" <<< "$write"
}
check pr-aptpl-survives-kill-9 restart_after_kill9_keeps_reservation
check pr-clear "${CDB[@]}" 5F 03 00 00 00 00 00 00 18 00 --data-out "$(pr_parameters 0xAB 0 0)"

echo "-- graceful shutdown"
graceful_shutdown() {
    kill -TERM "$DAEMON_PID"
    for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$DAEMON_PID"; local status=$?
    DAEMON_PID=
    tail -n 3 "$WORK/swiftportd.log"
    [[ $status -eq 0 ]]
}
check sigterm-exits-cleanly graceful_shutdown

echo "-- under systemd: Type=notify datagrams (READY=1, WATCHDOG=1, STOPPING=1) and the unit file"
# A listener in place of systemd on $WORK/notify.sock logs each datagram; the daemon runs
# with NOTIFY_SOCKET and a 2 s watchdog, as a Type=notify unit with WatchdogSec=2 would.
notify_protocol() {
    python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        try:
            data = s.recv(4096).decode()
        except socket.timeout:
            break
        log.write(data.replace("\n", " ") + "\n")
        if data.startswith("STOPPING=1"):
            break
PY
    local listener=$!
    for _ in $(seq 50); do [[ -S $WORK/notify.sock ]] && break; sleep 0.1; done
    NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=2000000 "$BIN/swiftportd" --config "$WORK/swiftport.toml" > "$WORK/notified.log" 2>&1 &
    local daemon=$!
    SWIFTPORTD_PIDS+=("$daemon")
    for _ in $(seq 100); do grep -q "^READY=1" "$WORK/notify.log" 2> /dev/null && break; sleep 0.1; done
    # Ready means serving: the portal takes a connection the moment READY=1 is there.
    local serving=0
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" && serving=1
    sleep 2.5
    kill -TERM "$daemon"; wait "$daemon"; local status=$?
    wait "$listener"
    cat "$WORK/notify.log"
    grep -q "^READY=1 STATUS=serving" "$WORK/notify.log" && [[ $serving -eq 1 ]] && grep -q "^WATCHDOG=1" "$WORK/notify.log" \
        && grep -q "^STOPPING=1" "$WORK/notify.log" && [[ $status -eq 0 ]]
}
check systemd-notify-protocol notify_protocol
# The unit file as systemd reads it (the binary's path put where it is here).
unit_file_verifies() {
    command -v systemd-analyze > /dev/null || { echo "systemd-analyze missing (Debian package systemd)"; return 1; }
    sed "s|/usr/sbin/swiftportd|$BIN/swiftportd|" contrib/systemd/swiftportd.service > "$WORK/swiftportd.service"
    systemd-analyze verify "$WORK/swiftportd.service" 2>&1 | tee "$WORK/verify.txt"
    ! grep -q . "$WORK/verify.txt"
}
check systemd-unit-file-verifies unit_file_verifies

finish integration
