#!/usr/bin/env bash
# The DSM on loopback (the DSM issue's checks): Swiftport's own initiator against a
# swiftportd upstream on two portals (127.0.0.1 and 127.0.0.2) and against tgtd on two
# portals: `swiftport dsm scan` groups the two paths into one device and ignores
# devices not in the supported list; `swiftport dsm io` and iscsi-bench through a
# remote-LUN gateway keep running with zero errors and zero verify mismatches while an
# upstream portal is disabled and enabled again; against an upstream that requires CHAP
# (discovery and mutual), the right secrets claim the device and a wrong one fails at
# once with "authentication failed" and the portal. Bounded; stops only what it started.
# BIN (default .build/debug) picks the build; the *_PORT variables the ports.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${SHARED:-$ROOT/../shared}
BIN=${BIN:-$ROOT/.build/debug}
UP_PORT=${UP_PORT:-3266} GW_PORT=${GW_PORT:-3267} TGT_PORT=${TGT_PORT:-3268} TGT_CTRL=${TGT_CTRL:-19}
CHAP_PORT=${CHAP_PORT:-3269} GWC_PORT=${GWC_PORT:-3270}
UPSTREAM=iqn.2026-11.io.swiftport:upstream
source scripts/lib.sh
lib_begin dsm
require_free_ports "$UP_PORT" "$GW_PORT" "$TGT_PORT" "$CHAP_PORT" "$GWC_PORT"

cat > "$WORK/upstream.toml" <<TOML
[daemon]
state_dir = "$WORK/upstream-state"
admin_socket = "$WORK/upstream.sock"
nop_in_interval = 5
[[target]]
name = "$UPSTREAM"
[[target.portal_group]]
tag = 1
portals = ["127.0.0.1:$UP_PORT"]
[[target.portal_group]]
tag = 2
portals = ["127.0.0.2:$UP_PORT"]
[[target.lun]]
id = 0
backend = "ram"
size = "128MiB"
TOML
start_swiftportd upstream "$WORK/upstream.toml"
UP_ADMIN=("$BIN/swiftport" portal --socket "$WORK/upstream.sock")
PORTALS=(--portal "127.0.0.1:$UP_PORT" --portal "127.0.0.2:$UP_PORT")

echo "-- dsm scan against swiftportd on two portals"
scan_groups_two_paths() {
    "$BIN/swiftport" dsm scan "${PORTALS[@]}" | tee /dev/stderr > "$WORK/scan.txt"
    [[ $(grep -c "claimed by" "$WORK/scan.txt") -eq 1 && $(grep -c "path[0-9]" "$WORK/scan.txt") -eq 2 ]]
}
check dsm-scan-one-device-two-paths scan_groups_two_paths
check dsm-scan-json sh -c "'$BIN/swiftport' dsm scan ${PORTALS[*]} --json | tee /dev/stderr | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"devices\"]) == 1 and len(d[\"devices\"][0][\"paths\"]) == 2'"
unlisted_is_not_claimed() {
    "$BIN/swiftport" dsm scan "${PORTALS[@]}" --supported "OTHERVEN" | tee /dev/stderr > "$WORK/unclaimed.txt"
    ! grep -q "claimed by" "$WORK/unclaimed.txt" && grep -q "not in MPIOSupportedDeviceList" "$WORK/unclaimed.txt"
}
check dsm-scan-does-not-claim-unlisted unlisted_is_not_claimed

echo "-- dsm io with an upstream portal disabled and enabled mid-run"
# io_fails_over_and_back PORT ADMIN_SOCKET [dsm io options...]: portal 127.0.0.1:PORT
# goes down for 5 s once the 14 s run has done 2 s of I/O (counted from its own
# report, so a slow login on a loaded machine does not move the outage before it).
io_fails_over_and_back() {
    local port=$1 socket=$2; shift 2
    local admin=("$BIN/swiftport" portal --socket "$socket")
    rm -f "$WORK/io.txt"
    (
        for _ in $(seq 150); do grep -q '^\[2s\]' "$WORK/io.txt" 2> /dev/null && break; sleep 0.2; done
        "${admin[@]}" disable "127.0.0.1:$port"; sleep 5; "${admin[@]}" enable "127.0.0.1:$port"
    ) &
    local toggler=$!
    timeout 60 "$BIN/swiftport" dsm io --portal "127.0.0.1:$port" --portal "127.0.0.2:$port" "$@" --seconds 14 --policy RR | tee "$WORK/io.txt"
    local status=$?
    wait $toggler
    # Path 1 failed while its portal was down, and carried I/O again at the end.
    grep -q "127.0.0.1:$port.*: failed" "$WORK/io.txt" || { echo "path 1 was never marked failed"; return 1; }
    local before after
    before=$(grep "^\[8s\]" "$WORK/io.txt" | sed -E "s/^.*127\.0\.0\.1:$port[^|]*ios=([0-9]+).*$/\1/")
    after=$(grep "^\[14s\]" "$WORK/io.txt" | sed -E "s/^.*127\.0\.0\.1:$port[^|]*ios=([0-9]+).*$/\1/")
    echo "path 1 ios at 8 s: $before, at 14 s: $after"
    [[ $status -eq 0 && -n $before && -n $after && $after -gt $before ]]
}
check dsm-io-failover-and-failback io_fails_over_and_back "$UP_PORT" "$WORK/upstream.sock"

echo "-- remote LUN gateway under iscsi-bench, upstream portal disabled mid-run"
cat > "$WORK/gateway.toml" <<TOML
[daemon]
state_dir = "$WORK/gateway-state"
admin_socket = "$WORK/gateway.sock"
[dsm]
supported_devices = ["SWIFTPRT"]
policy = "RR"
[[target]]
name = "iqn.2026-11.io.swiftport:gateway"
portals = ["127.0.0.1:$GW_PORT"]
[[target.lun]]
id = 0
backend = "remote"
upstream_portals = ["127.0.0.1:$UP_PORT", "127.0.0.2:$UP_PORT"]
upstream_target = "$UPSTREAM"
product = "GATEWAY"
TOML
start_swiftportd gateway "$WORK/gateway.toml"
BENCH_DIR=$WORK/bench
cp -r "$SHARED/bench" "$BENCH_DIR" && chmod -R u+w "$BENCH_DIR"
make -s -C "$BENCH_DIR" iscsi-bench > "$WORK/bench-build.log" 2>&1 || { cat "$WORK/bench-build.log"; exit 1; }
gateway_rides_through() {
    ( sleep 3; "${UP_ADMIN[@]}" disable "127.0.0.1:$UP_PORT"; sleep 4; "${UP_ADMIN[@]}" enable "127.0.0.1:$UP_PORT" ) &
    local toggler=$!
    "$BENCH_DIR/iscsi-bench" -V -p randrw -b 8k -q 8 -r 32m -t 12 "iscsi://127.0.0.1:$GW_PORT/iqn.2026-11.io.swiftport:gateway/0"
    local status=$?
    wait $toggler
    return $status
}
check gateway-iscsi-bench-verify-through-failover gateway_rides_through

echo "-- dsm scan against tgtd on two portals"
dd if=/dev/zero of="$WORK/tgt.img" bs=1M count=64 status=none
start_tgtd "$TGT_PORT" "$TGT_CTRL"
"${TGTADM[@]}" --op new --mode portal --param portal="127.0.0.2:$TGT_PORT" &&
"${TGTADM[@]}" --op new --mode target --tid 1 -T iqn.2026-11.test:tgt &&
"${TGTADM[@]}" --op new --mode logicalunit --tid 1 --lun 1 -b "$WORK/tgt.img" &&
"${TGTADM[@]}" --op bind --mode target --tid 1 -I ALL || { echo "tgtd setup failed"; cat "$WORK/tgtd.log"; }
tgt_scan() {
    "$BIN/swiftport" dsm scan --portal "127.0.0.1:$TGT_PORT" --portal "127.0.0.2:$TGT_PORT" --supported "IET     VIRTUAL-DISK" | tee /dev/stderr > "$WORK/tgt-scan.txt"
    [[ $(grep -c "claimed by" "$WORK/tgt-scan.txt") -eq 1 && $(grep -c "path[0-9].*LUN 1" "$WORK/tgt-scan.txt") -eq 2 ]]
}
check dsm-scan-tgtd-one-device-two-paths tgt_scan

echo "-- dsm scan against a swiftportd upstream that requires CHAP (discovery one-way, target mutual)"
CHAP_UPSTREAM=iqn.2026-11.io.swiftport:chap-upstream
cat > "$WORK/chap-upstream.toml" <<TOML
[daemon]
state_dir = "$WORK/chap-upstream-state"
admin_socket = "$WORK/chap-upstream.sock"
[discovery.auth]
username = "dsm-discovery"
secret = "discovery-secret-01"
[[target]]
name = "$CHAP_UPSTREAM"
[[target.portal_group]]
tag = 1
portals = ["127.0.0.1:$CHAP_PORT"]
[[target.portal_group]]
tag = 2
portals = ["127.0.0.2:$CHAP_PORT"]
[target.auth]
username = "dsm-gateway"
secret = "gateway-secret-001"
mutual_username = "chap-array"
mutual_secret = "array-secret-0001"
[[target.lun]]
id = 0
backend = "ram"
size = "16MiB"
TOML
start_swiftportd chap-upstream "$WORK/chap-upstream.toml"
printf 'gateway-secret-001\n' > "$WORK/gateway.secret"
printf 'a-wrong-secret-99\n' > "$WORK/wrong.secret"
chmod 600 "$WORK/gateway.secret" "$WORK/wrong.secret"
export DSM_DISCOVERY_SECRET=discovery-secret-01 DSM_ARRAY_SECRET=array-secret-0001
CHAP_PORTALS=(--portal "127.0.0.1:$CHAP_PORT" --portal "127.0.0.2:$CHAP_PORT")
DISCOVERY_CHAP=(--discovery-chap-username dsm-discovery --discovery-chap-secret-env DSM_DISCOVERY_SECRET)
MUTUAL_CHAP=(--mutual-chap-username chap-array --mutual-chap-secret-env DSM_ARRAY_SECRET)
chap_scan_claims_two_paths() {
    timeout 60 "$BIN/swiftport" dsm scan "${CHAP_PORTALS[@]}" "${DISCOVERY_CHAP[@]}" \
        --chap-username dsm-gateway --chap-secret-file "$WORK/gateway.secret" "${MUTUAL_CHAP[@]}" | tee /dev/stderr > "$WORK/chap-scan.txt"
    [[ ${PIPESTATUS[0]} -eq 0 && $(grep -c "claimed by" "$WORK/chap-scan.txt") -eq 1 && $(grep -c "path[0-9]" "$WORK/chap-scan.txt") -eq 2 ]]
}
check dsm-scan-chap-right-secrets-one-device-two-paths chap_scan_claims_two_paths
# expect_auth_failure WHAT ARGS...: a clear message naming each portal, a non-zero exit, no hang.
expect_auth_failure() {
    local what=$1; shift
    timeout 30 "$BIN/swiftport" dsm scan "${CHAP_PORTALS[@]}" "$@" > "$WORK/chap-fail.out" 2> "$WORK/chap-fail.err"
    local status=$?
    cat "$WORK/chap-fail.err"
    echo "exit status $status"
    [[ $status -ne 0 && $status -ne 124 ]] || return 1
    for portal in "127.0.0.1:$CHAP_PORT" "127.0.0.2:$CHAP_PORT"; do
        grep -q "$portal.*$what" "$WORK/chap-fail.err" || { echo "no '$what' for $portal"; return 1; }
    done
}
check dsm-scan-chap-wrong-secret-fails-clearly expect_auth_failure "authentication failed (login status 0x0201)" \
    "${DISCOVERY_CHAP[@]}" --chap-username dsm-gateway --chap-secret-file "$WORK/wrong.secret" "${MUTUAL_CHAP[@]}"
check dsm-scan-chap-wrong-discovery-secret-fails-clearly expect_auth_failure "discovery failed: .*authentication failed (login status 0x0201)" \
    --discovery-chap-username dsm-discovery --discovery-chap-secret-file "$WORK/wrong.secret"
check dsm-scan-chap-missing-fails-clearly expect_auth_failure "authentication failed (login status 0x0201)" "${DISCOVERY_CHAP[@]}"
check dsm-scan-chap-wrong-target-secret-fails-clearly expect_auth_failure "mutual CHAP authentication failed" \
    "${DISCOVERY_CHAP[@]}" --chap-username dsm-gateway --chap-secret-file "$WORK/gateway.secret" \
    --mutual-chap-username chap-array --mutual-chap-secret-file "$WORK/wrong.secret"
short_secret_is_refused() {
    "$BIN/swiftport" dsm scan --portal "127.0.0.1:$CHAP_PORT" --chap-username u --chap-secret short > "$WORK/short.out" 2>&1
    local status=$?
    cat "$WORK/short.out"
    [[ $status -ne 0 ]] && grep -q "at least 12" "$WORK/short.out"
}
check dsm-scan-chap-short-secret-is-refused short_secret_is_refused
# The failed path logs in again (with CHAP) after its reconnect backoff, and carries I/O.
check dsm-io-chap-failover-and-failback io_fails_over_and_back "$CHAP_PORT" "$WORK/chap-upstream.sock" \
    "${DISCOVERY_CHAP[@]}" --chap-username dsm-gateway --chap-secret-file "$WORK/gateway.secret" "${MUTUAL_CHAP[@]}"

echo "-- remote LUN gateway with its own upstream CHAP"
cat > "$WORK/gateway-chap.toml" <<TOML
[daemon]
state_dir = "$WORK/gateway-chap-state"
admin_socket = "$WORK/gateway-chap.sock"
[dsm]
supported_devices = ["SWIFTPRT"]
reconnect_initial_ms = 500
reconnect_max_ms = 5000
[dsm.discovery_auth]
username = "dsm-discovery"
secret = "discovery-secret-01"
[[target]]
name = "iqn.2026-11.io.swiftport:gateway-chap"
portals = ["127.0.0.1:$GWC_PORT"]
[[target.lun]]
id = 0
backend = "remote"
upstream_portals = ["127.0.0.1:$CHAP_PORT", "127.0.0.2:$CHAP_PORT"]
upstream_target = "$CHAP_UPSTREAM"
product = "GATEWAY-CHAP"
[target.lun.upstream_auth]
username = "dsm-gateway"
secret = "gateway-secret-001"
mutual_username = "chap-array"
mutual_secret = "array-secret-0001"
TOML
start_swiftportd gateway-chap "$WORK/gateway-chap.toml"
gateway_chap_exports() {
    "$BIN/swiftport" dsm scan --portal "127.0.0.1:$GWC_PORT" | tee /dev/stderr > "$WORK/gwc-scan.txt"
    grep -q "GATEWAY-CHAP" "$WORK/gwc-scan.txt" && [[ $(grep -c "claimed by" "$WORK/gwc-scan.txt") -eq 1 ]]
}
check gateway-upstream-chap-claims-and-exports gateway_chap_exports

finish "dsm integration"
