#!/usr/bin/env bash
# LUNs on Ceph RBD (issue 15), against a throwaway one-node cluster (../shared/ceph,
# loopback only, memstore): installs the Ceph packages it needs, brings the cluster up
# on ports of its own, starts swiftportd with rbd LUNs (an existing image, one it
# creates) beside a RAM LUN, and checks verified I/O through iSCSI, that the data is in
# the image (`rbd export`), and that a missing image or library is refused with a
# message saying what to do. Bounded in time; stops what it started. Prints "N passed,
# N failed" and exits non-zero on any failure.
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
source scripts/lib.sh
lib_begin rbd-integration
require_free_ports "$PORT" "$MON_PORT" "$OSD_PORT_MIN"

if ! command -v ceph-mon > /dev/null || [[ ! -e /usr/lib/x86_64-linux-gnu/librbd.so.1 ]]; then
    echo "-- installing the Ceph packages (ceph-mon ceph-osd ceph-common librbd-dev librados-dev)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        ceph-mon ceph-osd ceph-common librbd-dev librados-dev > "$WORK/apt.log" 2>&1 || { tail -n 20 "$WORK/apt.log"; exit 1; }
fi

CLUSTER=$WORK/ceph
stop_cluster() { [[ -d $CLUSTER ]] && "$SHARED/ceph/cluster-down.sh" "$CLUSTER" > /dev/null 2>&1; }
trap 'stop_cluster; lib_cleanup' EXIT
"$SHARED/ceph/cluster-up.sh" "$CLUSTER" > "$WORK/cluster-up.log" 2>&1 || { cat "$WORK/cluster-up.log"; exit 1; }
export CEPH_CONF=$CLUSTER/ceph.conf

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

# The image cluster-up.sh made (1 GiB).
[[target.lun]]
id = 1
backend = "rbd"
pool = "rbd"
image = "img"
ceph_conf = "$CEPH_CONF"
block_size = 4096

# Created at start.
[[target.lun]]
id = 2
backend = "rbd"
pool = "rbd"
image = "made-by-swiftport"
ceph_conf = "$CEPH_CONF"
create = true
size = "64MiB"
TOML

echo "-- configuration"
check config-check "$BIN/swiftport" config check "$WORK/swiftport.toml"
start_swiftportd swiftportd "$WORK/swiftport.toml"
URL=iscsi://127.0.0.1:$PORT/$TARGET

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

[[target.lun]]
id = 5
backend = "rbd"
pool = "rbd"
image = "img"
ceph_conf = "$CEPH_CONF"
block_size = 4096
TOML
start_swiftportd second "$WORK/second.toml"
SECOND_URL=iscsi://127.0.0.1:$SECOND_PORT/iqn.2026-11.io.swiftport:rbd-second/5
# The logical unit's NAA designator of VPD 0x83, in hex (iscsi-inq prints it raw).
naa_of() {
    iscsi-inq -e 1 -c 131 "$1" | grep -a -A1 "Designator Type:(3) NAA" | tail -n 1 | sed 's/^Designator:\[//' | od -An -tx1 | tr -d ' \n'
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
kill -TERM "$SWIFTPORTD_PID"

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

finish rbd-integration
