#!/usr/bin/env bash
# LUNs on Ceph RBD (issue 15), against a throwaway one-node cluster (../shared/ceph,
# loopback only, memstore): installs the Ceph packages it needs, brings the cluster up
# on ports of its own, starts swiftportd with rbd LUNs (an existing image, one it
# creates) beside a RAM LUN, and checks verified I/O through iSCSI, that the data is in
# the image (`rbd export`), COMPARE AND WRITE atomic across two daemons, a resize made
# with `rbd resize` reaching the initiator, the OSD stopped during I/O (CHECK CONDITION
# within cluster_timeout, the RAM LUN unaffected, I/O again once it runs), libiscsi's
# whole suite on an rbd LUN, a blocklisted client's LUNs refusing I/O, the shared
# reservation store and two gateways sharing reservations through it (their unit
# tests, run here: compare and swap, watch/notify, fencing a silent gateway), and that a
# missing image, library or cluster is refused with a message saying what to do.
# Bounded in time; stops what it started. Prints "N passed, N failed" and exits
# non-zero on any failure. Needs the debug build with its tests (swift build --build-tests,
# as scripts/test.sh does first).
#
# Knobs: PORT [3296], MON_PORT [3391], OSD_PORT_MIN [6900], VERIFY_SECONDS [6].
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
BIN=${BIN:-$ROOT/.build/debug}
PORT=${PORT:-3296}
export MON_PORT=${MON_PORT:-3391} OSD_PORT_MIN=${OSD_PORT_MIN:-6900}
VERIFY_SECONDS=${VERIFY_SECONDS:-6}
TARGET=iqn.2026-11.io.swiftport:rbd
# Short, so the outage check is quick; the default is 30 s.
CLUSTER_TIMEOUT=5
source scripts/lib.sh
lib_begin rbd-integration
require_free_ports "$PORT" "$MON_PORT" "$OSD_PORT_MIN"

source scripts/ceph-lib.sh
ceph_install
ceph_cluster_up

# rbd_lun ID IMAGE [LINE]...: a [[target.lun]] table for an image of the test cluster,
# with further key = value lines.
rbd_lun() {
    local id=$1 image=$2
    shift 2
    printf '\n[[target.lun]]\nid = %s\nbackend = "rbd"\npool = "rbd"\nimage = "%s"\nceph_conf = "%s"\n' "$id" "$image" "$CEPH_CONF"
    printf '%s\n' "$@"
}

cat > "$WORK/swiftport.toml" <<TOML
[daemon]
state_dir = "$WORK/state"
admin_socket = "$WORK/admin.sock"

[[target]]
name = "$TARGET"
portals = ["127.0.0.1:$PORT"]

[[target.lun]]
id = 0
backend = "ram"
size = "16MiB"
$(rbd_lun 1 img "block_size = 4096" "cluster_timeout = $CLUSTER_TIMEOUT")
$(rbd_lun 2 made-by-swiftport "create = true" 'size = "64MiB"' "cluster_timeout = $CLUSTER_TIMEOUT")
TOML

echo "-- the shared reservation store (RADOS objects: compare and swap, watch/notify, fencing)"
# The unit tests that need a cluster (CephClusterTests), run here against this one;
# a suite skipped is a failure.
ceph_cluster_tests() {
    SWIFTPORT_TEST_CEPH_CONF=$CEPH_CONF timeout 300 swift test --skip-build --filter CephClusterTests 2>&1 | grep -v '^\[' > "$WORK/ceph-cluster-tests.log"
    cat "$WORK/ceph-cluster-tests.log"
    grep -q 'Suite "RADOS reservation store" passed' "$WORK/ceph-cluster-tests.log" \
        && grep -q 'Suite "Gateways sharing reservations through RADOS" passed' "$WORK/ceph-cluster-tests.log" \
        && ! grep -q skipped "$WORK/ceph-cluster-tests.log"
}
check ceph-cluster-tests ceph_cluster_tests

echo "-- configuration"
check config-check "$BIN/swiftport" config check "$WORK/swiftport.toml"
start_swiftportd swiftportd "$WORK/swiftport.toml"
MAIN_PID=$SWIFTPORTD_PID
URL=iscsi://127.0.0.1:$PORT/$TARGET
CLIENT=$WORK/rbd-client
cc -O2 -Wall -Wextra -o "$CLIENT" scripts/rbd-client.c -liscsi || exit 1

echo "-- the LUNs"
check rbd-lun-capacity sh -c "iscsi-readcapacity16 $URL/1 | tee /dev/stderr | grep -q 'Total size:1073741824'"
check created-image-exists sh -c "rbd -p rbd info made-by-swiftport | tee /dev/stderr | grep -q 'size 64 MiB'"
check created-lun-capacity sh -c "iscsi-readcapacity16 $URL/2 | tee /dev/stderr | grep -q 'Total size:67108864'"

echo "-- data integrity (iscsi-bench verify mode)"
BENCH_DIR=$WORK/bench
cp -r "$SHARED/bench" "$BENCH_DIR" && chmod -R u+w "$BENCH_DIR"
make -s -C "$BENCH_DIR" iscsi-bench > "$WORK/bench-build.log" 2>&1 || { cat "$WORK/bench-build.log"; exit 1; }
check verify-rbd-random-4k "$BENCH_DIR/iscsi-bench" -V -p randrw -b 4k -q 32 -r 32m -t "$VERIFY_SECONDS" "$URL/1"
check verify-rbd-sequential-1m "$BENCH_DIR/iscsi-bench" -V -p seqwrite -b 1m -q 8 -o 64m -r 64m -t "$VERIFY_SECONDS" "$URL/1"
check verify-created-image "$BENCH_DIR/iscsi-bench" -V -p randrw -b 64k -q 8 -r 16m -t 3 "$URL/2"
check verify-ram-lun-beside "$BENCH_DIR/iscsi-bench" -V -p randrw -b 4k -q 16 -r 16m -t 3 "$URL/0"

# Every block iscsi-bench wrote carries a stamp with its LBA: in the exported image, each
# stamped block of the sequential range must sit at the LBA it names, and the range
# must be stamped (it was written front to back at least once).
image_holds_the_writes() {
    rbd export rbd/img "$WORK/img.export" > /dev/null 2>&1 || return 1
    python3 - "$WORK/img.export" <<'PY'
import struct, sys
MAGIC, BLOCK = 0x6b6c426973637369, 4096
stamped = misplaced = 0
with open(sys.argv[1], "rb") as image:
    image.seek(64 << 20)
    for index in range((64 << 20) // BLOCK):
        block = image.read(BLOCK)
        magic, lba = struct.unpack_from("<QQ", block)
        if magic != MAGIC:
            continue
        stamped += 1
        misplaced += lba != (64 << 20) // BLOCK + index
print(f"{stamped} stamped blocks in the sequential range, {misplaced} at the wrong LBA")
sys.exit(0 if stamped > 1000 and misplaced == 0 else 1)
PY
}
check rbd-export-holds-the-writes image_holds_the_writes

echo "-- COMPARE AND WRITE at the OSD (rbd_aio_compare_and_write): libiscsi's tests"
compare_and_write_suite() {
    iscsi-test-cu -d -t SCSI.CompareAndWrite "$URL/2" > "$WORK/caw.log" 2>&1
    python3 "$SHARED/conformance/score-libiscsi.py" "$WORK/caw.log" -s > "$WORK/caw-score.txt"
    cat "$WORK/caw-score.txt"
    # Every test of the suite ran and passed (none skipped).
    tail -n 1 "$WORK/caw-score.txt" | grep -Eq "^[1-9][0-9]* passed, 0 failed, 0 skipped"
}
check compare-and-write-on-rbd compare_and_write_suite

# WRITE SAME through rbd_aio_writesame: the same verdicts as on the RAM LUN beside it,
# where the engine repeats the block itself (both are thin; the two documented libiscsi
# disagreements, README Conformance, fail on both).
write_same_as_on_ram() {
    local lun
    for lun in 0 2; do
        iscsi-test-cu -d -t SCSI.WriteSame10,SCSI.WriteSame16 "$URL/$lun" > "$WORK/write-same-$lun.log" 2>&1
        python3 "$SHARED/conformance/score-libiscsi.py" "$WORK/write-same-$lun.log" -s > "$WORK/write-same-$lun.txt"
        grep -o "^FAILED [A-Za-z0-9_.]*" "$WORK/write-same-$lun.txt" | sort > "$WORK/write-same-$lun.failed"
    done
    cat "$WORK/write-same-2.txt"
    echo "failed on rbd: $(tr '\n' ' ' < "$WORK/write-same-2.failed")"
    echo "failed on ram: $(tr '\n' ' ' < "$WORK/write-same-0.failed")"
    tail -n 1 "$WORK/write-same-2.txt" | grep -Eq "^[1-9][0-9]* passed" && cmp -s "$WORK/write-same-0.failed" "$WORK/write-same-2.failed"
}
check write-same-on-rbd-as-on-ram write_same_as_on_ram

echo "-- identity that follows the image"
# A second daemon exports the same image under another target name and LUN number: an
# initiator must see one device (VPD 0x80 serial and 0x83 NAA from the image's id).
SECOND_PORT=$((PORT + 2))
cat > "$WORK/second.toml" <<TOML
[daemon]
state_dir = "$WORK/second-state"
admin_socket = "$WORK/second.sock"

[[target]]
name = "iqn.2026-11.io.swiftport:rbd-second"
portals = ["127.0.0.1:$SECOND_PORT"]
$(rbd_lun 5 img "block_size = 4096")
$(rbd_lun 6 made-by-swiftport)
TOML
start_swiftportd second "$WORK/second.toml"
SECOND_URL=iscsi://127.0.0.1:$SECOND_PORT/iqn.2026-11.io.swiftport:rbd-second/5
SECOND_CREATED_URL=iscsi://127.0.0.1:$SECOND_PORT/iqn.2026-11.io.swiftport:rbd-second/6
# The logical unit's NAA designator of VPD 0x83, in hex: the 16 bytes after the first
# descriptor header with designator type 3 (INQUIRY EVPD through swiftport cdb; iscsi-inq
# prints the designator raw, and a 0x0a byte in it split the line).
naa_of() {
    local rest=${1#iscsi://} host target lun
    host=${rest%%/*} rest=${rest#*/} target=${rest%/*} lun=${rest##*/}
    "$BIN/swiftport" cdb --portal "$host" --target "$target" --lun "$lun" 12 01 83 00 ff 00 --data-in 255 \
        | sed -n 's/^data-in: //p' | python3 -c '
import sys
page = bytes.fromhex(sys.stdin.read())
at = 4
while at + 4 <= len(page):
    length = page[at + 3]
    if page[at + 1] & 0x0F == 3:
        print(page[at + 4:at + 4 + length].hex(), end="")
        break
    at += 4 + length'
}
same_identity() {
    local first second
    first="$(iscsi-inq -e 1 -c 128 "$URL/1") NAA $(naa_of "$URL/1")"
    second="$(iscsi-inq -e 1 -c 128 "$SECOND_URL") NAA $(naa_of "$SECOND_URL")"
    echo "this daemon: $first"
    echo "the other:   $second"
    [[ $first =~ Serial\ Number:\[[0-9A-F]{16}\]\ NAA\ 6[0-9a-f]{31} && $first == "$second" ]] || return 1
    # And another image is another device.
    [[ $(naa_of "$URL/1") != "$(naa_of "$URL/2")" ]]
}
check same-image-same-identity-on-two-daemons same_identity

echo "-- COMPARE AND WRITE across the two daemons: no lost update"
# Two initiators, one per daemon, increment one counter block with COMPARE AND WRITE
# (re-reading after each MISCOMPARE): the counter must end at the sum of both. On the
# image with 512-byte blocks: librbd compares within one 512-byte sector only.
CAW_LBA=100000  # beyond every range the other checks write
compare_and_write_race() {
    "$CLIENT" zero-counter "$URL/2" $CAW_LBA || return 1
    INITIATOR=iqn.2026-12.io.swiftport:racer-1 timeout 180 "$CLIENT" caw-increment "$URL/2" $CAW_LBA 200 &
    local first=$!
    INITIATOR=iqn.2026-12.io.swiftport:racer-2 timeout 180 "$CLIENT" caw-increment "$SECOND_CREATED_URL" $CAW_LBA 200
    local second=$?
    wait $first || return 1
    local here there
    here=$("$CLIENT" read-counter "$URL/2" $CAW_LBA) there=$("$CLIENT" read-counter "$SECOND_CREATED_URL" $CAW_LBA)
    echo "counter: $here through this daemon, $there through the other (400 expected)"
    [[ $second -eq 0 && $here == 400 && $there == 400 ]]
}
check compare-and-write-race-across-daemons compare_and_write_race
kill -TERM "$SWIFTPORTD_PID"

echo "-- resize"
# Made elsewhere: the session that is logged in gets CAPACITY DATA HAS CHANGED and then
# the new size from READ CAPACITY(16) (rbd_update_watch), without a reconnect.
resized_with_rbd() {
    "$CLIENT" capacity-change "$URL/2" $((128 << 20)) 20 > "$WORK/capacity-change.txt" 2>&1 &
    local client=$!
    for _ in $(seq 50); do grep -q "^ready" "$WORK/capacity-change.txt" && break; sleep 0.2; done
    rbd resize --size 128M rbd/made-by-swiftport 2>&1
    wait $client
    local status=$?
    cat "$WORK/capacity-change.txt"
    grep "resized outside the daemon" "$WORK/swiftportd.log"
    return $status
}
check rbd-resize-seen-by-the-initiator resized_with_rbd
# Made by the operator through the daemon: rbd_resize, so the image has the new size.
resized_by_swiftport() {
    "$BIN/swiftport" lun --socket "$WORK/admin.sock" resize 2 192MiB || return 1
    rbd -p rbd info made-by-swiftport | grep "size 192 MiB" && iscsi-readcapacity16 "$URL/2" | grep "Total size:201326592"
}
check lun-resize-resizes-the-image resized_by_swiftport

echo "-- libiscsi's whole suite on an rbd LUN"
# As conformance.sh runs it on RAM and file LUNs: every failure but the documented
# disagreements with the standard gates.
source scripts/conformance-lib.sh
whole_suite_on_rbd() {
    local rbd_url=$URL/2
    timeout 1500 iscsi-test-cu -d -t ALL "$rbd_url" "$rbd_url" > "$WORK/all-rbd.raw.log" 2>&1
    separate_cleanup_output "$WORK/all-rbd.raw.log" > "$WORK/all-rbd.log"
    python3 "$SHARED/conformance/score-libiscsi.py" "$WORK/all-rbd.log" -s > "$WORK/all-rbd.txt"
    tail -n 1 "$WORK/all-rbd.txt"
    ! unexplained FAILED "$WORK/all-rbd.txt"
}
check whole-libiscsi-suite-on-rbd whole_suite_on_rbd

echo "-- a client the cluster blocklists"
# What fencing (the gateway cluster) will do to a dead gateway: its writes are refused
# by the OSDs (EBLOCKLISTED), so every rbd LUN of that client stops serving media
# access (NOT READY, MANUAL INTERVENTION REQUIRED, TEST UNIT READY included); its RAM
# LUN and the daemon carry on. A daemon of its own, so the others keep their client.
FENCED_PORT=$((PORT + 3))
cat > "$WORK/fenced.toml" <<TOML
[daemon]
state_dir = "$WORK/fenced-state"
admin_socket = "$WORK/fenced.sock"

[[target]]
name = "$TARGET"
portals = ["127.0.0.1:$FENCED_PORT"]

[[target.lun]]
id = 0
backend = "ram"
size = "16MiB"
$(rbd_lun 1 made-by-swiftport "cluster_timeout = $CLUSTER_TIMEOUT")
$(rbd_lun 2 fenced-too "create = true" 'size = "16MiB"' "cluster_timeout = $CLUSTER_TIMEOUT")
TOML
start_swiftportd fenced "$WORK/fenced.toml"
FENCED_PID=$SWIFTPORTD_PID
FENCED_URL=iscsi://127.0.0.1:$FENCED_PORT/$TARGET
blocklisted_client() {
    local address
    address=$(grep -o 'client_address=[^ ]*' "$WORK/fenced.log" | head -n 1 | cut -d= -f2)
    echo "client address: $address"
    [[ -n $address ]] || return 1
    ceph osd blocklist add "$address" 2>&1 || return 1
    "$CLIENT" zero-counter "$FENCED_URL/1" 0 > "$WORK/fenced-write.txt" 2>&1
    "$CLIENT" zero-counter "$FENCED_URL/2" 0 >> "$WORK/fenced-write.txt" 2>&1
    "$CLIENT" zero-counter "$FENCED_URL/1" 0 >> "$WORK/fenced-write.txt" 2>&1
    cat "$WORK/fenced-write.txt"
    [[ $(grep -c "WRITE(16) failed: CHECK CONDITION.*ASC 0x04 ASCQ 0x03" "$WORK/fenced-write.txt") -eq 2 ]] || return 1
    # The third finds the unit refusing TEST UNIT READY, which libiscsi sends at login.
    grep -Eq "login to .*/1 failed: .*NOT READY.*0x0403" "$WORK/fenced-write.txt" || return 1
    grep "fenced off its storage" "$WORK/fenced.log" | head -n 2
    "$BENCH_DIR/iscsi-bench" -V -p randrw -b 4k -q 8 -r 16m -t 2 "$FENCED_URL/0" && kill -0 "$FENCED_PID"
}
check blocklisted-client-stops-serving blocklisted_client
kill -TERM "$FENCED_PID"

echo "-- refusals"
missing_image_refused() {
    sed 's/image = "made-by-swiftport"/image = "no-such-image"/; /^create = true/d; /^size = "64MiB"/d' "$WORK/swiftport.toml" \
        | sed "s/127.0.0.1:$PORT/127.0.0.1:$((PORT + 1))/" > "$WORK/missing.toml"
    sed -i "s|admin_socket = .*|admin_socket = \"$WORK/missing.sock\"|" "$WORK/missing.toml"
    timeout 60 "$BIN/swiftportd" --config "$WORK/missing.toml" > "$WORK/missing.log" 2>&1
    local status=$?
    cat "$WORK/missing.log"
    # 66: a LUN backend could not be opened (README, sysexits).
    [[ $status -eq 66 ]] && grep -q "no-such-image" "$WORK/missing.log" && grep -q "create = true" "$WORK/missing.log"
}
check missing-image-refused-with-advice missing_image_refused

# A cluster that does not answer at start: exit 66 within the timeout, naming the
# monitors and librados' reason.
cluster_down_refused() {
    local unused=$((MON_PORT + 50))
    printf '[global]\nmon_host = 127.0.0.1:%s\nauth_cluster_required = none\nauth_service_required = none\nauth_client_required = none\n' "$unused" > "$WORK/down.conf"
    sed "s|ceph_conf = \"$CEPH_CONF\"|ceph_conf = \"$WORK/down.conf\"|; s|cluster_timeout = .*|cluster_timeout = 3|" "$WORK/missing.toml" > "$WORK/down.toml"
    timeout 60 "$BIN/swiftportd" --config "$WORK/down.toml" > "$WORK/down.log" 2>&1
    local status=$?
    cat "$WORK/down.log"
    [[ $status -eq 66 ]] && grep -q "monitors 127.0.0.1:$unused" "$WORK/down.log" && grep -qi "timed out" "$WORK/down.log"
}
check cluster-down-refused-with-monitors cluster_down_refused


echo "-- the OSD stopped during I/O (cluster_timeout = $CLUSTER_TIMEOUT s)"
# Writes and read-backs go on for 40 s; the OSD is stopped from the 4th second for
# longer than the timeout. Commands must end with CHECK CONDITION within it (not hang
# until the initiator gives up), the RAM LUN must serve meanwhile, and the rbd LUN
# again once the OSD runs. After SIGCONT the one-node OSD sometimes keeps some ops
# stuck ("slow requests ... delayed" in its log, in half the runs here): commands
# touching them keep ending with NOT READY, as they must, so this check comes after
# the ones that need a healthy cluster, and asks for I/O served again, not for no
# failure after it; it is the last.
osd_stopped_during_io() {
    local osd
    osd=$(cat "$OSD_PID_FILE") || return 1
    "$CLIENT" outage "$URL/1" 40 $CLUSTER_TIMEOUT > "$WORK/outage.txt" 2>&1 &
    local client=$!
    sleep 4
    kill -STOP "$osd"
    sleep 3
    "$BENCH_DIR/iscsi-bench" -V -p randrw -b 4k -q 8 -r 16m -t 3 "$URL/0" > "$WORK/ram-during-outage.txt" 2>&1
    local ram=$?
    sleep $((CLUSTER_TIMEOUT + 2))
    kill -CONT "$osd"
    wait $client
    local status=$?
    cat "$WORK/outage.txt"
    echo "RAM LUN while the OSD was stopped: $(tail -n 1 "$WORK/ram-during-outage.txt") (status $ram)"
    [[ $status -eq 0 && $ram -eq 0 ]] && kill -0 "$MAIN_PID"
}
check osd-stopped-during-io osd_stopped_during_io

finish rbd-integration
