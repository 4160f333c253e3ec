#!/usr/bin/env bash
# Every test of the project, in the layers of STYLE.md §7: unit and handler tests
# (swift test), loopback integration with libiscsi tools and iscsi-test-cu against the
# real daemon, the device server beside tgtd (iscsi-test-cu ALL), the real Linux
# initiator with dm-multipath in a qemu guest, and a bounded
# fuzzing run. Installs what it needs; exits non-zero on any failure. CI runs exactly
# this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== imports: each target declares exactly the modules it imports"
scripts/check-imports.sh

echo "== build"
swift build --build-tests

echo "== unit tests (swift test)"
if ! swift test --skip-build > .build/swift-test.log 2>&1; then
    grep -E "✘|error|failed" .build/swift-test.log | head -n 60
    tail -n 5 .build/swift-test.log
    echo "unit tests failed (full log: .build/swift-test.log)" >&2
    exit 1
fi
grep -E "Test run with|Executed [0-9]+ tests" .build/swift-test.log

echo "== integration against swiftportd on loopback"
scripts/integration.sh

echo "== the DSM on loopback: swiftportd and tgtd upstream, failover, gateway"
scripts/dsm-integration.sh

echo "== LUNs on Ceph RBD: a one-node cluster on loopback"
scripts/rbd-integration.sh

echo "== several gateways, one LUN: reservations shared through RADOS, fencing"
scripts/gateway-cluster.sh

echo "== device-server conformance: libiscsi iscsi-test-cu ALL, swiftportd beside tgtd"
scripts/conformance.sh

echo "== the real Linux initiator: open-iscsi + dm-multipath (ALUA) in a qemu guest (scripts/e2e.sh)"
# Against the debug binaries built above (no release build). Needs root, /dev/net/tun
# and network namespaces; e2e.sh exits non-zero without them: never a silent skip.
scripts/e2e.sh --bin "$(swift build --show-bin-path)"

if [[ -x scripts/fuzz.sh ]]; then
    echo "== fuzzing the framer and decoders (bounded)"
    FUZZ_SECONDS=${FUZZ_SECONDS:-60} FUZZ_NEW_CRASH_FAILS=${FUZZ_NEW_CRASH_FAILS:-0} scripts/fuzz.sh
fi
echo "== all tests passed"
